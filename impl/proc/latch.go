package proc

import (
	"context"
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"

	"bgwmodel/impl/bgworker"
)

// Latch is a process latch (MyProc->procLatch) set by SIGUSR1, together
// with the postmaster-death check of WaitLatch. It implements
// [bgworker.Latch] for backends and worker processes.
//
// The latch owns a signal channel registered with os/signal for SIGUSR1:
// nothing is global, and several Latches in one process each see every
// SIGUSR1. A signal that arrives at any time, including between
// [Latch.Reset] and [Latch.Wait], stays pending in that channel, so the
// next Wait returns at once: no wake-up is lost. A Wait may also return
// for a SIGUSR1 that was sent just before a Reset (a spurious wake-up, as
// with PostgreSQL's latches); callers re-check their condition.
//
// Until [NewLatch] has returned, a SIGUSR1 is ignored by the Go runtime
// (not fatal); after [Latch.Close], likewise. Only the few microseconds
// between execve and the Go runtime's start, before any Go code runs, are
// unprotected: a SIGUSR1 then kills the process (the kernel's default).
//
// The zero value is not usable; call [NewLatch]. A Latch is safe for
// concurrent use.
type Latch struct {
	sig   chan os.Signal // SIGUSR1 deliveries, from os/signal
	set   chan struct{}  // capacity 1: holds a token while the latch is set
	death *Death         // nil: the postmaster is never reported dead

	closeOnce sync.Once
}

var _ bgworker.Latch = (*Latch)(nil)

// NewLatch returns an unset latch that SIGUSR1 sets from now on. If death
// is not nil, Wait also reports [bgworker.WaitPostmasterDeath] once it
// fires. It does not block.
func NewLatch(death *Death) *Latch {
	l := &Latch{
		sig:   make(chan os.Signal, 1),
		set:   make(chan struct{}, 1),
		death: death,
	}
	signal.Notify(l.sig, unix.SIGUSR1)
	return l
}

// Set sets the latch from this process (SetLatch on one's own latch). It
// does not block.
func (l *Latch) Set() {
	select {
	case l.set <- struct{}{}:
	default:
	}
}

// IsSet reports whether the latch is set, counting a SIGUSR1 that has been
// delivered but not yet looked at. It does not block.
func (l *Latch) IsSet() bool {
	l.absorb()
	select {
	case <-l.set:
		l.Set()
		return true
	default:
		return false
	}
}

// absorb turns a pending SIGUSR1 into the set state.
func (l *Latch) absorb() {
	select {
	case <-l.sig:
		l.Set()
	default:
	}
}

func (l *Latch) dead() <-chan struct{} {
	if l.death == nil {
		return nil
	}
	return l.death.Dead()
}

// Wait blocks until the latch is set or the postmaster is dead and reports
// which (both bits when both hold); it returns at once if either already
// holds. The latch stays set until [Latch.Reset]. It returns ctx's error
// if ctx ends first.
func (l *Latch) Wait(ctx context.Context) (bgworker.WaitEvents, error) {
	if ev := l.poll(); ev != 0 {
		return ev, nil
	}
	select {
	case <-l.sig:
		l.Set()
	case <-l.set:
		l.Set()
	case <-l.dead():
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return l.poll(), nil
}

// poll returns the events that hold now, without blocking.
func (l *Latch) poll() bgworker.WaitEvents {
	var ev bgworker.WaitEvents
	if l.IsSet() {
		ev |= bgworker.WaitLatchSet
	}
	if l.death != nil && !l.death.Alive() {
		ev |= bgworker.WaitPostmasterDeath
	}
	return ev
}

// Reset clears the latch (ResetLatch), including a SIGUSR1 delivered
// before the call. It does not block.
func (l *Latch) Reset() {
	select {
	case <-l.sig:
	default:
	}
	select {
	case <-l.set:
	default:
	}
}

// Close stops SIGUSR1 delivery to this latch. Once no Latch of the process
// is open, SIGUSR1 is ignored again. It does not block.
func (l *Latch) Close() {
	l.closeOnce.Do(func() { signal.Stop(l.sig) })
}
