package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"bgwmodel/impl/proc/proctest"
	"bgwmodel/stress"
)

var (
	flagSoak         = flag.Int("soak", 0, "TestSoakLong: run bgw stress -soak N (default campaigns) and require it to pass")
	flagSoakDuration = flag.Duration("soak.duration", 0, "TestSoakLong: each campaign's duration (default: the configuration's)")
)

// soakLine is a campaign's line of a soak.
type soakLine struct {
	seed                            int64
	status                          string // PASS, FAIL, UNKNOWN, HANG, ERROR
	ops, faults, restarts           int
	timeouts, tOps, tWaits, tChecks int
	hasCounts                       bool
}

var (
	soakLineRE = regexp.MustCompile(`^  seed (-?\d+): (PASS|FAIL|UNKNOWN|HANG|ERROR)\b(?:.*?, (\d+) operations, (\d+) faults, ` +
		`(\d+) crash restarts, (\d+) timeouts \(operations (\d+), waits (\d+), checks (\d+)\))?`)
	soakTotalsRE = regexp.MustCompile(`^campaigns (\d+), operations (\d+) \([\d.]+/s\), faults (\d+), crash restarts (\d+), ` +
		`violations (\d+), timeouts (\d+) \(operations (\d+), waits (\d+), checks (\d+)\), hangs (\d+), undecided (\d+), ` +
		`infrastructure failures (\d+)$`)
)

// parseSoak reads a soak's output: its campaign lines, and the totals
// line's fields by name. It checks that the totals add up the lines.
func parseSoak(t *testing.T, out string) ([]soakLine, map[string]int) {
	t.Helper()
	var lines []soakLine
	var totals map[string]int
	atoi := func(s string) int {
		n, _ := strconv.Atoi(s)
		return n
	}
	for _, l := range strings.Split(out, "\n") {
		if m := soakLineRE.FindStringSubmatch(l); m != nil {
			seed, _ := strconv.ParseInt(m[1], 10, 64)
			sl := soakLine{seed: seed, status: m[2], hasCounts: m[3] != ""}
			sl.ops, sl.faults, sl.restarts = atoi(m[3]), atoi(m[4]), atoi(m[5])
			sl.timeouts, sl.tOps, sl.tWaits, sl.tChecks = atoi(m[6]), atoi(m[7]), atoi(m[8]), atoi(m[9])
			lines = append(lines, sl)
			continue
		}
		if m := soakTotalsRE.FindStringSubmatch(l); m != nil {
			if totals != nil {
				t.Fatalf("two totals lines:\n%s", out)
			}
			totals = map[string]int{}
			for i, name := range []string{"campaigns", "operations", "faults", "crash restarts", "violations", "timeouts",
				"timeouts/operations", "timeouts/waits", "timeouts/checks", "hangs", "undecided", "infrastructure failures"} {
				totals[name] = atoi(m[i+1])
			}
		}
	}
	if totals == nil {
		t.Fatalf("no totals line:\n%s", out)
	}
	sum := map[string]int{}
	for i, l := range lines {
		if i > 0 && l.seed != lines[i-1].seed+1 {
			t.Errorf("seeds %d then %d: want consecutive, distinct seeds", lines[i-1].seed, l.seed)
		}
		if l.hasCounts != (l.status != "HANG" && l.status != "ERROR") {
			t.Errorf("seed %d: %s line with counts %v", l.seed, l.status, l.hasCounts)
		}
		if l.timeouts != l.tOps+l.tWaits+l.tChecks {
			t.Errorf("seed %d: %d timeouts, not the sum of its parts", l.seed, l.timeouts)
		}
		sum["campaigns"]++
		sum["operations"] += l.ops
		sum["faults"] += l.faults
		sum["crash restarts"] += l.restarts
		sum["timeouts"] += l.timeouts
		sum["timeouts/operations"] += l.tOps
		sum["timeouts/waits"] += l.tWaits
		sum["timeouts/checks"] += l.tChecks
		sum[map[string]string{"FAIL": "violations", "HANG": "hangs", "UNKNOWN": "undecided", "ERROR": "infrastructure failures",
			"PASS": "passed"}[l.status]]++
	}
	for name, n := range totals {
		if sum[name] != n {
			t.Errorf("totals say %s %d, the campaign lines add up to %d:\n%s", name, n, sum[name], out)
		}
	}
	return lines, totals
}

// TestStressSoak: -soak runs distinct campaigns, one line each, and totals
// that add them up.
func TestStressSoak(t *testing.T) {
	proctest.Clean(t)
	out := t.TempDir()
	code, stdout, stderr := runBGW(t, "stress", "-soak", "2", "-seed", "21", "-duration", "2s", "-out", out)
	t.Logf("\n%s%s", stdout, stderr)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines, totals := parseSoak(t, stdout)
	if len(lines) != 2 || lines[0].seed != 21 || lines[0].status != "PASS" || lines[1].status != "PASS" {
		t.Errorf("campaign lines %+v", lines)
	}
	if totals["campaigns"] != 2 || totals["operations"] == 0 || totals["violations"] != 0 || totals["hangs"] != 0 ||
		totals["undecided"] != 0 || totals["infrastructure failures"] != 0 {
		t.Errorf("totals %v", totals)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("passing campaigns left %v in -out", ents)
	}
}

// TestSoakLong runs a long soak of default campaigns (-soak=N, and
// -soak.duration=D to shorten them) and requires every one to pass.
func TestSoakLong(t *testing.T) {
	if *flagSoak <= 0 {
		t.Skip("run with -soak=N [-soak.duration=D]")
	}
	proctest.Clean(t)
	args := []string{"stress", "-soak", strconv.Itoa(*flagSoak), "-seed", "300000", "-out", t.TempDir()}
	if *flagSoakDuration > 0 {
		args = append(args, "-duration", flagSoakDuration.String())
	}
	code, stdout, stderr := runBGW(t, args...)
	t.Logf("\n%s%s", stdout, stderr)
	_, totals := parseSoak(t, stdout)
	if code != exitOK || totals["campaigns"] != *flagSoak {
		t.Errorf("exit %d, totals %v", code, totals)
	}
}

// setWatchdog shrinks the watchdog's bounds for the test.
func setWatchdog(t *testing.T, bound, grace time.Duration) {
	oldBound, oldGrace := hangBound, hangGrace
	hangBound = func(stress.Config) time.Duration { return bound }
	hangGrace = grace
	t.Cleanup(func() { hangBound, hangGrace = oldBound, oldGrace })
}

// TestStressHang: a campaign that outlives the watchdog's bound is
// cancelled and counted as a hang, with the harness's goroutines in its
// kept run directory; exit 2.
func TestStressHang(t *testing.T) {
	for _, c := range []struct {
		name  string
		args  []string
		seeds []int64
	}{
		{"once", []string{"-seed", "71"}, []int64{71}},
		{"soak", []string{"-soak", "2", "-seed", "72"}, []int64{72, 73}},
	} {
		t.Run(c.name, func(t *testing.T) {
			proctest.Clean(t)
			// Real campaigns of 20 s, declared hung after half a second:
			// cancelled, they return within the grace.
			setWatchdog(t, 500*time.Millisecond, time.Minute)
			out := t.TempDir()
			code, stdout, stderr := runBGW(t, append([]string{"stress", "-duration", "20s", "-out", out}, c.args...)...)
			t.Logf("\n%s%s", stdout, stderr)
			if code != exitUsage {
				t.Errorf("exit %d, want 2", code)
			}
			errLines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if len(errLines) != len(c.seeds) {
				t.Errorf("stderr has %d lines, want %d", len(errLines), len(c.seeds))
			}
			for i, seed := range c.seeds {
				dir := filepath.Join(out, "bgw-out-"+strconv.FormatInt(seed, 10))
				dump, err := os.ReadFile(filepath.Join(dir, goroutinesFile))
				if err != nil || !strings.Contains(string(dump), "bgwmodel/stress.Run(") {
					t.Errorf("seed %d: goroutine dump: %v\n%.400s", seed, err, dump)
				}
				if i < len(errLines) && (!strings.Contains(errLines[i], "a hang") || !strings.Contains(errLines[i], filepath.Join(dir, goroutinesFile))) {
					t.Errorf("stderr line %q", errLines[i])
				}
			}
			if c.name == "soak" {
				lines, totals := parseSoak(t, stdout)
				if len(lines) != 2 || totals["hangs"] != 2 || totals["campaigns"] != 2 {
					t.Errorf("lines %+v, totals %v", lines, totals)
				}
			}
		})
	}
}

// TestStressWedged: a hung campaign that does not return once cancelled
// ends the soak at once: the totals so far, exit 2.
func TestStressWedged(t *testing.T) {
	release := make(chan struct{})
	oldRun := runCampaign
	runCampaign = func(ctx context.Context, cfg stress.Config, opts stress.Options) (*stress.Result, error) {
		<-release // deaf to ctx: wedged
		return nil, errors.New("released")
	}
	t.Cleanup(func() {
		close(release)
		inflight.Wait()
		runCampaign = oldRun
	})
	setWatchdog(t, 50*time.Millisecond, 50*time.Millisecond)
	out := t.TempDir()
	code, stdout, stderr := runBGW(t, "stress", "-soak", "3", "-seed", "81", "-duration", "1s", "-out", out)
	t.Logf("\n%s%s", stdout, stderr)
	lines, totals := parseSoak(t, stdout)
	if code != exitUsage || len(lines) != 1 || lines[0].status != "HANG" || totals["campaigns"] != 1 || totals["hangs"] != 1 {
		t.Errorf("exit %d, lines %+v, totals %v", code, lines, totals)
	}
	if !strings.Contains(stderr, "still running") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q", stderr)
	}
	dump, err := os.ReadFile(filepath.Join(out, "bgw-out-81", goroutinesFile))
	if err != nil || !strings.Contains(string(dump), "TestStressWedged") {
		t.Errorf("goroutine dump: %v\n%.400s", err, dump)
	}
}
