// Package proctest implements helpers for tests that run child processes
// through package proc: dispatching roles in TestMain, checking that a
// test leaves no child process and no file descriptor behind, reaping
// with a deadline, and the standard files a child of [proc.Spawn] needs.
//
// # Roles
//
// A multi-process test re-executes its own test binary. [Main], called
// from TestMain, runs the role named by [proc.EnvRole] and exits with its
// code when that variable is set, and otherwise makes the test process a
// child subreaper (so that orphaned grandchildren are reparented to it and
// can be reaped and checked) and runs the tests.
//
// # Cleanliness
//
// [Clean] records the open file descriptors when a test starts and checks
// at its end that the same ones are open and that the process has no
// child, zombie or not. Tests that use it must not run in parallel with
// other tests that start processes, because [proc.Reap] reaps any child.
package proctest

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/proc"
	"bgwmodel/impl/shmem/memfd"
)

// Roles maps a role name to the child's main; its result is the exit
// code.
type Roles map[string]func() int

// ExitUnknownRole is the exit code of a child whose role is not in Roles.
const ExitUnknownRole = 97

// Main is TestMain's body: it runs the role named by BGW_ROLE and exits,
// or prepares the test process and runs the tests. It does not return;
// it blocks for as long as the role or the tests run.
func Main(m *testing.M, roles Roles) {
	if role := os.Getenv(proc.EnvRole); role != "" {
		f, ok := roles[role]
		if !ok {
			fmt.Fprintf(os.Stderr, "proctest: unknown role %q\n", role)
			os.Exit(ExitUnknownRole)
		}
		os.Exit(f())
	}
	if err := proc.SetChildSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, "proctest:", err)
		os.Exit(2)
	}
	// Children built with -race would sleep 1 s at exit (the race
	// runtime's default atexit_sleep_ms); they are short-lived, so skip it.
	gorace := os.Getenv("GORACE")
	if !strings.Contains(gorace, "atexit_sleep_ms") {
		os.Setenv("GORACE", strings.TrimSpace(gorace+" atexit_sleep_ms=0"))
	}
	// Start the runtime's poller now, so its descriptors are not counted
	// as leaked by the first test that uses a pipe.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	os.Exit(m.Run())
}

// Clean checks that the test ends with no child process left (zombies
// included) and with exactly the file descriptors it started with. A
// leftover child is killed and reaped after being reported, so later tests
// start clean. It must be called at the start of the test, before the
// test registers its own cleanups. It does not block; the check at the end
// waits up to half a second for stragglers.
func Clean(t testing.TB) {
	t.Helper()
	if kids, err := proc.ChildPids(); err != nil {
		t.Fatal(err)
	} else if len(kids) > 0 {
		t.Fatalf("children left by an earlier test: %v", kids)
	}
	before, err := proc.OpenFDs()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		t.Helper()
		kids := settle(func() bool {
			k, _ := proc.ChildPids()
			return len(k) == 0
		})
		if !kids {
			k, _ := proc.ChildPids()
			t.Errorf("children left at the end of the test: %v", k)
			proc.KillAll(k, syscall.SIGKILL)
			for _, pid := range k {
				proc.WaitPid(pid)
			}
		}
		var diff []string
		ok := settle(func() bool {
			after, err := proc.OpenFDs()
			if err != nil {
				diff = []string{err.Error()}
				return false
			}
			diff = fdDiff(before, after)
			return len(diff) == 0
		})
		if !ok {
			t.Errorf("file descriptors differ at the end of the test:\n%s", strings.Join(diff, "\n"))
		}
	})
}

// settle retries cond briefly: a descriptor closed by a goroutine that is
// just returning, or a child that the kernel has not yet reparented, may
// take a moment.
func settle(cond func() bool) bool {
	for i := 0; i < 50; i++ {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

func fdDiff(before, after map[int]string) []string {
	var out []string
	for fd, target := range after {
		if b, ok := before[fd]; !ok || b != target {
			out = append(out, fmt.Sprintf("  leaked fd %d -> %s", fd, target))
		}
	}
	for fd, target := range before {
		if _, ok := after[fd]; !ok {
			out = append(out, fmt.Sprintf("  closed fd %d -> %s (not ours)", fd, target))
		}
	}
	slices.Sort(out)
	return out
}

// ReapAll reaps children with [proc.Reap] until every pid in pids has
// ended, and returns how each ended. It fails the test if one of them is
// still running after timeout (then kills and reaps it) or if another
// child is reaped meanwhile. It blocks until then.
func ReapAll(t testing.TB, timeout time.Duration, pids ...int) map[int]proc.Exited {
	t.Helper()
	n := proc.NotifyChildExit()
	defer n.Stop()
	want := make(map[int]bool, len(pids))
	for _, p := range pids {
		want[p] = true
	}
	got := make(map[int]proc.Exited, len(pids))
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond) // SIGCHLDs coalesce; poll too
	defer tick.Stop()
	for {
		ex, err := proc.Reap()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ex {
			if !want[e.Pid] {
				t.Errorf("reaped unexpected child %v", e)
				continue
			}
			got[e.Pid] = e
		}
		if len(got) == len(want) {
			return got
		}
		select {
		case <-n.C():
		case <-tick.C:
		case <-deadline.C:
			var missing []int
			for p := range want {
				if _, ok := got[p]; !ok {
					missing = append(missing, p)
				}
			}
			proc.KillAll(missing, syscall.SIGKILL)
			for _, p := range missing {
				proc.WaitPid(p)
			}
			t.Fatalf("children %v still running after %v", missing, timeout)
		}
	}
}

// Kit is the standard inheritance of a child of proc.Spawn: a small
// shared-memory segment and a postmaster-death pipe, both closed when the
// test ends.
type Kit struct {
	Region *memfd.Region
	Pipe   *proc.DeathPipe
}

// NewKit makes a Kit with a segment of size bytes. It does not block.
func NewKit(t testing.TB, size int) *Kit {
	t.Helper()
	r, err := memfd.Create("proctest", size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	p, err := proc.NewDeathPipe()
	if err != nil {
		t.Fatal(err)
	}
	k := &Kit{Region: r, Pipe: p}
	t.Cleanup(func() { k.Pipe.Close() })
	return k
}

// Files returns the files for proc.Spawn: the memfd at fd 3, the death
// pipe's read end at fd 4, then extra at fd 5, 6, ... It does not block.
func (k *Kit) Files(extra ...*os.File) []*os.File {
	return append([]*os.File{k.Region.File(), k.Pipe.ReadEnd()}, extra...)
}

// Pipe returns a pipe whose ends are closed when the test ends (closing an
// end earlier is fine). It does not block.
func Pipe(t testing.TB) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		w.Close()
	})
	return r, w
}

// Expect reads len(want) bytes from r within timeout and fails the test
// unless they are want. It blocks until then.
func Expect(t testing.TB, r *os.File, want string, timeout time.Duration) {
	t.Helper()
	got, err := Read(r, len(want), timeout)
	if err != nil || got != want {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}

// Read reads n bytes from r within timeout. r must be pollable (an end of
// os.Pipe that was never passed to a child). It blocks until then.
func Read(r *os.File, n int, timeout time.Duration) (string, error) {
	if err := r.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	defer r.SetReadDeadline(time.Time{})
	buf := make([]byte, n)
	k, err := io.ReadFull(r, buf)
	return string(buf[:k]), err
}
