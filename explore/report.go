package explore

import (
	"fmt"
	"strings"
	"time"
)

// FailureKind classifies a [Failure].
type FailureKind uint8

const (
	// FailCheck: a check registered with [World.OnEnd] returned an error.
	FailCheck FailureKind = iota + 1
	// FailHang: no thread could run and no timer was pending while some
	// non-daemon thread was blocked.
	FailHang
	// FailPanic: thread code panicked.
	FailPanic
	// FailThread: thread code called [Thread.Fail].
	FailThread
	// FailMisuse: thread code misused the explorer (an access of another
	// size to a known location, an order not allowed for the access).
	FailMisuse
	// FailObserver: an observer registered with [World.OnStep] returned an
	// error or panicked.
	FailObserver
)

// String returns the kind's short name.
func (k FailureKind) String() string {
	switch k {
	case FailCheck:
		return "check"
	case FailHang:
		return "hang"
	case FailPanic:
		return "panic"
	case FailThread:
		return "thread"
	case FailMisuse:
		return "misuse"
	case FailObserver:
		return "observer"
	}
	return fmt.Sprintf("FailureKind(%d)", uint8(k))
}

// Failure is a counterexample: what went wrong and the trace that replays
// it.
type Failure struct {
	Kind FailureKind
	// Thread names the thread at fault, if any.
	Thread string
	// Err describes the failure.
	Err error
	// Blocked lists, for a hang, every thread still alive and what it
	// waits for.
	Blocked []string
	// Trace replays the execution with [Replay].
	Trace string
	// Steps is the execution's length.
	Steps int
	// Preemptions is how many preemptions the execution used.
	Preemptions int
}

// Error formats the failure on one line (plus the blocked threads).
func (f *Failure) Error() string {
	var b strings.Builder
	b.WriteString(f.Kind.String())
	if f.Thread != "" {
		fmt.Fprintf(&b, " in %s", f.Thread)
	}
	if f.Err != nil {
		fmt.Fprintf(&b, ": %v", f.Err)
	}
	if len(f.Blocked) > 0 {
		fmt.Fprintf(&b, " [blocked: %s]", strings.Join(f.Blocked, "; "))
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (f *Failure) Unwrap() error { return f.Err }

// Report is the result of [Explore].
type Report struct {
	Scenario string
	Model    ModelKind
	Strategy Strategy
	// Executions counts every execution run, including pruned and
	// truncated ones.
	Executions int
	// Pruned counts executions cut short by state hashing.
	Pruned int
	// Truncated counts executions cut at MaxSteps.
	Truncated int
	// MaxDepth is the most steps in one execution.
	MaxDepth int
	// Failures are the counterexamples found, in order.
	Failures []*Failure
	// Exhausted reports that DFS explored every execution within the
	// bounds (no budget ran out and no failure limit stopped it).
	Exhausted bool
	// Elapsed is the search's wall-clock time.
	Elapsed time.Duration
}

// String summarises the report on one line.
func (r *Report) String() string {
	return fmt.Sprintf("%s/%s %s: %d executions (%d pruned, %d truncated), max depth %d, %d failures, exhausted=%v, %v",
		r.Scenario, r.Model, r.Strategy, r.Executions, r.Pruned, r.Truncated, r.MaxDepth,
		len(r.Failures), r.Exhausted, r.Elapsed.Round(time.Millisecond))
}
