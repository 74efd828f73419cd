// Package postmaster implements the PostgreSQL postmaster's part in the
// background-worker protocol as a pure, event-driven core: events in,
// actions and records out.
//
// # Core and drivers
//
// As etcd's raft separates Step from its Ready loop, [Core] is only the
// postmaster's decisions. A driver feeds it one [Event] at a time with
// [Core.Step] — the postmaster started ([EventStart]), time passed
// ([EventTick]), SIGUSR1 arrived ([EventPMSignal]), a worker or a backend
// exited, a spawn succeeded or failed, SIGTERM arrived — and then drains
// [Core.Ready]: the [Action] values to perform, in order (spawn a worker,
// send a signal, wake me at a time, kill every child, exit), and the
// [Record] values to log. The core makes no syscalls, starts no
// goroutines, reads no clock (time is [Event.Now]) and never blocks; every
// access to shared memory goes through package bgworker over the
// shmem.Memory given to [New], and it keeps no state outside the Core
// value, so the same event sequence always yields the same actions,
// records and memory writes.
//
// Two drivers run this same core. The OS loop is package pmdriver's Run
// (impl/pmdriver): os/signal for SIGUSR1, SIGTERM and SIGCHLD, wait4 for
// exits, a re-executed binary for each worker and backend, a timer for
// [ActionWakeAt], a control pipe from the harness, and the record log (one
// JSON line per record, written before the next action); this package
// keeps the record codec ([AppendRecordLine], [ReadRecords]) and makes no
// syscall of its own. The explorer's driver (explore/protocol) is a
// simulated thread over a simulated shmem.Memory, which is what lets the
// model checker check this code rather than a copy of it. The tests here
// also use a small in-process fake.
//
// # What the core does
//
// It is the seed's postmaster (postmaster.c around bgworker.c, PostgreSQL
// 9.4 development) with its known defects fixed:
//
//   - maybe_start_bgworker: a worker starts once the start state has
//     reached its bgw_start_time ([Config.ConsistentDelay] and
//     [Config.RecoveryDelay] stand for the startup process) and, if it
//     crashed, once its restart_time has passed
//     ([bgworker.ReadyToRestart]); a crashed NEVER_RESTART worker is
//     forgotten, its slot freed before its registrant is told.
//   - do_start_bgworker: [ActionSpawn], answered by [EventSpawnResult];
//     on success ReportBackgroundWorkerPID publishes the pid and the
//     registrant gets SIGUSR1. A failed spawn counts as a crash at that
//     moment ([bgworker.DecideSpawnFailure]).
//   - CleanupBackgroundWorker: an exited worker is restarted at once,
//     after restart_time, forgotten, or crashes the cluster
//     ([bgworker.DecideRestart]); pid 0 is written and the registrant told.
//   - HandleChildCrash and PostmasterStateMachine: a crash sends
//     [ActionKillAll], starts nothing until every worker and backend has
//     exited, then rebuilds shared memory from the private list in a new
//     epoch and goes through the start states again.
//   - sigusr1_handler: CheckPostmasterSignal, BackgroundWorkerStateChange
//     (adoption; notify pids kept only for live backends), then
//     maybe_start_bgworker. Corrupt shared memory is logged, never
//     trusted, never a panic.
//   - pmdie (SIGTERM): SIGTERM to every worker, [ActionExit] once they are
//     gone.
//
// # Flaws
//
// [Config.Flaws] brings back the seed's postmaster defects: notify-before-free
// (a NEVER_RESTART worker's exit is reported and notified, its slot freed
// only at the next scan), silent-forget (a worker forgotten before it ever
// started notifies nobody), spawn-failure-as-start (a failed spawn leaks a
// child slot, see [Core.LeakedChildSlots], and is retried at once) and
// restart-overflow (via [bgworker.RestartDelay]). The flaws of the shared
// accesses themselves (no-forget-barrier, unordered-pmsignal) live in
// package bgworker and apply here too.
//
// # Records
//
// Records are the postmaster's log for checkers. Those that stand for a
// shared-memory operation — [RecordInit], [RecordReinit], [RecordLaunch],
// [RecordReportStopped], [RecordForget], and [RecordAdopt]/[RecordReject]
// for the scan — carry [Config.Stamp] readings taken immediately before its
// first and after its last shared access, so a linearizability checker can
// place them among the backends' operations.
package postmaster
