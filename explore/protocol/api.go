package protocol

import "bgwmodel/explore"

// DefaultBound is the preemption bound at which every scenario is
// explored by default: each scenario is exhausted at it in well under a
// second under every model, the default implementation explores clean at
// it (but for [KnownIssues]), and every flaw and mutant is caught at it.
const DefaultBound = 1

// KnownIssue is a failure of the default implementation that the explorer
// finds and that needs a change to impl, with the fix (see [Fixes]) that
// removes it.
type KnownIssue struct {
	Scenario string
	Model    explore.ModelKind
	Summary  string
	Fix      Mutant
}

// KnownIssues lists the default implementation's known failures.
func KnownIssues() []KnownIssue {
	return []KnownIssue{{
		Scenario: "two-register", Model: explore.View, Fix: "rmw-pmsignal-set",
		Summary: "SendPostmasterSignal's release store of the PMSIGNAL flag may be ordered (in modification order) before another backend's flag store that the postmaster's exchange then reads; the exchange synchronises only with that other backend, the scan misses this backend's slot, and its own signal later finds the flag clear: a registration is missed and its registrant hangs (C11/RC11 allow it; a read-modify-write set, whose release sequence the exchange then reads, does not)",
	}}
}

// knownIssue returns the known issue of the default implementation in
// scenario under model, if any.
func knownIssue(scenario string, m explore.ModelKind) (KnownIssue, bool) {
	for _, k := range KnownIssues() {
		if k.Scenario == scenario && k.Model == m {
			return k, true
		}
	}
	return KnownIssue{}, false
}
