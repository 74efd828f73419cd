package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"bgwmodel/impl/proc/proctest"
	"bgwmodel/stress"
)

// runBGW runs the command in-process and returns its exit code and
// output.
func runBGW(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestStressUsage(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"workload": {"think": "fast"}}`), 0o600)
	for _, c := range []struct {
		args []string
		code int
		want string // in stderr
	}{
		{[]string{"stress", "-h"}, exitOK, "usage: bgw stress"},
		{[]string{"check", "-h"}, exitOK, "usage: bgw check"},
		{[]string{"stress", "-bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"stress", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"stress", "-flaw", "no-forget-barrier"}, exitUsage, "bgw explore -flaw no-forget-barrier -model view"},
		{[]string{"stress", "-flaw", "unordered-pmsignal"}, exitUsage, "shows only under a weak memory model"},
		{[]string{"stress", "-flaw", "bogus"}, exitUsage, `unknown flaw "bogus"`},
		{[]string{"stress", "-faults", "kill-all"}, exitUsage, `unknown fault "kill-all"`},
		{[]string{"stress", "-backends", "0"}, exitUsage, "backends: want 1..64, got 0"},
		{[]string{"stress", "-duration", "-1s"}, exitUsage, "duration: want more than 0"},
		{[]string{"stress", "-config", bad}, exitUsage, bad + ":1: workload.think: want a duration"},
		{[]string{"stress", "-config", "/nonexistent.json"}, exitUsage, "no such file"},
		{[]string{"stress", "-out", "/nonexistent"}, exitUsage, "-out /nonexistent: not a directory"},
		{[]string{"stress", "-runs", "0"}, exitUsage, "-runs 0: want at least 1"},
		{[]string{"check"}, exitUsage, "no run directory or file given"},
		{[]string{"check", "/nonexistent"}, exitUsage, "no such file"},
	} {
		code, _, errs := runBGW(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("bgw %v: exit %d, want %d; stderr:\n%s\nwant %q", c.args, code, c.code, errs, c.want)
		}
	}
	code, out, _ := runBGW(t, "stress", "-print-config")
	var cfg map[string]any
	if code != exitOK || json.Unmarshal([]byte(out), &cfg) != nil || cfg["duration"] != "25s" {
		t.Errorf("-print-config: exit %d:\n%s", code, out)
	}
}

// TestStressClean: a short clean campaign passes, prints its seed and
// leaves nothing behind.
func TestStressClean(t *testing.T) {
	proctest.Clean(t)
	out := t.TempDir()
	code, stdout, stderr := runBGW(t, "stress", "-duration", "3s", "-seed", "11", "-out", out)
	if code != exitOK || !strings.Contains(stdout, "bgw stress: seed 11 ") || !strings.Contains(stdout, "PASS: seed 11,") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("a passing campaign left %v in -out", ents)
	}
}

var (
	wroteLine = regexp.MustCompile(`(?m)^wrote (\S+):`)
	reproLine = regexp.MustCompile(`(?m)^repro: (bgw stress .*)$`)
)

// TestStressFlaw: a flawed campaign exits 1, writes its run directory
// with a repro command, and bgw check finds the violation again.
func TestStressFlaw(t *testing.T) {
	proctest.Clean(t)
	out := t.TempDir()
	code, stdout, stderr := runBGW(t, "stress", "-flaw", "notify-before-free", "-seed", "12", "-out", out)
	if code != exitViolation {
		t.Fatalf("exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	m := wroteLine.FindStringSubmatch(stdout)
	if m == nil || m[1] != filepath.Join(out, "bgw-out-12") {
		t.Fatalf("no run directory in:\n%s", stdout)
	}
	dir := m[1]
	for _, f := range []string{stress.CampaignFile, stress.RecordsFile, stress.VerdictFile, stress.PolicyFile, stress.ReproFile, "history/postmaster.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("run directory: %v", err)
		}
	}
	r := reproLine.FindStringSubmatch(stdout)
	if r == nil || r[1] != "bgw stress -seed 12 -flaw notify-before-free" {
		t.Errorf("repro line: %v\n%s", r, stdout)
	}
	if saved, _ := os.ReadFile(filepath.Join(dir, stress.ReproFile)); r != nil && strings.TrimSpace(string(saved)) != r[1] {
		t.Errorf("repro.txt %q, printed %q", saved, r[1])
	}
	code, stdout, stderr = runBGW(t, "check", dir)
	if code != exitViolation || !strings.Contains(stdout, "notify-before-free") {
		t.Errorf("bgw check: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	// The same run again gets a fresh directory.
	if got := freshDir(out, 12); got != filepath.Join(out, "bgw-out-12-2") {
		t.Errorf("freshDir: %s", got)
	}
}

func TestCheckTestdata(t *testing.T) {
	td := filepath.Join("..", "..", "stress", "testdata")
	code, stdout, stderr := runBGW(t, "check", filepath.Join(td, "clean-1"), filepath.Join(td, "clean-2"))
	if code != exitOK || strings.Count(stdout, "PASS: ") != 2 {
		t.Errorf("clean: exit %d\n%s%s", code, stdout, stderr)
	}
	html := filepath.Join(t.TempDir(), "v.html")
	code, stdout, stderr = runBGW(t, "check", "-html", html, filepath.Join(td, "no-inuse-check"))
	if code != exitViolation || !strings.Contains(stdout, "FAIL: ") {
		t.Errorf("no-inuse-check: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(html); err != nil && strings.Contains(stdout, "linearizability  FAIL") {
		t.Errorf("no HTML: %v", err)
	}
	// Files: the histories and the record log of a run, checked together.
	files, _ := filepath.Glob(filepath.Join(td, "restart-overflow", "history", "*.jsonl"))
	files = append(files, filepath.Join(td, "restart-overflow", "records.jsonl"))
	code, stdout, stderr = runBGW(t, append([]string{"check", "-slots", "6"}, files...)...)
	if code != exitViolation || !strings.Contains(stdout, "restart-early") {
		t.Errorf("files: exit %d\n%s%s", code, stdout, stderr)
	}
	// A bad file is exit 2 with its name and line.
	bad := filepath.Join(t.TempDir(), "b1.jsonl")
	os.WriteFile(bad, []byte(`{"client":1,"process":"b1","op":"get_pid","input":{},"output":{},"call":1,"return":2}`+"\n"), 0o600)
	code, _, stderr = runBGW(t, "check", bad)
	if code != exitUsage || !strings.Contains(stderr, bad+":1:") {
		t.Errorf("bad file: exit %d\n%s", code, stderr)
	}
}

// TestStressRuns: -runs reports the totals of several campaigns.
func TestStressRuns(t *testing.T) {
	proctest.Clean(t)
	code, stdout, stderr := runBGW(t, "stress", "-runs", "2", "-seed", "21", "-duration", "2s", "-out", t.TempDir())
	if code != exitOK || !strings.Contains(stdout, "seed 21: PASS") || !strings.Contains(stdout, "seed 22: PASS") ||
		!strings.Contains(stdout, "campaigns 2, operations") || !strings.Contains(stdout, "violations 0, undecided 0, infrastructure failures 0") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
}
