package explore

import (
	"fmt"
	"strings"
	"time"

	"bgwmodel/impl/bgworker"
)

// scheduler is the world the scheduler runs: the threads and the channel
// their goroutines report on, whose turn it is, the locks, the virtual
// clock and postmaster death.
type scheduler struct {
	ch      chan tmsg
	threads []*Thread
	current ThreadID
	clock   time.Duration
	pmDied  bool
	locks   []*lockState
	nsync   int     // sync objects handed out: two per thread, one per lock
	evbuf   []event // the events of the last scheduling point, reused
}

// newLock makes a lock, with a sync object of its own.
func (s *scheduler) newLock(name string) LockID {
	s.locks = append(s.locks, &lockState{name: name, sync: s.nsync, excl: -1})
	s.nsync++
	return LockID(len(s.locks) - 1)
}

// enabled reports whether t's pending step can be taken now.
func (s *scheduler) enabled(t *Thread) bool {
	if !t.sched.alive || !t.sched.parked || t.sched.failed {
		return false
	}
	o := &t.sched.pending
	switch o.kind {
	case OpLock:
		return s.locks[o.lock].free(o.mode)
	case OpWait:
		return t.sched.latchSet || s.pmDied || (o.deadline && s.clock >= o.until)
	case OpSleep:
		return s.clock >= o.until
	}
	return true
}

func (s *scheduler) nonDaemonAlive() bool {
	for _, t := range s.threads {
		if t.sched.alive && t.flags&Daemon == 0 {
			return true
		}
	}
	return false
}

// nextTimer is the earliest pending timer within the scenario's horizon.
func (s *scheduler) nextTimer(horizon time.Duration) (time.Duration, bool) {
	var at time.Duration
	found := false
	for _, t := range s.threads {
		if !t.sched.alive || !t.sched.parked || t.sched.failed {
			continue
		}
		o := &t.sched.pending
		if o.kind == OpSleep || (o.kind == OpWait && o.deadline) {
			if !found || o.until < at {
				at, found = o.until, true
			}
		}
	}
	if found && horizon > 0 && at > horizon {
		return 0, false
	}
	return at, found
}

// blocked describes every live thread and what it waits for.
func (s *scheduler) blocked() []string {
	var out []string
	for _, t := range s.threads {
		if !t.sched.alive {
			continue
		}
		o := &t.sched.pending
		var what string
		switch o.kind {
		case OpLock:
			ls := s.locks[o.lock]
			what = fmt.Sprintf("lock %s %s (%s)", ls.name, o.mode, ls.describe(s))
		case OpWait:
			what = "latch wait"
			if o.deadline {
				what += " until " + o.until.String()
			}
		case OpSleep:
			what = "sleep until " + o.until.String()
		default:
			what = "runnable " + o.kind.String()
		}
		if t.flags&Daemon != 0 {
			what += " (daemon)"
		}
		out = append(out, t.name+": "+what)
	}
	return out
}

// lockState is one simulated lock.
type lockState struct {
	name   string
	sync   int
	excl   ThreadID // -1 when not held exclusively
	shared []ThreadID
}

func (ls *lockState) free(mode bgworker.LockMode) bool {
	return ls.excl < 0 && (mode == bgworker.LockShared || len(ls.shared) == 0)
}

func (ls *lockState) describe(sc *scheduler) string {
	var hs []string
	if ls.excl >= 0 {
		hs = append(hs, sc.threads[ls.excl].describe()+" exclusive")
	}
	for _, s := range ls.shared {
		hs = append(hs, sc.threads[s].describe()+" shared")
	}
	if len(hs) == 0 {
		return "free"
	}
	return "held by " + strings.Join(hs, ", ")
}

// target resolves a signal or kill target: -1 is the postmaster.
func (s *scheduler) target(id ThreadID) *Thread {
	if id < 0 {
		for _, t := range s.threads {
			if t.sched.alive && t.flags&Postmaster != 0 {
				return t
			}
		}
		return nil
	}
	if int(id) >= len(s.threads) || !s.threads[id].sched.alive {
		return nil
	}
	return s.threads[id]
}

func (s *scheduler) fmtTarget(id ThreadID) string {
	if id < 0 {
		return "postmaster"
	}
	if int(id) < len(s.threads) {
		return s.threads[id].name
	}
	return "thread " + itoa(int(id))
}

// hash adds the scheduler's state to e: the clock, postmaster death, the
// current thread, the threads (each by the hash of everything it has
// observed, which with its body determines its local state and next step)
// and the locks.
func (s *scheduler) hash(e *encoder) {
	e.u64(uint64(s.clock))
	e.bool(s.pmDied)
	e.u64(uint64(s.current + 1))
	e.u64(uint64(len(s.threads)))
	for _, t := range s.threads {
		e.u64(uint64(t.sched.state))
		e.bool(t.sched.alive)
		e.key(t.sched.hist)
		e.bool(t.sched.latchSet)
		e.u64(uint64(t.sched.pending.kind))
		e.u64(uint64(len(t.sched.reaps)))
		for _, r := range t.sched.reaps {
			e.u64(uint64(r.Thread))
			e.u64(uint64(r.State))
			e.u64(uint64(int64(r.Code)))
		}
	}
	for _, ls := range s.locks {
		e.u64(uint64(ls.excl + 1))
		e.u64(uint64(len(ls.shared)))
		for _, x := range ls.shared {
			e.u64(uint64(x))
		}
	}
}
