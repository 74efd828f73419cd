package proptest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"pgregory.net/rapid"

	"bgwmodel/impl/bgworker"
)

// waitTimeout bounds every WaitForBackgroundWorkerStartup the state
// machines make. They call it only when it must return at once, so
// reaching the timeout is a failure (the call blocked), never a pass.
const waitTimeout = 5 * time.Second

// issued is the handle model's record of one handle that
// RegisterDynamicBackgroundWorker returned.
type issued struct {
	h     bgworker.Handle
	stale string // why the handle names no live registration ("" while it does)
	pid   int32  // the registration's worker: -1 not started, 0 stopped, else running
}

// want is the status the handle must report.
func (r *issued) want() bgworker.PidStatus {
	switch {
	case r.stale != "", r.pid == 0:
		return bgworker.PidStatus{Status: bgworker.Stopped}
	case r.pid == bgworker.InvalidPid:
		return bgworker.PidStatus{Status: bgworker.NotYetStarted}
	}
	return bgworker.PidStatus{Status: bgworker.Started, Pid: r.pid}
}

func (r *issued) String() string {
	s := fmt.Sprintf("s%d/g%d/e%d", r.h.Slot, r.h.Generation, r.h.Epoch)
	if r.stale != "" {
		s += " (stale: " + r.stale + ")"
	}
	return s
}

// modelSlot is the handle model's view of one slot in the current epoch.
type modelSlot struct {
	inUse   bool    // a backend took it (or it holds a static or surviving worker)
	adopted bool    // the postmaster's private list holds its worker
	handle  *issued // the live registration's handle, if a backend made it this epoch
	lastGen uint64  // the generation of the last handle issued for it this epoch
}

// handleMachine is the handle-generation state machine: an implementation
// cluster and a model of every handle ever issued, written per handle
// (registered, started with pid p, stopped, stale) rather than per slot
// as the specification is.
type handleMachine struct {
	c       *cluster
	epoch   uint64
	slots   []modelSlot
	handles []*issued
	ok      int // successful registrations, each of which signals once
}

func newHandleMachine(t *rapid.T, cfg ClusterConfig) *handleMachine {
	c := newCluster(t, cfg)
	m := &handleMachine{c: c, slots: make([]modelSlot, c.slots)}
	for i := range c.static {
		m.slots[i] = modelSlot{inUse: true, adopted: true}
	}
	return m
}

// adoptedCount is the number of workers the model's postmaster lists.
func (m *handleMachine) adoptedCount() int {
	k := 0
	for _, s := range m.slots {
		if s.adopted {
			k++
		}
	}
	return k
}

func (m *handleMachine) register(t *rapid.T) {
	w := registerWorkerGen().Draw(t, "worker")
	valid := bgworker.ValidateWorker(&w) == nil
	before := m.c.signals
	h, err := m.c.be.RegisterDynamicBackgroundWorker(w)
	res, cerr := classifyRegister(err)
	if cerr != nil {
		t.Fatalf("register: %v", cerr)
	}
	m.c.cfg.events.hit("register: " + [...]string{"ok", "no free slot", "invalid"}[res])
	switch res {
	case registerInvalid:
		t.Logf("register %q -> invalid: %v", w.Name, err)
		if valid {
			t.Fatalf("register refused a worker ValidateWorker accepts: %v", err)
		}
	case registerNoFreeSlot:
		t.Logf("register %q -> no free slot", w.Name)
		for i, s := range m.slots {
			if !s.inUse {
				t.Fatalf("register reported no free slot, but slot %d is free", i)
			}
		}
	case registerOK:
		r := &issued{h: h, pid: bgworker.InvalidPid}
		t.Logf("register %q notify=%d -> %v", w.Name, w.NotifyPid, r)
		if !valid {
			t.Fatalf("register accepted a worker ValidateWorker refuses: %#v", w)
		}
		if h.Segment != testSegment || h.Epoch != m.epoch {
			t.Fatalf("new handle %+v: want segment %#x, epoch %d", h, testSegment, m.epoch)
		}
		if h.Slot < 0 || h.Slot >= len(m.slots) {
			t.Fatalf("new handle %+v names no slot", h)
		}
		s := &m.slots[h.Slot]
		if s.inUse {
			t.Fatalf("new handle %v takes slot %d, which is in use", r, h.Slot)
		}
		if h.Generation <= s.lastGen {
			t.Fatalf("generation of slot %d did not grow: new handle %v after generation %d in epoch %d",
				h.Slot, r, s.lastGen, m.epoch)
		}
		for _, old := range m.handles {
			if old.h.Slot == h.Slot && old.h.Epoch == m.epoch && old.stale != "" {
				old.stale = "slot reused since"
			}
		}
		*s = modelSlot{inUse: true, handle: r, lastGen: h.Generation}
		m.handles = append(m.handles, r)
		m.ok++
	}
	if want := before + b2i(res == registerOK); m.c.signals != want {
		t.Fatalf("register signalled the postmaster %d times, want %d", m.c.signals-before, want-before)
	}
}

// scan runs the postmaster's signal handling and updates the model.
func (m *handleMachine) scan(t *rapid.T) {
	set, adopted, err := m.c.scan()
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	t.Logf("scan (flag %v) -> adopted slots %v", set, adopted)
	for _, slot := range adopted {
		s := &m.slots[slot]
		if !s.inUse || s.adopted {
			t.Fatalf("postmaster adopted slot %d, which the model has in_use=%v adopted=%v", slot, s.inUse, s.adopted)
		}
		s.adopted = true
	}
	for i, s := range m.slots {
		if s.inUse && !s.adopted {
			t.Fatalf("after a scan (flag %v) slot %d is registered but not adopted", set, i)
		}
	}
}

func (m *handleMachine) launch(t *rapid.T) {
	m.scan(t)
	rws := m.c.workers(notRunning)
	if len(rws) == 0 {
		return
	}
	rw := pick(t, rws, "launch")
	if err := m.c.launch(rw); err != nil {
		t.Fatalf("launch slot %d: %v", rw.Slot, err)
	}
	t.Logf("launch slot %d as pid %d", rw.Slot, rw.Pid)
	if r := m.slots[rw.Slot].handle; r != nil {
		r.pid = rw.Pid
	}
}

func (m *handleMachine) exit(t *rapid.T) {
	rws := m.c.workers(running)
	if len(rws) == 0 {
		t.Skip("no running worker")
	}
	rw := pick(t, rws, "exit")
	t.Logf("exit slot %d (pid %d)", rw.Slot, rw.Pid)
	if err := m.c.exit(rw); err != nil {
		t.Fatalf("exit slot %d: %v", rw.Slot, err)
	}
	if r := m.slots[rw.Slot].handle; r != nil {
		r.pid = 0
	}
}

func (m *handleMachine) forget(t *rapid.T) {
	rws := m.c.workers(notRunning)
	if len(rws) == 0 {
		t.Skip("no worker to forget")
	}
	rw := pick(t, rws, "forget")
	slot := rw.Slot
	t.Logf("forget slot %d (started=%v)", slot, rw.Started)
	if err := m.c.forget(rw); err != nil {
		t.Fatalf("forget slot %d: %v", slot, err)
	}
	s := &m.slots[slot]
	if r := s.handle; r != nil {
		r.stale = "forgotten"
		if !rw.Started {
			r.stale = "forgotten before it started"
		}
	}
	*s = modelSlot{lastGen: s.lastGen}
}

// reinit crashes the cluster, in one draw out of three (so that handles
// live long enough to be launched, exited and forgotten).
func (m *handleMachine) reinit(t *rapid.T) {
	if !rare(t, 3, "crash?") {
		return
	}
	k, err := m.c.reinit()
	if err != nil {
		t.Fatalf("re-init: %v", err)
	}
	if want := m.adoptedCount(); k != want {
		t.Fatalf("re-init: postmaster lists %d workers, model %d", k, want)
	}
	for _, r := range m.handles {
		if r.stale == "" {
			r.stale = "issued before a crash re-init"
		}
	}
	m.epoch++
	for i := range m.slots {
		m.slots[i] = modelSlot{inUse: i < k, adopted: i < k}
	}
	t.Logf("crash re-init -> epoch %d, %d workers in slots 0..%d", m.epoch, k, k-1)
}

// getPid asks about a handle ever issued, or a handle the segment did not
// make.
func (m *handleMachine) getPid(t *rapid.T) {
	if len(m.handles) == 0 {
		t.Skip("no handle issued yet")
	}
	r := rapid.SampledFrom(m.handles).Draw(t, "handle")
	m.checkHandle(t, r)

	foreign := r.h
	foreign.Segment ^= 1
	if _, err := m.c.be.GetBackgroundWorkerPid(foreign); !errors.Is(err, bgworker.ErrForeignHandle) {
		t.Fatalf("GetBackgroundWorkerPid(%+v from another segment): err = %v, want ErrForeignHandle", foreign, err)
	}
	bad := r.h
	bad.Slot = rapid.SampledFrom([]int{-1, len(m.slots), len(m.slots) + 7}).Draw(t, "bad slot")
	if _, err := m.c.be.GetBackgroundWorkerPid(bad); !errors.Is(err, bgworker.ErrBadHandle) {
		t.Fatalf("GetBackgroundWorkerPid(%+v): err = %v, want ErrBadHandle", bad, err)
	}
}

// wait calls WaitForBackgroundWorkerStartup on a handle whose status is
// decided (STARTED or STOPPED), so that it must return at once.
func (m *handleMachine) wait(t *rapid.T) {
	var decided []*issued
	for _, r := range m.handles {
		if r.want().Status != bgworker.NotYetStarted {
			decided = append(decided, r)
		}
	}
	if len(decided) == 0 {
		t.Skip("no handle with a decided status")
	}
	r := rapid.SampledFrom(decided).Draw(t, "handle")
	// GetBackgroundWorkerPid first: the wait is made only once the
	// implementation itself says the status is decided.
	m.checkHandle(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	m.c.cfg.events.hit("wait: " + r.want().Status.String())
	got, err := m.c.be.WaitForBackgroundWorkerStartup(ctx, r.h)
	if err != nil {
		t.Fatalf("WaitForBackgroundWorkerStartup(%v): %v", r, err)
	}
	if want := r.want(); got != want {
		t.Fatalf("WaitForBackgroundWorkerStartup(%v) = %v; want %v", r, fmtStatus(got), fmtStatus(want))
	}
}

// checkHandle compares one handle's GetBackgroundWorkerPid with the model.
func (m *handleMachine) checkHandle(t *rapid.T, r *issued) {
	got, err := m.c.be.GetBackgroundWorkerPid(r.h)
	if err != nil {
		t.Fatalf("GetBackgroundWorkerPid(%v): %v", r, err)
	}
	want := r.want()
	if r.stale != "" {
		m.c.cfg.events.hit("stale: " + r.stale)
	} else {
		m.c.cfg.events.hit("live: " + want.Status.String())
	}
	if got == want {
		return
	}
	if r.stale != "" {
		t.Fatalf("stale handle %v reports %v; want STOPPED", r, fmtStatus(got))
	}
	t.Fatalf("handle %v reports %v; want %v", r, fmtStatus(got), fmtStatus(want))
}

// check is the invariant after every action: every handle ever issued
// reports what the model expects, and the postmaster and the signal count
// agree with the model.
func (m *handleMachine) check(t *rapid.T) {
	for _, r := range m.handles {
		m.checkHandle(t, r)
	}
	if got, want := len(m.c.pm.Workers()), m.adoptedCount(); got != want {
		t.Fatalf("postmaster lists %d workers; model %d", got, want)
	}
	if m.c.signals != m.ok {
		t.Fatalf("%d postmaster signals for %d registrations", m.c.signals, m.ok)
	}
}

// HandleProperty is the handle-generation property: a rapid state machine
// ([rapid.T.Repeat]) over a cluster of cfg's size built from the
// implementation alone. Its actions register a worker (valid or not, from
// [ValidWorkerGen] and [WorkerGen]), scan (the postmaster's
// CheckPostmasterSignal and BackgroundWorkerStateChange), launch, exit and
// forget a worker, re-initialise shared memory after a crash, ask
// GetBackgroundWorkerPid about any handle ever issued (and about handles
// the segment did not make), and wait for a worker whose status is
// decided. A per-handle model, independent of package spec, says what each
// handle must report. After every action:
//
//   - a stale handle (its registration forgotten, its slot reused since,
//     or issued before a crash re-init) reports STOPPED, never the
//     status of another worker;
//   - a live handle reports NOT_YET_STARTED, STARTED with its worker's
//     pid, or STOPPED once that worker exited;
//   - the postmaster's list and the number of postmaster signals match
//     the model.
//
// At each registration the new handle carries the segment and the current
// epoch, names a slot that was free, and its generation is larger than
// any generation issued for that slot since the last re-init.
func HandleProperty(cfg ClusterConfig) func(*rapid.T) {
	return func(t *rapid.T) {
		m := newHandleMachine(t, cfg)
		t.Repeat(m.c.counted(map[string]func(*rapid.T){
			"register": m.register,
			"scan":     m.scan,
			"launch":   m.launch,
			"exit":     m.exit,
			"forget":   m.forget,
			"reinit":   m.reinit,
			"getpid":   m.getPid,
			"wait":     m.wait,
			"":         m.check,
		}))
	}
}

func fmtStatus(st bgworker.PidStatus) string {
	if st.Status == bgworker.Started {
		return fmt.Sprintf("STARTED pid=%d", st.Pid)
	}
	return st.Status.String()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rare draws a coin that comes up true about once in n draws. It shrinks
// to false, so a counterexample keeps the rare event only if it needs it.
func rare(t *rapid.T, n int, label string) bool {
	return rapid.IntRange(0, n-1).Draw(t, label) == n-1
}
