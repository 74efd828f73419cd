package spec

import (
	"fmt"
	"strings"
)

// Pid is a process id as stored in a slot's pid field.
type Pid int32

// Special slot pids (the seed's BackgroundWorkerSlot.pid comment).
const (
	// InvalidPid marks a worker registered but not started yet.
	InvalidPid Pid = -1
	// DeadPid marks a worker that is not running (exited, or a free slot
	// never used).
	DeadPid Pid = 0
)

// Slot is the specification's view of one BackgroundWorkerSlot: the fields
// that decide every output. The worker definition is not part of the state:
// no operation's output depends on it.
type Slot struct {
	InUse      bool   // in_use: the postmaster owns the slot
	Generation uint64 // generation: incremented each time a backend takes the slot
	Pid        Pid    // pid: InvalidPid, DeadPid, or a running worker's pid
}

// String returns "in-use g1 pid=-1" or "free g1 pid=0".
func (sl Slot) String() string {
	use := "free"
	if sl.InUse {
		use = "in-use"
	}
	return fmt.Sprintf("%s g%d pid=%d", use, sl.Generation, sl.Pid)
}

// State is the specification's state (see docs/spec.md): the slot array of the
// seed's BackgroundWorkerArray, whether the postmaster is alive, and the
// number of crash re-initializations so far.
//
// A State is a value: [Step] never changes the State it is given, and the
// States it returns share no memory with it or with each other.
type State struct {
	Slots []Slot // one per slot, total_slots of them
	Alive bool   // the postmaster is alive
	Epoch uint64 // how many times shared memory was re-initialized after a crash
}

// Init returns the state of a freshly started cluster with nslots slots
// (max_worker_processes), as BackgroundWorkerShmemInit leaves it: the
// first static slots hold the statically registered workers (in use,
// generation 0, pid [InvalidPid]), the rest are free (generation 0, pid
// [DeadPid]); the postmaster is alive and the epoch is 0.
//
// Init panics unless 0 <= static <= nslots.
func Init(nslots int, static int) State {
	if static < 0 || static > nslots {
		panic(fmt.Sprintf("spec.Init: need 0 <= static (%d) <= nslots (%d)", static, nslots))
	}
	s := State{Slots: make([]Slot, nslots), Alive: true}
	for i := range static {
		s.Slots[i] = Slot{InUse: true, Pid: InvalidPid}
	}
	return s
}

// Clone returns a copy of s that shares no memory with it.
func (s State) Clone() State {
	t := s
	t.Slots = make([]Slot, len(s.Slots))
	copy(t.Slots, s.Slots)
	return t
}

// Equal reports whether s and t are the same state. A nil and an empty
// slot list are equal.
func (s State) Equal(t State) bool {
	if s.Alive != t.Alive || s.Epoch != t.Epoch || len(s.Slots) != len(t.Slots) {
		return false
	}
	for i := range s.Slots {
		if s.Slots[i] != t.Slots[i] {
			return false
		}
	}
	return true
}

// Hash returns a deterministic 64-bit FNV-1a hash of s. Equal states have
// equal hashes, in every run and on every platform, as porcupine's state
// cache requires.
func (s State) Hash() uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	word := func(v uint64) {
		for range 8 {
			h ^= v & 0xff
			h *= prime
			v >>= 8
		}
	}
	word(s.Epoch)
	if s.Alive {
		word(1)
	} else {
		word(0)
	}
	word(uint64(len(s.Slots)))
	for _, sl := range s.Slots {
		use := uint64(0)
		if sl.InUse {
			use = 1
		}
		word(use<<32 | uint64(uint32(sl.Pid)))
		word(sl.Generation)
	}
	return h
}

// String returns a compact description of s, such as
// "e0 alive [0:in-use g1 pid=-1, 1:free g0 pid=0]".
func (s State) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "e%d ", s.Epoch)
	if s.Alive {
		b.WriteString("alive [")
	} else {
		b.WriteString("dead [")
	}
	for i, sl := range s.Slots {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d:%v", i, sl)
	}
	b.WriteString("]")
	return b.String()
}

// Full reports whether every slot is in use, the only state in which
// RegisterDynamicBackgroundWorker may answer "no free slot". It depends on
// every slot, which is why a per-slot partition of a history cannot check
// that answer (see the package documentation).
func (s State) Full() bool {
	for _, sl := range s.Slots {
		if !sl.InUse {
			return false
		}
	}
	return true
}

// Handle identifies one registration, the seed's BackgroundWorkerHandle
// {slot, generation} plus the epoch in which it was issued.
type Handle struct {
	Slot       int    // slot index
	Generation uint64 // the slot's generation when it was taken
	Epoch      uint64 // the state's Epoch when it was taken
}

// String returns "s2/g1/e0" for slot 2, generation 1, epoch 0.
func (h Handle) String() string {
	return fmt.Sprintf("s%d/g%d/e%d", h.Slot, h.Generation, h.Epoch)
}

// Status is a BgwHandleStatus: what GetBackgroundWorkerPid and
// WaitForBackgroundWorkerStartup report about a handle.
type Status uint8

// The statuses of the seed's BgwHandleStatus.
const (
	NotYetStarted  Status = iota // BGWH_NOT_YET_STARTED
	Started                      // BGWH_STARTED, with a pid
	Stopped                      // BGWH_STOPPED
	PostmasterDied               // BGWH_POSTMASTER_DIED (WaitForBackgroundWorkerStartup only)
)

// String returns the seed's name without the BGWH_ prefix, such as
// "NOT_YET_STARTED".
func (st Status) String() string {
	switch st {
	case NotYetStarted:
		return "NOT_YET_STARTED"
	case Started:
		return "STARTED"
	case Stopped:
		return "STOPPED"
	case PostmasterDied:
		return "POSTMASTER_DIED"
	}
	return fmt.Sprintf("Status(%d)", uint8(st))
}

// StatusOf is the status rule, GetBackgroundWorkerPid with the upstream
// fix 28724fd90d (the seed checks only the generation: the no-inuse-check
// flaw). It returns [Stopped] if h was issued in another epoch,
// names no slot, names another generation, or the slot is not in use;
// otherwise [NotYetStarted] for pid [InvalidPid], [Stopped] for pid
// [DeadPid], and [Started] with the pid for a running worker.
//
// The pid result is meaningful only with Started; it is [DeadPid] otherwise.
func StatusOf(s State, h Handle) (Status, Pid) {
	if h.Epoch != s.Epoch || h.Slot < 0 || h.Slot >= len(s.Slots) {
		return Stopped, DeadPid
	}
	sl := s.Slots[h.Slot]
	if sl.Generation != h.Generation || !sl.InUse {
		return Stopped, DeadPid
	}
	switch {
	case sl.Pid == InvalidPid:
		return NotYetStarted, DeadPid
	case sl.Pid == DeadPid:
		return Stopped, DeadPid
	}
	return Started, sl.Pid
}
