package explore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// ErrBadOptions is wrapped by [Explore]'s errors for options or a scenario
// that cannot be run.
var ErrBadOptions = errors.New("explore: bad options")

func checkScenario(s *Scenario) error {
	if s.Setup == nil {
		return fmt.Errorf("%w: scenario %q has no Setup", ErrBadOptions, s.Name)
	}
	if s.MemSize < 0 {
		return fmt.Errorf("%w: scenario %q has MemSize %d", ErrBadOptions, s.Name, s.MemSize)
	}
	return nil
}

// Explore searches the executions of s under opt.Model. It returns an error
// only when the search itself cannot go on (bad options, Setup failing,
// a nondeterministic scenario); counterexamples are in the report.
func Explore(s Scenario, opt Options) (*Report, error) {
	if err := checkScenario(&s); err != nil {
		return nil, err
	}
	if _, err := ParseModel(string(opt.Model)); err != nil {
		return nil, err
	}
	if opt.Strategy == Random && opt.MaxExecutions <= 0 && opt.Budget <= 0 {
		return nil, fmt.Errorf("%w: Random needs MaxExecutions or Budget", ErrBadOptions)
	}
	if opt.PreemptionBound < Unbounded {
		return nil, fmt.Errorf("%w: PreemptionBound %d", ErrBadOptions, opt.PreemptionBound)
	}
	maxSteps := opt.MaxSteps
	if maxSteps <= 0 {
		maxSteps = DefaultMaxSteps
	}
	maxFail := opt.MaxFailures
	if maxFail == 0 {
		maxFail = DefaultMaxFailures
	}
	rep := &Report{Scenario: s.Name, Model: opt.Model, Strategy: opt.Strategy}
	var table *stateTable
	if opt.StateHashing && opt.Strategy == DFS {
		table = newStateTable()
	}
	start := time.Now()
	defer func() { rep.Elapsed = time.Since(start) }()
	var prefix []int
	for i := uint64(0); ; i++ {
		if opt.MaxExecutions > 0 && rep.Executions >= opt.MaxExecutions {
			return rep, nil
		}
		if opt.Budget > 0 && time.Since(start) >= opt.Budget {
			return rep, nil
		}
		rec := &recorder{mode: modeDFS, prefix: prefix}
		if opt.Strategy == Random {
			rec = &recorder{mode: modeRandom, rng: rand.New(rand.NewPCG(opt.Seed, i))}
		}
		out := runOne(&s, opt.Model, runConfig{rec: rec, table: table, maxSteps: maxSteps,
			maxKills: opt.MaxKills, bound: opt.PreemptionBound})
		if out.err != nil {
			return rep, out.err
		}
		rep.Executions++
		rep.MaxDepth = max(rep.MaxDepth, out.steps)
		if out.pruned {
			rep.Pruned++
		}
		if out.truncated {
			rep.Truncated++
		}
		if out.failure != nil {
			rep.Failures = append(rep.Failures, out.failure)
			if maxFail > 0 && len(rep.Failures) >= maxFail {
				return rep, nil
			}
		}
		if opt.Strategy == DFS {
			next, ok := nextPrefix(out.points)
			if !ok {
				rep.Exhausted = true
				return rep, nil
			}
			prefix = next
		}
	}
}

// Replayed is one execution re-run from a trace.
type Replayed struct {
	// Trace is the execution's full trace: the input, completed with
	// default choices if the input was a prefix.
	Trace string
	// Table is the interleaving, one row per step.
	Table Table
	// Failure is the execution's counterexample, or nil if it ended well.
	Failure *Failure
	// Steps and Preemptions measure the execution.
	Steps, Preemptions int
	// Truncated reports a run cut at the step limit.
	Truncated bool
}

// Replay re-runs the execution that trace describes (a prefix is completed
// with default choices: the running thread goes on, loads read the newest
// message, stores go last). It returns an error wrapping [ErrBadTrace] or
// [ErrTraceMismatch] if the trace cannot be parsed or does not fit s.
func Replay(s Scenario, trace string) (*Replayed, error) {
	tr, err := ParseTrace(trace)
	if err != nil {
		return nil, err
	}
	if err := checkScenario(&s); err != nil {
		return nil, err
	}
	out := replayChoices(&s, tr, false, true)
	if out.err != nil {
		return nil, out.err
	}
	return &Replayed{Trace: out.trace.String(), Table: out.rows, Failure: out.failure,
		Steps: out.steps, Preemptions: out.preempt, Truncated: out.truncated}, nil
}

// replayChoices runs one execution along tr's choices; lenient turns a
// choice that does not fit into the default instead of an error.
func replayChoices(s *Scenario, tr Trace, lenient, rows bool) outcome {
	rec := &recorder{mode: modeTrace, tokens: tr.Choices, lenient: lenient}
	return runOne(s, tr.Model, runConfig{rec: rec, maxSteps: DefaultMaxSteps + len(tr.Choices),
		maxKills: len(tr.Choices) + 1, bound: Unbounded, keepRows: rows})
}
