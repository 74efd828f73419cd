package explore

// budget is what an execution may use, steps, kills and preemptions, and
// what it has used so far.
type budget struct {
	used     usage
	maxSteps int
	maxKills int
	bound    int // the preemption bound; negative: none
}

// stepsLeft reports whether the execution may take another step.
func (b *budget) stepsLeft() bool { return b.used.steps < b.maxSteps }

// mayKill reports whether the execution may kill another thread.
func (b *budget) mayKill() bool { return b.used.kills < b.maxKills }

// mayPreempt reports whether the execution may preempt another thread.
func (b *budget) mayPreempt() bool { return b.bound < 0 || b.used.preempt < b.bound }
