package bgworker

import (
	"context"
	"sync"
)

// MutexLock is an in-process [Lock] over a sync.RWMutex, for tests,
// examples and single-process use.
type MutexLock struct {
	mu sync.RWMutex
}

// Acquire takes the lock in mode. It blocks until it is free.
func (l *MutexLock) Acquire(mode LockMode) error {
	if mode == LockShared {
		l.mu.RLock()
	} else {
		l.mu.Lock()
	}
	return nil
}

// Release releases the lock held in mode.
func (l *MutexLock) Release(mode LockMode) error {
	if mode == LockShared {
		l.mu.RUnlock()
	} else {
		l.mu.Unlock()
	}
	return nil
}

// LocalLatch is an in-process [Latch]: Set wakes a Wait, and Close marks
// the (in-process) postmaster dead. The zero value is not usable; call
// [NewLocalLatch].
type LocalLatch struct {
	set  chan struct{} // buffered, capacity 1: holds a token while set
	dead chan struct{} // closed when the postmaster dies
	once sync.Once
}

// NewLocalLatch returns an unset latch with a live postmaster.
func NewLocalLatch() *LocalLatch {
	return &LocalLatch{set: make(chan struct{}, 1), dead: make(chan struct{})}
}

// Set sets the latch (SetLatch, what SIGUSR1 does). It does not block.
func (l *LocalLatch) Set() {
	select {
	case l.set <- struct{}{}:
	default:
	}
}

// PostmasterDied makes every Wait report [WaitPostmasterDeath]. It does
// not block and may be called more than once.
func (l *LocalLatch) PostmasterDied() { l.once.Do(func() { close(l.dead) }) }

// Wait blocks until the latch is set, the postmaster dies or ctx ends.
// The latch stays set until Reset.
func (l *LocalLatch) Wait(ctx context.Context) (WaitEvents, error) {
	select {
	case <-l.dead:
		return WaitPostmasterDeath, nil
	default:
	}
	select {
	case <-l.set:
		l.Set() // stays set until Reset
		return WaitLatchSet, nil
	case <-l.dead:
		return WaitPostmasterDeath, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Reset clears the latch. It does not block.
func (l *LocalLatch) Reset() {
	select {
	case <-l.set:
	default:
	}
}

// SignalFunc adapts a function to [PostmasterSignaller].
type SignalFunc func() error

// SignalPostmaster calls f.
func (f SignalFunc) SignalPostmaster() error { return f() }
