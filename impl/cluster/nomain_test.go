package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/cluster"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
)

// envNoMain makes TestMain run noMainProgram instead of cluster.Main: the
// test binary becomes a program that forgot to call cluster.Main. The
// variable is inherited by every process it starts.
const envNoMain = "CLUSTER_TEST_NO_MAIN"

// roleNoMain is the role noMainProgram is started in; TestMain never
// dispatches it (envNoMain comes first).
const roleNoMain = "no-main"

// noMainProgram is the main of a program that forgot cluster.Main: it
// starts a cluster, prints Start's error and exits 1, or stops the
// cluster and exits 0.
func noMainProgram() int {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Config{MaxWorkers: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		if errors.Is(err, cluster.ErrMainNotCalled) {
			return 1
		}
		return 2
	}
	if err := c.Stop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return 0
}

// TestMainNotCalled: a program that forgot cluster.Main does not start
// processes without end. Its supervisor, re-executed, reaches Start and
// exits at once; the program's Start fails with ErrMainNotCalled, and
// nothing is left: no process, no temporary directory.
func TestMainNotCalled(t *testing.T) {
	proctest.Clean(t)
	tmp := privateTmp(t)
	r, w := proctest.Pipe(t)
	pid, err := (&proc.Command{Role: roleNoMain, Env: []string{envNoMain + "=1"}, Stderr: w}).Start()
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	// A bound for a hang (the bug was a growing tree of processes), not
	// for speed.
	const bound = 10 * time.Second
	e := proctest.ReapAll(t, bound, pid)[pid]
	r.SetReadDeadline(time.Now().Add(testTimeout))
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status.Signaled || e.Status.Code != 1 {
		t.Errorf("program ended %v, want exit 1 (Start failed with ErrMainNotCalled); it said %q", e, out)
	}
	if want := cluster.ErrMainNotCalled.Error() + "\n"; string(out) != want {
		t.Errorf("program said %q, want %q", out, want)
	}
	if kids, _ := proc.ChildPids(); len(kids) > 0 {
		t.Errorf("processes left: %v", kids)
		proc.KillAll(kids, syscall.SIGKILL)
		proctest.ReapAll(t, testTimeout, kids...)
	}
	if left := bgwEntries(t, tmp); len(left) > 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}
