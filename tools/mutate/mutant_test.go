package main

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEnumerateAndApply: every operator finds its sites in a small
// function, error plumbing is left alone, and each mutant applies to the
// source as one change that still parses.
func TestEnumerateAndApply(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "sample.go.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sample.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	ms, err := Enumerate(dir, []string{"sample.go"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, string(m.Operator)+": "+m.Old+" -> "+m.New)
		out, err := Apply(src, m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.ParseFile(token.NewFileSet(), "m.go", out, 0); err != nil {
			t.Errorf("mutant %s does not parse: %v", m, err)
		}
		if strings.Count(string(out), "\n") != strings.Count(string(src), "\n") && m.Operator != OpDropCall {
			t.Errorf("mutant %s changed the line count", m)
		}
	}
	want := []string{
		"constant: 0 -> (0+1)",                                       // return 0
		"negate-if: a < b && b > 3 -> !(a < b && b > 3)",             // the if
		"relational: < -> <=",                                        // a < b
		"logical: && -> ||",                                          // &&
		"relational: > -> >=",                                        // b > 3
		"constant: 3 -> (3+1)",                                       // 3
		"drop-call: m.Store32(0, 1, shmem.Release) -> /* dropped */", // the store
		"constant: 0 -> (0+1)",                                       // offset
		"constant: 1 -> (1+1)",                                       // value
		"order: shmem.Release -> shmem.Relaxed",                      // the order
		"arith: + -> -",                                              // a + b
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("mutants:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := Apply([]byte("package sample\n"), ms[0]); err == nil {
		t.Error("Apply to a changed source succeeded")
	}
}

func TestTally(t *testing.T) {
	m := func(id int) *Mutant { return &Mutant{ID: id} }
	vs := []Verdict{
		{Mutant: nil, Tests: Survived, Explore: Survived, Stress: Survived},
		{Mutant: m(1), Tests: Killed, Explore: Killed, Models: []string{"sc", "tso", "view"}, Stress: Killed},
		{Mutant: m(2), Tests: Survived, Explore: Killed, Models: []string{"view"}, Stress: Survived},
		{Mutant: m(3), Tests: Survived, Explore: Killed, Models: []string{"tso"}, Stress: Survived},
		{Mutant: m(4), Tests: Survived, Explore: Survived, Stress: Tripped},
		{Mutant: m(5), Tests: Survived, Explore: Survived, Stress: Survived},
		{Mutant: m(6), Stillborn: "does not build"},
	}
	s := Tally(vs, map[string]string{})
	if s.Judged != 6 || s.Stillborn != 1 || s.Killed != 4 || s.ByStress != 2 || s.StressTripped != 1 ||
		s.ExploreSCTSO != 2 || s.StressOfExploreSCTSO != 1 || s.Survivors != 1 ||
		len(s.StressMissedExploreSCTSO) != 1 || s.StressMissedExploreSCTSO[0] != 3 {
		t.Fatalf("tally %+v", s)
	}
}

// TestDescendants: the process watch sees a child and a grandchild.
func TestDescendants(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 5 & sleep 5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if d := descendants(cmd.Process.Pid); len(d) >= 2 {
			return
		}
	}
	t.Fatalf("descendants of %d: %v, want the two sleeps", cmd.Process.Pid, descendants(cmd.Process.Pid))
}

func TestStressSaid(t *testing.T) {
	for _, tc := range []struct{ out, want string }{
		{"bgw stress: seed 1 (25s, 5 backends)\nFAIL: seed 1\n  first violation after 1s: policy: restart-early\n", "policy: restart-early"},
		{"bgw stress: seed 1 (25s, 5 backends)\n  coverage             UNKNOWN  vacuous\n", "coverage UNKNOWN"},
		{"bgw stress: seed 1 (25s, 5 backends)\nbgw stress: seed 1: cluster: start: boom\n", "cluster: start: boom"},
		{"bgw stress: static_workers[0].name: refused\n", "static_workers[0].name: refused"},
		{"bgw stress: seed 1 (25s, 5 backends)\nPASS: seed 1\n", ""},
	} {
		if got := stressSaid([]byte(tc.out)); got != tc.want {
			t.Errorf("stressSaid(%q) = %q, want %q", tc.out, got, tc.want)
		}
	}
}
