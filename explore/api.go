package explore

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ModelKind names a memory model. Its string form is the model's name in
// trace strings and on the command line.
type ModelKind string

const (
	// SC is sequential consistency: every access takes effect at once, in
	// one global order (Lamport 1979).
	SC ModelKind = "sc"
	// TSO is x86-TSO (Owens, Sarkar, Sewell 2009): per-thread FIFO store
	// buffers whose flushes are scheduling steps.
	TSO ModelKind = "tso"
	// View is the promise-free view model of C11 release/acquire, relaxed
	// accesses and fences (Kang et al., POPL 2017, without promises).
	View ModelKind = "view"
)

// Models returns every model, weakest last.
func Models() []ModelKind { return []ModelKind{SC, TSO, View} }

// ErrUnknownModel is returned for a model name that is not one of [Models].
var ErrUnknownModel = errors.New("explore: unknown memory model")

// ParseModel returns the model named s ("sc", "tso" or "view").
func ParseModel(s string) (ModelKind, error) {
	for _, m := range Models() {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("%w %q (want sc, tso or view)", ErrUnknownModel, s)
}

// ThreadID identifies a simulated thread within one execution. Threads are
// numbered from 0 in the order they are spawned, so an ID is the same in
// every execution that makes the same choices.
type ThreadID int

// LockID identifies a lock made by [World.NewLock].
type LockID int

// ThreadFlag is a set of properties of a thread, given when it is spawned.
type ThreadFlag uint8

const (
	// Killable lets the search kill the thread at any of its scheduling
	// points (kill -9), up to [Options.MaxKills] kills per execution.
	Killable ThreadFlag = 1 << iota
	// Daemon marks a thread that may stay blocked when the run ends (a
	// postmaster in its server loop): a run in which only daemons are
	// left, all blocked, ends normally instead of as a hang.
	Daemon
	// Postmaster marks the thread whose end (exit, kill or panic) is
	// "postmaster death" for every other thread: their latch waits return
	// WaitPostmasterDeath and [Thread.PostmasterDied] reports true.
	Postmaster
)

// String lists the flags, as "killable|daemon".
func (f ThreadFlag) String() string {
	var parts []string
	for _, x := range []struct {
		f ThreadFlag
		s string
	}{{Killable, "killable"}, {Daemon, "daemon"}, {Postmaster, "postmaster"}} {
		if f&x.f != 0 {
			parts = append(parts, x.s)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// ThreadFunc is the body of a simulated thread. It must be deterministic:
// its behaviour may depend only on what the explorer returns to it, and it
// must share state with other threads only through the explorer.
type ThreadFunc func(t *Thread)

// Scenario is a world of threads to explore. Setup is called once per
// execution, on a fresh [World], and spawns the initial threads, makes
// locks and registers checks; anything it allocates is private to that
// execution, so per-execution state (for example litmus registers) lives in
// variables that Setup's closures capture.
type Scenario struct {
	// Name is used in reports.
	Name string
	// MemSize is the size in bytes of the shared segment.
	MemSize int
	// Setup builds one execution's world. An error aborts the search.
	Setup func(w *World) error
	// TimeHorizon, if positive, is the virtual time beyond which the
	// clock never advances: a run whose threads all wait for a later
	// timer is then stuck, a hang if a non-daemon thread is alive. It
	// turns "a waiter that a periodic daemon never wakes" into a hang
	// instead of an endless run.
	TimeHorizon time.Duration
}

// Strategy is how [Explore] picks executions.
type Strategy uint8

const (
	// DFS explores every execution depth-first, re-executing from scratch
	// along a prefix of choices (stateless model checking).
	DFS Strategy = iota
	// Random runs executions whose every choice is drawn uniformly at
	// random from a seeded generator.
	Random
)

// String returns "dfs" or "random".
func (s Strategy) String() string {
	if s == Random {
		return "random"
	}
	return "dfs"
}

// Unbounded is the [Options.PreemptionBound] that sets no bound.
const Unbounded = -1

// Defaults used when an [Options] field is zero.
const (
	DefaultMaxSteps    = 10_000
	DefaultMaxFailures = 1
)

// Options configures [Explore].
type Options struct {
	// Model is the memory model; required.
	Model ModelKind
	// Strategy is DFS (default) or Random.
	Strategy Strategy
	// PreemptionBound bounds the context switches away from a thread that
	// could have continued (its next step was enabled); [Unbounded] (-1)
	// sets no bound. Zero means no preemption at all. Store-buffer
	// flushes and kills are not preemptions.
	PreemptionBound int
	// MaxExecutions stops the search after this many executions (0: no
	// limit; Random needs it or Budget).
	MaxExecutions int
	// Budget stops the search after this much wall-clock time (0: none).
	Budget time.Duration
	// MaxSteps cuts an execution after this many steps and counts it as
	// truncated (0: DefaultMaxSteps).
	MaxSteps int
	// MaxKills is how many kills of [Killable] threads the search may
	// inject per execution (0: none).
	MaxKills int
	// MaxFailures stops the search after this many failures (0:
	// DefaultMaxFailures; negative: never stop).
	MaxFailures int
	// Seed seeds Random.
	Seed uint64
	// StateHashing prunes an execution when it reaches a state that an
	// earlier execution has already explored from, with no more
	// preemptions, steps or kills used. Sound only under the conditions in
	// the package documentation (see "State hashing"); DFS only.
	StateHashing bool
}

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
