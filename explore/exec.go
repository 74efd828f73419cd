package explore

import (
	"errors"
	"fmt"
	"slices"

	"bgwmodel/impl/shmem"
)

// execution is one run of a scenario: the scheduler with the threads'
// goroutines, the memory, the budget, the output and the recorder of
// choices, each a part that owns its state. It runs on the caller's
// goroutine (the scheduler); thread goroutines run one at a time, handing
// control back and forth over channels, so every field is touched by one
// goroutine at a time.
type execution struct {
	scn       *Scenario
	rec       *recorder
	table     *stateTable
	enc       encoder
	setupDone bool
	over      bool // cleaning up: thread ends and failures are not recorded
	sched     scheduler
	mem       memory
	budget    budget
	out       output
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
		scn: s, rec: cfg.rec, table: cfg.table,
		sched:  scheduler{ch: make(chan tmsg), current: -1},
		mem:    memory{kind: kind, locs: map[shmem.Offset]*loc{}, names: map[shmem.Offset]string{}},
		budget: budget{maxSteps: cfg.maxSteps, maxKills: cfg.maxKills, bound: cfg.bound},
		out:    output{keepRows: cfg.keepRows, verbose: cfg.keepRows},
	}
	out := ex.run()
	out.steps, out.preempt = ex.budget.used.steps, ex.budget.used.preempt
	out.points = ex.rec.points
	out.trace = Trace{Model: kind, Choices: ex.rec.trace}
	out.rows = ex.out.rows
	if out.err == nil {
		out.err = ex.rec.err
	}
	if out.err == nil && !out.pruned && !out.truncated {
		out.err = ex.rec.leftover()
	}
	if f := out.failure; f != nil {
		f.Trace, f.Steps, f.Preemptions = out.trace.String(), ex.budget.used.steps, ex.budget.used.preempt
	}
	return out
}

func (ex *execution) run() (out outcome) {
	defer ex.cleanup()
	if err := ex.setup(); err != nil {
		out.err = err
		return out
	}
	for ex.out.failure == nil && ex.rec.err == nil {
		alts, curEnabled := ex.events()
		if len(alts) == 0 {
			if !ex.sched.nonDaemonAlive() {
				ex.finish()
				break
			}
			if at, ok := ex.sched.nextTimer(ex.scn.TimeHorizon); ok {
				ex.sched.clock = at
				ex.emit(Step{Thread: -1, Name: "clock", Op: OpTime, Text: at.String()})
				continue
			}
			ex.hang()
			break
		}
		if !ex.budget.stepsLeft() {
			out.truncated = true
			break
		}
		// States on the replayed prefix were recorded by the execution
		// this one branches from: only states past it are new.
		if ex.table != nil && len(ex.rec.points) >= len(ex.rec.prefix) &&
			ex.table.visit(ex.stateKey(), ex.budget.used) {
			out.pruned = true
			break
		}
		if curEnabled && !ex.budget.mayPreempt() {
			alts = slices.DeleteFunc(alts, func(e event) bool {
				return e.kind == ChooseThread && e.tid != ex.sched.current
			})
		}
		e := alts[ex.rec.sched(alts)]
		if ex.rec.err != nil {
			break
		}
		ex.budget.used.steps++
		ex.step(e, curEnabled)
	}
	out.failure = ex.out.failure
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
	ex.out.verbose = ex.out.keepRows || len(ex.out.observers) > 0
	m, err := newModel(ex.mem.kind, ex.rec, ex.out.verbose)
	if err != nil {
		return err
	}
	ex.mem.model = m
	// Threads and locations made during Setup are registered with the
	// model now that their initial values are final.
	for _, t := range ex.sched.threads {
		ex.mem.model.addThread(t.id, -1)
	}
	for _, l := range ex.mem.locList {
		ex.mem.model.addLoc(l)
	}
	if ex.out.verbose {
		for _, s := range ex.out.notes {
			ex.emit(s)
		}
	}
	for _, t := range ex.sched.threads {
		if !t.sched.alive {
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
	alts = ex.sched.evbuf[:0]
	if ex.sched.current >= 0 && ex.sched.enabled(ex.sched.threads[ex.sched.current]) {
		alts = append(alts, event{ChooseThread, ex.sched.current})
		curEnabled = true
	}
	for _, t := range ex.sched.threads {
		if t.id != ex.sched.current && ex.sched.enabled(t) {
			alts = append(alts, event{ChooseThread, t.id})
		}
	}
	// A flush is offered only where it can make a difference (see
	// flushMatters); when no thread can step, every flush is.
	stepping := len(alts) > 0
	for _, t := range ex.sched.threads {
		if ex.mem.model.buffered(t.id) && (!stepping || ex.flushMatters(t.id)) {
			alts = append(alts, event{ChooseFlush, t.id})
		}
	}
	// Kills are offered only while something else can happen: killing a
	// thread of a stuck world is the same as killing it at its last
	// scheduling point before it got stuck.
	if len(alts) > 0 && ex.budget.mayKill() {
		for _, t := range ex.sched.threads {
			if t.sched.alive && t.flags&Killable != 0 {
				alts = append(alts, event{ChooseKill, t.id})
			}
		}
	}
	ex.sched.evbuf = alts
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
	for _, u := range ex.sched.threads {
		if u.id == t {
			continue
		}
		if ex.mem.model.bufferShares(t, u.id) {
			return true
		}
		if !u.sched.alive || !u.sched.parked || u.sched.failed {
			continue
		}
		switch o := &u.sched.pending; o.kind {
		case OpLoad, OpLoadBytes, OpSwap, OpCAS, OpAdd:
			if ex.mem.model.inBuffer(t, o.l) {
				return true
			}
		}
	}
	return false
}

// step takes event e.
func (ex *execution) step(e event, curEnabled bool) {
	t := ex.sched.threads[e.tid]
	switch e.kind {
	case ChooseThread:
		if curEnabled && e.tid != ex.sched.current {
			ex.budget.used.preempt++
		}
		ex.sched.current = e.tid
		ex.execOp(t)
	case ChooseFlush:
		l, v, info := ex.mem.model.flush(t.id)
		if ex.out.verbose {
			ex.emit(Step{Thread: t.id, Name: t.name, Op: OpFlush, Off: l.off, Size: l.size,
				Loc: l.label(), Value: v.w, Bytes: v.b, Text: l.fmtVal(v), Info: info})
		}
	case ChooseKill:
		ex.budget.used.kills++
		ex.killThread(t)
	}
}

// failWith records the execution's first failure, unless the execution
// is over.
func (ex *execution) failWith(f *Failure) {
	if !ex.over {
		ex.out.fail(f)
	}
}

// emit records a row and shows it to the observers, if rows are wanted;
// an observer's error is the execution's failure.
func (ex *execution) emit(s Step) {
	if !ex.out.verbose {
		return
	}
	s.Index, s.Time = ex.budget.used.steps, ex.sched.clock
	if f := ex.out.record(s); f != nil {
		ex.failWith(f)
	}
}

// finish is a normal end: run the checks.
func (ex *execution) finish() {
	end := &End{ex: ex, Steps: ex.budget.used.steps, Time: ex.sched.clock}
	for _, t := range ex.sched.threads {
		end.Threads = append(end.Threads, t.status())
	}
	if f := ex.out.check(end); f != nil {
		ex.failWith(f)
	}
}

// ErrHang is the error of a [FailHang] failure.
var ErrHang = errors.New("hang: no thread can run and no timer is pending")

func (ex *execution) hang() {
	ex.failWith(&Failure{Kind: FailHang, Err: ErrHang, Blocked: ex.sched.blocked()})
}

// stateKey hashes the whole state: the scheduler's (threads and locks
// included) and the memory model's.
func (ex *execution) stateKey() key {
	e := &ex.enc
	e.reset()
	ex.sched.hash(e)
	ex.mem.model.hash(e, ex.mem.sorted)
	return e.sum()
}

// cleanup kills every live thread's goroutine, so none outlives the
// execution, whatever way it ended.
func (ex *execution) cleanup() {
	ex.over = true
	for _, t := range ex.sched.threads {
		if t.sched.alive {
			ex.killThread(t)
		}
	}
}
