package cluster

import (
	"errors"
	"fmt"
	"os"

	"bgwmodel/impl/pmdriver"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/worker"
)

// The roles ([proc.EnvRole] values) of a cluster's processes, which [Main]
// runs. Background workers run as worker.Role ("bgworker").
const (
	// RoleSupervisor is the process [Start] starts: the postmaster's
	// parent and the subreaper of its children (see [Main]).
	RoleSupervisor = "supervisor"
	// RolePostmaster is the postmaster.
	RolePostmaster = "postmaster"
	// RoleBackend is a regular backend, started on [Cluster.Connect].
	RoleBackend = pmdriver.RoleBackend
)

// The environment of a cluster's processes, besides proc's and worker's.
const (
	// EnvConfig is the postmaster's configuration file (supervisor,
	// postmaster).
	EnvConfig = "BGW_CLUSTER_CONFIG"
	// EnvSocket is the harness's unix-domain socket that backends connect
	// to (supervisor, postmaster, backends).
	EnvSocket = "BGW_CLUSTER_SOCKET"
	// EnvBackendID names a backend to the harness (backends).
	EnvBackendID = "BGW_BACKEND_ID"
	// EnvFlaws lists the cluster's flaws, comma-separated, for the
	// backend side of the protocol (every child of the postmaster).
	EnvFlaws = "BGW_CLUSTER_FLAWS"
	// EnvClockOffset is the byte offset of the logical clock's word in
	// the clock region (every process but the harness).
	EnvClockOffset = "BGW_CLOCK_OFFSET"
)

// The descriptors the supervisor and the postmaster inherit from the
// harness. (The postmaster's children inherit the standard set instead:
// the segment at proc.FDShmem, the postmaster-death pipe at proc.FDDeath
// and the clock at [FDClock].)
const (
	fdControl = 3 // control requests, read end of a pipe
	fdReplies = 4 // control replies, write end of a pipe
	fdRecords = 5 // the record log, opened for appending
	fdClock   = 6 // the clock region's memfd
	nPMFiles  = 4
)

// FDClock is where every child of the postmaster (backends and workers)
// finds the logical clock region's memfd: the first extra file. See
// [ChildClock].
const FDClock = proc.FDExtra

// Main runs this process's cluster role, if it has one, and exits: call it
// first in main (or TestMain), before anything else, with the program's
// worker registry. A process started by the cluster runs its role:
// RoleSupervisor, RolePostmaster (whose static workers' entry points must
// be in reg), RoleBackend (which refuses to register a worker whose entry
// point is not in reg) or worker.Role (which runs the worker's entry from
// reg). Otherwise — no role, or a role of the program's own — Main returns
// at once, and the program goes on (to call [Start], or to dispatch its
// own roles). It blocks, when it runs a role, until the role is done, and
// then does not return.
func Main(reg *worker.Registry) {
	switch os.Getenv(proc.EnvRole) {
	case RoleSupervisor:
		os.Exit(supervisorMain())
	case RolePostmaster:
		os.Exit(postmasterMain(reg))
	case RoleBackend:
		os.Exit(backendMain(reg))
	case worker.Role:
		worker.Main(reg)
	}
}

// ErrMainNotCalled is Start's error when the program did not call [Main]
// first: the supervisor, a re-execution of the program, ran the program's
// main instead of its role, and reached Start itself.
var ErrMainNotCalled = errors.New("cluster: the re-executed process did not call cluster.Main(reg) before cluster.Start: call it first thing in main")

// exitMainNotCalled is the exit code of a process of a cluster that
// reached Start: the program did not call Main.
const exitMainNotCalled = 4

// clusterRole reports whether role is one the cluster gives its processes.
func clusterRole(role string) bool {
	switch role {
	case RoleSupervisor, RolePostmaster, RoleBackend, worker.Role:
		return true
	}
	return false
}

// refuseReexecuted ends this process at once if it is a process of a
// cluster, which reached Start because the program did not call [Main]:
// starting another cluster would re-execute the program again, without
// end. It writes ErrMainNotCalled to the standard error (the server log),
// where the harness's Start finds it.
func refuseReexecuted() {
	if clusterRole(os.Getenv(proc.EnvRole)) {
		fmt.Fprintln(os.Stderr, ErrMainNotCalled)
		os.Exit(exitMainNotCalled)
	}
}
