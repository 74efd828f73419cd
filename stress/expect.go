package stress

import (
	"fmt"
	"slices"

	"bgwmodel/impl/flaw"
	"bgwmodel/policy"
)

// Catcher is a check (and, for the policy, the rules) meant to catch a
// flaw.
type Catcher struct {
	Check CheckName
	// Rules are the policy rules, any of which catches it (CheckPolicy
	// only).
	Rules []policy.Rule
}

// String returns "policy (restart-early)" or "waiters".
func (c Catcher) String() string {
	if len(c.Rules) == 0 {
		return string(c.Check)
	}
	return fmt.Sprintf("%s %v", c.Check, c.Rules)
}

// Catchers returns the checks meant to catch an x86-visible flaw (any one
// of them catching it is enough), or nil for a flaw stress cannot show.
// It does not block.
func Catchers(f flaw.Flaw) []Catcher {
	switch f {
	case flaw.NoInuseCheck:
		// NOT_YET_STARTED read after the forget (linearizability), or a
		// waiter woken by the forget that reads NOT_YET_STARTED and sleeps
		// again (waiters).
		return []Catcher{{Check: CheckLinearizability}, {Check: CheckWaiters}}
	case flaw.SilentForget:
		return []Catcher{{Check: CheckWaiters}, {Check: CheckPolicy, Rules: []policy.Rule{policy.ForgottenSilently}}}
	case flaw.SpawnFailureAsStart:
		return []Catcher{{Check: CheckPolicy, Rules: []policy.Rule{policy.RestartEarly, policy.NeverRestarted}}}
	case flaw.NotifyBeforeFree:
		return []Catcher{{Check: CheckPolicy, Rules: []policy.Rule{policy.NotifyBeforeFree}}}
	case flaw.RestartOverflow:
		return []Catcher{{Check: CheckPolicy, Rules: []policy.Rule{policy.RestartEarly}}}
	}
	return nil
}

// CaughtBy returns the catchers of f that failed in v (nil if f went
// unnoticed, or is not x86-visible). It does not block.
func CaughtBy(v *Verdict, f flaw.Flaw) []Catcher {
	var out []Catcher
	for _, c := range Catchers(f) {
		r := v.Check(c.Check)
		if r == nil || r.Outcome != Fail {
			continue
		}
		if c.Check != CheckPolicy {
			out = append(out, c)
			continue
		}
		var hit []policy.Rule
		for _, pv := range v.Policy {
			if slices.Contains(c.Rules, pv.Rule) && !slices.Contains(hit, pv.Rule) {
				hit = append(hit, pv.Rule)
			}
		}
		if len(hit) > 0 {
			out = append(out, Catcher{Check: CheckPolicy, Rules: hit})
		}
	}
	return out
}
