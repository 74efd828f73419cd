package postmaster

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/shmem"
)

// fakeDriver performs a core's actions in-process: spawns get fake pids
// (or fail on demand), signals are logged (SIGTERM and SIGQUIT make the
// target exit when autoKill is set), WakeAt times are kept and delivered as
// ticks by runUntil. Events the actions cause are fed back in order.
type fakeDriver struct {
	t    testing.TB
	c    *Core
	mem  *shmem.Local
	lock *bgworker.MutexLock
	now  time.Duration

	nextPid  int32
	fail     map[string]int   // worker name → spawns still to fail
	children map[int32]string // live worker processes, as the driver sees them
	backends map[int32]bool   // live backends, as the driver sees them
	latches  map[int32]*bgworker.LocalLatch
	wakes    []time.Duration
	held     []Event // spawn results held back (holdSpawns)
	queue    []Event

	autoKill   bool // SIGTERM/SIGQUIT/KillAll make the targets exit
	holdSpawns bool // keep spawn results in held instead of answering

	acts      []Action
	recs      []Record
	exited    bool
	pmSignals int
	onSignal  func(a Action) // called as a Signal action is performed
	onAction  func(a Action) // called before any action is performed
}

func newDriver(t testing.TB, cfg Config) *fakeDriver {
	t.Helper()
	if cfg.MaxWorkers == 0 {
		cfg.MaxWorkers = 4
	}
	if cfg.SegmentID == 0 {
		cfg.SegmentID = 0xb9
	}
	var clock uint64
	if cfg.Stamp == nil {
		cfg.Stamp = func() uint64 { clock++; return clock }
	}
	mem := shmem.NewLocal(bgworker.ShmemSize(cfg.MaxWorkers))
	c, err := New(cfg, mem)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &fakeDriver{
		t: t, c: c, mem: mem, lock: new(bgworker.MutexLock), nextPid: 1000,
		fail: map[string]int{}, children: map[int32]string{}, backends: map[int32]bool{},
		latches: map[int32]*bgworker.LocalLatch{}, autoKill: true,
	}
}

// feed steps ev and everything it causes; a Step error fails the test.
func (d *fakeDriver) feed(ev Event) {
	d.t.Helper()
	if err := d.try(ev); err != nil {
		d.t.Fatal(err)
	}
}

// try is feed returning the first Step error.
func (d *fakeDriver) try(ev Event) error {
	d.queue = append(d.queue, ev)
	for len(d.queue) > 0 {
		ev := d.queue[0]
		d.queue = d.queue[1:]
		ev.Now = d.now
		if err := d.c.Step(ev); err != nil {
			d.queue = nil
			return fmt.Errorf("Step(%v): %w", ev, err)
		}
		rd := d.c.Ready()
		d.recs = append(d.recs, rd.Records...)
		for _, a := range rd.Actions {
			d.perform(a)
		}
	}
	return nil
}

func (d *fakeDriver) perform(a Action) {
	if d.onAction != nil {
		d.onAction(a)
	}
	d.acts = append(d.acts, a)
	switch a.Kind {
	case ActionSpawn:
		var ev Event
		if d.fail[a.Worker.Name] > 0 {
			d.fail[a.Worker.Name]--
			ev = Event{Kind: EventSpawnResult, SpawnToken: a.Token, SpawnErr: "fork: resource temporarily unavailable"}
		} else {
			d.nextPid++
			d.children[d.nextPid] = a.Worker.Name
			ev = Event{Kind: EventSpawnResult, SpawnToken: a.Token, Pid: d.nextPid}
		}
		if d.holdSpawns {
			d.held = append(d.held, ev)
		} else {
			d.queue = append(d.queue, ev)
		}
	case ActionSignal:
		if d.onSignal != nil {
			d.onSignal(a)
		}
		if a.Signal == SIGUSR1 {
			if l := d.latches[a.Pid]; l != nil {
				l.Set()
			}
		}
		if d.autoKill && a.Signal != SIGUSR1 {
			d.kill(a.Pid, a.Signal)
		}
	case ActionWakeAt:
		d.wakes = append(d.wakes, a.At)
	case ActionKillAll:
		if d.autoKill {
			for _, pid := range slices.Sorted(mapKeys(d.children)) {
				d.kill(pid, SIGQUIT)
			}
			for _, pid := range slices.Sorted(mapKeys(d.backends)) {
				d.kill(pid, SIGQUIT)
			}
		}
	case ActionExit:
		d.exited = true
		d.wakes = nil
	}
}

func mapKeys[V any](m map[int32]V) func(func(int32) bool) {
	return func(yield func(int32) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// kill makes pid exit as sig would: a worker exits 1 on SIGTERM
// (bgworker_die) and 0 on SIGQUIT (bgworker_quickdie); a backend exits 2 on
// SIGQUIT (quickdie).
func (d *fakeDriver) kill(pid int32, sig Signal) {
	if _, ok := d.children[pid]; ok {
		code := 1
		if sig == SIGQUIT {
			code = 0
		}
		delete(d.children, pid)
		d.queue = append(d.queue, Event{Kind: EventChildExited, Pid: pid, Exit: bgworker.ExitStatus{Code: code}})
		return
	}
	if d.backends[pid] && sig == SIGQUIT {
		delete(d.backends, pid)
		d.queue = append(d.queue, Event{Kind: EventBackendExited, Pid: pid, Exit: bgworker.ExitStatus{Code: 2}})
	}
}

// runUntil delivers the pending wake-ups due up to t, in time order, and
// leaves the clock at t. It fails the test after 1000 ticks at one time
// (a busy loop).
func (d *fakeDriver) runUntil(t time.Duration) {
	d.t.Helper()
	spins := 0
	for {
		i := -1
		for j, w := range d.wakes {
			if w <= t && (i < 0 || w < d.wakes[i]) {
				i = j
			}
		}
		if i < 0 {
			break
		}
		at := max(d.wakes[i], d.now)
		d.wakes = slices.DeleteFunc(d.wakes, func(w time.Duration) bool { return w <= at })
		if at == d.now {
			if spins++; spins > 1000 {
				d.t.Fatalf("busy loop at %v", at)
			}
		} else {
			spins = 0
		}
		d.now = at
		d.feed(Event{Kind: EventTick})
	}
	d.now = max(d.now, t)
}

func (d *fakeDriver) start() { d.feed(Event{Kind: EventStart}) }

func (d *fakeDriver) startBackend(pid int32) *bgworker.Backend {
	d.t.Helper()
	d.backends[pid] = true
	d.feed(Event{Kind: EventBackendStarted, Pid: pid})
	return d.backend(pid)
}

// backend returns a bgworker.Backend for pid over the current segment; its
// latch is set by SIGUSR1 to pid.
func (d *fakeDriver) backend(pid int32) *bgworker.Backend {
	l := d.latches[pid]
	if l == nil {
		l = bgworker.NewLocalLatch()
		d.latches[pid] = l
	}
	return bgworker.NewBackend(d.c.Segment(), bgworker.BackendConfig{
		Lock:       d.lock,
		Postmaster: bgworker.SignalFunc(func() error { d.pmSignals++; return nil }),
		Latch:      l,
	})
}

// register registers w from backend be and delivers the postmaster's
// SIGUSR1.
func (d *fakeDriver) register(be *bgworker.Backend, w bgworker.Worker) bgworker.Handle {
	d.t.Helper()
	h, err := be.RegisterDynamicBackgroundWorker(w)
	if err != nil {
		d.t.Fatalf("register %q: %v", w.Name, err)
	}
	d.feed(Event{Kind: EventPMSignal})
	return h
}

func (d *fakeDriver) exitChild(pid int32, e bgworker.ExitStatus) {
	d.t.Helper()
	delete(d.children, pid)
	d.feed(Event{Kind: EventChildExited, Pid: pid, Exit: e})
}

func (d *fakeDriver) exitBackend(pid int32, e bgworker.ExitStatus) {
	d.t.Helper()
	delete(d.backends, pid)
	d.feed(Event{Kind: EventBackendExited, Pid: pid, Exit: e})
}

// pidOf returns the live worker process of name.
func (d *fakeDriver) pidOf(name string) int32 {
	d.t.Helper()
	for _, rw := range d.c.Workers() {
		if rw.Worker.Name == name && rw.Pid != 0 {
			return rw.Pid
		}
	}
	d.t.Fatalf("worker %q is not running; records:\n%s", name, d.dump(0))
	return 0
}

func (d *fakeDriver) status(be *bgworker.Backend, h bgworker.Handle) bgworker.PidStatus {
	d.t.Helper()
	st, err := be.GetBackgroundWorkerPid(h)
	if err != nil {
		d.t.Fatalf("GetBackgroundWorkerPid(%+v): %v", h, err)
	}
	return st
}

// recsOf returns the records of kind from index from on.
func (d *fakeDriver) recsOf(from int, kind RecordKind) []Record {
	var out []Record
	for _, r := range d.recs[from:] {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// actsOf returns the actions of kind from index from on.
func (d *fakeDriver) actsOf(from int, kind ActionKind) []Action {
	var out []Action
	for _, a := range d.acts[from:] {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}

// spawned returns the names spawned from action index from on.
func (d *fakeDriver) spawned(from int) []string {
	var out []string
	for _, a := range d.actsOf(from, ActionSpawn) {
		out = append(out, a.Worker.Name)
	}
	return out
}

// kinds returns the record kinds from index from on, except the given ones.
func (d *fakeDriver) kinds(from int, except ...RecordKind) []RecordKind {
	var out []RecordKind
	for _, r := range d.recs[from:] {
		if !slices.Contains(except, r.Kind) {
			out = append(out, r.Kind)
		}
	}
	return out
}

func (d *fakeDriver) dump(from int) string {
	s := ""
	for _, r := range d.recs[from:] {
		s += "  " + r.String() + "\n"
	}
	return s
}

// wk is a worker definition for tests.
func wk(name string, flags bgworker.Flags, start bgworker.StartTime, restart int32) bgworker.Worker {
	return bgworker.Worker{Name: name, Flags: flags, StartTime: start, RestartTime: restart,
		LibraryName: "testlib", FunctionName: name + "_main"}
}

func withNotify(w bgworker.Worker, pid int32) bgworker.Worker {
	w.NotifyPid = pid
	return w
}

var (
	exit0    = bgworker.ExitStatus{Code: 0}
	exit1    = bgworker.ExitStatus{Code: 1}
	exit2    = bgworker.ExitStatus{Code: 2}
	signaled = bgworker.ExitStatus{Signaled: true}
)
