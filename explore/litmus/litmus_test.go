package litmus

import (
	"strings"
	"testing"

	"bgwmodel/explore"
)

// TestLitmus runs the whole litmus matrix: each verdict comes from an
// exhaustive exploration and must match the expected table.
func TestLitmus(t *testing.T) {
	for _, m := range explore.Models() {
		t.Run(string(m), func(t *testing.T) {
			for _, lt := range Tests() {
				t.Run(lt.Name, func(t *testing.T) {
					r, err := Check(&lt, m)
					if err != nil {
						t.Fatal(err)
					}
					if !r.Match() {
						t.Errorf("%s under %s: computed %s, expected %s (%s); witness %q",
							lt.Name, m, Verdict(r.Allowed), Verdict(r.Expected), r.Source, r.Witness)
					}
				})
			}
		})
	}
}

// TestLitmusKeyVerdicts pins the verdicts the design depends on,
// independently of the expected table (which could be edited by mistake).
func TestLitmusKeyVerdicts(t *testing.T) {
	want := []struct {
		test    string
		allowed map[explore.ModelKind]bool
	}{
		{"MP", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: false, explore.View: true}},
		{"MP+wb+rb", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: false, explore.View: false}},
		{"MP+rel+acq", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: false, explore.View: false}},
		{"SB", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: true, explore.View: true}},
		{"SB+fsc+fsc", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: false, explore.View: false}},
		{"LB", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: false, explore.View: false}},
		{"IRIW+acq+acq", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: false, explore.View: true}},
		{"IRIW+fsc+fsc", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: false, explore.View: false}},
		{"R", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: true, explore.View: true}},
		{"2+2W", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: false, explore.View: true}},
		{"CoRR", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: false, explore.View: false}},
		{"CoWR", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: false, explore.View: false}},
		{"CoRW", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: false, explore.View: false}},
		{"CoWW", map[explore.ModelKind]bool{explore.SC: false, explore.TSO: false, explore.View: false}},
	}
	tests := map[string]Test{}
	for _, lt := range Tests() {
		tests[lt.Name] = lt
	}
	for _, w := range want {
		lt, ok := tests[w.test]
		if !ok {
			t.Fatalf("no litmus test %s", w.test)
		}
		for m, allowed := range w.allowed {
			r, err := Check(&lt, m)
			if err != nil {
				t.Fatal(err)
			}
			if r.Allowed != allowed {
				t.Errorf("%s under %s: %s, want %s", w.test, m, Verdict(r.Allowed), Verdict(allowed))
			}
		}
	}
}

// TestStateHashingAgrees checks that pruning by state hashing never changes
// a verdict: plain DFS (no hashing) over the same tests gives the same
// answers.
func TestStateHashingAgrees(t *testing.T) {
	for _, m := range explore.Models() {
		for _, lt := range Tests() {
			if testing.Short() && strings.HasPrefix(lt.Name, "IRIW+") {
				continue
			}
			with, err := explore.Explore(lt.Scenario(), explore.Options{Model: m, PreemptionBound: explore.Unbounded, StateHashing: true})
			if err != nil {
				t.Fatal(err)
			}
			without, err := explore.Explore(lt.Scenario(), explore.Options{Model: m, PreemptionBound: explore.Unbounded})
			if err != nil {
				t.Fatal(err)
			}
			if (len(with.Failures) > 0) != (len(without.Failures) > 0) {
				t.Errorf("%s/%s: with hashing %d witnesses, without %d", lt.Name, m, len(with.Failures), len(without.Failures))
			}
			if with.Executions > without.Executions {
				t.Errorf("%s/%s: hashing ran more executions (%d > %d)", lt.Name, m, with.Executions, without.Executions)
			}
		}
	}
}

func TestRunLitmus(t *testing.T) {
	rs, err := Run("view")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(Tests()) {
		t.Fatalf("%d results for %d tests", len(rs), len(Tests()))
	}
	for _, r := range rs {
		if r.Source == "" || r.Executions == 0 {
			t.Errorf("%s: empty source or no executions: %+v", r.Test, r)
		}
		if r.Allowed && r.Witness == "" {
			t.Errorf("%s: allowed without a witness trace", r.Test)
		}
	}
	tab := Format(rs)
	if !strings.Contains(tab, "| MP | allowed |") || strings.Contains(tab, "✗") {
		t.Errorf("unexpected table:\n%s", tab)
	}
	if _, err := Run("arm"); err == nil {
		t.Error("Run(arm) did not fail")
	}
}
