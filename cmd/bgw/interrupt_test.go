package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
	"bgwmodel/stress"
)

// bgwChild is bgw running as a child process (roleCLI, with no file size
// limit), so that a test can signal it.
type bgwChild struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	cancel         context.CancelFunc
}

// startBGW starts bgw args as a child process, bounded by noHang.
func startBGW(t *testing.T, args ...string) *bgwChild {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), noHang)
	a, _ := json.Marshal(args)
	c := &bgwChild{cancel: cancel}
	c.cmd = exec.CommandContext(ctx, os.Args[0])
	c.cmd.Env = append(os.Environ(), proc.EnvRole+"="+roleCLI, envArgs+"="+string(a),
		envFsize+"="+strconv.FormatUint(^uint64(0), 10), envClusterOnly+"=0")
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.cmd.Wait()
		cancel()
	})
	return c
}

// wait waits for the child and returns its exit code.
func (c *bgwChild) wait(t *testing.T) int {
	t.Helper()
	err := c.cmd.Wait()
	c.cancel()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("bgw: %v\n%s%s", err, c.stdout.String(), c.stderr.String())
	}
	return c.cmd.ProcessState.ExitCode()
}

// waitRunning waits until the campaign's record log shows workers
// launched in the run directory under out, and returns the directory.
func waitRunning(t *testing.T, out string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		dirs, _ := filepath.Glob(filepath.Join(out, "bgw-out-*"))
		if len(dirs) == 1 {
			if data, err := os.ReadFile(filepath.Join(dirs[0], stress.RecordsFile)); err == nil && bytes.Count(data, []byte(`"kind":"launch"`)) >= 3 {
				return dirs[0]
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no campaign running under %s", out)
	return ""
}

// TestStressInterrupted: SIGINT, SIGTERM or SIGHUP end a campaign in
// order: exit 2 (a campaign cut short is no pass), the checks of what
// ran printed, and the run directory kept with -keep and only then. A
// kept directory is whole and re-checks as it was checked, never as a
// false violation.
func TestStressInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("campaigns in child processes: not with -short")
	}
	proctest.Clean(t)
	for _, tc := range []struct {
		sig  syscall.Signal
		keep bool
	}{{syscall.SIGHUP, true}, {syscall.SIGINT, false}, {syscall.SIGTERM, true}} {
		t.Run(tc.sig.String()+map[bool]string{true: ", -keep", false: ""}[tc.keep], func(t *testing.T) {
			out := t.TempDir()
			args := []string{"stress", "-duration", "2m", "-seed", "21", "-out", out}
			if tc.keep {
				args = append(args, "-keep")
			}
			c := startBGW(t, args...)
			dir := waitRunning(t, out)
			c.cmd.Process.Signal(tc.sig)
			code := c.wait(t)
			stdout := c.stdout.String()
			if code != exitUsage || !strings.Contains(stdout, "INTERRUPTED after") || !strings.Contains(stdout, "UNKNOWN: interrupted") {
				t.Fatalf("exit %d, want 2 and the interruption said\n%s%s", code, stdout, c.stderr.String())
			}
			if !strings.Contains(stdout, "  linearizability ") {
				t.Errorf("no check of what ran printed:\n%s", stdout)
			}
			_, err := os.Stat(dir)
			if !tc.keep {
				if err == nil {
					t.Fatalf("%s kept without -keep", dir)
				}
				return
			}
			if err != nil {
				t.Fatalf("-keep: %v", err)
			}
			// A short run may decide too little to pass (coverage: exit 2),
			// but never shows a violation it does not have.
			code, rout, rerr := runBGW(t, "check", dir)
			if code == exitViolation || strings.Contains(rout, " FAIL ") || !strings.Contains(rout, "  linearizability      PASS") {
				t.Errorf("bgw check of the interrupted run: exit %d, want 0 or 2 with no check failed\n%s%s", code, rout, rerr)
			}
			var res struct{ Interrupted bool }
			if data, err := os.ReadFile(filepath.Join(dir, stress.ResultFile)); err != nil || json.Unmarshal(data, &res) != nil || !res.Interrupted {
				t.Errorf("result.json does not say interrupted: %v", err)
			}
		})
	}
}

// TestReserveDirRace: runs with the same seed and -out, at once, each get
// a directory of their own.
func TestReserveDirRace(t *testing.T) {
	out := t.TempDir()
	const runs = 8
	dirs := make([]string, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := reserveDir(out, 2)
			if err != nil {
				t.Error(err)
			}
			dirs[i] = d
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, d := range dirs {
		if seen[d] {
			t.Errorf("%s reserved twice", d)
		}
		seen[d] = true
	}
	if !seen[filepath.Join(out, "bgw-out-2")] || !seen[filepath.Join(out, "bgw-out-2-8")] {
		t.Errorf("reserved %v", dirs)
	}
}

// TestViolationOutlivesErrors: a campaign that found a violation and
// then failed is a violation, exit 1, with its directory kept, never an
// infrastructure failure whose directory is deleted.
func TestViolationOutlivesErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		partial bool // Run returned the violation with its error
	}{{"partial result", true}, {"marked directory only", false}} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(r func(context.Context, stress.Config, stress.Options) (*stress.Result, error)) { runCampaign = r }(runCampaign)
			runCampaign = func(_ context.Context, cfg stress.Config, o stress.Options) (*stress.Result, error) {
				os.WriteFile(filepath.Join(o.Dir, stress.KeepFile), []byte("a violation\n"), 0o600)
				if !tc.partial {
					return nil, errors.New("stress: control: context canceled")
				}
				return &stress.Result{Config: cfg, Dir: o.Dir, FirstViolation: "policy: notify-before-free"},
					errors.New("stress: a violation was found, but the run could not finish: control: context canceled")
			}
			out := t.TempDir()
			code, stdout, stderr := runBGW(t, "stress", "-seed", "4242", "-out", out)
			if code != exitViolation || !strings.Contains(stdout, "FAIL: seed 4242: a violation was found") {
				t.Fatalf("exit %d, want 1\n%s%s", code, stdout, stderr)
			}
			if _, err := os.Stat(filepath.Join(out, "bgw-out-4242", stress.KeepFile)); err != nil {
				t.Fatalf("the run directory with the violation is gone: %v", err)
			}
		})
	}
}

// TestStressKilled: bgw killed with SIGKILL leaves nothing behind (the
// cluster's supervisor ends the cluster and removes the run directory),
// except with -keep or once a violation was found; a directory left so
// is refused by bgw check as the unfinished run it is, never judged.
func TestStressKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("campaigns in child processes: not with -short")
	}
	proctest.Clean(t)
	for _, tc := range []struct {
		name string
		args []string
		kept bool
	}{
		{"default", nil, false},
		{"-keep", []string{"-keep"}, true},
		{"a violation found", []string{"-flaw", "notify-before-free", "-stop-on-violation=false"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			c := startBGW(t, append([]string{"stress", "-duration", "2m", "-seed", "22", "-out", out}, tc.args...)...)
			dir := waitRunning(t, out)
			if tc.name == "a violation found" {
				waitFile(t, filepath.Join(dir, stress.KeepFile))
			}
			c.cmd.Process.Kill()
			c.wait(t)
			// The supervisor, reparented to this test process (a
			// subreaper), ends the cluster, cleans up and exits.
			kids, _ := proc.ChildPids()
			proctest.ReapAll(t, time.Minute, kids...)
			_, err := os.Stat(dir)
			if gone := errors.Is(err, os.ErrNotExist); gone == tc.kept {
				t.Fatalf("%s: gone %v, want kept %v", dir, gone, tc.kept)
			}
			if !tc.kept {
				return
			}
			code, stdout, stderr := runBGW(t, "check", dir)
			if code != exitUsage || !strings.Contains(stderr, "no manifest.json") {
				t.Errorf("bgw check of the killed run: exit %d, want 2 saying the manifest is missing\n%s%s", code, stdout, stderr)
			}
		})
	}
}

// waitFile waits up to a minute for path to exist.
func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("no %s", path)
}
