package explore

import (
	"strings"
	"testing"
)

// TestLitmus runs the whole litmus matrix: each verdict comes from an
// exhaustive exploration and must match the expected table.
func TestLitmus(t *testing.T) {
	for _, m := range Models() {
		t.Run(string(m), func(t *testing.T) {
			for _, lt := range LitmusTests() {
				t.Run(lt.Name, func(t *testing.T) {
					r, err := CheckLitmus(&lt, m)
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
		allowed map[ModelKind]bool
	}{
		{"MP", map[ModelKind]bool{SC: false, TSO: false, View: true}},
		{"MP+wb+rb", map[ModelKind]bool{SC: false, TSO: false, View: false}},
		{"MP+rel+acq", map[ModelKind]bool{SC: false, TSO: false, View: false}},
		{"SB", map[ModelKind]bool{SC: false, TSO: true, View: true}},
		{"SB+fsc+fsc", map[ModelKind]bool{SC: false, TSO: false, View: false}},
		{"LB", map[ModelKind]bool{SC: false, TSO: false, View: false}},
		{"IRIW+acq+acq", map[ModelKind]bool{SC: false, TSO: false, View: true}},
		{"IRIW+fsc+fsc", map[ModelKind]bool{SC: false, TSO: false, View: false}},
		{"R", map[ModelKind]bool{SC: false, TSO: true, View: true}},
		{"2+2W", map[ModelKind]bool{SC: false, TSO: false, View: true}},
		{"CoRR", map[ModelKind]bool{SC: false, TSO: false, View: false}},
		{"CoWR", map[ModelKind]bool{SC: false, TSO: false, View: false}},
		{"CoRW", map[ModelKind]bool{SC: false, TSO: false, View: false}},
		{"CoWW", map[ModelKind]bool{SC: false, TSO: false, View: false}},
	}
	tests := map[string]LitmusTest{}
	for _, lt := range LitmusTests() {
		tests[lt.Name] = lt
	}
	for _, w := range want {
		lt, ok := tests[w.test]
		if !ok {
			t.Fatalf("no litmus test %s", w.test)
		}
		for m, allowed := range w.allowed {
			r, err := CheckLitmus(&lt, m)
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
	for _, m := range Models() {
		for _, lt := range LitmusTests() {
			if testing.Short() && strings.HasPrefix(lt.Name, "IRIW+") {
				continue
			}
			with, err := Explore(lt.Scenario(), Options{Model: m, PreemptionBound: Unbounded, StateHashing: true})
			if err != nil {
				t.Fatal(err)
			}
			without, err := Explore(lt.Scenario(), Options{Model: m, PreemptionBound: Unbounded})
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
	rs, err := RunLitmus("view")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(LitmusTests()) {
		t.Fatalf("%d results for %d tests", len(rs), len(LitmusTests()))
	}
	for _, r := range rs {
		if r.Source == "" || r.Executions == 0 {
			t.Errorf("%s: empty source or no executions: %+v", r.Test, r)
		}
		if r.Allowed && r.Witness == "" {
			t.Errorf("%s: allowed without a witness trace", r.Test)
		}
	}
	tab := FormatLitmus(rs)
	if !strings.Contains(tab, "| MP | allowed |") || strings.Contains(tab, "✗") {
		t.Errorf("unexpected table:\n%s", tab)
	}
	if _, err := RunLitmus("arm"); err == nil {
		t.Error("RunLitmus(arm) did not fail")
	}
}
