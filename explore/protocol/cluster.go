package protocol

import (
	"bgwmodel/explore"
	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/shmem"
	"bgwmodel/linearizability"
	"bgwmodel/spec"
)

// segmentID is the simulated segment's identifier.
const segmentID = 0x5e6

// pidBase: the simulated pid of thread N is pidBase+N.
const pidBase = 1000

func pidOf(tid explore.ThreadID) int32 { return pidBase + int32(tid) }

func tidOf(pid int32) explore.ThreadID { return explore.ThreadID(pid - pidBase) }

// cluster is one execution's simulated cluster: the postmaster's core,
// what every thread recorded, and the checks' bookkeeping. Threads run one
// at a time, so the fields need no locking; what threads record here never
// changes what they do (they decide only from what the explorer returns),
// so executions stay deterministic.
type cluster struct {
	scn   *Scenario
	v     Variant
	model explore.ModelKind
	locks []explore.LockID // BackgroundWorkerLock, one per epoch (shared memory is rebuilt after a crash)
	obs   *observer

	clock   uint64 // logical clock: stamps are 2, 4, 6, …
	clients int    // client ids given out (0 is the postmaster)
	hist    linearizability.History
	recs    []postmaster.Record
	regs    []registration

	core     *postmaster.Core
	pmDead   bool
	workers  map[string]bgworker.Worker // every worker definition, by name
	children map[explore.ThreadID]*child
	order    []explore.ThreadID              // children in spawn order
	signals  map[explore.ThreadID][]sigEntry // SIGUSR1 sent to each backend
	policy   policyCheck
}

// registration is one RegisterDynamicBackgroundWorker call.
type registration struct {
	backend string
	worker  bgworker.Worker
	op      int // index in hist
}

// child is a process the postmaster started: a backend or a worker.
type child struct {
	name    string
	backend bool
	reaped  bool
	sigterm bool // killed by SIGTERM: reported as exit 1
}

// sigEntry is one SIGUSR1 the postmaster sent to a backend.
type sigEntry struct {
	stamp linearizability.Stamp // taken just before the signal
	slot  int
	// gone says the notification tells the registrant that its worker
	// is gone for good (forgotten, rejected, or a NEVER_RESTART worker
	// stopped): its slot must be free by now.
	gone bool
}

// newCluster sets up one execution in w.
func newCluster(s *Scenario, v Variant, w *explore.World, obs *observer) *cluster {
	c := &cluster{
		scn: s, v: v, model: w.Model(), obs: obs,
		workers:  map[string]bgworker.Worker{},
		children: map[explore.ThreadID]*child{},
		signals:  map[explore.ThreadID][]sigEntry{},
	}
	c.policy.c = c
	// A crash restart rebuilds shared memory, the lock with it: backends
	// forked after re-init get a fresh lock (a killed backend may hold the
	// old one). Scenarios crash at most once.
	c.locks = []explore.LockID{w.NewLock("BackgroundWorkerLock"), w.NewLock("BackgroundWorkerLock(e1)")}
	for off, name := range fields() {
		if int(off) < bgworker.ShmemSize(s.Slots) {
			w.NameLoc(off, name)
		}
	}
	for _, sw := range s.Static {
		c.workers[sw.Name] = sw
	}
	pm := w.Spawn("postmaster", c.postmasterMain, explore.Daemon|explore.Postmaster)
	if s.KillPostmaster {
		w.Spawn("killer", func(t *explore.Thread) { _ = t.Kill(pm) }, 0)
	}
	if obs == nil || !obs.stateOnly {
		w.OnEnd(c.check)
	} else {
		w.OnEnd(func(e *explore.End) error { return c.checkPrivateInUse(e) })
	}
	if obs != nil {
		obs.executions++
	}
	return c
}

// addChild records a process the postmaster started.
func (c *cluster) addChild(tid explore.ThreadID, ch *child) {
	c.children[tid] = ch
	c.order = append(c.order, tid)
}

// stamp reads the logical clock. Stamps are even, so that a backend's
// widened call stamp (odd, see Backend) never ties with another stamp.
func (c *cluster) stamp() uint64 {
	c.clock += 2
	return c.clock
}

// wrap returns the memory a thread of role uses: the explorer's, through
// the variant's mutant if any.
func (c *cluster) wrap(m shmem.Memory, r role) shmem.Memory {
	if len(c.v.Mutants) > 0 {
		m = newMutantMem(m, r, c.v.Mutants)
	}
	if c.obs != nil && c.obs.reached != nil {
		m = &coverMem{Memory: m, c: c, role: r}
	}
	return m
}

// cover counts a seed function reached, for the coverage test.
func (c *cluster) cover(fn string) {
	if c.obs != nil && c.obs.reached != nil {
		c.obs.reached[fn]++
	}
}

// observer collects what executions reached (tests only).
type observer struct {
	executions int
	reached    map[string]int
	// stateOnly keeps only the checks that depend on the state reached,
	// not on the order of the steps or on what one thread learnt from
	// another outside the explorer: hangs, the postmaster's own policy
	// checks and invariants 4 and 6. State hashing is sound for them.
	stateOnly bool
}

// coverMem counts the seed functions a thread reaches by the shared
// accesses that only they make (tests only).
type coverMem struct {
	shmem.Memory
	c     *cluster
	role  role
	inits int
}

func (m *coverMem) Load32(off shmem.Offset, o shmem.Order) (uint32, error) {
	if m.role == rolePostmaster && fieldKind(off) == "total_slots" {
		m.c.cover("BackgroundWorkerStateChange")
	}
	return m.Memory.Load32(off, o)
}

func (m *coverMem) LoadBytes(off shmem.Offset, dst []byte) error {
	if m.role == rolePostmaster && fieldKind(off) == "worker" {
		m.c.cover("SanityCheckBackgroundWorker") // the adoption's check follows the copy
	}
	return m.Memory.LoadBytes(off, dst)
}

func (m *coverMem) Store32(off shmem.Offset, v uint32, o shmem.Order) error {
	switch k := fieldKind(off); {
	case m.role == rolePostmaster && k == "magic":
		if m.inits++; m.inits == 1 {
			m.c.cover("BackgroundWorkerShmemInit")
		} else {
			m.c.cover("BackgroundWorkerShmemInit (re-init)")
		}
	case m.role == rolePostmaster && k == "pid" && m.c.core != nil && m.c.core.Segment() != nil:
		m.c.cover("ReportBackgroundWorkerPID")
	case m.role == roleBackend && k == "pmsignal": // the flaw unordered-pmsignal's plain store
		m.c.cover("SendPostmasterSignal")
	}
	return m.Memory.Store32(off, v, o)
}

func (m *coverMem) Swap32(off shmem.Offset, v uint32, o shmem.Order) (uint32, error) {
	if fieldKind(off) == "pmsignal" {
		switch m.role {
		case rolePostmaster:
			m.c.cover("CheckPostmasterSignal")
		case roleBackend:
			m.c.cover("SendPostmasterSignal")
		}
	}
	return m.Memory.Swap32(off, v, o)
}

// pmOp appends a postmaster operation to the history.
func (c *cluster) pmOp(in spec.Input, call, ret uint64) {
	c.hist = append(c.hist, linearizability.Operation{
		Client: 0, Process: "postmaster", Input: in,
		Call: linearizability.Stamp(call), Return: linearizability.Stamp(ret),
	})
}
