package bgworker

import (
	"errors"
	"fmt"
	"time"

	"bgwmodel/impl/flaw"
	"bgwmodel/impl/shmem"
)

// InvalidPid is the slot pid of a registered worker not started yet.
const InvalidPid int32 = -1

// invalidPidWord is InvalidPid as stored in the pid word.
const invalidPidWord = ^uint32(0)

// RegisteredWorker is a RegisteredBgWorker: the postmaster's private record
// of one worker, copied out of shared memory (or registered statically) and
// never read back from it.
type RegisteredWorker struct {
	// Worker is the postmaster's copy of the definition.
	Worker Worker
	// Slot is rw_shmem_slot.
	Slot int
	// Pid is rw_pid: the running process, or 0.
	Pid int32
	// CrashedAt is rw_crashed_at: when the worker last exited with a
	// restart delay, or 0 to start it at once. Times are the postmaster's
	// monotonic clock since its start.
	CrashedAt time.Duration
	// Crashed records that CrashedAt is set (time 0 is a valid instant).
	Crashed bool
	// Dynamic is true for workers adopted from shared memory.
	Dynamic bool
	// Started is true once a process has been launched for it, in this
	// registration (the seed cannot tell; the fixed postmaster needs it to
	// notify a registrant whose worker never started).
	Started bool
}

// PostmasterConfig configures the postmaster side.
type PostmasterConfig struct {
	// MaxWorkers is max_worker_processes, 1..MaxWorkerProcesses.
	MaxWorkers int
	// Flaws selects seed defects to reproduce.
	Flaws flaw.Set
	// SegmentID names the segment; handles carry it.
	SegmentID uint64
}

// Postmaster is the postmaster's side of the protocol: the private
// BackgroundWorkerList and the functions that read and write shared memory
// on its behalf. It never takes a lock and never trusts shared memory. It
// makes no syscalls and never blocks; it is not safe for concurrent use
// (the postmaster is one thread).
type Postmaster struct {
	cfg     PostmasterConfig
	seg     *Segment
	epoch   uint64
	workers []*RegisteredWorker // BackgroundWorkerList
}

// ErrTooManyWorkers: more static workers than max_worker_processes.
var ErrTooManyWorkers = errors.New("bgworker: too many background workers")

// NewPostmaster returns the postmaster side with an empty worker list.
func NewPostmaster(cfg PostmasterConfig) (*Postmaster, error) {
	if cfg.MaxWorkers < 1 || cfg.MaxWorkers > MaxWorkerProcesses {
		return nil, fmt.Errorf("bgworker: max_worker_processes %d out of range 1..%d", cfg.MaxWorkers, MaxWorkerProcesses)
	}
	return &Postmaster{cfg: cfg}, nil
}

// Workers returns the private list. The records are the postmaster's own:
// callers (the postmaster core) update Pid, CrashedAt and Started.
func (p *Postmaster) Workers() []*RegisteredWorker { return p.workers }

// Segment returns the segment set up by BackgroundWorkerShmemInit, or nil.
func (p *Postmaster) Segment() *Segment { return p.seg }

// Flaws returns the flaws this postmaster reproduces.
func (p *Postmaster) Flaws() flaw.Set { return p.cfg.Flaws }

// RegisterBackgroundWorker registers a static worker before shared memory
// is set up (RegisterBackgroundWorker): it must pass [ValidateWorker],
// have NotifyPid 0, and fit max_worker_processes. It returns an
// [*InvalidError] or [ErrTooManyWorkers]. It does not block.
func (p *Postmaster) RegisterBackgroundWorker(w Worker) error {
	if err := ValidateWorker(&w); err != nil {
		return err
	}
	if w.NotifyPid != 0 {
		return invalid(&w, FieldNotifyPid, "only dynamic background workers can request notification")
	}
	if len(p.workers) >= p.cfg.MaxWorkers {
		return fmt.Errorf("%w: up to %d can be registered (max_worker_processes)", ErrTooManyWorkers, p.cfg.MaxWorkers)
	}
	p.workers = append(p.workers, &RegisteredWorker{Worker: w, Slot: -1})
	return nil
}

// BackgroundWorkerShmemInit writes a fresh BackgroundWorkerArray into mem
// from the private list (BackgroundWorkerShmemInit): slot i holds the i-th
// listed worker, in use, not started, generation 0, notify pid 0 (cleared
// in the private copy too: after a crash no backend that asked survives);
// every other slot is free and zero. Called again after a crash it
// re-initialises the same memory and advances the epoch, so handles from
// before the crash report Stopped. No other process may use mem meanwhile.
// It does not block.
func (p *Postmaster) BackgroundWorkerShmemInit(mem shmem.Memory) (*Segment, error) {
	n := p.cfg.MaxWorkers
	if mem.Size() < ShmemSize(n) {
		return nil, fmt.Errorf("bgworker: shmem init: %d bytes, need %d", mem.Size(), ShmemSize(n))
	}
	epoch := p.epoch
	if p.seg != nil {
		epoch++
	}
	init := func() error {
		for _, w := range []struct {
			off shmem.Offset
			v   uint32
		}{{offMagic, segMagic}, {offVersion, segVersion}, {offTotalSlots, uint32(n)}, {offPMSignal, 0}} {
			if err := mem.Store32(w.off, w.v, shmem.Relaxed); err != nil {
				return err
			}
		}
		if err := mem.Store64(offSegmentID, p.cfg.SegmentID, shmem.Relaxed); err != nil {
			return err
		}
		if err := mem.Store64(offEpoch, epoch, shmem.Relaxed); err != nil {
			return err
		}
		zero := make([]byte, workerSize)
		for slot := 0; slot < n; slot++ {
			var inUse, pid uint32
			block := zero
			if slot < len(p.workers) {
				rw := p.workers[slot]
				rw.Slot = slot
				rw.Worker.NotifyPid = 0
				inUse, pid, block = 1, invalidPidWord, encodeWorker(&rw.Worker)
			}
			if err := mem.StoreBytes(slotOff(slot, slotWorker), block); err != nil {
				return err
			}
			if err := mem.Store32(slotOff(slot, slotPid), pid, shmem.Relaxed); err != nil {
				return err
			}
			if err := mem.Store64(slotOff(slot, slotGeneration), 0, shmem.Relaxed); err != nil {
				return err
			}
			if err := mem.Store32(slotOff(slot, slotInUse), inUse, shmem.Relaxed); err != nil {
				return err
			}
		}
		// Everything above is published to children by process creation
		// (fork/exec after init), which orders it before their first access.
		return nil
	}
	if err := init(); err != nil {
		return nil, fmt.Errorf("bgworker: shmem init: %w", err)
	}
	p.epoch = epoch
	p.seg = &Segment{mem: mem, slots: n, id: p.cfg.SegmentID}
	return p.seg, nil
}

// Epoch returns the number of crash re-inits so far: the epoch written by
// the last successful BackgroundWorkerShmemInit.
func (p *Postmaster) Epoch() uint64 { return p.epoch }

// CheckPostmasterSignal consumes the PMSIGNAL_BACKGROUND_WORKER_CHANGE flag
// (CheckPostmasterSignal) and reports whether it was set. It does not
// block.
func (p *Postmaster) CheckPostmasterSignal() (bool, error) {
	// An atomic exchange with acquire-release order. Acquire pairs with
	// the backends' release exchanges that set the flag (a release
	// sequence through every set it consumes), so every slot they set in
	// use before is visible to the scan that follows. Being a read-modify-write
	// it also reads the latest flag: a plain load and store could clear a
	// flag set by a second backend between them and then scan without
	// seeing that backend's slot, missing it until the next signal.
	order := shmem.AcqRel
	if p.cfg.Flaws.Has(flaw.UnorderedPMSignal) {
		order = shmem.Relaxed
	}
	v, err := p.seg.mem.Swap32(offPMSignal, 0, order)
	if err != nil {
		return false, fmt.Errorf("bgworker: pmsignal: %w", err)
	}
	return v != 0, nil
}

// Rejected is a slot that BackgroundWorkerStateChange found in use but
// refused to adopt because its contents fail the sanity check.
type Rejected struct {
	Slot int
	Err  error
	// Notify is the registrant to tell (a live backend), or 0.
	Notify int32
}

// DroppedNotify is a notify pid that BackgroundWorkerStateChange did not
// keep because it names no live backend of this postmaster.
type DroppedNotify struct {
	Slot int
	Pid  int32
}

// StateChange is what one BackgroundWorkerStateChange scan found.
type StateChange struct {
	Adopted  []*RegisteredWorker
	Rejected []Rejected
	Dropped  []DroppedNotify
}

// BackgroundWorkerStateChange scans shared memory for newly registered
// workers and adopts them into the private list
// (BackgroundWorkerStateChange). It trusts nothing it reads: total_slots
// must equal max_worker_processes (else [ErrCorrupt] and nothing changes),
// strings are copied ASCII-safe and terminated, and a worker that fails
// [ValidateWorker] is not adopted: its slot is freed again and reported in
// Rejected. A notify pid is kept only if liveBackend says it names a live
// backend of this postmaster (PostmasterMarkPIDForWorkerNotify). It does not
// block.
func (p *Postmaster) BackgroundWorkerStateChange(liveBackend func(pid int32) bool) (StateChange, error) {
	var sc StateChange
	mem := p.seg.mem
	n := p.cfg.MaxWorkers
	total, err := mem.Load32(offTotalSlots, shmem.Relaxed)
	if err != nil {
		return sc, fmt.Errorf("bgworker: state change: %w", err)
	}
	if int(total) != n {
		return sc, fmt.Errorf("%w: max_worker_processes=%d, total_slots=%d", ErrCorrupt, n, total)
	}
	block := make([]byte, workerSize)
	for slot := 0; slot < n; slot++ {
		inUse, err := mem.Load32(slotOff(slot, slotInUse), shmem.Relaxed)
		if err != nil {
			return sc, fmt.Errorf("bgworker: state change: %w", err)
		}
		if inUse == 0 || p.FindRegisteredWorkerBySlotNumber(slot) != nil {
			continue
		}
		// Read barrier: pairs with the backend's write barrier before it
		// set in_use. Without it the block read below may be older than
		// the in_use we saw, and we would adopt a stale worker.
		mem.Fence(shmem.ReadBarrier)
		if err := mem.LoadBytes(slotOff(slot, slotWorker), block); err != nil {
			return sc, fmt.Errorf("bgworker: state change: %w", err)
		}
		w := decodeWorker(block)
		notify := w.NotifyPid
		if notify != 0 && (liveBackend == nil || !liveBackend(notify)) {
			sc.Dropped = append(sc.Dropped, DroppedNotify{Slot: slot, Pid: notify})
			notify = 0
		}
		w.NotifyPid = notify
		if err := ValidateWorker(&w); err != nil {
			if err := p.freeSlot(slot); err != nil {
				return sc, err
			}
			sc.Rejected = append(sc.Rejected, Rejected{Slot: slot, Err: err, Notify: notify})
			continue
		}
		rw := &RegisteredWorker{Worker: w, Slot: slot, Dynamic: true}
		p.workers = append(p.workers, rw)
		sc.Adopted = append(sc.Adopted, rw)
	}
	return sc, nil
}

// FindRegisteredWorkerBySlotNumber returns the registered worker of the
// private list in slot, or nil (FindRegisteredWorkerBySlotNumber in the
// seed's bgworker.c). It reads no shared memory and does not block.
func (p *Postmaster) FindRegisteredWorkerBySlotNumber(slot int) *RegisteredWorker {
	for _, rw := range p.workers {
		if rw.Slot == slot {
			return rw
		}
	}
	return nil
}

// ReportBackgroundWorkerPID publishes rw.Pid in rw's slot
// (ReportBackgroundWorkerPID) and returns the pid to send SIGUSR1 to, or
// 0: the caller sends it. It does not block.
func (p *Postmaster) ReportBackgroundWorkerPID(rw *RegisteredWorker) (notify int32, err error) {
	if rw.Slot < 0 || rw.Slot >= p.cfg.MaxWorkers {
		return 0, fmt.Errorf("bgworker: report pid: slot %d out of range", rw.Slot)
	}
	// Relaxed: the pid itself is the only datum published. The registrant
	// reads it after the SIGUSR1 the caller sends, and the signal orders it.
	if err := p.seg.mem.Store32(slotOff(rw.Slot, slotPid), uint32(rw.Pid), shmem.Relaxed); err != nil {
		return 0, fmt.Errorf("bgworker: report pid: %w", err)
	}
	return rw.Worker.NotifyPid, nil
}

// BackgroundWorkerStopNotifications stops notifications to pid, a backend
// that exited (BackgroundWorkerStopNotifications): its number may be
// reused by an unrelated process. It does not block.
func (p *Postmaster) BackgroundWorkerStopNotifications(pid int32) {
	for _, rw := range p.workers {
		if rw.Worker.NotifyPid == pid {
			rw.Worker.NotifyPid = 0
		}
	}
}

// ForgetBackgroundWorker removes rw from the private list and frees its
// slot (ForgetBackgroundWorker). It returns the notify pid that was
// registered for it, for the caller to signal after the slot is free. It
// does not block.
func (p *Postmaster) ForgetBackgroundWorker(rw *RegisteredWorker) (notify int32, err error) {
	i := -1
	for j, x := range p.workers {
		if x == rw {
			i = j
			break
		}
	}
	if i < 0 {
		return 0, fmt.Errorf("bgworker: forget %q: not registered", rw.Worker.Name)
	}
	if err := p.freeSlot(rw.Slot); err != nil {
		return 0, err
	}
	p.workers = append(p.workers[:i], p.workers[i+1:]...)
	return rw.Worker.NotifyPid, nil
}

// freeSlot hands a slot back to the backends: in_use = false.
func (p *Postmaster) freeSlot(slot int) error {
	if slot < 0 || slot >= p.cfg.MaxWorkers {
		return fmt.Errorf("bgworker: forget: slot %d out of range", slot)
	}
	mem := p.seg.mem
	if !p.cfg.Flaws.Has(flaw.NoForgetBarrier) {
		// Full barrier: everything the postmaster wrote to the slot (the
		// pid = 0 of a stopped worker) must be visible before in_use =
		// false hands the slot back. A backend that sees in_use false
		// (with acquire) may reuse the slot at once; without the barrier
		// our stale pid = 0 could land after its pid = InvalidPid, and its
		// new worker would read STOPPED.
		mem.Fence(shmem.FullBarrier)
	}
	if err := mem.Store32(slotOff(slot, slotInUse), 0, shmem.Relaxed); err != nil {
		return fmt.Errorf("bgworker: forget: %w", err)
	}
	return nil
}
