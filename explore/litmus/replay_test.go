package litmus

import (
	"errors"
	"strings"
	"testing"

	"bgwmodel/explore"
)

// TestReplayRoundTrip replays litmus witnesses: the replay reproduces the
// witness's trace and failure, and its table shows the weak behaviour.
func TestReplayRoundTrip(t *testing.T) {
	for _, c := range []struct {
		test  Test
		model explore.ModelKind
	}{{mp(po, po), explore.View}, {sb(po, po), explore.TSO}, {twoPlusTwoW(po, po), explore.View}, {iriw(acq, acq), explore.View}} {
		t.Run(c.test.Name+"/"+string(c.model), func(t *testing.T) {
			rep, err := explore.Explore(c.test.Scenario(), explore.Options{Model: c.model, PreemptionBound: explore.Unbounded})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Failures) != 1 {
				t.Fatalf("no witness: %v", rep)
			}
			f := rep.Failures[0]
			if !strings.HasPrefix(f.Trace, string(c.model)+":") {
				t.Fatalf("trace %q lacks the model", f.Trace)
			}
			r, err := explore.Replay(c.test.Scenario(), f.Trace)
			if err != nil {
				t.Fatal(err)
			}
			if r.Trace != f.Trace || r.Failure == nil || !errors.Is(r.Failure, errWitness) || r.Steps != f.Steps {
				t.Fatalf("replay of %q: trace %q failure %v steps %d/%d", f.Trace, r.Trace, r.Failure, r.Steps, f.Steps)
			}
			tab := r.Table.String()
			if !strings.HasPrefix(tab, "step  thread  access  loc") || len(r.Table) < f.Steps {
				t.Fatalf("table:\n%s", tab)
			}
			if c.model == explore.View && !strings.Contains(tab, "(stale)") && c.test.Family != "2+2W" {
				t.Errorf("view witness shows no stale read:\n%s", tab)
			}
			if c.model == explore.TSO && !strings.Contains(tab, "buffered") {
				t.Errorf("TSO witness shows no buffering:\n%s", tab)
			}
			t.Logf("%s\n%s", f.Trace, tab)
		})
	}
}
