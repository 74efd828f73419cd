// Package spec implements the sequential specification of PostgreSQL's
// background-worker slot handoff, as written in the seed
// (PostgreSQL's src/backend/postmaster/bgworker.c, 9.4 development, August
// 2013) with the upstream fixes of the flaw catalogue (package flaw) applied.
//
// It is the project's independent oracle: pure functions over small
// values, no I/O, no goroutines, only the standard library, and no import of
// the implementation. The linearizability checker, the property tests and
// the explorer all judge the implementation's outputs with the same
// [Step].
//
// # State
//
// A [State] holds, per slot, the three fields that decide every output
// ([Slot]: in_use, generation, pid), whether the postmaster is alive, and
// a [State.Epoch] counting crash re-initializations. [Init] builds a fresh
// cluster. States are values: [State.Clone], [State.Equal] and a
// deterministic [State.Hash] serve porcupine's state cache.
//
// # Operations
//
// An [Input] names an [OpKind]: a backend's [OpRegister], [OpGetPid] and
// [OpWaitForStartup], or one of the postmaster's [OpLaunch], [OpExit],
// [OpForget], [OpReinit] and [OpDied]. [Step] takes a state, an input and
// an observed [Output] and returns every state that can follow; none means
// the output is illegal. Register may take any free slot, so Step may
// return several states.
//
// # Postmaster rules
//
// The postmaster's operations are legal only where the seed's postmaster
// can perform them ([Legal], one [Rule] each, citing the seed code that
// guarantees it): it launches a registered worker that is not running
// (pid -1, never started, or 0, exited and restarted) with a pid > 0,
// reports the exit only of a running worker, forgets only a worker that
// is not running, and does nothing after its death. A history in which it
// does otherwise has no linearization, so every checker reports it.
//
// # Status rule
//
// [StatusOf] is GetBackgroundWorkerPid with the 2017 fix (PostgreSQL
// 28724fd90d): a handle from another epoch, naming no slot or another
// generation, or a slot not in use is [Stopped]; otherwise pid -1 is
// [NotYetStarted], pid 0 is [Stopped], and any other pid is [Started]. The
// seed checks only the generation, so a worker forgotten before it started
// reads NOT_YET_STARTED forever.
//
// # Restart rule
//
// [Restart] decides what the postmaster does with an exited worker: exit 0
// restarts it at once; any other exit of a [FlagShmemAccess] worker except
// exit 1 crashes the cluster; otherwise the worker is forgotten if it is
// [NeverRestart], or restarted after its restart_time. [ReadyToRestart]
// and [RestartDelay] compute the delay in exact 64-bit arithmetic (the seed
// overflows 32-bit milliseconds), and [SpawnFailed] treats a failed spawn as
// a crash.
//
// # Validity
//
// [SanityCheck] is exactly SanityCheckBackgroundWorker. [Validate] adds the
// Go API's input rules (names, flag bits, start times, notify pid) before
// it, and [ValidateStatic] adds RegisterBackgroundWorker's notify_pid = 0.
// Each returns nil or an [*Invalid] naming the first offending [Field].
//
// # Unknown outputs
//
// An operation cut short by a crash has an unknown output ([Output.Unknown])
// and may or may not have taken effect. Step then returns the unchanged state
// together with every state the operation could have produced, so the
// checker may linearize it either way (or, since it returns at infinity,
// not at all).
//
// # Epochs
//
// A crash restart ([OpReinit]) rebuilds shared memory with every generation
// back to 0, so a handle {slot, generation} issued before the crash could
// name a slot of the new memory and read another worker's status. But every
// backend dies in a crash (the postmaster sends SIGQUIT to every child), so
// a pre-crash handle can only be stale: its worker is gone. The
// specification records this with [State.Epoch] and [Handle.Epoch]: a
// handle from an earlier epoch is always [Stopped], and Register's handles
// carry the current epoch. The implementation carries the epoch in its
// handle too, so handle equality is exact across crashes.
//
// # Partitioning
//
// Most operations touch one slot: Register's [ResultOK] (the handle names
// the slot), GetPid, WaitForStartup, Launch, Exit and Forget. [OpReinit]
// and [OpDied] touch every slot (and the liveness WaitForStartup reads), so
// a per-slot partition of a history must include them in every part. Two
// outputs cannot be checked per slot at all: Register's [ResultNoFreeSlot]
// depends on every slot ([State.Full]), and a Register with an unknown
// output may have taken any free slot. A checker that partitions must check
// these apart (for example on the projection onto registrations and
// forgets) and keep an exact, unpartitioned mode for small histories.
package spec
