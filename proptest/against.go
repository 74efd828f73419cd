package proptest

import (
	"bgwmodel/internal/implspec"
	"context"
	"errors"
	"slices"

	"pgregory.net/rapid"

	"bgwmodel/impl/bgworker"
	"bgwmodel/spec"
)

// specMachine runs an implementation cluster and the specification side by
// side: every output of the implementation's backend is judged by
// [spec.Step] from the specification's state, and every postmaster action
// is applied to both.
type specMachine struct {
	c       *cluster
	s       spec.State
	handles []bgworker.Handle // every handle ever issued
	maxGen  uint64            // the largest generation ever issued
}

func newSpecMachine(t *rapid.T, cfg ClusterConfig) *specMachine {
	c := newCluster(t, cfg)
	return &specMachine{c: c, s: spec.Init(c.slots, c.static)}
}

// step feeds one observed operation to the specification and moves to the
// unique next state; it fails the test if the output is illegal there.
func (m *specMachine) step(t *rapid.T, in spec.Input, out spec.Output) {
	m.c.cfg.events.hit(in.Kind.String() + " -> " + outcome(in, out))
	m.stepQuiet(t, in, out)
	t.Logf("%s", spec.Describe(in, out))
}

// stepQuiet is step without logging the operation.
func (m *specMachine) stepQuiet(t *rapid.T, in spec.Input, out spec.Output) {
	next := spec.Step(m.s, in, out)
	switch len(next) {
	case 1:
		m.s = next[0]
	case 0:
		t.Fatalf("spec rejects %s from state %v%s", spec.Describe(in, out), m.s, m.expected(in))
	default:
		t.Fatalf("spec allows %d next states for %s from %v; want exactly one", len(next), spec.Describe(in, out), m.s)
	}
}

// expected says what the specification would have answered, for the
// failure message.
func (m *specMachine) expected(in spec.Input) string {
	switch in.Kind {
	case spec.OpGetPid, spec.OpWaitForStartup:
		st, pid := spec.StatusOf(m.s, in.Handle)
		return "; spec says " + spec.Describe(in, spec.Output{Status: st, Pid: pid})
	case spec.OpRegister:
		if bad := spec.Validate(in.Worker); bad != nil {
			return "; spec says " + bad.Error()
		}
	}
	return ""
}

func (m *specMachine) register(t *rapid.T) {
	w := registerWorkerGen().Draw(t, "worker")
	sw := implspec.Worker(w)
	h, err := m.c.be.RegisterDynamicBackgroundWorker(w)
	res, cerr := classifyRegister(err)
	if cerr != nil {
		t.Fatalf("register: %v", cerr)
	}
	in := spec.Input{Kind: spec.OpRegister, Worker: sw}
	var out spec.Output
	switch res {
	case registerOK:
		if h.Segment != testSegment {
			t.Fatalf("register returned handle %+v of segment %#x, want %#x", h, h.Segment, testSegment)
		}
		out = spec.Output{Result: spec.ResultOK, Handle: implspec.Handle(h)}
		m.handles = append(m.handles, h)
		m.maxGen = max(m.maxGen, h.Generation)
	case registerNoFreeSlot:
		out = spec.Output{Result: spec.ResultNoFreeSlot}
	case registerInvalid:
		var inv *bgworker.InvalidError
		errors.As(err, &inv)
		f, ok := implspec.Field(inv.Field)
		if !ok {
			t.Fatalf("register refused %v naming field %q, unknown to spec", sw, inv.Field)
		}
		out = spec.Output{Result: spec.ResultInvalid, Invalid: f}
	}
	m.step(t, in, out)
}

// getPidOf asks the implementation about h and judges the answer,
// logging it unless quiet.
func (m *specMachine) getPidOf(t *rapid.T, h bgworker.Handle, quiet bool) bgworker.PidStatus {
	st, err := m.c.be.GetBackgroundWorkerPid(h)
	if err != nil {
		t.Fatalf("GetBackgroundWorkerPid(%v): %v", implspec.Handle(h), err)
	}
	in, out := spec.Input{Kind: spec.OpGetPid, Handle: implspec.Handle(h)}, m.statusOutput(t, st)
	if quiet {
		m.stepQuiet(t, in, out)
	} else {
		m.step(t, in, out)
	}
	return st
}

func (m *specMachine) statusOutput(t *rapid.T, st bgworker.PidStatus) spec.Output {
	s, ok := implspec.Status(st.Status)
	if !ok {
		t.Fatalf("status %v has no counterpart in spec", st.Status)
	}
	return spec.Output{Status: s, Pid: spec.Pid(st.Pid)}
}

// getPid asks about a handle ever issued or a forged one: any slot,
// generation up to one past the largest issued, any epoch so far.
func (m *specMachine) getPid(t *rapid.T) {
	var h bgworker.Handle
	if len(m.handles) > 0 && rapid.Bool().Draw(t, "issued?") {
		h = rapid.SampledFrom(m.handles).Draw(t, "handle")
	} else {
		h = bgworker.Handle{
			Segment:    testSegment,
			Slot:       rapid.IntRange(0, m.c.slots-1).Draw(t, "slot"),
			Generation: rapid.Uint64Range(0, m.maxGen+1).Draw(t, "generation"),
			Epoch:      rapid.Uint64Range(0, m.s.Epoch).Draw(t, "epoch"),
		}
	}
	m.getPidOf(t, h, false)
}

// wait calls WaitForBackgroundWorkerStartup when it cannot block: after
// GetBackgroundWorkerPid said STARTED or STOPPED, or once the postmaster
// is dead.
func (m *specMachine) wait(t *rapid.T) {
	if len(m.handles) == 0 {
		t.Skip("no handle issued yet")
	}
	h := rapid.SampledFrom(m.handles).Draw(t, "handle")
	if !m.c.died {
		if st := m.getPidOf(t, h, false); st.Status == bgworker.NotYetStarted {
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	st, err := m.c.be.WaitForBackgroundWorkerStartup(ctx, h)
	if err != nil {
		t.Fatalf("WaitForBackgroundWorkerStartup(%v): %v", implspec.Handle(h), err)
	}
	m.step(t, spec.Input{Kind: spec.OpWaitForStartup, Handle: implspec.Handle(h)}, m.statusOutput(t, st))
}

// alive skips a postmaster action once the postmaster is dead.
func (m *specMachine) alive(t *rapid.T) {
	if m.c.died {
		t.Skip("the postmaster is dead")
	}
}

func (m *specMachine) scan(t *rapid.T) {
	m.alive(t)
	set, adopted, err := m.c.scan()
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	t.Logf("scan (flag %v) -> adopted slots %v", set, adopted)
}

func (m *specMachine) launch(t *rapid.T) {
	m.alive(t)
	m.scan(t)
	keep := notRunning
	if m.c.cfg.launchRunning {
		keep = func(*bgworker.RegisteredWorker) bool { return true }
	}
	rws := m.c.workers(keep)
	if len(rws) == 0 {
		return
	}
	rw := pick(t, rws, "launch")
	if err := m.c.launch(rw); err != nil {
		t.Fatalf("launch slot %d: %v", rw.Slot, err)
	}
	m.step(t, spec.Input{Kind: spec.OpLaunch, Slot: rw.Slot, Pid: spec.Pid(rw.Pid)}, spec.Output{})
}

func (m *specMachine) exit(t *rapid.T) {
	m.alive(t)
	rws := m.c.workers(running)
	if len(rws) == 0 {
		t.Skip("no running worker")
	}
	rw := pick(t, rws, "exit")
	if err := m.c.exit(rw); err != nil {
		t.Fatalf("exit slot %d: %v", rw.Slot, err)
	}
	m.step(t, spec.Input{Kind: spec.OpExit, Slot: rw.Slot}, spec.Output{})
}

func (m *specMachine) forget(t *rapid.T) {
	m.alive(t)
	rws := m.c.workers(notRunning)
	if len(rws) == 0 {
		t.Skip("no worker to forget")
	}
	rw := pick(t, rws, "forget")
	slot := rw.Slot
	if err := m.c.forget(rw); err != nil {
		t.Fatalf("forget slot %d: %v", slot, err)
	}
	m.step(t, spec.Input{Kind: spec.OpForget, Slot: slot}, spec.Output{})
}

func (m *specMachine) reinit(t *rapid.T) {
	m.alive(t)
	if !rare(t, 3, "crash?") {
		return
	}
	k, err := m.c.reinit()
	if err != nil {
		t.Fatalf("re-init: %v", err)
	}
	inUse := make([]int, k)
	for i := range inUse {
		inUse[i] = i
	}
	m.step(t, spec.Input{Kind: spec.OpReinit, InUse: slices.Clip(inUse)}, spec.Output{})
}

// died kills the postmaster, in about one draw out of twelve (so that
// most runs keep a live postmaster to the end).
func (m *specMachine) died(t *rapid.T) {
	m.alive(t)
	if !rare(t, 12, "die?") {
		return
	}
	m.c.die()
	m.step(t, spec.Input{Kind: spec.OpDied}, spec.Output{})
}

// check is the invariant after every action: every handle ever issued
// reads, in the implementation, what the specification allows.
func (m *specMachine) check(t *rapid.T) {
	for _, h := range m.handles {
		m.getPidOf(t, h, true)
	}
}

// AgainstSpecProperty is the implementation-against-specification
// property: a rapid state machine ([rapid.T.Repeat]) runs a cluster of
// cfg's size, built from the implementation as for [HandleProperty], and
// the specification's [spec.State] side by side. Each backend output of
// the implementation (register: ok with its handle, no free slot, or
// invalid naming a field; GetBackgroundWorkerPid and
// WaitForBackgroundWorkerStartup: status and pid) must be accepted by
// [spec.Step] from the specification's state, and the machine moves to
// the unique next state that matches it (handles convert with
// [implspec.Handle]). The postmaster's actions (launch, exit, forget, crash
// re-init, death) are applied to both. After every action, every handle
// ever issued is asked about again. WaitForBackgroundWorkerStartup is
// called only when it cannot block: after GetBackgroundWorkerPid said
// STARTED or STOPPED, or once the latch reports the postmaster dead.
func AgainstSpecProperty(cfg ClusterConfig) func(*rapid.T) {
	return func(t *rapid.T) {
		m := newSpecMachine(t, cfg)
		t.Repeat(m.c.counted(map[string]func(*rapid.T){
			"register": m.register,
			"scan":     m.scan,
			"launch":   m.launch,
			"exit":     m.exit,
			"forget":   m.forget,
			"reinit":   m.reinit,
			"died":     m.died,
			"getpid":   m.getPid,
			"wait":     m.wait,
			"":         m.check,
		}))
	}
}

// outcome names the kind of output of an operation, for coverage counts.
func outcome(in spec.Input, out spec.Output) string {
	switch in.Kind {
	case spec.OpRegister:
		return out.Result.String()
	case spec.OpGetPid, spec.OpWaitForStartup:
		return out.Status.String()
	}
	return "done"
}
