// Package worker implements the worker-process side of PostgreSQL's
// background workers (StartBackgroundWorker and its signal handlers in
// bgworker.c): the registry of entry points, signal handling and exit
// codes.
//
// # Entry points
//
// The seed loads bgw_library_name and looks up bgw_function_name in it. A
// Go program cannot load code, so it builds a [Registry] at start and
// registers every [Entry] under its (library, function) pair. The same
// registry serves both sides: a backend refuses a definition whose entry
// point is missing with [Registry.Check] (or [Registry.Has]) at
// registration time, and a worker process finds its entry with
// [Registry.Lookup]. There is no global registry.
//
// # The worker process
//
// The postmaster spawns a worker with [proc.Spawn], role [Role], the
// definition encoded by [Environ], and the standard files (segment at fd
// 3, postmaster-death pipe at fd 4). The program's main dispatches on the
// role and calls [Main], which is os.Exit([Start]); Start reads what the
// postmaster passed and calls [Run], which holds all the logic and returns
// the exit code, so it can be tested in-process.
//
// # Signals and exit codes
//
//   - SIGTERM: `FATAL:  terminating background worker "NAME" due to
//     administrator command` on stderr, exit 1 ([ExitFatal]).
//   - SIGQUIT: exit at once without cleanup, code 2 ([ExitQuickDie]). The
//     seed exits 0 here and relies on the postmaster's dead-man switch to
//     see the crash anyway; without one, exit 2 makes an isolated SIGQUIT
//     a crash, as intended.
//   - SIGUSR1: sets the worker's latch ([Process.Latch]).
//   - SIGINT, SIGHUP, SIGUSR2: ignored.
//   - Postmaster death: a FATAL message and exit 1, promptly.
//   - The entry returns: its code, so entries can exit 0 (restart at
//     once), 1 (restart after restart_time) or 2 and others (crash of the
//     cluster for a ShmemAccess worker). A panic is exit 1; an unknown
//     entry point is exit 1 with a message.
//
// A signal that arrives after exec but before [Start] has subscribed to
// it (well under a millisecond) has its default effect: SIGTERM kills the
// process by that signal, SIGQUIT makes the Go runtime dump goroutines and
// exit 2, and SIGUSR1 kills it before the Go runtime has started and is
// ignored afterwards. The postmaster sees the first and last as a crash.
// PostgreSQL blocks signals across fork, which a Go exec cannot. Because
// an early SIGUSR1 is lost, an entry must check its condition before its
// first latch wait, as PostgreSQL's workers do.
package worker
