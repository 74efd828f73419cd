package linearizability

import (
	"fmt"
	"math"
	"strings"

	"github.com/anishathalye/porcupine"

	"bgwmodel/spec"
)

// partResult is the outcome of checking one partition.
type partResult struct {
	result  Result
	ops     int
	windows int
	where   string
	detail  string
	model   porcupine.Model
	info    *porcupine.LinearizationInfo
	span    [2]int64 // calls of the window model and info show
}

// checkPart checks one partition (ops in call order) of machine m from
// the configurations init: the sweep finds the configurations at each cut
// and porcupine checks every window between two cuts from those
// configurations (see [windowMachine]). The verdict is a [Violation] only
// if both engines find one in the same window, [Ok] only if porcupine
// passes every window and the sweep reaches the end; anything else (a
// timeout, an exceeded memory budget, the engines disagreeing, too much
// concurrency) is [Unknown].
func checkPart[C any](m machine[C], ops []porcupine.Operation, init []C, minWindow int, lim *limits, where string) partResult {
	r := partResult{result: Ok, ops: len(ops), where: where}
	stop := func(err error, done int) {
		r.result = Unknown
		r.detail = lim.stopped(err, fmt.Sprintf("after %d of %d operations in %s", done, len(ops), where))
	}
	emit := func(w window[C]) bool {
		r.windows++
		if err := lim.err(); err != nil {
			stop(err, w.lo)
			return false
		}
		wops := windowOps(ops, w)
		model := windowModel(m, w)
		res := porcupine.CheckOperationsTimeout(lim.guard(model), wops, lim.left())
		if err := lim.err(); err != nil {
			stop(err, w.lo)
			return false
		}
		switch res {
		case porcupine.Ok:
			return true
		case porcupine.Illegal:
			r.result = Unknown
			r.where = fmt.Sprintf("%s, %s", where, describeWindow(wops))
			r.detail = "internal error: porcupine finds no linearization of a window the sweep linearized; " +
				"one of the two engines is wrong, so no verdict"
			if lim.err() == nil {
				_, info := porcupine.CheckOperationsVerbose(lim.guard(model), wops, lim.left())
				r.model, r.info, r.span = model, &info, spanOf(wops)
			}
		default:
			stop(errTimeout, w.lo)
		}
		return false
	}
	res := sweep(m, ops, init, minWindow, lim, emit)
	switch {
	case r.result != Ok:
		return r
	case res.err == errTimeout || res.err == errMemory:
		stop(res.err, res.called)
		return r
	case res.err != nil:
		r.result, r.detail = Unknown, strings.TrimPrefix(res.err.Error(), "linearizability: ")
		return r
	case res.failed < 0:
		return r
	}
	w := res.fail
	wops := windowOps(ops, w)
	r.windows++
	r.where = fmt.Sprintf("%s, %s", where, describeWindow(wops))
	if err := lim.err(); err != nil {
		stop(err, res.called)
		return r
	}
	model := windowModel(m, w)
	r.span = spanOf(wops)
	pres, info := porcupine.CheckOperationsVerbose(lim.guard(model), wops, lim.left())
	if err := lim.err(); err != nil {
		stop(err, res.called)
		return r
	}
	failing := ops[res.failed]
	failing.Input = &winIn{in: failing.Input, class: -1}
	switch pres {
	case porcupine.Illegal:
		r.result, r.model, r.info = Violation, model, &info
		r.detail = fmt.Sprintf("from %s:\n", model.DescribeState(model.Init())) +
			explain(model, wops, info, &failing)
	case porcupine.Ok:
		r.result, r.model, r.info = Unknown, model, &info
		r.detail = "internal error: the sweep finds no linearization of a window porcupine linearizes; " +
			"one of the two engines is wrong, so no verdict"
	default:
		stop(errTimeout, res.called)
	}
	return r
}

// describeWindow says which operations a window holds: how many, the
// first call, and the last return of those that return within it.
func describeWindow(wops []porcupine.Operation) string {
	last := int64(0)
	for _, op := range wops {
		if in, ok := op.Input.(*winIn); op.Return != math.MaxInt64 && (!ok || !in.optional) {
			last = max(last, op.Return)
		}
	}
	return fmt.Sprintf("window of %d operations, calls from %d, returns until %d", len(wops), spanOf(wops)[0], last)
}

// spanOf returns the first and last call of ops.
func spanOf(ops []porcupine.Operation) [2]int64 {
	span := [2]int64{math.MaxInt64, math.MinInt64}
	for _, op := range ops {
		span[0], span[1] = min(span[0], op.Call), max(span[1], op.Call)
	}
	return span
}

// combine merges the results of a check's partitions into its verdict: a
// violation if any partition has one, else unknown if any is, else ok.
func combine(check CheckName, results []partResult) Verdict {
	v := Verdict{Check: check, Result: Ok}
	var worst *partResult
	for i := range results {
		r := &results[i]
		v.Ops += r.ops
		v.Windows += r.windows
		switch {
		case r.result == Violation && (worst == nil || worst.result != Violation):
			worst = r
		case r.result == Unknown && worst == nil:
			worst = r
		}
	}
	if worst != nil {
		v.Result, v.Where, v.Detail = worst.result, worst.where, worst.detail
		v.Model, v.Info, v.span = worst.model, worst.info, worst.span
	}
	return v
}

// describeOp describes a porcupine operation of a model's partition.
func describeOp(model porcupine.Model, op *porcupine.Operation) string {
	ret := "inf"
	if op.Return != math.MaxInt64 {
		ret = fmt.Sprint(op.Return)
	}
	return fmt.Sprintf("%s (client %d) [%d, %s] %s", describeMetadata(op.Metadata), op.ClientId, op.Call, ret,
		model.DescribeOperation(op.Input, op.Output))
}

// explain describes why porcupine found no linearization of ops: the
// operation the sweep got stuck on (if known), the longest partial
// linearization porcupine found with the states it passes through, and
// the operations one of which would have to come next.
func explain(model porcupine.Model, ops []porcupine.Operation, info porcupine.LinearizationInfo, failing *porcupine.Operation) string {
	var b strings.Builder
	if failing != nil {
		fmt.Fprintf(&b, "no linearization lets this operation return as it did:\n  %s\n", describeOp(model, failing))
	}
	partials := info.PartialLinearizations()
	if len(partials) == 0 {
		return b.String()
	}
	var longest []int
	for _, l := range partials[0] {
		if len(l) > len(longest) {
			longest = l
		}
	}
	fmt.Fprintf(&b, "longest partial linearization: %d of %d operations", len(longest), len(ops))
	const shown = 8
	state := model.Init()
	done := make([]bool, len(ops))
	for k, id := range longest {
		done[id] = true
		_, state = model.Step(state, ops[id].Input, ops[id].Output)
		if k == len(longest)-shown && k > 0 {
			fmt.Fprintf(&b, "\n  ... %d earlier", k)
		}
		if k >= len(longest)-shown {
			fmt.Fprintf(&b, "\n  %s\n      => %s", describeOp(model, &ops[id]), model.DescribeState(state))
		}
	}
	minRet := int64(math.MaxInt64)
	for id := range ops {
		if !done[id] {
			minRet = min(minRet, ops[id].Return)
		}
	}
	b.WriteString("\nthen one of these must come next, and none leads to a linearization:")
	for id := range ops {
		if !done[id] && ops[id].Call <= minRet {
			fmt.Fprintf(&b, "\n  %s", describeOp(model, &ops[id]))
		}
	}
	return b.String()
}

// validityReason says why an operation of the validity check is illegal.
func validityReason(op *porcupine.Operation, nslots int) string {
	in, out := op.Input.(spec.Input), op.Output.(spec.Output)
	switch in.Kind {
	case spec.OpRegister:
		if bad := spec.Validate(in.Worker); bad != nil {
			return fmt.Sprintf("the worker is invalid (%v), so the only legal output is invalid(%s)", bad, bad.Field)
		}
		if out.Result == spec.ResultOK {
			return fmt.Sprintf("the handle names slot %d, which does not exist (%s)", out.Handle.Slot, slotRange(nslots))
		}
		return "the worker is valid, so it cannot be rejected"
	case spec.OpLaunch, spec.OpExit, spec.OpForget:
		return fmt.Sprintf("slot %d does not exist (%s)", in.Slot, slotRange(nslots))
	case spec.OpReinit:
		return fmt.Sprintf("the slots in use after a re-initialization must be distinct existing slots (%s)", slotRange(nslots))
	}
	return "spec.Step rejects it in every state"
}
