package proptest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestReplayCounterexamples replays every counterexample saved under
// testdata/rapid/ for a broken variant (see brokenCases): each must still
// fail on the broken variant, straight from the file (no search), and pass
// on the real implementation. Every broken variant must have at least one
// saved counterexample, and every saved directory must belong to one.
func TestReplayCounterexamples(t *testing.T) {
	known := map[string]bool{}
	for _, b := range brokenCases {
		known[b.dir()] = true
		t.Run(b.name(), func(t *testing.T) {
			files, err := filepath.Glob(filepath.Join(b.dir(), "*.fail"))
			if err != nil {
				t.Fatal(err)
			}
			if len(files) == 0 {
				t.Fatalf("no counterexample saved in %s; run: go test ./proptest -run '^%s$' -proptest.save",
					b.dir(), b.name())
			}
			for _, file := range files {
				t.Run(filepath.Base(file), func(t *testing.T) {
					t.Run("broken-fails", func(t *testing.T) { replayBroken(t, file, b.broken) })
					t.Run("real-passes", func(t *testing.T) { replayReal(t, file, b.real) })
				})
			}
		})
	}
	dirs, _ := filepath.Glob(filepath.Join("testdata", "rapid", "*_CatchesBroken_*"))
	for _, d := range dirs {
		if !known[d] {
			t.Errorf("%s holds counterexamples of no registered broken variant", d)
		}
	}
}

// replayBroken replays file on the broken variant: rapid must report the
// failure from the file itself.
func replayBroken(t *testing.T, file string, prop func(*rapid.T)) {
	rec := replayOnly(t, file, prop)
	if l := unusable(rec); l != "" {
		t.Fatalf("rapid cannot use %s: %s", file, l)
	}
	if !rec.Failed() {
		t.Fatalf("%s no longer fails on the broken variant:\n%s", file, rec.Report())
	}
	if errs := rec.Errors(); len(errs) == 0 || !strings.Contains(errs[0], file) {
		t.Fatalf("the failure does not come from %s:\n%s", file, rec.Report())
	}
	t.Logf("replayed:\n%s", rec.Report())
}

// replayReal replays file on the real implementation, padded with zeros so
// that the run can go on where the broken variant stopped: it must pass,
// having run the property exactly once.
func replayReal(t *testing.T, file string, prop func(*rapid.T)) {
	runs := 0
	rec := replayOnly(t, padFailFile(t, file), func(rt *rapid.T) { runs++; prop(rt) })
	if l := unusable(rec); l != "" {
		t.Fatalf("rapid cannot use the padded %s: %s", file, l)
	}
	if rec.Failed() {
		t.Fatalf("%s fails on the real implementation:\n%s", file, rec.Report())
	}
	if runs != 1 {
		t.Fatalf("the property ran %d times, want once (the saved input alone)", runs)
	}
}

// TestReplayPadding checks the padding replayReal relies on: zero words
// after a saved input end a Repeat rather than overrunning it.
func TestReplayPadding(t *testing.T) {
	file := filepath.Join(t.TempDir(), "empty.fail")
	// A Repeat that stops at once: the first coin of Repeat is 0.
	if err := os.WriteFile(file, []byte("v0.4.8#0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := 0
	rec := replayOnly(t, padFailFile(t, file), func(rt *rapid.T) {
		rt.Repeat(map[string]func(*rapid.T){"step": func(*rapid.T) { steps++ }})
	})
	if l := unusable(rec); l != "" || rec.Failed() {
		t.Fatalf("padded empty input: %s\n%s", l, rec.Report())
	}
	if steps != 0 {
		t.Fatalf("zeros ran %d Repeat steps, want 0", steps)
	}
}
