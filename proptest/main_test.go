package proptest

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

var (
	saveFlag = flag.Bool("proptest.save", false,
		"proptest: let the _CatchesBroken tests write the counterexample they find to testdata/rapid/<TestName>/")
)

const (
	// searchChecks is the budget of a _CatchesBroken search: rapid stops
	// at the first counterexample, so it costs this much only when the
	// broken variant survives.
	searchChecks = 10000
	// recordedSteps is the average number of Repeat actions the saved
	// fail files were recorded with (rapid's default -rapid.steps). A fail
	// file of a state machine replays the same actions only with the same
	// value, so replays pin it (-short halves rapid's steps, hence the
	// doubling there).
	recordedSteps = 30
	// padWords is how many zero words a replay of the real implementation
	// appends to a saved input: where the broken variant failed, the real
	// one goes on and draws again, and zeros end a Repeat.
	padWords = 256
)

// setRapidFlag sets one of rapid's command-line flags for the rest of the
// test and restores it afterwards. Tests in this package do not run in
// parallel, so the change is seen by this test alone.
func setRapidFlag(t *testing.T, name, value string) {
	t.Helper()
	f := flag.Lookup(name)
	if f == nil {
		t.Fatalf("rapid has no flag %q", name)
	}
	old := f.Value.String()
	if err := flag.Set(name, value); err != nil {
		t.Fatalf("set -%s=%s: %v", name, value, err)
	}
	t.Cleanup(func() { _ = flag.Set(name, old) })
}

// pinSteps makes rapid's effective -rapid.steps equal recordedSteps.
func pinSteps(t *testing.T) {
	t.Helper()
	steps := recordedSteps
	if testing.Short() {
		steps *= 2
	}
	setRapidFlag(t, "rapid.steps", strconv.Itoa(steps))
}

// atLeastChecks raises -rapid.checks to n unless it is already larger.
func atLeastChecks(t *testing.T, n int) {
	t.Helper()
	if cur, err := strconv.Atoi(flag.Lookup("rapid.checks").Value.String()); err == nil && cur >= n {
		return
	}
	setRapidFlag(t, "rapid.checks", strconv.Itoa(n))
}

// mustFalsify asserts that rapid finds a counterexample to prop, a
// property run against a broken variant, and logs it. The calling test
// passes if one is found and fails if none is.
//
// By default the search starts afresh (its recorder's name matches no
// testdata directory) and writes no fail file. With -proptest.save it runs
// under the test's own name with the recorded step count, so rapid first
// replays testdata/rapid/<TestName>/ and, if nothing there fails any more,
// saves the new counterexample there.
func mustFalsify(t *testing.T, prop func(*rapid.T)) *Recorder {
	t.Helper()
	atLeastChecks(t, searchChecks)
	name := t.Name() + "#search"
	if *saveFlag {
		name = t.Name()
		pinSteps(t)
	} else {
		setRapidFlag(t, "rapid.nofailfile", "true")
	}
	rec := Falsify(name, prop)
	if !rec.Failed() {
		t.Fatalf("rapid found no counterexample on the broken variant:\n%s", rec.Report())
	}
	report := rec.Report()
	if name != t.Name() {
		// rapid names the recorder in its reproduction line; the search
		// itself reproduces under the test's name with the same -rapid.seed.
		report = strings.ReplaceAll(report, name, t.Name())
	}
	t.Logf("counterexample, as rapid reports it:\n%s", report)
	return rec
}

// replayOnly runs prop on the saved input in file alone (-rapid.checks=0,
// -rapid.failfile=file, no new fail files) and returns the recorder.
func replayOnly(t *testing.T, file string, prop func(*rapid.T)) *Recorder {
	t.Helper()
	setRapidFlag(t, "rapid.checks", "0")
	setRapidFlag(t, "rapid.nofailfile", "true")
	setRapidFlag(t, "rapid.failfile", file)
	pinSteps(t)
	return Falsify("proptest-replay", prop)
}

// unusable reports whether rapid could not use a fail file (wrong version,
// bad format, or an input that no longer drives the property to its end).
func unusable(rec *Recorder) string {
	for _, l := range rec.Logs() {
		if strings.Contains(l, "ignoring fail file") || strings.Contains(l, "no longer valid") {
			return l
		}
	}
	return ""
}

// padFailFile writes a copy of a rapid fail file with padWords zero words
// appended, in a temporary directory, and returns its path.
func padFailFile(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.Write(data)
	if len(data) > 0 && data[len(data)-1] != '\n' {
		b.WriteByte('\n')
	}
	for range padWords {
		b.WriteString("0x0\n")
	}
	padded := filepath.Join(t.TempDir(), filepath.Base(file))
	if err := os.WriteFile(padded, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return padded
}
