package explore

import "time"

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
