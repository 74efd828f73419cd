// Package proc implements the operating-system plumbing of bgwmodel's
// multi-process runtime: spawning children by re-executing the running
// binary, reaping them, BackgroundWorkerLock across processes, the
// process latch, the postmaster-death pipe and signalling the postmaster.
//
// Nothing here is global: every signal channel, descriptor and goroutine
// hangs off a value the caller constructs and closes. Package bgworker's
// [bgworker.Lock], [bgworker.Latch] and [bgworker.PostmasterSignaller] are
// implemented by [Lock], [Latch] and [Signaller].
//
// # Processes
//
// The postmaster starts every child with [Spawn] (or [Command] to choose
// its standard files): the child re-executes /proc/self/exe with its role
// in [EnvRole], the postmaster's pid in [EnvPostmasterPid] and the number
// of inherited files in [EnvFiles]. Its inherited files sit at fixed
// descriptors: [FDShmem] (3, the shared-memory memfd), [FDDeath] (4, the
// read end of the postmaster-death pipe) and [FDExtra] (5) on for
// role-specific files. A child's main calls [ChildFromEnv], which checks
// all of that and returns a [Child]; [ErrNotChild] means the process is
// the postmaster (or was run by hand).
//
// Children lead their own session and process group (setsid), as in
// PostgreSQL, and get no parent-death signal: a killed postmaster does not
// kill them, they see its death through the pipe and exit.
//
// Spawn releases the child's *os.Process at once, so a single reaper owns
// waiting: the postmaster's OS loop receives SIGCHLD on a [Notifier]
// ([NotifyChildExit]) and calls [Reap], which reaps every ended child and
// reports each as an [Exited] (a [bgworker.ExitStatus] and the signal).
// [KillAll] signals children and their process groups (a SIGQUIT at crash
// restart), [Kill] one process (SIGUSR1 to a notify_pid).
//
// # BackgroundWorkerLock
//
// [Lock] is an open-file-description lock (fcntl F_OFD_SETLKW) on the
// lock area of the segment's memfd ([bgworker.LockOffset]), taken through
// a description of the memfd that each Lock opens for itself, behind an
// in-process reader-writer gate for the goroutines sharing the Lock. The
// kernel releases a dead holder's lock, so a holder killed with SIGKILL
// never wedges the other processes.
//
// # Latch and postmaster death
//
// [Latch] is set by SIGUSR1 (an os/signal channel the latch owns) or by
// [Latch.Set]; [Latch.Wait] blocks until it is set or the postmaster is
// dead; a SIGUSR1 between [Latch.Reset] and Wait is never lost. The
// postmaster makes a [DeathPipe] and keeps its write end (close-on-exec,
// never inherited); a child's [Death] reads its own description of the
// read end and reports end-of-file on [Death.Dead], and [Death.Alive]
// checks without blocking. [Signaller] sends the postmaster SIGUSR1 by the
// pid from the environment, never getppid, and refuses once the
// postmaster is known to be dead.
//
// # Blocking
//
// [Lock.Acquire], [Latch.Wait], [WaitPid] and [Death.Close] block, as
// their doc comments say; Spawn blocks only for the fork and exec;
// everything else returns at once.
//
// # Test helpers
//
// [OpenFDs], [CountOpenFDs], [ChildPids] and [SetChildSubreaper] let tests
// check that no descriptor leaks and no child (zombie or not) is left;
// package proctest builds test scaffolding on them.
package proc
