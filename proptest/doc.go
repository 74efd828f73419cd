// Package proptest implements rapid properties that compare the reference
// implementation (bgwmodel/impl/bgworker) with the sequential
// specification (bgwmodel/spec), and shows that each property fails on a
// deliberately broken variant.
//
// Each property is a func(*rapid.T) built from a value: the
// implementation under test is passed in ([Validator], [RestartRules],
// [ClusterConfig] with its flaw sets), so the same property body runs
// against the real implementation in TestXxx and against broken variants
// in TestXxx_CatchesBroken. Everything in package spec is the oracle;
// nothing here re-implements it, except the per-handle model of
// [HandleProperty], which is deliberately written another way.
//
// # Sanity check
//
// [SanityProperty] draws a worker with [WorkerGen] and checks that
// [bgworker.ValidateWorker], [bgworker.SanityCheckBackgroundWorker] and
// [bgworker.Postmaster.RegisterBackgroundWorker] agree with
// [spec.Validate], [spec.SanityCheck] and [spec.ValidateStatic]: both
// accept, or both refuse naming the same field. The implementation's
// field names ("bgw_flags", ...) are mapped to spec's by an explicit
// table ([implspec.Field]), never by trimming a prefix. WorkerGen first draws a
// [Probe]: one field from its boundary-heavy generator with every other
// field valid, so each rule is tested alone and at its edges (restart_time
// -2, -1, 0, 86,400,000 and 86,400,001; every flag combination, with and
// without unknown bits; every start time and out-of-range ones; names of
// 0, 63 and 64 bytes and names with NUL, control or non-ASCII bytes;
// negative notify pids), or all fields at once, which tests the order in
// which the rules are checked. TestGenerators_HitBoundaries checks that
// every boundary is drawn; TestSanity_Boundaries checks each by name.
//
// Broken variants (TestSanity_CatchesBroken) wrap the implementation in a
// function that changes the worker before checking it:
// accepts-restart-86400001 (found as restart=86400001s: "impl accepts;
// spec refuses"), skips-db-connection-rule (flags=db without shmem and a
// bad restart time: impl names restart_time, spec names flags) and
// allows-negative-notify-pid (notify=-2147483648: "impl accepts").
//
// # Restart time
//
// [RestartProperty] checks [bgworker.DecideRestart],
// [bgworker.DecideSpawnFailure], [bgworker.RestartDelay] and
// [bgworker.ReadyToRestart] against [spec.Restart], [spec.SpawnFailed],
// [spec.RestartDelay] and [spec.ReadyToRestart]: exits 0, 1, 2, any other
// code and signals ([ExitGen]); restart times from [RestartTimeValidGen],
// which names 2,147,483 s, 2,147,484 s, 4,294,968 s and 86,400,000 s
// explicitly ([RestartEdgeSeconds]) and draws the rest of the range; and
// clock readings from [ClockGen]: exactly at the delay, 1 ns before and
// after, at once, and in between. The domain is the postmaster's: restart
// times that pass the sanity check, and a monotonic clock since the
// postmaster's start (0 <= crashedAt <= now); see Limits.
//
// Broken variants (TestRestartTime_CatchesBroken): the catalogue's
// restart-overflow flaw, [ImplRestartRules](flaw.Of(flaw.RestartOverflow)),
// found as `DecideSpawnFailure(restart=2147484s) = RestartAfter(0s);
// spec.SpawnFailed = RestartAfter(596h31m24s)` (or the same for
// DecideRestart after exit 1); gate-off-by-one (a gate with >
// instead of >=: ready at crashedAt=now=0 for NEVER_RESTART is false) and
// exit2-without-shmem-crashes (a crash restart for a worker without shared
// memory).
//
// # Handle generation
//
// [HandleProperty] is a rapid state machine ([rapid.T.Repeat] with an
// action map) over an in-process cluster of 1 to 4 slots built from the
// implementation alone: [shmem.NewLocal], a [bgworker.Postmaster]
// initialised with BackgroundWorkerShmemInit (with 0 to 4 static
// workers), a [bgworker.Backend] with a [bgworker.MutexLock], a
// [bgworker.LocalLatch] and a [bgworker.SignalFunc] that counts signals.
// Actions: register a valid or invalid worker; scan (CheckPostmasterSignal
// and BackgroundWorkerStateChange); launch (scan, then set rw.Pid and
// rw.Started and ReportBackgroundWorkerPID); exit (rw.Pid = 0, reported);
// forget (ForgetBackgroundWorker); crash re-init (BackgroundWorkerShmemInit
// again on the same memory); GetBackgroundWorkerPid on any handle ever
// issued (and on handles of another segment or slot, which must be
// refused); WaitForBackgroundWorkerStartup on a handle whose status is
// decided. After every action, every handle ever issued is checked against
// a per-handle model: a stale handle (forgotten, its slot reused, or from
// before a re-init) reports STOPPED, never another worker's status; a live
// one reports NOT_YET_STARTED, STARTED with its worker's pid, or STOPPED.
// Each new handle names a free slot, the current segment and epoch, and a
// generation larger than any issued for the slot since the last re-init.
//
// Broken variant (TestHandleGeneration_CatchesBroken): the no-inuse-check
// flaw in the backend's flaw set, found as: register (s0/g1/e0), scan,
// forget slot 0 before it started; then `stale handle s0/g1/e0 (stale:
// forgotten before it started) reports NOT_YET_STARTED; want STOPPED`.
//
// # Implementation against specification
//
// [AgainstSpecProperty] runs the same kind of cluster and a [spec.State]
// side by side. Every backend output of the implementation is converted
// (handles with [implspec.Handle], statuses with [SpecStatus], refusals with
// [implspec.Field]) and must be accepted by [spec.Step] from the spec state;
// the machine moves to the unique next state. Launch, exit, forget,
// crash re-init and the postmaster's death are applied to both.
// WaitForBackgroundWorkerStartup is called only when it cannot block: after
// GetBackgroundWorkerPid said STARTED or STOPPED, or once the latch was
// marked dead ([bgworker.LocalLatch.PostmasterDied]); a 5 s timeout turns
// a block into a failure. After every action every handle ever issued is
// asked about again.
//
// Broken variant (TestAgainstSpec_CatchesBroken): no-inuse-check again,
// found as: register, scan, forget before launch; `spec rejects
// GetPid(s0/g1/e0) -> NOT_YET_STARTED from state e0 alive [0:free g1
// pid=-1]; spec says STOPPED`; and launch-running, a postmaster whose
// launch may pick a worker that is already running (maybe_start_bgworker
// without its "already running?" check), found as: register, launch
// (pid 4000), launch again; `spec rejects Launch(s0, pid=4001) -> done
// from state e0 alive [0:in-use g1 pid=4000]` (the spec's RuleRunning;
// before that rule rapid passed 10,000 checks of it). The flaws that only
// weak memory shows
// (no-forget-barrier, unordered-pmsignal) must not make either state
// machine fail on the sequentially consistent [shmem.Local]: the
// WeakFlawsPass tests check that there is no false alarm.
//
// # Regressions
//
// While these properties were written they found one real disagreement:
// ValidateWorker checked the library and function names before the
// emptiness of bgw_name, so it named another field than spec.Validate.
// The implementation was fixed; the inputs rapid saved for it (under
// testdata/rapid/TestSanity/ and testdata/rapid/TestAgainstSpec/) are
// replayed by TestRegressionReplay and must pass, and TestEmptyNameFirst
// pins the order.
//
// # Showing that a property fails
//
// A _CatchesBroken test must pass when rapid finds a counterexample, so it
// runs [rapid.Check] on a [Recorder]: a [rapid.TB] that records Errorf,
// Logf and FailNow instead of failing ([Falsify]). The test fails if rapid
// finds nothing within 10,000 checks (rapid stops at the first failure,
// so this costs milliseconds), and logs the shrunk counterexample
// otherwise. Its search starts afresh and writes no file unless
// -proptest.save is given.
//
// # Counterexamples and replay
//
// Counterexamples live in rapid's fail-file format under testdata/rapid/:
//
//   - testdata/rapid/<Test>_CatchesBroken_<variant>/: one per broken
//     variant, written by the _CatchesBroken tests with -proptest.save.
//     TestReplayCounterexamples replays each file alone on the broken
//     variant, where it must fail from the file itself, and on the real
//     implementation, where it must pass (the input is padded with zero
//     words so that the real run goes on where the broken one stopped;
//     TestReplayPadding checks that zeros end a Repeat).
//   - testdata/rapid/<Test>/: written by rapid when a default test fails
//     (here: TestSanity and TestAgainstSpec, the regression above). rapid
//     replays them first whenever that test runs.
//
// Commands (from the module root): save a counterexample for every broken
// variant that has none that still fails, replay every saved one, and
// replay one file through rapid itself:
//
//	go test ./proptest -run CatchesBroken -proptest.save
//	go test ./proptest -run 'TestReplayCounterexamples|TestRegressionReplay' -v
//	go test ./proptest -run 'TestHandleGeneration_CatchesBroken/no-inuse-check' -v \
//	    -rapid.failfile=testdata/rapid/TestHandleGeneration_CatchesBroken_no-inuse-check/<file>.fail
//
// A fail file of a state machine replays the same actions only with the
// -rapid.steps it was recorded with (rapid's default, 30; -short halves
// it): the replay tests pin it, and a -rapid.failfile replay must not use
// -short. A search reproduces with the -rapid.seed it prints.
//
// # Flags and budget
//
// -proptest.save is this package's; rapid's
// -rapid.checks (default 100), -rapid.steps, -rapid.seed and
// -rapid.failfile apply as usual. The default run takes about a second
// (-race about ten); -short runs a fifth of the checks.
//
// # Limits
//
// The properties are sequential: the in-process memory is sequentially
// consistent, so flaws that only weak memory shows (no-forget-barrier,
// unordered-pmsignal) are the explorer's to catch, and the postmaster
// core's flaws (silent-forget, spawn-failure-as-start,
// notify-before-free) are outside package bgworker. The restart property
// keeps to a monotonic clock: with now before crashedAt, or with
// differences beyond the int64 range, [bgworker.ReadyToRestart] differs
// from [spec.ReadyToRestart], which claims exactness for every pair of
// durations (reported, not tolerated: such clocks cannot occur in the
// postmaster).
package proptest
