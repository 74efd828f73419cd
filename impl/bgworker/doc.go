// Package bgworker implements the background-worker slot handoff of
// PostgreSQL's bgworker.c (9.4 development, August 2013): one Go function
// per seed function, over a [shmem.Memory] and a small set of interfaces
// for what the seed gets from the operating system.
//
// # The handoff
//
// Shared memory holds a [Segment]: total_slots and max_worker_processes
// slots of {in_use, pid, generation, worker}. While in_use is false,
// backends own a slot; a backend fills it completely, issues a write
// barrier, then sets in_use (see [Backend.RegisterDynamicBackgroundWorker]).
// From then on the postmaster owns it, until [Postmaster.ForgetBackgroundWorker]
// clears in_use again after a full barrier. Backends coordinate with each
// other through BackgroundWorkerLock ([Lock]); the postmaster takes no lock
// and trusts nothing it reads ([Postmaster.BackgroundWorkerStateChange]).
//
// # Two halves
//
// [Backend] is a regular backend: RegisterDynamicBackgroundWorker,
// GetBackgroundWorkerPid and WaitForBackgroundWorkerStartup. [Postmaster]
// is the postmaster's private BackgroundWorkerList and the functions that
// touch shared memory for it: RegisterBackgroundWorker (static workers),
// BackgroundWorkerShmemInit (also after a crash), CheckPostmasterSignal,
// BackgroundWorkerStateChange, ReportBackgroundWorkerPID,
// BackgroundWorkerStopNotifications and ForgetBackgroundWorker. Neither
// half makes a syscall: signals to send are returned to the caller, and
// blocking happens only inside the [Lock] and [Latch] the caller supplies.
// This is what lets the same code run in real processes (impl/proc,
// impl/postmaster) and under the explorer's simulated scheduler.
//
// # Memory orders
//
// Every shared access names a C11 order; the comments at each
// ordering-critical access say which write must be visible before which
// read and what goes wrong without it. PostgreSQL relies on a control
// dependency where a backend reads in_use and then writes the slot; C11
// needs an acquire there, and this package uses one.
//
// # Defects on demand
//
// By default the package is the seed with its known defects fixed. A
// [flaw.Set] in [BackendConfig] or [PostmasterConfig] brings individual
// defects back (see package flaw), so checkers can be shown to catch them.
//
// # Beyond the seed
//
// Handles carry the segment's identifier and its epoch (crash re-inits):
// a handle from another segment is an error ([ErrForeignHandle]), and a
// handle from before a crash reports [Stopped]. The Go API refuses names
// that are too long or not printable ASCII ([ValidateWorker]) rather than
// truncating them as the seed does.
package bgworker
