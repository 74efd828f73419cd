package explore

import (
	"strings"
	"time"
)

// ThreadID identifies a simulated thread within one execution. Threads are
// numbered from 0 in the order they are spawned, so an ID is the same in
// every execution that makes the same choices.
type ThreadID int

// LockID identifies a lock made by [World.NewLock].
type LockID int

// ThreadFlag is a set of properties of a thread, given when it is spawned.
type ThreadFlag uint8

const (
	// Killable lets the search kill the thread at any of its scheduling
	// points (kill -9), up to [Options.MaxKills] kills per execution.
	Killable ThreadFlag = 1 << iota
	// Daemon marks a thread that may stay blocked when the run ends (a
	// postmaster in its server loop): a run in which only daemons are
	// left, all blocked, ends normally instead of as a hang.
	Daemon
	// Postmaster marks the thread whose end (exit, kill or panic) is
	// "postmaster death" for every other thread: their latch waits return
	// WaitPostmasterDeath and [Thread.PostmasterDied] reports true.
	Postmaster
)

// String lists the flags, as "killable|daemon".
func (f ThreadFlag) String() string {
	var parts []string
	for _, x := range []struct {
		f ThreadFlag
		s string
	}{{Killable, "killable"}, {Daemon, "daemon"}, {Postmaster, "postmaster"}} {
		if f&x.f != 0 {
			parts = append(parts, x.s)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// ThreadFunc is the body of a simulated thread. It must be deterministic:
// its behaviour may depend only on what the explorer returns to it, and it
// must share state with other threads only through the explorer.
type ThreadFunc func(t *Thread)

// Scenario is a world of threads to explore. Setup is called once per
// execution, on a fresh [World], and spawns the initial threads, makes
// locks and registers checks; anything it allocates is private to that
// execution, so per-execution state (for example litmus registers) lives in
// variables that Setup's closures capture.
type Scenario struct {
	// Name is used in reports.
	Name string
	// MemSize is the size in bytes of the shared segment.
	MemSize int
	// Setup builds one execution's world. An error aborts the search.
	Setup func(w *World) error
	// TimeHorizon, if positive, is the virtual time beyond which the
	// clock never advances: a run whose threads all wait for a later
	// timer is then stuck, a hang if a non-daemon thread is alive. It
	// turns "a waiter that a periodic daemon never wakes" into a hang
	// instead of an endless run.
	TimeHorizon time.Duration
}
