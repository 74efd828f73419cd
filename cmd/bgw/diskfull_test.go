package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
)

// The child role that runs bgw under a file size limit, and its
// environment.
const (
	roleCLI = "bgw-cli"
	// envArgs holds the arguments of bgw, as a JSON list.
	envArgs = "BGW_TEST_ARGS"
	// envFsize is RLIMIT_FSIZE in bytes.
	envFsize = "BGW_TEST_FSIZE"
	// envClusterOnly, if "1", limits only the cluster's processes: bgw
	// lifts its own limit once the supervisor is forked.
	envClusterOnly = "BGW_TEST_FSIZE_CLUSTER_ONLY"
)

// cliRole is bgw run as a child process with RLIMIT_FSIZE set, which every
// process it starts inherits: a write past the limit fails with EFBIG (Go
// ignores SIGXFSZ). It returns bgw's exit code.
func cliRole() int {
	var args []string
	limit, err := strconv.ParseUint(os.Getenv(envFsize), 10, 64)
	if err == nil {
		err = json.Unmarshal([]byte(os.Getenv(envArgs)), &args)
	}
	if err == nil {
		err = syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: ^uint64(0)})
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", roleCLI, err)
		return 99
	}
	if os.Getenv(envClusterOnly) == "1" {
		go func() {
			for {
				if kids, _ := proc.ChildPids(); len(kids) > 0 {
					syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: ^uint64(0), Max: ^uint64(0)})
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	return run(args, os.Stdout, os.Stderr)
}

// noHang bounds a disk-full campaign: it must end on its own within this.
const noHang = 2 * time.Minute

var verdictLine = regexp.MustCompile(`(?m)^(PASS|FAIL|UNKNOWN)\b|^wrote |^repro: |  (linearizability|policy|waiters|stop) `)

// TestStressDiskFull: a write error of the run directory while a campaign
// runs (the disk is full; a file size limit is reached, by the harness's
// histories or by the postmaster's record log) is an infrastructure
// failure: exit 2, one stderr line naming the file and the error, no
// verdict, no run directory left, no process left, no hang.
func TestStressDiskFull(t *testing.T) {
	for _, c := range []struct {
		name  string
		errno syscall.Errno
		// in the stderr line besides -out and the errno: all of want,
		// and one of wantAny
		want, wantAny []string
	}{
		{"tmpfs", syscall.ENOSPC, nil, nil},
		{"rlimit-fsize", syscall.EFBIG, nil, nil},
		// Only the cluster is limited: the postmaster's record log fails
		// and the postmaster exits; the harness reads why in the server
		// log (or, if the children's last words filled the server log
		// before the postmaster's, sees the log at the limit).
		{"rlimit-fsize-postmaster", syscall.EFBIG, []string{"the postmaster exited (exit code 1)"},
			[]string{"its record log ", "server.log"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			proctest.Clean(t)
			out := t.TempDir()
			args := []string{"stress", "-duration", "10s", "-seed", "91", "-out", out}
			var code int
			var stdout, stderr string
			if c.name == "tmpfs" {
				if err := syscall.Mount("tmpfs", out, "tmpfs", 0, "size=256k"); err != nil {
					t.Skipf("cannot mount a tmpfs on -out (need root or CAP_SYS_ADMIN): %v", err)
				}
				t.Cleanup(func() {
					if err := syscall.Unmount(out, 0); err != nil {
						t.Errorf("unmount %s: %v", out, err)
					}
				})
				done := make(chan struct{})
				go func() {
					defer close(done)
					code, stdout, stderr = runBGW(t, args...)
				}()
				select {
				case <-done:
				case <-time.After(noHang):
					t.Fatalf("no end within %v: a hang", noHang)
				}
			} else {
				code, stdout, stderr = runLimited(t, args, 32<<10, c.name == "rlimit-fsize-postmaster")
			}
			t.Logf("exit %d\n%s%s", code, stdout, stderr)
			if code != exitUsage {
				t.Errorf("exit %d, want 2", code)
			}
			line, ok := strings.CutSuffix(stderr, "\n")
			if !ok || strings.Contains(line, "\n") {
				t.Errorf("stderr is not one line")
			}
			for _, w := range append([]string{"bgw stress: seed 91: ", out + "/", c.errno.Error()}, c.want...) {
				if !strings.Contains(line, w) {
					t.Errorf("stderr lacks %q", w)
				}
			}
			if len(c.wantAny) > 0 && !slices.ContainsFunc(c.wantAny, func(w string) bool { return strings.Contains(line, w) }) {
				t.Errorf("stderr lacks any of %q", c.wantAny)
			}
			if m := verdictLine.FindString(stdout); m != "" {
				t.Errorf("stdout holds a verdict (%q)", m)
			}
			if ents, err := os.ReadDir(out); err != nil || len(ents) != 0 {
				t.Errorf("-out holds %v (%v)", ents, err)
			}
		})
	}
}

// runLimited runs bgw args in a child process under RLIMIT_FSIZE limit
// (only for the cluster's processes if clusterOnly), bounded by noHang.
func runLimited(t *testing.T, args []string, limit int, clusterOnly bool) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), noHang)
	defer cancel()
	a, _ := json.Marshal(args)
	only := "0"
	if clusterOnly {
		only = "1"
	}
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), proc.EnvRole+"="+roleCLI, envArgs+"="+string(a), envFsize+"="+strconv.Itoa(limit), envClusterOnly+"="+only)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("no end within %v: a hang\n%s%s", noHang, stdout.String(), stderr.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}
