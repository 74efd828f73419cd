package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/cluster"
	"bgwmodel/impl/proc"
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

// TestStressClean: a short clean campaign passes, prints its seed and
// leaves nothing behind.
func TestStressClean(t *testing.T) {
	proctest.Clean(t)
	out := t.TempDir()
	code, stdout, stderr := runBGW(t, "stress", "-duration", "3s", "-seed", "11", "-out", out)
	if code != exitOK || !strings.Contains(stdout, "bgw stress: seed 11 ") || !strings.Contains(stdout, "PASS: seed 11,") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, check := range []string{"linearizability", "policy", "waiters", "stop", "postmaster-survives"} {
		if !regexp.MustCompile(`(?m)^  ` + check + ` +PASS `).MatchString(stdout) {
			t.Errorf("no passing %s check in:\n%s", check, stdout)
		}
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
	for _, f := range []string{stress.CampaignFile, stress.RecordsFile, stress.VerdictFile, stress.PolicyFile, stress.ReproFile, stress.ManifestFile, stress.KeepFile} {
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
	if got, err := reserveDir(out, 12); err != nil || got != filepath.Join(out, "bgw-out-12-2") {
		t.Errorf("reserveDir: %s, %v", got, err)
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
	if _, err := os.Stat(html); err != nil && regexp.MustCompile(`(?m)^  linearizability +FAIL`).MatchString(stdout) {
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

// TestStressPostmasterDies: a postmaster that dies behind the harness's
// back (SIGABRT: the Go runtime's crash, as a fatal error would) is a
// violation, exit 1, with the postmaster-survives check as evidence, and
// bgw check finds it again in the run directory.
func TestStressPostmasterDies(t *testing.T) {
	proctest.Clean(t)
	out := t.TempDir()
	killed := make(chan string, 1)
	go func() { killed <- abortPostmaster(out) }()
	code, stdout, stderr := runBGW(t, "stress", "-duration", "20s", "-seed", "13", "-out", out)
	t.Logf("%s", <-killed)
	if code != exitViolation || !regexp.MustCompile(`(?m)^  postmaster-survives +FAIL +the postmaster \(pid \d+\) exited on its own: exit code 2$`).MatchString(stdout) ||
		!strings.Contains(stdout, "last complaint in the server log: SIGABRT: abort") {
		t.Fatalf("exit %d, want 1 with postmaster-survives FAIL\n%s%s", code, stdout, stderr)
	}
	m := wroteLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no run directory in:\n%s", stdout)
	}
	code, stdout, stderr = runBGW(t, "check", m[1])
	if code != exitViolation || !regexp.MustCompile(`(?m)^  postmaster-survives +FAIL `).MatchString(stdout) {
		t.Errorf("bgw check: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
}

// abortPostmaster waits for a campaign under out to be well under way
// (its record log past 16 KiB), then sends SIGABRT to its postmaster,
// found as the grandchild of this process whose role is postmaster. It
// gives up after a minute. It returns what it did.
func abortPostmaster(out string) string {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		recs, _ := filepath.Glob(filepath.Join(out, "bgw-out-*", stress.RecordsFile))
		if len(recs) == 0 {
			continue
		}
		if st, err := os.Stat(recs[0]); err != nil || st.Size() < 16<<10 {
			continue
		}
		kids, _ := proc.ChildPids()
		for _, pid := range allPids() {
			env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
			if !bytes.Contains(append([]byte{0}, env...), []byte("\x00"+proc.EnvRole+"="+cluster.RolePostmaster+"\x00")) {
				continue
			}
			if ppid := parentOf(pid); slices.Contains(kids, ppid) {
				if err := syscall.Kill(pid, syscall.SIGABRT); err != nil {
					return fmt.Sprintf("kill %d: %v", pid, err)
				}
				return fmt.Sprintf("sent SIGABRT to the postmaster, pid %d", pid)
			}
		}
	}
	return "found no postmaster to kill"
}

// allPids lists the processes of the system.
func allPids() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// parentOf returns a process's parent, or 0.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
