package explore

import (
	"errors"
	"fmt"
)

// ErrNoFailure is returned by [Shrink] for a trace whose execution does
// not fail.
var ErrNoFailure = errors.New("explore: the trace's execution does not fail")

// Shrunk is the result of [Shrink].
type Shrunk struct {
	// Trace is the smallest failing trace found.
	Trace string
	// Failure is its counterexample (of the same kind as the original's).
	Failure *Failure
	// Steps, Preemptions and Choices measure it; Original* measure the
	// input.
	Steps, Preemptions, Choices                         int
	OriginalSteps, OriginalPreemptions, OriginalChoices int
	// Runs is how many executions shrinking took.
	Runs int
}

// cost orders traces: fewer preemptions first, then fewer steps, fewer
// choices, fewer non-default model choices.
type cost [4]int

func (c cost) less(o cost) bool {
	for i := range c {
		if c[i] != o[i] {
			return c[i] < o[i]
		}
	}
	return false
}

func costOf(out outcome) cost {
	nd := 0
	for _, c := range out.trace.Choices {
		if (c.Kind == ChooseRead || c.Kind == ChooseWrite) && c.N != 0 {
			nd++
		}
	}
	return cost{out.preempt, out.steps, len(out.trace.Choices), nd}
}

// Shrink looks for a smaller trace of s that fails the same way as trace:
// with fewer preemptions, then fewer steps. It deletes runs of choices
// (whole runs of one token, then chunks halving in length down to one),
// resets model choices to their
// default and truncates, re-running each candidate leniently (a choice
// that no longer fits becomes the default) and keeping the recorded trace
// of any that still fails with the same failure kind and costs less. It
// stops when no candidate helps or after maxRuns executions (0: 2000).
func Shrink(s Scenario, trace string, maxRuns int) (*Shrunk, error) {
	tr, err := ParseTrace(trace)
	if err != nil {
		return nil, err
	}
	if err := checkScenario(&s); err != nil {
		return nil, err
	}
	if maxRuns <= 0 {
		maxRuns = 2000
	}
	best := replayChoices(&s, tr, false, false)
	if best.err != nil {
		return nil, best.err
	}
	if best.failure == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoFailure, trace)
	}
	res := &Shrunk{OriginalSteps: best.steps, OriginalPreemptions: best.preempt,
		OriginalChoices: len(best.trace.Choices), Runs: 1}
	kind := best.failure.Kind
	try := func(cs []Choice) bool {
		if res.Runs >= maxRuns {
			return false
		}
		res.Runs++
		out := replayChoices(&s, Trace{Model: tr.Model, Choices: cs}, true, false)
		if out.err != nil || out.failure == nil || out.failure.Kind != kind || out.truncated {
			return false
		}
		if costOf(out).less(costOf(best)) {
			best = out
			return true
		}
		return false
	}
	for improved := true; improved && res.Runs < maxRuns; {
		improved = false
		cur := best.trace.Choices
		// Delete whole runs of one token (a thread's stretch of steps).
		for i := 0; i < len(cur) && !improved; {
			j := i + 1
			for j < len(cur) && cur[j] == cur[i] {
				j++
			}
			if j-i > 1 {
				improved = try(append(append([]Choice(nil), cur[:i]...), cur[j:]...))
			}
			i = j
		}
		// Delete chunks, largest first.
		for k := max(len(cur)/2, 1); k >= 1 && !improved; k /= 2 {
			for i := 0; i+k <= len(cur) && !improved; i += k {
				cand := append(append([]Choice(nil), cur[:i]...), cur[i+k:]...)
				improved = try(cand)
			}
		}
		if improved {
			continue
		}
		// Reset model choices to the default.
		for i, c := range cur {
			if (c.Kind == ChooseRead || c.Kind == ChooseWrite) && c.N != 0 {
				cand := append([]Choice(nil), cur...)
				cand[i].N = 0
				if try(cand) {
					improved = true
					break
				}
			}
		}
	}
	res.Trace, res.Failure = best.trace.String(), best.failure
	res.Steps, res.Preemptions, res.Choices = best.steps, best.preempt, len(best.trace.Choices)
	return res, nil
}
