package cluster

import (
	"context"
	"fmt"
	"os"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/shmem"
)

// Breakpoint is where a backend process stopped itself, at the request of
// [Backend.StopAt]: the step of an operation it was about to take.
//
// A step is one thing a backend does that another process can observe or
// that can block: one access to shared memory, one acquire or release of
// BackgroundWorkerLock, one signal to the postmaster, or one sleep on the
// latch. They are the same steps the explorer schedules (package
// explore/protocol), so a breakpoint at every step of an operation puts a
// fault at every point where the real protocol can be interrupted.
type Breakpoint struct {
	// Op is the operation.
	Op Op `json:"op"`
	// Step numbers the step within the operation, from 1.
	Step int `json:"step"`
	// What names the step: "Load32 slot[2].in_use (acq)",
	// "acquire BackgroundWorkerLock (exclusive)", "signal the postmaster",
	// "sleep on the latch".
	What string `json:"what"`
	// Locked reports whether the backend held BackgroundWorkerLock when
	// it stopped.
	Locked bool `json:"locked"`
}

// String returns "register step 7 (Store32 slot[1].pid (rlx), holding
// BackgroundWorkerLock)".
func (bp Breakpoint) String() string {
	s := fmt.Sprintf("%s step %d (%s", bp.Op, bp.Step, bp.What)
	if bp.Locked {
		s += ", holding BackgroundWorkerLock"
	}
	return s + ")"
}

// stepper counts the steps of the backend's current operation and stops
// the process at an armed step. It is used by the serving goroutine only
// (a backend runs one operation at a time, and every step of it runs on
// that goroutine), so it needs no lock.
type stepper struct {
	op     Op
	n      int // steps taken by the current operation
	at     int // stop before this step; 0: not armed
	locked bool
	// stop is called at the armed step, before the process stops
	// itself: it tells the harness where.
	stop func(Breakpoint)
}

// begin starts counting a new operation, armed at step at (0: not armed).
func (s *stepper) begin(op Op, at int) { s.op, s.n, s.at = op, 0, at }

// end returns the number of steps the operation took and disarms.
func (s *stepper) end() int {
	s.at = 0
	return s.n
}

// step counts one step, described by what, and stops the process there
// if it is the armed one. The stop is a SIGSTOP the process sends itself
// after telling the harness: the harness waits until it sees the process
// stopped, then applies its fault (SIGKILL, or SIGCONT later).
func (s *stepper) step(what func() string) {
	s.n++
	if s.at == 0 || s.n != s.at {
		return
	}
	s.at = 0
	if s.stop != nil {
		s.stop(Breakpoint{Op: s.op, Step: s.n, What: what(), Locked: s.locked})
	}
	if err := proc.StopSelf(); err != nil {
		fmt.Fprintf(os.Stderr, "backend: breakpoint: %v\n", err)
	}
}

// observe is the shmem.Observe hook that makes every access to shared
// memory a step.
func (s *stepper) observe(a shmem.Access) {
	s.step(func() string { return bgworker.DescribeAccess(a) })
}

// stepLock is a bgworker.Lock whose acquire and release are steps. The
// step of an acquire comes before it (a stop there does not hold the
// lock); the step of a release comes before it too (a stop there does).
type stepLock struct {
	bgworker.Lock
	s *stepper
}

func (l stepLock) Acquire(mode bgworker.LockMode) error {
	l.s.step(func() string { return fmt.Sprintf("acquire BackgroundWorkerLock (%v)", mode) })
	err := l.Lock.Acquire(mode)
	if err == nil {
		l.s.locked = true
	}
	return err
}

func (l stepLock) Release(mode bgworker.LockMode) error {
	l.s.step(func() string { return fmt.Sprintf("release BackgroundWorkerLock (%v)", mode) })
	l.s.locked = false
	return l.Lock.Release(mode)
}

// stepSignaller is a bgworker.PostmasterSignaller whose signal is a step.
type stepSignaller struct {
	bgworker.PostmasterSignaller
	s *stepper
}

func (p stepSignaller) SignalPostmaster() error {
	p.s.step(func() string { return "signal the postmaster" })
	return p.PostmasterSignaller.SignalPostmaster()
}

// stepLatch is a bgworker.Latch whose sleep is a step.
type stepLatch struct {
	bgworker.Latch
	s *stepper
}

func (l stepLatch) Wait(ctx context.Context) (bgworker.WaitEvents, error) {
	l.s.step(func() string { return "sleep on the latch" })
	return l.Latch.Wait(ctx)
}
