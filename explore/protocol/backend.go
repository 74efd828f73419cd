package protocol

import (
	"context"
	"errors"

	"bgwmodel/explore"
	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/shmem"
	"bgwmodel/internal/implspec"
	"bgwmodel/linearizability"
	"bgwmodel/spec"
)

// Backend is a simulated regular backend as its script sees it: the real
// [bgworker.Backend] over the explorer's memory, BackgroundWorkerLock and
// latch, with every call recorded as an operation of the execution's
// history.
//
// # Stamps under weak memory
//
// A history's stamps say which operations are ordered in time; under a
// weak memory model the scheduling order is not the order of visibility
// (a backend may read an old pid long after the postmaster wrote a new
// one, with nothing to order them). So the stamps of a backend operation
// state only what is known to hold:
//
//   - its call stamp is the latest point of the postmaster's program that
//     happens before it: the postmaster's stamp just before the last
//     SIGUSR1 the backend has acquired (a latch wait that returned set),
//     or before it forked the backend; for an operation on a handle the
//     backend registered itself, also just after the registration's last
//     observation (program order, so that the handle is never asked about
//     "before" it existed). A postmaster operation that returned before
//     that stamp happens before the call, so the backend must see it.
//   - its return stamp is taken just after its last observation (a load,
//     a read-modify-write or a latch wait): a postmaster operation called
//     later cannot have been seen, since no model here lets a load read a
//     store that has not happened yet.
//
// Anything else may be linearized on either side, so the check is sound
// under SC, TSO and the view model alike. Ops of one backend may thus
// overlap: each has its own client id.
type Backend struct {
	c       *cluster
	t       *explore.Thread
	name    string
	pid     int32
	be      *bgworker.Backend
	sync    linearizability.Stamp // latest postmaster stamp this backend synchronised with
	lastObs linearizability.Stamp // just after the backend's latest observation
	regRet  map[bgworker.Handle]linearizability.Stamp
	seen    int          // SIGUSR1s of c.signals[tid] acquired
	gone    map[int]bool // slots whose worker we were told is gone for good
}

// backendMain is a backend thread running spec's script.
func (c *cluster) backendMain(bs BackendSpec, sync linearizability.Stamp, lock explore.LockID) explore.ThreadFunc {
	return func(t *explore.Thread) {
		b := &Backend{c: c, t: t, name: bs.Name, pid: pidOf(t.ID()), sync: sync, gone: map[int]bool{},
			regRet: map[bgworker.Handle]linearizability.Stamp{}}
		seg, err := bgworker.Attach(&observedMem{Memory: c.wrap(t.Mem(), roleBackend), b: b})
		if err != nil {
			t.Failf("attach: %v", err)
		}
		b.be = bgworker.NewBackend(seg, bgworker.BackendConfig{
			Lock: t.Lock(lock), Postmaster: t, Latch: backendLatch{b}, Flaws: c.v.Flaws,
		})
		bs.Run(b)
	}
}

// Failf ends the execution with a failure: the script found a
// counterexample of its own. It does not return.
func (b *Backend) Failf(format string, args ...any) { b.t.Failf(format, args...) }

// Pid returns the backend's simulated pid.
func (b *Backend) Pid() int32 { return b.pid }

// Name returns the backend's thread name.
func (b *Backend) Name() string { return b.name }

// Worker returns a valid worker definition called name with the given
// restart_time that notifies this backend: SHMEM_ACCESS, started at
// PostmasterStart.
func (b *Backend) Worker(name string, restart int32) bgworker.Worker {
	return bgworker.Worker{
		Name: name, Flags: bgworker.ShmemAccess, StartTime: bgworker.PostmasterStart,
		RestartTime: restart, LibraryName: "bgwmodel", FunctionName: "worker_main",
		NotifyPid: b.pid,
	}
}

// Handle forges a handle of this segment, as a stale or stray one.
func (b *Backend) Handle(slot int, generation, epoch uint64) bgworker.Handle {
	return bgworker.Handle{Segment: segmentID, Epoch: epoch, Slot: slot, Generation: generation}
}

// begin appends an operation with an unknown outcome (it stays so if the
// backend is killed before it returns) and returns its index. after is
// the return stamp of an operation it must follow (program order), or 0.
func (b *Backend) begin(in spec.Input, after linearizability.Stamp) int {
	c := b.c
	c.clients++
	c.hist = append(c.hist, linearizability.Operation{
		Client: c.clients, Process: b.name, Input: in,
		Output: spec.Output{Unknown: true}, Call: max(b.sync, after) + 1, Return: linearizability.Infinity,
	})
	return len(c.hist) - 1
}

// end completes operation i with out.
func (b *Backend) end(i int, out spec.Output) linearizability.Stamp {
	ret := b.lastObs
	if ret < b.c.hist[i].Call {
		ret = linearizability.Stamp(b.c.stamp())
	}
	b.c.hist[i].Output, b.c.hist[i].Return = out, ret
	return ret
}

// observed notes that the backend has just observed something.
func (b *Backend) observed() { b.lastObs = linearizability.Stamp(b.c.stamp()) }

// Register calls RegisterDynamicBackgroundWorker. It reports whether a
// handle was issued; a refusal (no free slot, invalid) is an answer, not
// a failure. Any other error fails the execution.
func (b *Backend) Register(w bgworker.Worker) (bgworker.Handle, bool) {
	c := b.c
	c.cover("RegisterDynamicBackgroundWorker")
	c.workers[w.Name] = w
	i := b.begin(spec.Input{Kind: spec.OpRegister, Worker: implspec.Worker(w)}, 0)
	c.regs = append(c.regs, registration{backend: b.name, worker: w, op: i})
	h, err := b.be.RegisterDynamicBackgroundWorker(w)
	var out spec.Output
	var inv *bgworker.InvalidError
	switch {
	case h != (bgworker.Handle{}):
		// A signal error (the postmaster is gone) still registered.
		out = spec.Output{Result: spec.ResultOK, Handle: implspec.Handle(h)}
	case errors.Is(err, bgworker.ErrNoFreeSlot):
		out = spec.Output{Result: spec.ResultNoFreeSlot}
	case errors.As(err, &inv):
		f, ok := implspec.Field(inv.Field)
		if !ok {
			b.t.Failf("register: unknown field %q", inv.Field)
		}
		out = spec.Output{Result: spec.ResultInvalid, Invalid: f}
	default:
		b.t.Failf("register %q: %v", w.Name, err)
	}
	ret := b.end(i, out)
	if out.Result == spec.ResultNoFreeSlot && c.scn.SoleBackend && (c.obs == nil || !c.obs.stateOnly) {
		for slot := range c.scn.Slots {
			if b.gone[slot] {
				b.t.Failf("notify-before-free, seen by the registrant: %s was told its NEVER_RESTART worker in slot %d is gone, yet finds no free slot", b.name, slot)
			}
		}
	}
	if out.Result == spec.ResultOK {
		delete(b.gone, h.Slot)
		b.regRet[h] = ret
	}
	return h, out.Result == spec.ResultOK
}

// GetPid calls GetBackgroundWorkerPid.
func (b *Backend) GetPid(h bgworker.Handle) bgworker.PidStatus {
	b.c.cover("GetBackgroundWorkerPid")
	i := b.begin(spec.Input{Kind: spec.OpGetPid, Handle: implspec.Handle(h)}, b.regRet[h])
	st, err := b.be.GetBackgroundWorkerPid(h)
	if err != nil {
		b.t.Failf("get pid %v: %v", h, err)
	}
	b.end(i, b.statusOutput(st))
	return st
}

// WaitForStartup calls WaitForBackgroundWorkerStartup.
func (b *Backend) WaitForStartup(h bgworker.Handle) bgworker.PidStatus {
	b.c.cover("WaitForBackgroundWorkerStartup")
	b.c.cover("GetBackgroundWorkerPid")
	i := b.begin(spec.Input{Kind: spec.OpWaitForStartup, Handle: implspec.Handle(h)}, b.regRet[h])
	st, err := b.be.WaitForBackgroundWorkerStartup(context.Background(), h)
	if err != nil {
		b.t.Failf("wait for startup %v: %v", h, err)
	}
	b.end(i, b.statusOutput(st))
	return st
}

// WaitForStop polls GetPid, sleeping on the latch in between, until the
// worker is STOPPED or the postmaster has died (as
// WaitForBackgroundWorkerShutdown, added to PostgreSQL later, does). It
// returns the last status.
func (b *Backend) WaitForStop(h bgworker.Handle) bgworker.PidStatus {
	for {
		st := b.GetPid(h)
		if st.Status == bgworker.Stopped {
			return st
		}
		ev, err := backendLatch{b}.Wait(context.Background())
		if err != nil {
			b.t.Failf("wait for stop: %v", err)
		}
		if ev&bgworker.WaitPostmasterDeath != 0 {
			return bgworker.PidStatus{Status: bgworker.PostmasterDied}
		}
		b.t.Latch().Reset()
	}
}

func (b *Backend) statusOutput(st bgworker.PidStatus) spec.Output {
	s, ok := implspec.Status(st.Status)
	if !ok {
		b.t.Failf("status %v has no counterpart in spec", st.Status)
	}
	return spec.Output{Status: s, Pid: spec.Pid(st.Pid)}
}

// backendLatch is the backend's latch: a wait that returns with the latch
// set has acquired every SIGUSR1 sent to the backend so far, which the
// backend's stamps take into account.
type backendLatch struct{ b *Backend }

func (l backendLatch) Wait(ctx context.Context) (bgworker.WaitEvents, error) {
	ev, err := l.b.t.Latch().Wait(ctx)
	if ev&bgworker.WaitLatchSet != 0 {
		l.b.acquired()
	}
	l.b.observed()
	return ev, err
}

func (l backendLatch) Reset() { l.b.t.Latch().Reset() }

// acquired takes in the SIGUSR1s sent to the backend so far.
func (b *Backend) acquired() {
	sigs := b.c.signals[b.t.ID()]
	for _, s := range sigs[b.seen:] {
		b.sync = max(b.sync, s.stamp)
		if s.gone {
			b.gone[s.slot] = true
		}
	}
	b.seen = len(sigs)
}

// observedMem is a backend's memory: it notes every observation (load,
// read-modify-write) for the backend's return stamps.
type observedMem struct {
	shmem.Memory
	b *Backend
}

func (m *observedMem) Load32(off shmem.Offset, o shmem.Order) (uint32, error) {
	v, err := m.Memory.Load32(off, o)
	m.b.observed()
	return v, err
}

func (m *observedMem) Load64(off shmem.Offset, o shmem.Order) (uint64, error) {
	v, err := m.Memory.Load64(off, o)
	m.b.observed()
	return v, err
}

func (m *observedMem) LoadBytes(off shmem.Offset, dst []byte) error {
	err := m.Memory.LoadBytes(off, dst)
	m.b.observed()
	return err
}

func (m *observedMem) Swap32(off shmem.Offset, v uint32, o shmem.Order) (uint32, error) {
	old, err := m.Memory.Swap32(off, v, o)
	m.b.observed()
	return old, err
}

func (m *observedMem) CompareAndSwap32(off shmem.Offset, old, new uint32, o shmem.Order) (bool, error) {
	ok, err := m.Memory.CompareAndSwap32(off, old, new, o)
	m.b.observed()
	return ok, err
}

func (m *observedMem) Add64(off shmem.Offset, d uint64, o shmem.Order) (uint64, error) {
	v, err := m.Memory.Add64(off, d, o)
	m.b.observed()
	return v, err
}
