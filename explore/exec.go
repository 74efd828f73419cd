package explore

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/shmem"
)

// execution is one run of a scenario: the world, the threads' goroutines,
// the memory model and the recorder of choices. It runs on the caller's
// goroutine (the scheduler); thread goroutines run one at a time, handing
// control back and forth over channels, so every field is touched by one
// goroutine at a time.
type execution struct {
	scn       *Scenario
	kind      ModelKind
	model     memModel
	rec       *recorder
	table     *stateTable
	ch        chan tmsg
	threads   []*Thread
	locs      map[shmem.Offset]*loc
	locList   []*loc
	sorted    []*loc // by offset
	names     map[shmem.Offset]string
	locks     []*lockState
	nsync     int
	clock     time.Duration
	pmDied    bool
	current   ThreadID
	preempt   int
	kills     int
	maxKills  int
	bound     int
	steps     int
	maxSteps  int
	setupDone bool
	over      bool
	verbose   bool
	keepRows  bool
	rows      Table
	failure   *Failure
	checks    []func(*End) error
	observers []func(*Step) error
	notes     []Step // notes made during Setup
	enc       encoder
	evbuf     []event
}

// outcome is what one execution produced.
type outcome struct {
	failure   *Failure
	pruned    bool
	truncated bool
	steps     int
	preempt   int
	points    []point
	trace     Trace
	rows      Table
	err       error // setup error, nondeterminism, a trace that does not fit
}

// runConfig is what varies between the ways executions are run.
type runConfig struct {
	rec      *recorder
	table    *stateTable
	maxSteps int
	maxKills int
	bound    int
	keepRows bool
}

// runOne runs one execution of s under model kind.
func runOne(s *Scenario, kind ModelKind, cfg runConfig) outcome {
	ex := &execution{
		scn: s, kind: kind, rec: cfg.rec, table: cfg.table,
		ch:      make(chan tmsg),
		locs:    map[shmem.Offset]*loc{},
		names:   map[shmem.Offset]string{},
		current: -1, maxSteps: cfg.maxSteps, maxKills: cfg.maxKills, bound: cfg.bound,
		keepRows: cfg.keepRows, verbose: cfg.keepRows,
	}
	out := ex.run()
	out.steps, out.preempt = ex.steps, ex.preempt
	out.points = ex.rec.points
	out.trace = Trace{Model: kind, Choices: ex.rec.trace}
	out.rows = ex.rows
	if out.err == nil {
		out.err = ex.rec.err
	}
	if out.err == nil && !out.pruned && !out.truncated {
		out.err = ex.rec.leftover()
	}
	if f := out.failure; f != nil {
		f.Trace, f.Steps, f.Preemptions = out.trace.String(), ex.steps, ex.preempt
	}
	return out
}

func (ex *execution) run() (out outcome) {
	defer ex.cleanup()
	if err := ex.setup(); err != nil {
		out.err = err
		return out
	}
	for ex.failure == nil && ex.rec.err == nil {
		alts, curEnabled := ex.events()
		if len(alts) == 0 {
			if !ex.nonDaemonAlive() {
				ex.finish()
				break
			}
			if at, ok := ex.nextTimer(); ok {
				ex.clock = at
				ex.emit(Step{Thread: -1, Name: "clock", Op: OpTime, Text: at.String()})
				continue
			}
			ex.hang()
			break
		}
		if ex.steps >= ex.maxSteps {
			out.truncated = true
			break
		}
		// States on the replayed prefix were recorded by the execution
		// this one branches from: only states past it are new.
		if ex.table != nil && len(ex.rec.points) >= len(ex.rec.prefix) &&
			ex.table.visit(ex.stateKey(), budget{ex.preempt, ex.steps, ex.kills}) {
			out.pruned = true
			break
		}
		if ex.bound >= 0 && ex.preempt >= ex.bound && curEnabled {
			alts = slices.DeleteFunc(alts, func(e event) bool {
				return e.kind == ChooseThread && e.tid != ex.current
			})
		}
		e := alts[ex.rec.sched(alts)]
		if ex.rec.err != nil {
			break
		}
		ex.steps++
		ex.step(e, curEnabled)
	}
	out.failure = ex.failure
	return out
}

// setup runs the scenario's Setup on a fresh World.
func (ex *execution) setup() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("explore: scenario %q: Setup panicked: %v", ex.scn.Name, p)
		}
	}()
	if err := ex.scn.Setup(&World{ex: ex}); err != nil {
		return fmt.Errorf("explore: scenario %q: Setup: %w", ex.scn.Name, err)
	}
	ex.setupDone = true
	ex.verbose = ex.keepRows || len(ex.observers) > 0
	m, err := newModel(ex.kind, ex.rec, ex.verbose)
	if err != nil {
		return err
	}
	ex.model = m
	// Threads and locations made during Setup are registered with the
	// model now that their initial values are final.
	for _, t := range ex.threads {
		ex.model.addThread(t.id, -1)
	}
	for _, l := range ex.locList {
		ex.model.addLoc(l)
	}
	if ex.verbose {
		for _, s := range ex.notes {
			ex.emit(s)
		}
	}
	for _, t := range ex.threads {
		if !t.alive {
			ex.ended(t)
		}
	}
	return nil
}

// events lists the enabled events, the default first: the current thread
// if it can go on, then other threads, flushes and kills. curEnabled
// reports whether the current thread can go on (so that running another
// is a preemption).
func (ex *execution) events() (alts []event, curEnabled bool) {
	alts = ex.evbuf[:0]
	if ex.current >= 0 && ex.enabled(ex.threads[ex.current]) {
		alts = append(alts, event{ChooseThread, ex.current})
		curEnabled = true
	}
	for _, t := range ex.threads {
		if t.id != ex.current && ex.enabled(t) {
			alts = append(alts, event{ChooseThread, t.id})
		}
	}
	// A flush is offered only where it can make a difference (see
	// flushMatters); when no thread can step, every flush is.
	stepping := len(alts) > 0
	for _, t := range ex.threads {
		if ex.model.buffered(t.id) && (!stepping || ex.flushMatters(t.id)) {
			alts = append(alts, event{ChooseFlush, t.id})
		}
	}
	// Kills are offered only while something else can happen: killing a
	// thread of a stuck world is the same as killing it at its last
	// scheduling point before it got stuck.
	if len(alts) > 0 && ex.kills < ex.maxKills {
		for _, t := range ex.threads {
			if t.alive && t.flags&Killable != 0 {
				alts = append(alts, event{ChooseKill, t.id})
			}
		}
	}
	ex.evbuf = alts
	return alts, curEnabled
}

// flushMatters reports whether flushing t's oldest buffered store now can
// lead anywhere that flushing it later cannot (TSO). A flush commutes with
// every step of another thread that neither reads from memory a location
// t has buffered nor has a store of its own to such a location pending in
// its buffer, and with t's own steps (t reads its own buffer first; its
// drains flush in the same FIFO order). So it is enough to offer a flush
// when another thread's next step loads (or read-modify-writes) a
// location in t's buffer — at that point the flush (and, FIFO, those
// before it) can be placed before the load — or when another thread's
// buffer holds a store to a location in t's buffer (their order in memory
// is then open); and, when no thread can step, every flush (the end of
// the run). Without this, every interleaving of flushes with unrelated
// steps is explored: Catalan-many equivalent executions for a thread's
// run of stores.
func (ex *execution) flushMatters(t ThreadID) bool {
	for _, u := range ex.threads {
		if u.id == t {
			continue
		}
		if ex.model.bufferShares(t, u.id) {
			return true
		}
		if !u.alive || !u.parked || u.failed {
			continue
		}
		switch o := &u.pending; o.kind {
		case OpLoad, OpLoadBytes, OpSwap, OpCAS, OpAdd:
			if ex.model.inBuffer(t, o.l) {
				return true
			}
		}
	}
	return false
}

// enabled reports whether t's pending step can be taken now.
func (ex *execution) enabled(t *Thread) bool {
	if !t.alive || !t.parked || t.failed {
		return false
	}
	o := &t.pending
	switch o.kind {
	case OpLock:
		return ex.locks[o.lock].free(o.mode)
	case OpWait:
		return t.latchSet || ex.pmDied || (o.deadline && ex.clock >= o.until)
	case OpSleep:
		return ex.clock >= o.until
	}
	return true
}

func (ex *execution) nonDaemonAlive() bool {
	for _, t := range ex.threads {
		if t.alive && t.flags&Daemon == 0 {
			return true
		}
	}
	return false
}

// nextTimer is the earliest pending timer within the scenario's horizon.
func (ex *execution) nextTimer() (time.Duration, bool) {
	var at time.Duration
	found := false
	for _, t := range ex.threads {
		if !t.alive || !t.parked || t.failed {
			continue
		}
		o := &t.pending
		if o.kind == OpSleep || (o.kind == OpWait && o.deadline) {
			if !found || o.until < at {
				at, found = o.until, true
			}
		}
	}
	if found && ex.scn.TimeHorizon > 0 && at > ex.scn.TimeHorizon {
		return 0, false
	}
	return at, found
}

// step takes event e.
func (ex *execution) step(e event, curEnabled bool) {
	t := ex.threads[e.tid]
	switch e.kind {
	case ChooseThread:
		if curEnabled && e.tid != ex.current {
			ex.preempt++
		}
		ex.current = e.tid
		ex.execOp(t)
	case ChooseFlush:
		l, v, info := ex.model.flush(t.id)
		if ex.verbose {
			ex.emit(Step{Thread: t.id, Name: t.name, Op: OpFlush, Off: l.off, Size: l.size,
				Loc: l.label(), Value: v.w, Bytes: v.b, Text: l.fmtVal(v), Info: info})
		}
	case ChooseKill:
		ex.kills++
		ex.killThread(t)
	}
}

// emit records a row and calls the observers.
func (ex *execution) emit(s Step) {
	if !ex.verbose {
		return
	}
	s.Index, s.Time = ex.steps, ex.clock
	if ex.keepRows {
		ex.rows = append(ex.rows, s)
	}
	for _, obs := range ex.observers {
		if ex.failure != nil {
			return // observers see nothing past a counterexample
		}
		if err := ex.observe(obs, &s); err != nil {
			ex.failWith(&Failure{Kind: FailObserver, Thread: s.Name, Err: err})
			return
		}
	}
}

func (ex *execution) observe(obs func(*Step) error, s *Step) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("observer panicked: %v", p)
		}
	}()
	return obs(s)
}

// failWith records the execution's first failure.
func (ex *execution) failWith(f *Failure) {
	if ex.failure == nil && !ex.over {
		ex.failure = f
	}
}

// finish is a normal end: run the checks.
func (ex *execution) finish() {
	end := &End{ex: ex, Steps: ex.steps, Time: ex.clock}
	for _, t := range ex.threads {
		end.Threads = append(end.Threads, t.status())
	}
	for _, c := range ex.checks {
		if err := runCheck(c, end); err != nil {
			ex.failWith(&Failure{Kind: FailCheck, Err: err})
			return
		}
	}
}

func runCheck(c func(*End) error, e *End) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("check panicked: %v", p)
		}
	}()
	return c(e)
}

// ErrHang is the error of a [FailHang] failure.
var ErrHang = errors.New("hang: no thread can run and no timer is pending")

func (ex *execution) hang() {
	ex.failWith(&Failure{Kind: FailHang, Err: ErrHang, Blocked: ex.blocked()})
}

// blocked describes every live thread and what it waits for.
func (ex *execution) blocked() []string {
	var out []string
	for _, t := range ex.threads {
		if !t.alive {
			continue
		}
		o := &t.pending
		var what string
		switch o.kind {
		case OpLock:
			ls := ex.locks[o.lock]
			what = fmt.Sprintf("lock %s %s (%s)", ls.name, o.mode, ls.describe(ex))
		case OpWait:
			what = "latch wait"
			if o.deadline {
				what += " until " + o.until.String()
			}
		case OpSleep:
			what = "sleep until " + o.until.String()
		default:
			what = "runnable " + o.kind.String()
		}
		if t.flags&Daemon != 0 {
			what += " (daemon)"
		}
		out = append(out, t.name+": "+what)
	}
	return out
}

// stateKey hashes the whole state: scheduler, threads (each by the hash of
// everything it has observed, which with its body determines its local
// state and next step), locks and the memory model.
func (ex *execution) stateKey() key {
	e := &ex.enc
	e.reset()
	e.u64(uint64(ex.clock))
	e.bool(ex.pmDied)
	e.u64(uint64(ex.current + 1))
	e.u64(uint64(len(ex.threads)))
	for _, t := range ex.threads {
		e.u64(uint64(t.state))
		e.bool(t.alive)
		e.key(t.hist)
		e.bool(t.latchSet)
		e.u64(uint64(t.pending.kind))
		e.u64(uint64(len(t.reaps)))
		for _, r := range t.reaps {
			e.u64(uint64(r.Thread))
			e.u64(uint64(r.State))
			e.u64(uint64(int64(r.Code)))
		}
	}
	for _, ls := range ex.locks {
		e.u64(uint64(ls.excl + 1))
		e.u64(uint64(len(ls.shared)))
		for _, s := range ls.shared {
			e.u64(uint64(s))
		}
	}
	ex.model.hash(e, ex.sorted)
	return e.sum()
}

// cleanup kills every live thread's goroutine, so none outlives the
// execution, whatever way it ended.
func (ex *execution) cleanup() {
	ex.over = true
	for _, t := range ex.threads {
		if t.alive {
			ex.killThread(t)
		}
	}
}

// lockState is one simulated lock.
type lockState struct {
	name   string
	sync   int
	excl   ThreadID // -1 when not held exclusively
	shared []ThreadID
}

func (ls *lockState) free(mode bgworker.LockMode) bool {
	return ls.excl < 0 && (mode == bgworker.LockShared || len(ls.shared) == 0)
}

func (ls *lockState) describe(ex *execution) string {
	var hs []string
	if ls.excl >= 0 {
		hs = append(hs, ex.threads[ls.excl].describe()+" exclusive")
	}
	for _, s := range ls.shared {
		hs = append(hs, ex.threads[s].describe()+" shared")
	}
	if len(hs) == 0 {
		return "free"
	}
	return "held by " + strings.Join(hs, ", ")
}
