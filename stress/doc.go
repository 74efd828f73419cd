// Package stress runs stress campaigns against the real multi-process
// runtime (impl/cluster), records what happens as histories, and checks
// them: linearizability against the specification (package
// linearizability), the postmaster's policy (package policy), that no
// waiter is left waiting, and that an orderly stop leaves no process
// behind. It is what `bgw stress` and `bgw check` run.
//
// # Campaigns
//
// [Run] starts a cluster with [Config.Slots] slots and the static
// workers of [Config.Static], and drives [Config.Backends] backends, each
// from a goroutine of the harness (a driver). Bulk drivers issue a random,
// seeded mix of Register, GetPid and WaitForStartup ([Workload]);
// [Config.Careful] of them are careful clients that register one worker
// at a time, wait for it and poll it until it stops. The workers they
// register are the [Config.Permanent] ones (registered once each, early:
// restart_time 0, 1 s, 2,147,484 s, or NEVER_RESTART with exit 0) and
// transient NEVER_RESTART ones ([TransientSpec]) whose behaviours ([Exit1],
// [Exit2], [Flaky]) end, so that slots are freed and taken again; start
// times, flags and running times vary. Workers run the entry points of
// [Registry], which the harness and every re-executed process share: a
// program calls cluster.Main(stress.Registry()) first.
//
// Besides their mix, bulk drivers are asked, each about every
// [Workload.FillEvery], to register until "no free slot" (so every slot
// is taken), and about every [Workload.BackendExitEvery], to have their
// backend exit normally with its registrations alive and connect a fresh
// one; handles go into a pool every backend reads from, so backends ask
// about each other's workers, departed and recycled ones included.
// [Config.Resolve] draws from the seed what [Config.Vary] names: the
// static workers (none, one, several), scarce or plentiful slots, and
// restart times.
//
// Faults come from a seeded schedule ([Faults]): kill -9 of a running
// worker (one with SHMEM_ACCESS restarts the cluster) and of a backend
// (always a crash restart), injected spawn failures
// (cluster.FailSpawns), SIGSTOP/SIGCONT of the postmaster (with the
// lost-wakeup probe of [StopFaults]), and, if enabled, the postmaster's
// death, which ends the campaign (the postmaster is stopped first, while
// the probe registers a worker and waits for it, so that a wait answers
// POSTMASTER_DIED). After a crash restart the drivers connect fresh
// backends. The campaign ends after [Config.Duration] with
// an orderly Stop, or at the first violation found while it runs
// ([CheckConfig.StopOnViolation]).
//
// # Recording
//
// Each backend process has a history file in the run directory's
// [HistoryDir], written by the harness with linearizability.Encoder: one
// line per operation, written before the operation counts as done. The
// Call stamp is read from the cluster's logical clock immediately before
// the request is sent, the Return stamp immediately after the reply: the
// interval contains the backend's shared accesses, so the recording is
// sound. An operation cut short (its backend died, the connection broke,
// the campaign ended) has an unknown output and returns at infinity; the
// stream goes on under a fresh client id. The postmaster's operations come
// from its record log ([PostmasterHistory]: launch, exit, forget, reinit,
// and the initial state), stamped inside the postmaster with the same
// clock; the checks derive them from the record log, which is written as
// the run goes, and no history file may hold them. The harness's kill of
// the postmaster is the Died operation of history/harness.jsonl.
//
// # Checks
//
// [CheckDir] checks a run directory and returns a [Verdict] with one
// [CheckResult] per check ([CheckLinearizability], [CheckPolicy],
// [CheckWaiters], [CheckRecording], [CheckCoverage], [CheckStop],
// [CheckPostmaster]); `bgw check` calls it, and so does [Run]
// at the end, so a saved directory is re-checked exactly as it was
// checked. A check that cannot decide (the linearizability check's
// timeout) is [Undecided], never a pass. [JudgeWaits] is the waiters
// check: a WaitForStartup still waiting the grace after the record log
// shows its worker launched, stopped or forgotten (or the postmaster dead)
// is a waiter left waiting. While a campaign runs, the policy and the
// waiters are checked every [CheckConfig.Interval] and linearizability
// every [CheckConfig.LinInterval] on a sound snapshot of the histories.
//
// The gate never passes on nothing. The driver records what each call
// returned, as it returned it; an outcome it cannot know is recorded
// unknown with its cause in [CutsFile], and [CheckRecording] is Undecided
// unless the run shows why (a kill, a crash restart, the postmaster's
// death, the campaign's end). [Coverage] counts what the run decided, by
// [CoverKind]; a run that leaves undecided a kind its configuration can
// reach ([Config.Reachable]) is vacuous: [CheckCoverage] is Undecided
// and names the kind, unless check.waive waives it.
//
// The harness watches the postmaster's process too: one that exits on its
// own while the campaign runs (a panic, a fatal error, a stray signal) is
// recorded as the harness's Died operation, so the other checks judge the
// run soundly, and fails [CheckPostmaster] with its exit status and the
// server log ([PostmasterExit]). One that exits on an I/O error of its
// record log (a full disk, a file size limit) is an infrastructure
// failure, Run's error, like any write error of the run directory: never
// a violation. [Result.Timeouts] counts what ran out of time (operations,
// waits, undecided checks), apart from the violations.
//
// # Run directory
//
// The evidence: [CampaignFile] (the configuration, with the seed),
// [HistoryDir], records.jsonl, server.log and postmaster.json (the
// cluster's), [WaitsFile], [FaultsFile], [StopFile], [PostmasterExitFile],
// and [KeepFile] once a violation is found. When every part is written,
// [SealRunDir] writes [ManifestFile] (each part's size and SHA-256); only
// then is the run checked. [CheckDir] refuses a run directory that is not
// whole (no manifest: the run was killed; a part missing, cut or changed;
// a history file the run did not write; anything but a regular file) with
// an error wrapping [ErrIncompleteRun], never with a verdict. Then the
// verdicts, outside the seal: [VerdictFile], [ResultFile], [PolicyFile],
// [WaitersFile], [HTMLFile] (porcupine's view of a linearizability
// violation) and [ReproFile] ([ReproCommand]).
//
// A campaign cut short by [Run]'s context ends in order: the cluster
// stops, the directory is sealed and checked, and [Result.Interrupted]
// says so. A violation, once found, is the verdict: errors that stopping
// the campaign causes after it are not infrastructure failures
// ([Result.AfterViolation]).
//
// # Configuration
//
// [DefaultConfig] is stress/default.json, embedded; [ParseConfig] reads a
// file over it, strictly: an unknown field or a bad value is a
// [*ConfigError] naming the field. A flaw ([Config.Flaw]) brings back a
// seed defect in the cluster; the weak-memory ones cannot show on x86 and
// [Run] refuses them ([ErrWeakFlaw]): `bgw explore` is the tool for them.
//
// The race-widening noise ([Config.Noise], [NoiseConfig]) is on by
// default: the postmaster and the backends pause, at random, before some
// of their accesses to shared memory and their lock operations (yielding
// the processor, or sleeping from microseconds to milliseconds), so that
// windows a few instructions wide are hit within a campaign. It is seeded
// from [Config.Seed], each process on its own stream, and costs about a
// tenth of the operations per second; `{"noise": {"enabled": false}}` in
// a -config file turns it off.
package stress
