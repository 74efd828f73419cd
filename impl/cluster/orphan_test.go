package cluster_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/cluster"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
)

// roleHarness is a harness that starts a cluster, wedges it (a worker
// running, a backend connected, the postmaster stopped), prints the pids
// and waits to be killed. Its Config.Dir is $CLUSTER_TEST_DIR ("" if
// unset: Start makes one), with RemoveDirIfOrphaned if
// $CLUSTER_TEST_REMOVE_DIR is set.
const roleHarness = "harness"

// envRemoveDir asks the harness for Config.RemoveDirIfOrphaned.
const envRemoveDir = "CLUSTER_TEST_REMOVE_DIR"

func harnessMain() int {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Config{MaxWorkers: 2, Dir: os.Getenv(envTestDir),
		RemoveDirIfOrphaned: os.Getenv(envRemoveDir) != "",
		Static:              []bgworker.Worker{def("static", "run", 0, 1)}, Registry: testRegistry()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b, err := c.Connect(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	h, err := b.Register(ctx, def("dynamic", "run", 0, 1))
	if err == nil {
		_, err = b.WaitForStartup(ctx, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Both workers' launches, the static one's too: on a loaded machine
	// its record may come after the dynamic worker has started.
	var launches []postmaster.Record
	for ctx.Err() == nil {
		recs, _ := c.Records()
		if launches = filter(recs, postmaster.RecordLaunch, nil); len(launches) >= 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	pids := []int{c.SupervisorPid(), c.PostmasterPid(), b.Pid()}
	for _, r := range launches {
		pids = append(pids, int(r.Pid))
	}
	proc.Kill(b.Pid(), syscall.SIGSTOP)
	proc.Kill(c.PostmasterPid(), syscall.SIGSTOP)
	fmt.Println(strings.Trim(fmt.Sprint(pids), "[]"))
	select {}
}

// privateTmp gives the test (and every process it starts) a TMPDIR of its
// own, so that it can count the temporary entries left there; it returns
// its path.
func privateTmp(t *testing.T) string {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return tmp
}

// bgwEntries lists the entries named bgw-* in dir: the socket directory
// (bgw-NNN) and the cluster directory (bgw-cluster-NNN) Start makes.
func bgwEntries(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "bgw-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// killHarness starts roleHarness, waits for its wedged cluster, kills the
// harness with sig, and waits until every process of the cluster has
// gone (within a bound: a hang is a failure) and reaps them. It fails the
// test if any is left.
func killHarness(t *testing.T, sig syscall.Signal) {
	t.Helper()
	r, w := proctest.Pipe(t)
	harness, err := (&proc.Command{Role: roleHarness, Stdout: w}).Start()
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	r.SetReadDeadline(time.Now().Add(testTimeout))
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		proc.Kill(harness, syscall.SIGKILL)
		proctest.ReapAll(t, testTimeout, harness)
		t.Fatalf("harness: %v", err)
	}
	var pids []int
	for _, f := range strings.Fields(line) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("harness said %q", line)
		}
		pids = append(pids, pid)
	}
	if len(pids) < 5 {
		t.Fatalf("harness said %q: want the supervisor, the postmaster, a backend and two workers", line)
	}
	killed := time.Now()
	if err := proc.Kill(harness, sig); err != nil {
		t.Fatal(err)
	}
	// Reap the harness by its pid: the cluster's processes, reparented to
	// this test process (a subreaper), may end first, and are reaped
	// below.
	done := make(chan proc.Exited, 1)
	go func() {
		e, err := proc.WaitPid(harness)
		if err != nil {
			t.Error(err)
		}
		done <- e
	}()
	select {
	case e := <-done:
		if !e.Status.Signaled || e.Signal != sig {
			t.Errorf("harness ended %v, want killed by %v", e, sig)
		}
	case <-time.After(testTimeout):
		t.Fatalf("harness %d still running %v after %v", harness, testTimeout, sig)
	}
	const bound = 5 * time.Second
	for _, pid := range pids {
		for !proc.Gone(pid) && time.Since(killed) < bound {
			time.Sleep(5 * time.Millisecond)
		}
		if !proc.Gone(pid) {
			st, _ := proc.Stat(pid)
			t.Errorf("pid %d (%c) still there %v after the harness died", pid, st.State, bound)
		}
	}
	t.Logf("all gone %v after the harness died", time.Since(killed).Round(time.Millisecond))
	// They were reparented to this test process (a subreaper): reap them.
	kids, _ := proc.ChildPids()
	proctest.ReapAll(t, testTimeout, kids...)
}

// TestHarnessDies: when the harness is killed with the cluster wedged (the
// postmaster and a backend stopped, workers running), nothing of the
// cluster outlives it: the supervisor's parent-death signal kills every
// process below it, and the supervisor removes the socket directory.
func TestHarnessDies(t *testing.T) {
	proctest.Clean(t)
	tmp := privateTmp(t)
	t.Setenv(envTestDir, t.TempDir())
	killHarness(t, syscall.SIGKILL)
	if left := bgwEntries(t, tmp); len(left) > 0 {
		t.Errorf("left in TMPDIR after the harness died: %v", left)
	}
}

// TestHarnessDiesRemovesDirs: a harness killed by SIGKILL or SIGINT
// leaves no temporary entry of the cluster's behind: the supervisor
// removes the socket directory, and the cluster directory if Start made
// it. A Dir the caller gave is removed only with RemoveDirIfOrphaned, and
// kept even then if it holds cluster.KeepFile.
func TestHarnessDiesRemovesDirs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sig       syscall.Signal
		callerDir bool // Config.Dir given; else "" (Start makes one)
		optIn     bool // RemoveDirIfOrphaned
		keep      bool // KeepFile written into Dir before the kill
		wantKept  bool // the caller's Dir still there afterwards
	}{
		{name: "sigkill/own-dir", sig: syscall.SIGKILL},
		{name: "sigint/own-dir", sig: syscall.SIGINT},
		{name: "sigkill/caller-dir", sig: syscall.SIGKILL, callerDir: true, wantKept: true},
		{name: "sigint/caller-dir", sig: syscall.SIGINT, callerDir: true, wantKept: true},
		{name: "sigkill/caller-dir/opt-in", sig: syscall.SIGKILL, callerDir: true, optIn: true},
		{name: "sigint/caller-dir/opt-in", sig: syscall.SIGINT, callerDir: true, optIn: true},
		{name: "sigkill/caller-dir/opt-in/keep", sig: syscall.SIGKILL, callerDir: true, optIn: true, keep: true, wantKept: true},
		{name: "sigint/caller-dir/opt-in/keep", sig: syscall.SIGINT, callerDir: true, optIn: true, keep: true, wantKept: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proctest.Clean(t)
			tmp := privateTmp(t)
			dir := ""
			if tc.callerDir {
				dir = filepath.Join(t.TempDir(), "run")
			}
			t.Setenv(envTestDir, dir)
			if tc.optIn {
				t.Setenv(envRemoveDir, "1")
			}
			if tc.keep {
				// The harness would write it when it finds a violation;
				// Start makes Dir if it is missing, so make it first.
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, cluster.KeepFile), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			killHarness(t, tc.sig)
			if left := bgwEntries(t, tmp); len(left) > 0 {
				t.Errorf("left in TMPDIR after the harness died: %v", left)
			}
			if !tc.callerDir {
				return
			}
			// A kept Dir is kept whole: the evidence is still there.
			_, err := os.Stat(filepath.Join(dir, cluster.RecordsFile))
			if kept := err == nil; kept != tc.wantKept {
				t.Errorf("caller's Dir kept = %v (%v), want %v", kept, err, tc.wantKept)
			}
			if _, err := os.Stat(dir); !tc.wantKept && err == nil {
				t.Errorf("caller's Dir %s still there", dir)
			}
		})
	}
}
