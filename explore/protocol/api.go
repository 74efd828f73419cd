package protocol

// DefaultBound is the preemption bound at which every scenario is
// explored by default: each scenario is exhausted at it in well under a
// second under every model, the default implementation explores clean at
// it, and every flaw and mutant is caught at it.
const DefaultBound = 1
