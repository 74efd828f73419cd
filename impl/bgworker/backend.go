package bgworker

import (
	"context"
	"errors"
	"fmt"

	"bgwmodel/impl/flaw"
	"bgwmodel/impl/shmem"
)

// Status is a BgwHandleStatus.
type Status uint8

const (
	// Started is BGWH_STARTED: the worker is running with the reported pid.
	Started Status = iota + 1
	// NotYetStarted is BGWH_NOT_YET_STARTED.
	NotYetStarted
	// Stopped is BGWH_STOPPED: the worker ran and stopped (perhaps for
	// good), or the handle names a slot reused since.
	Stopped
	// PostmasterDied is BGWH_POSTMASTER_DIED, only from
	// [Backend.WaitForBackgroundWorkerStartup].
	PostmasterDied
)

// String returns the seed's name without the BGWH_ prefix.
func (s Status) String() string {
	switch s {
	case Started:
		return "STARTED"
	case NotYetStarted:
		return "NOT_YET_STARTED"
	case Stopped:
		return "STOPPED"
	case PostmasterDied:
		return "POSTMASTER_DIED"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// PidStatus is what GetBackgroundWorkerPid reports: a status and, when
// Started, the worker's pid.
type PidStatus struct {
	Status Status
	Pid    int32
}

// Handle is a BackgroundWorkerHandle: a slot and the generation it had
// when the worker was registered, plus the segment and its epoch (crash
// re-inits), so that a handle from another segment is refused and a handle
// from before a crash reports Stopped.
type Handle struct {
	Segment    uint64
	Epoch      uint64
	Slot       int
	Generation uint64
}

// Errors from the backend API.
var (
	// ErrNoFreeSlot: every slot is in use (RegisterDynamicBackgroundWorker
	// returned false).
	ErrNoFreeSlot = errors.New("bgworker: no free background worker slot")
	// ErrForeignHandle: the handle was not made by this segment.
	ErrForeignHandle = errors.New("bgworker: handle from another segment")
	// ErrBadHandle: the handle's slot is out of range.
	ErrBadHandle = errors.New("bgworker: handle slot out of range")
	// ErrNotSignalled is wrapped by RegisterDynamicBackgroundWorker's
	// error when the worker was registered (the handle returned with it
	// is valid) but the postmaster could not be signalled: it adopts the
	// slot at its next signal.
	ErrNotSignalled = errors.New("bgworker: registered, but the postmaster could not be signalled")
)

// BackendConfig is what a backend brings to the protocol besides the
// segment.
type BackendConfig struct {
	// Lock is BackgroundWorkerLock. Required.
	Lock Lock
	// Postmaster delivers SIGUSR1 to the postmaster. Required for
	// registration.
	Postmaster PostmasterSignaller
	// Latch is the backend's process latch, set by SIGUSR1. Required for
	// WaitForBackgroundWorkerStartup.
	Latch Latch
	// Flaws selects seed defects to reproduce; the zero value is correct.
	Flaws flaw.Set
}

// Backend is one regular backend's view of the protocol. Its methods are
// the backend half of the seed. It holds no mutable state; a Backend may be
// used from several goroutines if its Lock, Latch and signaller allow it.
type Backend struct {
	seg *Segment
	cfg BackendConfig
}

// NewBackend returns a backend over seg. It does not block.
func NewBackend(seg *Segment, cfg BackendConfig) *Backend {
	return &Backend{seg: seg, cfg: cfg}
}

// RegisterDynamicBackgroundWorker registers w in the first free slot and
// signals the postmaster (RegisterDynamicBackgroundWorker). It returns the
// handle, [ErrNoFreeSlot], an [*InvalidError] for a worker the API or the
// sanity check refuses, or a lock, memory or signal error. It blocks only
// to take BackgroundWorkerLock exclusively.
//
// A signal error is returned together with the handle, wrapped with
// [ErrNotSignalled]: the slot is registered and the postmaster will adopt
// it at its next signal.
func (b *Backend) RegisterDynamicBackgroundWorker(w Worker) (Handle, error) {
	if err := ValidateWorker(&w); err != nil {
		return Handle{}, err
	}
	block := encodeWorker(&w)
	mem := b.seg.mem
	if err := b.cfg.Lock.Acquire(LockExclusive); err != nil {
		return Handle{}, fmt.Errorf("bgworker: register: %w", err)
	}
	h, err := b.takeSlot(mem, block)
	if rerr := b.cfg.Lock.Release(LockExclusive); err == nil && rerr != nil {
		err = fmt.Errorf("bgworker: register: %w", rerr)
	}
	if err != nil {
		return Handle{}, err
	}
	if err := b.SendPostmasterSignal(); err != nil {
		return h, fmt.Errorf("%w: %w", ErrNotSignalled, err)
	}
	return h, nil
}

// takeSlot is the locked part of RegisterDynamicBackgroundWorker. The
// caller holds BackgroundWorkerLock exclusively, so no other backend writes
// a slot concurrently; the postmaster may still read any in-use slot and
// clear in_use of any slot.
func (b *Backend) takeSlot(mem shmem.Memory, block []byte) (Handle, error) {
	epoch, err := mem.Load64(offEpoch, shmem.Relaxed)
	if err != nil {
		return Handle{}, err
	}
	for slot := 0; slot < b.seg.slots; slot++ {
		// Acquire: pairs with the postmaster's full barrier before it
		// cleared in_use (ForgetBackgroundWorker). Reading in_use == false
		// must make the postmaster's last writes to the slot (its pid = 0)
		// visible, so that our pid = InvalidPid below is ordered after
		// them; otherwise a stale pid = 0 may land on the new registration
		// and its registrant reads STOPPED. PostgreSQL relies on the
		// control dependency from this load to the stores below; C11 has
		// no such rule, so the load is an acquire.
		inUse, err := mem.Load32(slotOff(slot, slotInUse), shmem.Acquire)
		if err != nil {
			return Handle{}, err
		}
		if inUse != 0 {
			continue
		}
		if err := mem.StoreBytes(slotOff(slot, slotWorker), block); err != nil {
			return Handle{}, err
		}
		if err := mem.Store32(slotOff(slot, slotPid), invalidPidWord, shmem.Relaxed); err != nil {
			return Handle{}, err
		}
		// Only backends holding the lock exclusively write generation.
		gen, err := mem.Load64(slotOff(slot, slotGeneration), shmem.Relaxed)
		if err != nil {
			return Handle{}, err
		}
		gen++
		if err := mem.Store64(slotOff(slot, slotGeneration), gen, shmem.Relaxed); err != nil {
			return Handle{}, err
		}
		// Write barrier: the worker block, pid and generation must be
		// visible before in_use = true. The postmaster reads in_use and
		// then, after its read barrier, the block; without this barrier it
		// could adopt a slot with an old or half-written worker.
		mem.Fence(shmem.WriteBarrier)
		if err := mem.Store32(slotOff(slot, slotInUse), 1, shmem.Relaxed); err != nil {
			return Handle{}, err
		}
		return Handle{Segment: b.seg.id, Epoch: epoch, Slot: slot, Generation: gen}, nil
	}
	return Handle{}, ErrNoFreeSlot
}

// SendPostmasterSignal sets the PMSIGNAL_BACKGROUND_WORKER_CHANGE flag and
// sends SIGUSR1 to the postmaster (SendPostmasterSignal). It does not
// block.
func (b *Backend) SendPostmasterSignal() error {
	// An atomic exchange with release order (the old value is not needed).
	// Every slot this backend set in use before must be visible to the
	// scan of a postmaster whose exchange in CheckPostmasterSignal
	// (acquire) consumes the flag; otherwise the postmaster may consume
	// the flag, scan, miss the new slot and never look again.
	//
	// A release store is not enough when two backends signal at once.
	// Nothing orders backend 2's flag store after backend 1's (they
	// synchronised, through the lock, before backend 1 stored its flag), so
	// under C11 backend 2's store may come first in the flag's
	// modification order. The postmaster's exchange then reads backend 1's
	// flag and synchronises with backend 1 only, its scan misses backend
	// 2's slot, and backend 2's own signal later finds the flag clear:
	// backend 2's registration is never adopted and its registrant hangs.
	// Release sequences continue through read-modify-writes: with every
	// set an exchange, each backend's set heads a release sequence that
	// runs through the later sets up to the value the postmaster's
	// exchange reads, so that exchange synchronises with every backend
	// whose flag it consumed, and its scan sees all their slots.
	//
	// PostgreSQL's pmsignal.c sets the flag with a plain store of a
	// sig_atomic_t and relies on the barrier implied by kill(); that
	// orders one sender's writes, but not two senders' flag stores against
	// each other under C11.
	var err error
	if b.cfg.Flaws.Has(flaw.UnorderedPMSignal) {
		// The seed's flaw: a plain store with no ordering at all.
		err = b.seg.mem.Store32(offPMSignal, 1, shmem.Relaxed)
	} else {
		_, err = b.seg.mem.Swap32(offPMSignal, 1, shmem.Release)
	}
	if err != nil {
		return fmt.Errorf("bgworker: pmsignal: %w", err)
	}
	if err := b.cfg.Postmaster.SignalPostmaster(); err != nil {
		return fmt.Errorf("bgworker: signal postmaster: %w", err)
	}
	return nil
}

// GetBackgroundWorkerPid reports the status of the worker h names
// (GetBackgroundWorkerPid): Stopped if the slot has been reused or freed
// since (or h is from before a crash re-init), NotYetStarted, or Started
// with its pid. It returns [ErrForeignHandle] or [ErrBadHandle] for a
// handle this segment did not make. It blocks only to take
// BackgroundWorkerLock in shared mode.
func (b *Backend) GetBackgroundWorkerPid(h Handle) (PidStatus, error) {
	if h.Segment != b.seg.id {
		return PidStatus{}, fmt.Errorf("%w: %#x, not %#x", ErrForeignHandle, h.Segment, b.seg.id)
	}
	if h.Slot < 0 || h.Slot >= b.seg.slots {
		return PidStatus{}, fmt.Errorf("%w: %d of %d", ErrBadHandle, h.Slot, b.seg.slots)
	}
	if err := b.cfg.Lock.Acquire(LockShared); err != nil {
		return PidStatus{}, fmt.Errorf("bgworker: get pid: %w", err)
	}
	pid, err := b.readPid(h)
	if rerr := b.cfg.Lock.Release(LockShared); err == nil && rerr != nil {
		err = fmt.Errorf("bgworker: get pid: %w", rerr)
	}
	if err != nil {
		return PidStatus{}, err
	}
	switch pid {
	case 0:
		return PidStatus{Status: Stopped}, nil
	case InvalidPid:
		return PidStatus{Status: NotYetStarted}, nil
	}
	return PidStatus{Status: Started, Pid: pid}, nil
}

// readPid is the locked part of GetBackgroundWorkerPid: 0 for a stopped
// worker. The caller holds BackgroundWorkerLock in shared mode, so the
// generation and the epoch cannot change under us (only a backend holding
// the lock exclusively, or a re-init with no backend alive, writes them).
func (b *Backend) readPid(h Handle) (int32, error) {
	mem := b.seg.mem
	epoch, err := mem.Load64(offEpoch, shmem.Relaxed)
	if err != nil {
		return 0, err
	}
	gen, err := mem.Load64(slotOff(h.Slot, slotGeneration), shmem.Relaxed)
	if err != nil {
		return 0, err
	}
	if epoch != h.Epoch || gen != h.Generation {
		return 0, nil
	}
	if !b.cfg.Flaws.Has(flaw.NoInuseCheck) {
		// The generation matches, but the postmaster may have forgotten
		// the worker since (in_use = false); the slot cannot have been
		// reused while we hold the lock. Acquire pairs with the
		// postmaster's barrier before it cleared in_use, so the pid read
		// below is no older than the pid it wrote before forgetting.
		inUse, err := mem.Load32(slotOff(h.Slot, slotInUse), shmem.Acquire)
		if err != nil {
			return 0, err
		}
		if inUse == 0 {
			return 0, nil
		}
	}
	// pid is written only by the postmaster, atomically: the value may be
	// out of date by the time the caller looks, but never torn.
	pid, err := mem.Load32(slotOff(h.Slot, slotPid), shmem.Relaxed)
	return int32(pid), err
}

// WaitForBackgroundWorkerStartup waits until the worker h names is no
// longer NotYetStarted and reports its status
// (WaitForBackgroundWorkerStartup): Started with its pid or Stopped, or
// PostmasterDied if the postmaster is gone first. It never returns
// NotYetStarted. It blocks on the backend's latch, which the postmaster
// sets (SIGUSR1 to bgw_notify_pid) when the worker starts or stops; so the
// worker must have been registered with NotifyPid naming this backend, or
// the wait lasts until the postmaster dies or ctx ends. It returns ctx's
// error if ctx ends first.
func (b *Backend) WaitForBackgroundWorkerStartup(ctx context.Context, h Handle) (PidStatus, error) {
	for {
		if err := ctx.Err(); err != nil {
			return PidStatus{}, fmt.Errorf("bgworker: wait for startup: %w", err)
		}
		st, err := b.GetBackgroundWorkerPid(h)
		if err != nil || st.Status != NotYetStarted {
			return st, err
		}
		// A SIGUSR1 between the read above and this wait has set the latch,
		// so the wait returns at once: no wake-up is lost. The latch is
		// reset only after the wait, before the status is read again.
		ev, err := b.cfg.Latch.Wait(ctx)
		if err != nil {
			return PidStatus{}, fmt.Errorf("bgworker: wait for startup: %w", err)
		}
		if ev&WaitPostmasterDeath != 0 {
			return PidStatus{Status: PostmasterDied}, nil
		}
		b.cfg.Latch.Reset()
	}
}
