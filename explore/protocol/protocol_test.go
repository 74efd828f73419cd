package protocol

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"bgwmodel/explore"
	"bgwmodel/impl/flaw"
)

// run explores scenario s of variant v under m at the default bound.
func run(t testing.TB, s *Scenario, v Variant, m explore.ModelKind) *explore.Report {
	t.Helper()
	es, err := s.Build(v)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := explore.Explore(es, explore.Options{Model: m, PreemptionBound: DefaultBound})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) == 0 && !rep.Exhausted {
		t.Fatalf("%v: not exhausted", rep)
	}
	return rep
}

// baseline reports whether the default implementation explores clean in
// scenario s under m (computed once per pair).
func baseline(t testing.TB, s *Scenario, m explore.ModelKind) bool {
	key := s.Name + "/" + string(m)
	baseMu.Lock()
	defer baseMu.Unlock()
	clean, ok := baseCache[key]
	if !ok {
		rep := run(t, s, Variant{}, m)
		clean = len(rep.Failures) == 0
		baseCache[key] = clean
	}
	return clean
}

var (
	baseMu    sync.Mutex
	baseCache = map[string]bool{}
)

// TestDefaultClean: the default implementation explores clean in every
// scenario under every model.
func TestDefaultClean(t *testing.T) {
	for _, s := range Scenarios() {
		for _, m := range explore.Models() {
			if rep := run(t, s, Variant{}, m); len(rep.Failures) > 0 {
				t.Errorf("%s/%s: %v\ntrace %s", s.Name, m, rep.Failures[0], rep.Failures[0].Trace)
			}
		}
	}
}

// expectation says under which models a variant is caught, in which
// scenario at least, and what the failure says.
type expectation struct {
	models   []explore.ModelKind
	scenario string
	shows    string // a substring of the failure; alternatives separated by "|"
}

var all = explore.Models()

var weak = []explore.ModelKind{explore.View}

var flawExpect = map[flaw.Flaw]expectation{
	flaw.NoInuseCheck:        {all, "spawn-failure", "hang"},
	flaw.SilentForget:        {all, "spawn-failure", "hang"},
	flaw.SpawnFailureAsStart: {all, "spawn-failure", "never-restart-restarted"},
	flaw.NotifyBeforeFree:    {all, "reuse", "notify-before-free"},
	flaw.NoForgetBarrier:     {weak, "register-vs-forget", "linearizability|never adopted"},
	flaw.RestartOverflow:     {all, "restart", "restart-early"},
	flaw.UnorderedPMSignal:   {weak, "restart", "never adopted|hang"},
}

// caughtUnder explores v in the scenarios (only those where the default is
// clean under the model) and returns the models under which some
// scenario fails, with the first failure under each.
func caughtUnder(t *testing.T, v Variant, scenarios []*Scenario) map[explore.ModelKind]*explore.Failure {
	t.Helper()
	out := map[explore.ModelKind]*explore.Failure{}
	for _, m := range explore.Models() {
		for _, s := range scenarios {
			if !baseline(t, s, m) {
				continue
			}
			if rep := run(t, s, v, m); len(rep.Failures) > 0 {
				out[m] = rep.Failures[0]
				break
			}
		}
	}
	return out
}

// scenariosFor is every scenario, or in -short mode only those named
// (comma-separated).
func scenariosFor(t *testing.T, names string) []*Scenario {
	if !testing.Short() {
		return Scenarios()
	}
	var out []*Scenario
	for _, name := range strings.Split(names, ",") {
		s, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func checkCaught(t *testing.T, what string, v Variant, exp expectation) {
	t.Helper()
	got := caughtUnder(t, v, scenariosFor(t, exp.scenario))
	for _, m := range explore.Models() {
		want := slices.Contains(exp.models, m)
		f, caught := got[m]
		switch {
		case want && !caught:
			t.Errorf("%s: not caught under %s", what, m)
		case !want && caught:
			t.Errorf("%s: caught under %s, which should not show it: %v\ntrace %s", what, m, f, f.Trace)
		case caught && !mentions(f.Error(), exp.shows):
			t.Errorf("%s under %s: failure %q does not mention %q", what, m, f.Error(), exp.shows)
		}
	}
}

func mentions(s, alts string) bool {
	for _, a := range strings.Split(alts, "|") {
		if strings.Contains(s, a) {
			return true
		}
	}
	return false
}

// TestFlawsCaught: every flaw of the catalogue is caught under its
// intended models and no other (the weak-memory flaws not under SC or
// TSO), in a scenario where the default explores clean.
func TestFlawsCaught(t *testing.T) {
	for _, e := range flaw.Catalogue() {
		exp, ok := flawExpect[e.Flaw]
		if !ok {
			t.Errorf("flaw %s has no expectation", e.Name)
			continue
		}
		if e.Weak != slices.Equal(exp.models, weak) {
			t.Errorf("flaw %s: catalogue says weak=%v, expectation says %v", e.Name, e.Weak, exp.models)
		}
		t.Run(e.Name, func(t *testing.T) {
			checkCaught(t, e.Name, Variant{Flaws: flaw.Of(e.Flaw)}, exp)
		})
	}
}

var mutantShows = map[Mutant]string{
	"no-register-wb":        "hang",
	"no-scan-rb":            "hang",
	"no-forget-fsc":         "linearizability|never adopted",
	"relaxed-inuse-acquire": "linearizability|never adopted",
	"relaxed-pmsignal-swap": "never adopted|hang",
	"relaxed-pmsignal-set":  "never adopted|hang",
	"store-pmsignal-set":    "hang",
	"plain-pmsignal-clear":  "hang",
	"skip-generation-store": "linearizability",
	"skip-pid-reset":        "linearizability",
	"relaunch-running":      "linearizability",
}

// TestMutantsCaught: every mutant is caught under the model its catalogue
// entry names and every weaker one, and under no stronger one.
func TestMutantsCaught(t *testing.T) {
	for _, mu := range Mutants() {
		idx := slices.Index(explore.Models(), mu.Model)
		if idx < 0 {
			t.Fatalf("mutant %s: model %q", mu.Name, mu.Model)
		}
		exp := expectation{models: explore.Models()[idx:], scenario: mu.Scenario, shows: mutantShows[mu.Name]}
		if exp.shows == "" {
			t.Errorf("mutant %s has no expectation", mu.Name)
		}
		t.Run(string(mu.Name), func(t *testing.T) {
			checkCaught(t, string(mu.Name), Variant{Mutants: []Mutant{mu.Name}}, exp)
		})
	}
}

func TestLookup(t *testing.T) {
	if _, err := Lookup("no-such"); err == nil || !strings.Contains(err.Error(), "reuse") {
		t.Errorf("Lookup: %v", err)
	}
	if _, err := ParseMutants("skip-pid-reset,nope"); err == nil {
		t.Error("ParseMutants accepted an unknown name")
	}
	ms, err := ParseMutants("skip-pid-reset, store-pmsignal-set")
	if err != nil || len(ms) != 2 {
		t.Errorf("ParseMutants: %v %v", ms, err)
	}
	if ms, err := ParseMutants("none"); err != nil || ms != nil {
		t.Errorf("ParseMutants(none): %v %v", ms, err)
	}
	bad := &Scenario{Name: "bad", Slots: 9}
	if _, err := bad.Build(Variant{}); err == nil {
		t.Error("Build accepted 9 slots")
	}
}
