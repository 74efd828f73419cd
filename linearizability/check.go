package linearizability

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// Mode selects how [Check] checks a history.
type Mode uint8

// The modes of [Check].
const (
	// ModeAuto runs the partitioned checks and, for a history of at most
	// [Options.ExactLimit] operations in which they found no violation,
	// the exact check too.
	ModeAuto Mode = iota
	// ModeExact runs only the exact check: porcupine with [Exact], no
	// partitioning. Its memory grows with the square of the history; past
	// [Options.MemoryBudget] it stops undecided.
	ModeExact
	// ModePartitioned runs the per-slot, no-free-slot and validity checks
	// ([PerSlot], [Count], [Validity]), each partition in windows split
	// wherever few configurations are reachable. Its memory grows with the
	// windows, not the history, as long as such splits exist; where none
	// does for long, it grows until [Options.MemoryBudget] stops the check
	// undecided.
	ModePartitioned
)

// String returns "auto", "exact" or "partitioned".
func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeExact:
		return "exact"
	case ModePartitioned:
		return "partitioned"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// DefaultExactLimit is the longest history [ModeAuto] also checks exactly
// when [Options.ExactLimit] is 0.
const DefaultExactLimit = 1000

// DefaultWindow is the fewest operations a window of the partitioned
// checks holds when [Options.Window] is 0.
const DefaultWindow = 256

// Options configure [Check].
type Options struct {
	Slots  int  // max_worker_processes: the number of slots
	Static int  // how many of the first slots hold static workers
	Mode   Mode // which checks to run
	// Timeout bounds the whole check; 0 means none. A check that runs out
	// of time is [Unknown], never [Ok].
	Timeout time.Duration
	// ExactLimit is the longest history ModeAuto checks exactly; 0 means
	// DefaultExactLimit, a negative value never.
	ExactLimit int
	// Window is the fewest operations per window of the partitioned
	// checks; 0 means DefaultWindow. Smaller windows mean less memory and
	// more porcupine calls.
	Window int
	// MemoryBudget bounds how far the heap may grow, in bytes, while the
	// check runs; 0 means DefaultMemoryBudget, a negative value no bound.
	// A check past its budget stops, [Unknown], never [Ok]: the heap is
	// sampled every few milliseconds and the search backs out. The heap is
	// the process's, so checks running at the same time count each
	// other's memory.
	MemoryBudget int64
}

// Check checks h against the specification under opts and returns one
// [Verdict] per check run. A malformed history ([History.Validate]) or bad
// options yield a Report with Err set and no verdict.
//
// Every check is sound: a [Violation] is always a real one, because each
// check's projection of a linearizable history is linearizable
// (docs/checking.md). The partitioned checks are not complete: they may
// pass a history the exact check rejects.
func Check(h History, opts Options) Report {
	start := time.Now()
	rep := Report{Ops: len(h), Mode: opts.Mode}
	if opts.Slots < 0 || opts.Static < 0 || opts.Static > opts.Slots {
		rep.Err = fmt.Errorf("linearizability: bad options: need 0 <= Static (%d) <= Slots (%d)", opts.Static, opts.Slots)
		return rep
	}
	if opts.Mode > ModePartitioned {
		rep.Err = fmt.Errorf("linearizability: bad options: unknown mode %v", opts.Mode)
		return rep
	}
	if err := h.Validate(); err != nil {
		rep.Err = err
		return rep
	}
	lim := &limits{}
	if opts.Timeout > 0 {
		lim.deadline = start.Add(opts.Timeout)
	}
	if budget := opts.MemoryBudget; budget >= 0 {
		if budget == 0 {
			budget = DefaultMemoryBudget
		}
		lim.mem = watchMemory(budget)
		defer lim.mem.close()
	}
	if opts.Mode != ModeExact {
		rep.Verdicts = checkPartitioned(h, opts, lim)
	}
	limit := opts.ExactLimit
	if limit == 0 {
		limit = DefaultExactLimit
	}
	if opts.Mode == ModeExact || opts.Mode == ModeAuto && len(h) <= limit && rep.Result() != Violation {
		rep.Verdicts = append(rep.Verdicts, checkExact(h.Porcupine(), opts, lim))
	}
	rep.Elapsed = time.Since(start)
	return rep
}

// remaining returns the time left before deadline, or 0 for none; it
// returns a negative duration once the deadline has passed.
func remaining(deadline time.Time) time.Duration {
	if deadline.IsZero() {
		return 0
	}
	if d := time.Until(deadline); d > 0 {
		return d
	}
	return -1
}

// checkExact runs porcupine with the exact model on the whole history.
func checkExact(ops []porcupine.Operation, opts Options, lim *limits) (v Verdict) {
	start := time.Now()
	v = Verdict{Check: CheckExact, Ops: len(ops), Parts: 1}
	defer func() { v.Elapsed = time.Since(start) }()
	if err := lim.err(); err != nil {
		v.Result, v.Detail = Unknown, lim.stopped(err, fmt.Sprintf("before the exact check of %d operations started", len(ops)))
		return v
	}
	model := Exact(opts.Slots, opts.Static)
	res, info := porcupine.CheckOperationsVerbose(lim.guard(model), ops, lim.left())
	if err := lim.err(); err != nil {
		v.Result, v.Detail = Unknown, lim.stopped(err, fmt.Sprintf("during the exact check of %d operations", len(ops)))
		return v
	}
	v.Model, v.Info = model, &info
	switch res {
	case porcupine.Ok:
		v.Result = Ok
	case porcupine.Illegal:
		v.Result = Violation
		v.Detail = explain(model, ops, info, nil)
	default:
		v.Result = Unknown
		v.Detail = fmt.Sprintf("timed out after %v (a timeout is never a pass)", opts.Timeout)
	}
	return v
}

// checkPartitioned runs the validity, no-free-slot and per-slot checks
// concurrently.
func checkPartitioned(h History, opts Options, lim *limits) []Verdict {
	window := opts.Window
	if window <= 0 {
		window = DefaultWindow
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	verdicts := make([]Verdict, 3)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		verdicts[0] = checkSlots(h, opts, window, lim, sem)
	}()
	go func() {
		defer wg.Done()
		sem <- struct{}{}
		defer func() { <-sem }()
		verdicts[1] = checkCount(h, opts, window, lim)
	}()
	go func() {
		defer wg.Done()
		verdicts[2] = checkValidity(h, opts)
	}()
	wg.Wait()
	return verdicts
}

// checkSlots runs the per-slot check, one partition per slot.
func checkSlots(h History, opts Options, window int, lim *limits, sem chan struct{}) Verdict {
	start := time.Now()
	parts, metas := slotPartitions(h, opts.Slots, opts.Static)
	results := make([]partResult, len(parts))
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			where := metas[i].String()
			results[i] = checkPart[slotCfg](slotMachine{}, parts[i], []slotCfg{metas[i].init}, window, lim, where)
		}()
	}
	wg.Wait()
	v := combine(CheckSlots, results)
	v.Parts = len(parts)
	v.Elapsed = time.Since(start)
	return v
}

// checkCount runs the no-free-slot check on the count projection.
func checkCount(h History, opts Options, window int, lim *limits) Verdict {
	start := time.Now()
	part := countPartition(h, opts.Slots)
	var results []partResult
	if len(part) > 0 {
		results = append(results, checkPart[countCfg](countMachine{nslots: opts.Slots}, part,
			[]countCfg{{n: opts.Static}}, window, lim, "the count projection"))
	}
	v := combine(CheckNoFreeSlot, results)
	v.Parts = len(results)
	v.Elapsed = time.Since(start)
	return v
}

// checkValidity checks each operation whose legality does not depend on
// the state, and keeps porcupine's view of the first illegal one.
func checkValidity(h History, opts Options) (v Verdict) {
	start := time.Now()
	model := Validity(opts.Slots, opts.Static)
	vops := validityOps(h, opts.Slots)
	v = Verdict{Check: CheckValidity, Ops: len(vops), Parts: len(vops), Result: Ok}
	defer func() { v.Elapsed = time.Since(start) }()
	for i := range vops {
		if ok, _ := model.Step(model.Init(), vops[i].Input, vops[i].Output); ok {
			continue
		}
		one := []porcupine.Operation{vops[i]}
		res, info := porcupine.CheckOperationsVerbose(model, one, 0) // one operation: no search
		if res != porcupine.Illegal {
			v.Result = Unknown
			v.Detail = fmt.Sprintf("porcupine says %v where spec.Step rejects %s", res, describeOp(model, &vops[i]))
			return v
		}
		v.Result, v.Model, v.Info = Violation, model, &info
		v.Where = fmt.Sprintf("operation at call %d", vops[i].Call)
		v.Detail = "illegal whatever the state:\n  " + describeOp(model, &vops[i]) + "\n  " + validityReason(&vops[i], opts.Slots)
		return v
	}
	return v
}
