package cluster_test

import (
	"context"
	"regexp"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/cluster"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
)

// TestStopTimeoutMessage: when the cluster does not exit within Stop's
// bound (the supervisor is stopped), Stop kills it and its error states
// the bound it was given, not the time left after it (which is negative).
func TestStopTimeoutMessage(t *testing.T) {
	proctest.Clean(t)
	c, err := cluster.Start(ctxT(t), cluster.Config{MaxWorkers: 1, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Kill(c.SupervisorPid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	const given = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), given)
	defer cancel()
	err = c.Stop(ctx)
	if err == nil {
		t.Fatal("Stop of a cluster with its supervisor stopped succeeded")
	}
	m := regexp.MustCompile(`did not exit within (\S+): killed`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("Stop: %v; want it to say the cluster did not exit within the bound", err)
	}
	if d, perr := time.ParseDuration(m[1]); perr != nil || d <= 0 || d > given {
		t.Errorf("Stop: %v; want the bound given, %v (at most; positive)", err, given)
	}
	// Stop promises that nothing is left: proctest.Clean checks it.
}
