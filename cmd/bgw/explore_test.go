package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// bgw runs the command in-process and returns its exit code and output.
func bgw(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

var replayLine = regexp.MustCompile(`(?m)^  (bgw replay .*)$`)

// replayArgs extracts the replay command of an explore run's output.
func replayArgs(t *testing.T, out string) []string {
	t.Helper()
	m := replayLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no replay command in:\n%s", out)
	}
	var args []string
	for _, f := range strings.Fields(m[1])[1:] {
		args = append(args, strings.Trim(f, "'"))
	}
	return args
}

// TestExploreFlaws: every flaw of the catalogue is caught by bgw explore
// under its intended model, with a replay command that reproduces it; the
// weak-memory flaws are not caught under SC or TSO.
func TestExploreFlaws(t *testing.T) {
	for _, c := range []struct {
		flaw, scenario string
		models         []string // caught under these
		clean          []string // and not under these (every scenario)
	}{
		{"no-inuse-check", "spawn-failure", []string{"sc", "tso", "view"}, nil},
		{"silent-forget", "spawn-failure", []string{"sc", "tso", "view"}, nil},
		{"spawn-failure-as-start", "spawn-failure", []string{"sc", "tso", "view"}, nil},
		{"notify-before-free", "reuse", []string{"sc", "tso", "view"}, nil},
		{"restart-overflow", "restart", []string{"sc", "tso", "view"}, nil},
		{"no-forget-barrier", "register-vs-forget", []string{"view"}, []string{"sc", "tso"}},
		{"unordered-pmsignal", "restart", []string{"view"}, []string{"sc", "tso"}},
	} {
		t.Run(c.flaw, func(t *testing.T) {
			for _, m := range c.models {
				code, out, errs := bgw(t, "explore", "-flaw", c.flaw, "-model", m, "-scenario", c.scenario)
				if code != exitViolation {
					t.Fatalf("-model %s: exit %d, want 1\n%s%s", m, code, out, errs)
				}
				args := replayArgs(t, out)
				if code, rout, rerr := bgw(t, args...); code != exitViolation || !strings.Contains(rout, "FAIL:") {
					t.Fatalf("%v: exit %d, want 1\n%s%s", args, code, rout, rerr)
				}
			}
			for _, m := range c.clean {
				if code, out, errs := bgw(t, "explore", "-flaw", c.flaw, "-model", m); code != exitOK {
					t.Errorf("-model %s: exit %d, want 0\n%s%s", m, code, out, errs)
				}
			}
			// The default is clean where the flaw is caught.
			if code, out, _ := bgw(t, "explore", "-scenario", c.scenario); code != exitOK {
				t.Errorf("default %s: exit %d\n%s", c.scenario, code, out)
			}
		})
	}
}

func TestExploreDefault(t *testing.T) {
	code, out, errs := bgw(t, "explore", "-model", "sc")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"ok    reuse/sc", "ok    two-register/sc", "exhausted", "no counterexample"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestExplorePMSignalSet: the default sets the PMSIGNAL flag with an
// exchange and explores clean in two-register under every model; the
// mutant that brings the old release store back is caught under view
// only, with a replay command that reproduces the hang.
func TestExplorePMSignalSet(t *testing.T) {
	if code, out, _ := bgw(t, "explore", "-scenario", "two-register"); code != exitOK {
		t.Fatalf("default: exit %d\n%s", code, out)
	}
	code, out, _ := bgw(t, "explore", "-scenario", "two-register", "-model", "view", "-mutant", "store-pmsignal-set")
	if code != exitViolation || !strings.Contains(out, "hang") || !strings.Contains(out, "-mutant store-pmsignal-set") {
		t.Fatalf("mutant: exit %d\n%s", code, out)
	}
	args := replayArgs(t, out)
	if code, rout, rerr := bgw(t, args...); code != exitViolation || !strings.Contains(rout, "FAIL:") {
		t.Fatalf("%v: exit %d, want 1\n%s%s", args, code, rout, rerr)
	}
	for _, m := range []string{"sc", "tso"} {
		if code, out, _ := bgw(t, "explore", "-model", m, "-mutant", "store-pmsignal-set"); code != exitOK {
			t.Errorf("mutant under %s: exit %d, want 0\n%s", m, code, out)
		}
	}
}

func TestExploreMutantAndRandom(t *testing.T) {
	code, out, _ := bgw(t, "explore", "-mutant", "skip-generation-store", "-scenario", "reuse", "-model", "sc")
	if code != exitViolation || !strings.Contains(out, "linearizability") || !strings.Contains(out, "-mutant skip-generation-store") {
		t.Fatalf("mutant: exit %d\n%s", code, out)
	}
	code, out, _ = bgw(t, "explore", "-random", "40", "-seed", "7", "-flaw", "restart-overflow", "-scenario", "restart", "-model", "sc")
	if code != exitViolation || !strings.Contains(out, "40 random executions, seed 7") {
		t.Fatalf("random: exit %d\n%s", code, out)
	}
	code, out, _ = bgw(t, "explore", "-random", "20", "-scenario", "reuse", "-model", "tso", "-budget", "10s")
	if code != exitOK || !strings.Contains(out, "20 executions") {
		t.Fatalf("random clean: exit %d\n%s", code, out)
	}
}

// TestExploreList: -list lists the scenarios and mutants (TestBadInput
// has the bad flags).
func TestExploreList(t *testing.T) {
	code, out, _ := bgw(t, "explore", "-list")
	for _, want := range []string{"scenarios:", "register-vs-forget", "mutants", "no-forget-fsc", "store-pmsignal-set", "relaxed-pmsignal-set"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("-list: exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	for _, stale := range []string{"fixes", "known issues", "rmw-pmsignal-set"} {
		if strings.Contains(out, stale) {
			t.Errorf("-list: output still mentions %q:\n%s", stale, out)
		}
	}
}
