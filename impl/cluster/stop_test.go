package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
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

// TestControlStoppedPostmaster: a control call to a postmaster stopped by
// SIGSTOP fails after its bound with an error that names the postmaster,
// the request and the process's state; a cancelled call fails alone.
// Once the postmaster is continued, later calls with fresh contexts get
// their own replies.
func TestControlStoppedPostmaster(t *testing.T) {
	proctest.Clean(t)
	c := start(t, cluster.Config{MaxWorkers: 2, Static: []bgworker.Worker{def("static", "run", 0, 1)}})
	before, err := c.StopPostmasterAt(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Kill(c.PostmasterPid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	const given = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), given)
	defer cancel()
	_, err = c.Connect(ctx)
	want := fmt.Sprintf("cluster: control: the postmaster (pid %d) did not answer start_backend within %v: it is stopped (state T)",
		c.PostmasterPid(), given)
	if !errors.Is(err, context.DeadlineExceeded) || err.Error() != want {
		t.Errorf("Connect to a stopped postmaster: %v; want %q", err, want)
	}
	// Cancelled while it waits (or before it sends: both must fail alone).
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Connect(ctx)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // let it send its request
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Connect: %v, want context.Canceled", err)
	}
	if err := proc.Kill(c.PostmasterPid(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// Own replies: FailSpawns is acknowledged; Connect's reply names the
	// pid of the backend that says hello (Connect checks); StopPostmasterAt
	// reads a count of accesses (a start_backend reply has none).
	if err := c.FailSpawns(0); err != nil {
		t.Errorf("FailSpawns after the stall: %v", err)
	}
	connect(t, c)
	after, err := c.StopPostmasterAt(0)
	if err != nil || after < before || after == 0 {
		t.Errorf("StopPostmasterAt after the stall: %d, %v; want a count of accesses >= %d", after, err, before)
	}
}
