package proptest

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"pgregory.net/rapid"

	"bgwmodel/impl/flaw"
)

// brokenCase is one deliberately broken variant of one property: the
// property body run against the broken implementation, and the same body
// run against the real one.
type brokenCase struct {
	test    string // the _CatchesBroken test that searches for it
	variant string // its subtest
	broken  func(*rapid.T)
	real    func(*rapid.T)
}

// name is the subtest's full name, as rapid knows it.
func (b brokenCase) name() string { return b.test + "/" + b.variant }

// dir is where rapid saves the counterexample (-proptest.save):
// testdata/rapid/<name with every byte but letters, digits, - and _
// replaced by _>, as rapid names it.
func (b brokenCase) dir() string {
	safe := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, b.name())
	return filepath.Join("testdata", "rapid", safe)
}

// brokenCases lists every broken variant of every property.
var brokenCases = func() []brokenCase {
	var cs []brokenCase
	real := SanityProperty(ImplValidator())
	for _, b := range brokenValidators {
		cs = append(cs, brokenCase{"TestSanity_CatchesBroken", b.name, SanityProperty(b.v), real})
	}
	real = RestartProperty(ImplRestartRules(0))
	for _, b := range brokenRestartRules {
		cs = append(cs, brokenCase{"TestRestartTime_CatchesBroken", b.name, RestartProperty(b.r), real})
	}
	noInuse := ClusterConfig{Backend: flaw.Of(flaw.NoInuseCheck)}
	cs = append(cs,
		brokenCase{"TestHandleGeneration_CatchesBroken", "no-inuse-check",
			HandleProperty(noInuse), HandleProperty(ClusterConfig{})},
		brokenCase{"TestAgainstSpec_CatchesBroken", "no-inuse-check",
			AgainstSpecProperty(noInuse), AgainstSpecProperty(ClusterConfig{})},
		brokenCase{"TestAgainstSpec_CatchesBroken", "launch-running",
			AgainstSpecProperty(ClusterConfig{launchRunning: true}), AgainstSpecProperty(ClusterConfig{})},
	)
	return cs
}()

// runCatchesBroken runs, as subtests of t, every broken variant that
// belongs to t: rapid must find a counterexample to each.
func runCatchesBroken(t *testing.T) {
	n := 0
	for _, b := range brokenCases {
		if b.test != t.Name() {
			continue
		}
		n++
		t.Run(b.variant, func(t *testing.T) {
			mustFalsify(t, b.broken)
		})
	}
	if n == 0 {
		t.Fatalf("no broken variant registered for %s", t.Name())
	}
}
