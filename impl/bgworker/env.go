package bgworker

import "context"

// LockMode is the mode in which BackgroundWorkerLock is held.
type LockMode uint8

const (
	// LockShared is LW_SHARED: held by backends that read slots.
	LockShared LockMode = iota + 1
	// LockExclusive is LW_EXCLUSIVE: held by backends that modify slots.
	LockExclusive
)

// String returns "shared" or "exclusive".
func (m LockMode) String() string {
	switch m {
	case LockShared:
		return "shared"
	case LockExclusive:
		return "exclusive"
	}
	return "LockMode(?)"
}

// Lock is BackgroundWorkerLock, the lock through which backends coordinate
// with each other (never with the postmaster, which takes no lock).
//
// Acquire blocks until the lock is held in mode; it has acquire semantics:
// every access made by the previous holder before its Release is visible
// after Acquire returns. Release has release semantics. Implementations:
// impl/proc (cross-process), the explorer (simulated), and [MutexLock]
// (in-process).
type Lock interface {
	Acquire(mode LockMode) error
	Release(mode LockMode) error
}

// WaitEvents is the set of events a latch wait returned for, as
// WaitLatch's result bits.
type WaitEvents uint8

const (
	// WaitLatchSet is WL_LATCH_SET: the latch was set.
	WaitLatchSet WaitEvents = 1 << iota
	// WaitPostmasterDeath is WL_POSTMASTER_DEATH: the postmaster is gone.
	WaitPostmasterDeath
)

// Latch is the backend's process latch (MyProc->procLatch) together with
// the postmaster-death check of WaitLatch.
//
// Wait blocks until the latch is set or the postmaster has died, and
// reports which; it returns at once if the latch is already set. It
// returns an error only if ctx ends first (CHECK_FOR_INTERRUPTS) or the
// wait itself fails. Reset clears the latch. A Set that happens between a
// Reset and the next Wait is never lost: that Wait returns at once.
type Latch interface {
	Wait(ctx context.Context) (WaitEvents, error)
	Reset()
}

// PostmasterSignaller delivers SIGUSR1 to the postmaster
// (SendPostmasterSignal's kill, after the flag is set in shared memory).
// It does not block.
type PostmasterSignaller interface {
	SignalPostmaster() error
}
