package explore

import (
	"time"

	"bgwmodel/impl/shmem"
)

// World is what [Scenario.Setup] builds one execution's world with. Its
// methods may be called only during Setup (they panic afterwards).
type World struct {
	ex *execution
}

func (w *World) live() {
	if w.ex.setupDone {
		panic("explore: World used after Setup returned")
	}
}

// Model returns the memory model of this execution.
func (w *World) Model() ModelKind { return w.ex.mem.kind }

// Spawn makes a root thread running body. Threads run only after Setup
// returns; body runs at once up to its first scheduling point, which is
// not observable.
func (w *World) Spawn(name string, body ThreadFunc, flags ThreadFlag) ThreadID {
	w.live()
	return w.ex.spawn(nil, name, body, flags).id
}

// NewLock makes a lock (a [bgworker.Lock] with shared and exclusive modes)
// for [Thread.Lock].
func (w *World) NewLock(name string) LockID {
	w.live()
	return w.ex.sched.newLock(name)
}

// NameLoc names the location at off in trace tables ("x", "slot[0].pid").
func (w *World) NameLoc(off shmem.Offset, name string) {
	w.live()
	w.ex.mem.name(off, name)
}

// InitMem returns the segment before the run: stores set a location's
// initial value (the message at timestamp 0; every location not set starts
// at zero) and loads read it. It fixes the location's size as a thread
// access does. Use it to run shared-memory initialisation code. Its stores
// return [ErrReadOnly] after Setup.
func (w *World) InitMem() shmem.Memory { return staticMem{ex: w.ex} }

// OnEnd registers a check run at the normal end of each execution (every
// non-daemon thread ended, nothing left to run). An error is a
// counterexample ([FailCheck]).
func (w *World) OnEnd(check func(e *End) error) {
	w.live()
	w.ex.out.checks = append(w.ex.out.checks, check)
}

// OnStep registers an observer called after every step, with the step's
// details (including the model's Info). An error is a counterexample
// ([FailObserver]). Observers make executions slower.
func (w *World) OnStep(observe func(s *Step) error) {
	w.live()
	w.ex.out.observers = append(w.ex.out.observers, observe)
}

// End is the state at the normal end of an execution, given to checks. It
// is valid only during the check.
type End struct {
	ex *execution
	// Threads is every thread's status, by ID.
	Threads []ExitStatus
	// Steps is the execution's length.
	Steps int
	// Time is the virtual clock at the end.
	Time time.Duration
}

// Mem returns the final memory: each location's newest value in
// modification order (TSO: memory, all buffers being flushed). Loads are
// not scheduling points and ignore their order; stores return
// [ErrReadOnly].
func (e *End) Mem() shmem.Memory { return staticMem{ex: e.ex, final: true} }
