package linearizability

import (
	"testing"

	"bgwmodel/spec"
)

// TestPostmasterRulesReported: a postmaster operation that spec.Legal
// refuses has no linearization, so the exact and the partitioned checks
// both report it; the same history with the operation the seed performs
// instead passes both.
func TestPostmasterRulesReported(t *testing.T) {
	registered := func(ops ...Operation) History {
		return append(History{reg(1, 1, 2, hd(0, 1, 0))}, ops...)
	}
	cases := []struct {
		name  string
		h     History
		legal bool
	}{
		{"launch, exit, restart", registered(launch(3, 4, 0, 100), exit(5, 6, 0), launch(7, 8, 0, 101)), true},
		{"launch a running worker", registered(launch(3, 4, 0, 100), launch(5, 6, 0, 101)), false},
		{"exit of a worker never started", registered(exit(3, 4, 0)), false},
		{"exit twice", registered(launch(3, 4, 0, 100), exit(5, 6, 0), exit(7, 8, 0)), false},
		{"forget after exit", registered(launch(3, 4, 0, 100), exit(5, 6, 0), forget(7, 8, 0)), true},
		{"forget a running worker", registered(launch(3, 4, 0, 100), forget(5, 6, 0)), false},
		{"launch after death", registered(died(3, 4), launch(5, 6, 0, 100)), false},
		{"reinit after death", registered(died(3, 4), reinit(5, 6, 0)), false},
		{"died twice", registered(died(3, 4), died(5, 6)), false},
		{"launch overlapping death", registered(harnessDied(3, 6), launch(4, 5, 0, 100)), true},
	}
	for _, tc := range cases {
		for _, mode := range []Mode{ModeExact, ModePartitioned} {
			t.Run(tc.name+"/"+mode.String(), func(t *testing.T) {
				rep := Check(tc.h, Options{Slots: 2, Mode: mode})
				switch {
				case tc.legal && !rep.Ok():
					t.Errorf("want linearizable, got %v", rep)
				case !tc.legal && rep.Violation() == nil:
					t.Errorf("want a violation, got %v", rep)
				}
			})
		}
	}
}

// harnessDied is a death recorded by the harness (client 9): it may
// overlap the postmaster's last operation, which then linearizes first.
func harnessDied(call, ret Stamp) Operation {
	return Operation{Client: 9, Process: "harness", Input: spec.Input{Kind: spec.OpDied}, Call: call, Return: ret}
}
