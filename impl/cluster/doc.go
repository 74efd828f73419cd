// Package cluster runs the background-worker protocol with real processes:
// a postmaster, regular backends and background workers, each an
// re-execution of the running binary, sharing one memfd segment; and the
// program that starts them, the harness, which drives backends over a
// unix-domain socket. It is the public API for programs that import impl
// as a core, and the runtime the stress harness drives.
//
// # Roles
//
// Every process of a cluster runs the program's own binary, with its role
// in the environment (proc.EnvRole). So the program's main must call
// [Main] first, with its worker registry:
//
//	func main() {
//		reg := worker.NewRegistry()
//		reg.Register("mylib", "my_worker", myWorker)
//		cluster.Main(reg) // runs a cluster role and exits; returns otherwise
//		// ... the program: cluster.Start, Connect, Register, ...
//	}
//
// A test binary does the same in TestMain, before m.Run. A program that
// forgets the call does not start processes without end: its re-executed
// supervisor exits as soon as it reaches Start, and the program's Start
// returns [ErrMainNotCalled].
//
// # Processes
//
// [Start] starts a supervisor ([RoleSupervisor]), which starts the
// postmaster ([RolePostmaster]) and reaps everything below it, so that no
// process outlives [Cluster.Stop] even after the postmaster was killed.
// If the harness dies without Stop (a signal, a crash), the supervisor,
// told by a parent-death signal, kills everything below it and removes
// the socket directory and the directory Start made, or, with
// [Config.RemoveDirIfOrphaned], the caller's [Config.Dir] unless it holds
// [KeepFile].
// The postmaster reads its configuration file (pmdriver.ParseConfig;
// a refused file is exit code [ExitBadConfig] with a one-line message
// naming file and field), creates the segment, and runs
// pmdriver.Run: the OS loop around the pure postmaster.Core. It starts
// static workers as their start states are reached, adopts what backends
// register, restarts, forgets and notifies as the seed does (with its
// defects fixed, unless [Config.Flaws] asks for them), and restarts the
// whole cluster after a crash.
//
// [Cluster.Connect] asks the postmaster, over its control pipe, to start
// a backend ([RoleBackend]). The backend attaches to the segment, builds
// a bgworker.Backend with the cross-process lock (proc.Lock), its latch
// (proc.Latch, set by the postmaster's SIGUSR1) and a signaller, connects
// to the harness's socket and serves requests: [Backend.Register],
// [Backend.GetPid], [Backend.WaitForStartup], [Backend.WaitForShutdown],
// [Backend.Exit]. The seed's backend functions run in the backend
// process, against shared memory; the harness only sends requests and
// reads answers. Errors keep their identity across the socket (see
// [ErrorCode]). docs/runtime.md describes the processes, signals, pipes,
// sockets and descriptors.
//
// # Faults
//
// [Cluster.FailSpawns] makes the next worker spawns fail. [Cluster.Kill]
// kills the postmaster with SIGKILL: backends answer a wait in progress
// with POSTMASTER_DIED and exit, workers exit, all within a bound, since
// every child watches the postmaster-death pipe. Killing a backend
// (proc.Kill with its [Backend.Pid]), or a worker with ShmemAccess
// exiting with a code other than 0 or 1, restarts the cluster after a
// crash: every child gets SIGQUIT, shared memory is rebuilt in a new
// epoch, and handles from before read STOPPED.
//
// To put a fault at an exact point, [Backend.StopAt] makes a backend stop
// itself (SIGSTOP) just before a given step of its next operation — an
// access to shared memory, an acquire or release of BackgroundWorkerLock,
// a signal to the postmaster, a sleep on the latch — and reports the
// [Breakpoint]: where, and whether it holds the lock. Kill it there, or
// send it SIGCONT. [Cluster.StopPostmasterAt] does the same for the
// postmaster's accesses to shared memory.
//
// # Records
//
// The postmaster logs every decision to [RecordsFile] in [Config.Dir],
// one JSON object per line (postmaster.Record's encoding), each stamped
// with a logical clock shared by the harness ([Cluster.Stamp]) and every
// child ([ChildClock]), so that a checker can merge the log with histories
// recorded elsewhere. [Cluster.Records] reads it.
//
// # Blocking
//
// Start, Connect, Stop and every Backend and control request block until
// they are answered, bounded by their context's deadline, or by
// [DefaultTimeout] ([DefaultStopTimeout] for Stop) when it has none; a
// backend's waits are bounded the same way inside the backend. The
// remaining accessors do not block.
package cluster
