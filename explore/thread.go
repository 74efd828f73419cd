package explore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/shmem"
)

// Thread is a simulated thread, as its body sees it. Its methods are to be
// called only from the thread's own body. Each method that is a scheduling
// point says so: the thread stops there until the scheduler picks it
// again, and other threads may run in between.
type Thread struct {
	ex     *execution
	id     ThreadID
	name   string
	flags  ThreadFlag
	parent ThreadID
	body   ThreadFunc
	wake   chan reply
	sched  threadSched // touched by the scheduler only
	self   threadSelf  // touched by the thread's goroutine only
}

// threadSched is what the scheduler knows of a thread.
type threadSched struct {
	alive     bool
	parked    bool // stopped at a scheduling point, pending set
	pending   op
	failed    bool // sent a failure: never runs again
	killed    bool
	state     ThreadState
	code      int
	latchSet  bool
	reaps     []ExitStatus
	hist      key // hash of everything the thread has observed
	latchSync int
	exitSync  int
}

// threadSelf is what a thread's goroutine knows of itself. The scheduler
// reads exiting and exitCode only once the goroutine has ended.
type threadSelf struct {
	dying    bool // killed: unwinding; every explorer call ends the goroutine
	exiting  bool // Exit called
	exitCode int
}

// ThreadState is how a thread ended.
type ThreadState uint8

const (
	// StateAlive: the thread had not ended (a daemon, or a blocked thread
	// of a hung or cut run).
	StateAlive ThreadState = iota
	// StateExited: the body returned (code 0) or called [Thread.Exit].
	StateExited
	// StateKilled: the thread was killed.
	StateKilled
	// StatePanicked: the body panicked.
	StatePanicked
)

// String returns "alive", "exited", "killed" or "panicked".
func (s ThreadState) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateExited:
		return "exited"
	case StateKilled:
		return "killed"
	case StatePanicked:
		return "panicked"
	}
	return fmt.Sprintf("ThreadState(%d)", uint8(s))
}

// ExitStatus is a thread's state at the end of a run, or the status of an
// exited child as [Thread.Reap] returns it.
type ExitStatus struct {
	Thread ThreadID
	Name   string
	State  ThreadState
	// Code is the exit code of an exited thread.
	Code int
}

// Errors returned to thread code.
var (
	// ErrLockNotHeld: a lock released in a mode in which the thread does
	// not hold it.
	ErrLockNotHeld = errors.New("explore: lock not held in that mode")
	// ErrNoSuchThread: a signal or kill to a thread that has ended or
	// never existed (ESRCH).
	ErrNoSuchThread = errors.New("explore: no such live thread")
	// ErrNoPostmaster: SignalPostmaster with no live [Postmaster] thread.
	ErrNoPostmaster = errors.New("explore: no postmaster thread")
)

type msgKind uint8

const (
	msgOp   msgKind = iota // the thread stopped at a scheduling point
	msgDone                // the thread's goroutine ended
	msgFail                // the thread failed (Fail or misuse)
)

// tmsg is a thread goroutine's message to the scheduler.
type tmsg struct {
	t        *Thread
	kind     msgKind
	op       op
	fail     *Failure
	panicVal any
	stack    []byte
}

// reply is the scheduler's answer to a thread stopped at a scheduling
// point: the result of its step, or kill.
type reply struct {
	kill bool
	r    result
}

// result is the outcome of one step, as returned to thread code.
type result struct {
	w        uint64
	b        string
	ok       bool
	err      error
	ev       bgworker.WaitEvents
	timedOut bool
	tid      ThreadID
	exits    []ExitStatus
}

// main is the thread's goroutine.
func (t *Thread) main() {
	defer func() {
		p := recover()
		m := tmsg{t: t, kind: msgDone}
		if p != nil && !t.self.dying {
			m.panicVal, m.stack = p, debug.Stack()
		}
		t.ex.sched.ch <- m
	}()
	t.body(t)
}

// call stops at a scheduling point with step o and returns its result. A
// killed or exiting thread never gets past it: the goroutine ends
// (runtime.Goexit), running deferred calls, whose own explorer calls end
// at once too — so a killed lock holder's deferred Release never happens.
func (t *Thread) call(o op) result {
	if t.self.dying || t.self.exiting {
		runtime.Goexit()
	}
	t.ex.sched.ch <- tmsg{t: t, kind: msgOp, op: o}
	rep := <-t.wake
	if rep.kill {
		t.self.dying = true
		runtime.Goexit()
	}
	return rep.r
}

// fail reports a failure and ends the thread.
func (t *Thread) fail(kind FailureKind, err error) {
	if t.self.dying || t.self.exiting {
		runtime.Goexit()
	}
	t.ex.sched.ch <- tmsg{t: t, kind: msgFail, fail: &Failure{Kind: kind, Thread: t.name, Err: err}}
	<-t.wake // always a kill
	t.self.dying = true
	runtime.Goexit()
}

// status is the thread's ExitStatus.
func (t *Thread) status() ExitStatus {
	return ExitStatus{Thread: t.id, Name: t.name, State: t.sched.state, Code: t.sched.code}
}

// describe is "name" or "name [killed]".
func (t *Thread) describe() string {
	if t.sched.alive {
		return t.name
	}
	return t.name + " [" + t.sched.state.String() + "]"
}

// ID returns the thread's ID.
func (t *Thread) ID() ThreadID { return t.id }

// Name returns the thread's name.
func (t *Thread) Name() string { return t.name }

// Mem returns the shared segment as this thread sees it. Every access is
// one scheduling point; see the package documentation for errors.
func (t *Thread) Mem() shmem.Memory { return threadMem{t} }

// Latch returns the thread's process latch. Wait is a scheduling point
// enabled once the latch is set or the postmaster has died; it ignores
// ctx's deadline (time is virtual) but returns ctx.Err() at once if ctx
// has already ended. Reset is a scheduling point; clearing a set latch
// acquires what the signals that set it published (ResetLatch's barrier).
func (t *Thread) Latch() bgworker.Latch { return threadLatch{t} }

// Lock returns lock id as this thread's [bgworker.Lock]. Acquire is a
// scheduling point enabled only when the lock is free in that mode; it
// acquires the view the last releases published. Release is a scheduling
// point with release semantics.
func (t *Thread) Lock(id LockID) bgworker.Lock { return threadLock{t, id} }

// Signal sets target's latch (SIGUSR1 whose handler sets the latch): a
// release that the target's latch wait acquires. It returns
// [ErrNoSuchThread] if target has ended. A scheduling point.
func (t *Thread) Signal(target ThreadID) error {
	return t.call(op{kind: OpSignal, target: target}).err
}

// SignalPostmaster signals the [Postmaster] thread; Thread is thus a
// [bgworker.PostmasterSignaller]. A scheduling point.
func (t *Thread) SignalPostmaster() error {
	return t.call(op{kind: OpSignal, target: -1}).err
}

var _ bgworker.PostmasterSignaller = (*Thread)(nil)

// Now returns the virtual time. It is not a scheduling point.
func (t *Thread) Now() time.Duration {
	now := t.ex.sched.clock
	t.observe(OpTime, uint64(now))
	return now
}

// SleepUntil blocks until virtual time at. A scheduling point enabled when
// the clock has reached at; the clock advances only when nothing else can
// run.
func (t *Thread) SleepUntil(at time.Duration) { t.call(op{kind: OpSleep, until: at}) }

// Sleep blocks for d of virtual time (see [Thread.SleepUntil]).
func (t *Thread) Sleep(d time.Duration) { t.SleepUntil(t.Now() + d) }

// WaitUntil is WaitLatch with a timeout: it blocks until the latch is set,
// the postmaster has died, or virtual time deadline, and reports which
// (timedOut with no events). A scheduling point.
func (t *Thread) WaitUntil(deadline time.Duration) (ev bgworker.WaitEvents, timedOut bool) {
	r := t.call(op{kind: OpWait, until: deadline, deadline: true})
	return r.ev, r.timedOut
}

// Spawn starts a child thread running body (fork). The child starts with
// the parent's view of memory, and when it ends the parent's latch is set
// and its status is queued for [Thread.Reap]. A scheduling point.
func (t *Thread) Spawn(name string, body ThreadFunc, flags ThreadFlag) ThreadID {
	return t.call(op{kind: OpSpawn, spawn: &spawnReq{name, body, flags}}).tid
}

// Kill kills target at its current scheduling point (kill -9): it never
// takes another step, and locks it holds stay held. Killing itself ends the
// calling thread. It returns [ErrNoSuchThread] if target has ended. A
// scheduling point.
func (t *Thread) Kill(target ThreadID) error {
	return t.call(op{kind: OpKill, target: target}).err
}

// Exit ends the thread with an exit code; it does not return. Deferred
// calls run, but their explorer calls end at once (as after a kill).
func (t *Thread) Exit(code int) {
	if t.self.dying || t.self.exiting {
		runtime.Goexit()
	}
	t.self.exiting, t.self.exitCode = true, code
	runtime.Goexit()
}

// Reap returns the exit statuses of children that have ended since the
// last call (waitpid with WNOHANG), acquiring what they published. A
// scheduling point.
func (t *Thread) Reap() []ExitStatus { return t.call(op{kind: OpReap}).exits }

// PostmasterDied reports whether the [Postmaster] thread has ended (the
// postmaster-death pipe check). A scheduling point.
func (t *Thread) PostmasterDied() bool { return t.call(op{kind: OpPMDied}).ok }

// Yield is a bare scheduling point.
func (t *Thread) Yield() { t.call(op{kind: OpYield}) }

// Fail ends the execution with a [FailThread] failure: thread code found a
// counterexample. It does not return.
func (t *Thread) Fail(err error) { t.fail(FailThread, err) }

// Failf is [Thread.Fail] with a formatted error.
func (t *Thread) Failf(format string, args ...any) { t.fail(FailThread, fmt.Errorf(format, args...)) }

// Note adds a row to a replayed trace table (and a step to observers). It
// is not a scheduling point and not an observation.
func (t *Thread) Note(text string) {
	if t.self.dying || t.self.exiting {
		return
	}
	s := Step{Thread: t.id, Name: t.name, Op: OpNote, Text: text}
	if !t.ex.setupDone {
		t.ex.out.notes = append(t.ex.out.notes, s)
		return
	}
	t.ex.emit(s)
}

// observe adds a value the thread was given outside a step to its history.
func (t *Thread) observe(k OpKind, x uint64) {
	e := &t.ex.enc
	e.reset()
	e.key(t.sched.hist)
	e.u64(uint64(k))
	e.u64(x)
	t.sched.hist = e.sum()
}

type threadLatch struct{ t *Thread }

func (l threadLatch) Wait(ctx context.Context) (bgworker.WaitEvents, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return l.t.call(op{kind: OpWait}).ev, nil
}

func (l threadLatch) Reset() { l.t.call(op{kind: OpReset}) }

type threadLock struct {
	t  *Thread
	id LockID
}

func (l threadLock) Acquire(mode bgworker.LockMode) error {
	if err := l.t.checkLock(l.id, mode); err != nil {
		return err
	}
	return l.t.call(op{kind: OpLock, lock: l.id, mode: mode}).err
}

func (l threadLock) Release(mode bgworker.LockMode) error {
	if err := l.t.checkLock(l.id, mode); err != nil {
		return err
	}
	return l.t.call(op{kind: OpUnlock, lock: l.id, mode: mode}).err
}

// ErrBadLock is returned for an unknown lock or lock mode.
var ErrBadLock = errors.New("explore: bad lock or lock mode")

func (t *Thread) checkLock(id LockID, mode bgworker.LockMode) error {
	if id < 0 || int(id) >= len(t.ex.sched.locks) || (mode != bgworker.LockShared && mode != bgworker.LockExclusive) {
		return fmt.Errorf("%w: lock %d mode %d", ErrBadLock, id, mode)
	}
	return nil
}
