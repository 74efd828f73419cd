package cluster_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/cluster"
	"bgwmodel/impl/flaw"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/proc/proctest"
	"bgwmodel/impl/worker"
	"bgwmodel/policy"
)

// TestRegisterStarted: a backend registers a worker and its wait returns
// STARTED with the worker's real pid, after the postmaster notified it.
func TestRegisterStarted(t *testing.T) {
	proctest.Clean(t)
	dir := t.TempDir()
	t.Setenv(envTestDir, dir)
	c := start(t, cluster.Config{MaxWorkers: 2})
	b := connect(t, c)
	h, err := b.Register(ctxT(t), def("recorder", "record", 42, 1))
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.WaitForStartup(ctxT(t), h)
	if err != nil || st.Status != bgworker.Started || st.Pid <= 0 {
		t.Fatalf("WaitForStartup = %v, %v; want STARTED with a pid", st, err)
	}
	// The pid is the worker process's own: it says so itself.
	want := fmt.Sprintf("%d 42\n", st.Pid)
	end := time.Now().Add(5 * time.Second)
	for {
		got, _ := os.ReadFile(filepath.Join(dir, "record"))
		if string(got) == want {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("worker recorded %q, want %q", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The postmaster published the pid, then notified this backend.
	recs, err := c.Records()
	if err != nil {
		t.Fatal(err)
	}
	launch := filter(recs, postmaster.RecordLaunch, func(r postmaster.Record) bool { return r.Pid == st.Pid })
	notify := filter(recs, postmaster.RecordNotify, func(r postmaster.Record) bool {
		return r.Slot == h.Slot && r.Notify == int32(b.Pid()) && r.Reason == postmaster.NotifyLaunched
	})
	if len(launch) != 1 || len(notify) != 1 || launch[0].Notify != int32(b.Pid()) || notify[0].Call < launch[0].Return {
		t.Fatalf("launch %v, notify %v", launch, notify)
	}
	if st2, err := b.GetPid(ctxT(t), h); err != nil || st2 != st {
		t.Errorf("GetPid = %v, %v; want %v", st2, err, st)
	}
}

// TestExit0Restart: a worker that exits 0 is restarted at once, as a new
// process.
func TestExit0Restart(t *testing.T) {
	proctest.Clean(t)
	c := start(t, cluster.Config{MaxWorkers: 2})
	b := connect(t, c)
	h, err := b.Register(ctxT(t), def("exit0", "exit0", 200, 60))
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.WaitForStartup(ctxT(t), h)
	if err != nil || st.Status != bgworker.Started {
		t.Fatalf("WaitForStartup = %v, %v", st, err)
	}
	st2 := pollStatus(t, b, h, 5*time.Second, func(s bgworker.PidStatus) bool {
		return s.Status == bgworker.Started && s.Pid != st.Pid
	})
	recs := waitRecords(t, c, "launch of the new pid", 5*time.Second, func(recs []postmaster.Record) bool {
		return len(filter(recs, postmaster.RecordLaunch, func(r postmaster.Record) bool { return r.Pid == st2.Pid })) == 1
	})
	exited := filter(recs, postmaster.RecordExited, func(r postmaster.Record) bool { return r.Pid == st.Pid })
	if len(exited) != 1 || exited[0].Exit != (bgworker.ExitStatus{Code: 0}) || exited[0].Decision != bgworker.RestartNow {
		t.Fatalf("exit records of pid %d: %v", st.Pid, exited)
	}
	relaunch := filter(recs, postmaster.RecordLaunch, func(r postmaster.Record) bool { return r.Pid == st2.Pid })[0]
	if gap := relaunch.Now - exited[0].Now; gap > 500*time.Millisecond {
		t.Errorf("restarted %v after exit 0, want at once", gap)
	}
}

// TestExit1RestartAfter: a worker that exits 1 is restarted after its
// restart_time (1 s), not before.
func TestExit1RestartAfter(t *testing.T) {
	proctest.Clean(t)
	c := start(t, cluster.Config{MaxWorkers: 2})
	b := connect(t, c)
	h, err := b.Register(ctxT(t), def("exit1", "exit1", 100, 1))
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.WaitForStartup(ctxT(t), h)
	if err != nil || st.Status != bgworker.Started {
		t.Fatalf("WaitForStartup = %v, %v", st, err)
	}
	// Between the exit and the restart the worker reads STOPPED.
	pollStatus(t, b, h, 5*time.Second, func(s bgworker.PidStatus) bool { return s.Status == bgworker.Stopped })
	st2 := pollStatus(t, b, h, 5*time.Second, func(s bgworker.PidStatus) bool { return s.Status == bgworker.Started })
	if st2.Pid == st.Pid {
		t.Fatalf("same pid %d after restart", st.Pid)
	}
	recs := waitRecords(t, c, "relaunch", 5*time.Second, func(recs []postmaster.Record) bool {
		return len(filter(recs, postmaster.RecordLaunch, func(r postmaster.Record) bool { return r.Pid == st2.Pid })) == 1
	})
	exited := filter(recs, postmaster.RecordExited, func(r postmaster.Record) bool { return r.Pid == st.Pid })
	if len(exited) != 1 || exited[0].Exit.Code != 1 || exited[0].Decision != bgworker.RestartAfter || exited[0].Delay != time.Second {
		t.Fatalf("exit records of pid %d: %v", st.Pid, exited)
	}
	spawns := filter(recs, postmaster.RecordSpawn, func(r postmaster.Record) bool {
		return r.Slot == h.Slot && r.Now > exited[0].Now
	})
	if len(spawns) != 1 {
		t.Fatalf("spawns after the exit: %v", spawns)
	}
	if gap := spawns[0].Now - exited[0].Now; gap < time.Second || gap > 1500*time.Millisecond {
		t.Errorf("restarted %v after exit 1, want 1 s (restart_time)", gap)
	}
}

// TestNeverRestartStopped: a NEVER_RESTART worker that exits is STOPPED,
// and its slot is free before its registrant is told: on a 1-slot
// cluster, a registration right after the waiter wakes succeeds. With
// flaw notify-before-free the record log shows the notification before
// the free.
func TestNeverRestartStopped(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flaws flaw.Set
		rules []policy.Rule
	}{{"fixed", 0, nil}, {"notify-before-free", flaw.Of(flaw.NotifyBeforeFree), []policy.Rule{policy.NotifyBeforeFree}}} {
		t.Run(tc.name, func(t *testing.T) {
			proctest.Clean(t)
			c := start(t, cluster.Config{MaxWorkers: 1, Flaws: tc.flaws}, tc.rules...)
			b := connect(t, c)
			h, err := b.Register(ctxT(t), def("once", "exit1", 300, bgworker.NeverRestart))
			if err != nil {
				t.Fatal(err)
			}
			if st, err := b.WaitForStartup(ctxT(t), h); err != nil || st.Status != bgworker.Started {
				t.Fatalf("WaitForStartup = %v, %v", st, err)
			}
			if st, err := b.WaitForShutdown(ctxT(t), h); err != nil || st.Status != bgworker.Stopped {
				t.Fatalf("WaitForShutdown = %v, %v", st, err)
			}
			h2, err := b.Register(ctxT(t), def("next", "run", 0, bgworker.NeverRestart))
			if tc.flaws == 0 && err != nil {
				t.Fatalf("register right after STOPPED: %v", err)
			}
			if st, err := b.GetPid(ctxT(t), h); err != nil || st.Status != bgworker.Stopped {
				t.Errorf("old handle: %v, %v; want STOPPED", st, err)
			}
			recs := waitRecords(t, c, "forget", 5*time.Second, func(recs []postmaster.Record) bool {
				return len(filter(recs, postmaster.RecordForget, inSlot(0))) > 0
			})
			forget := filter(recs, postmaster.RecordForget, inSlot(0))[0]
			var told postmaster.Record
			for _, r := range filter(recs, postmaster.RecordNotify, inSlot(0)) {
				if r.Reason == postmaster.NotifyStopped || r.Reason == postmaster.NotifyForgotten {
					told = r
					break
				}
			}
			if before := told.Call > forget.Return; before != (tc.flaws == 0) {
				t.Errorf("notify %v, forget %v: slot freed before the waiter is told = %v", told, forget, before)
			}
			if err == nil && h2.Slot != 0 {
				t.Errorf("second registration in slot %d", h2.Slot)
			}
		})
	}
}

// TestSpawnFailure: an injected spawn failure counts as a crash at that
// moment: retried after restart_time, or, for NEVER_RESTART, forgotten
// and its registrant told (STOPPED, slot free).
func TestSpawnFailure(t *testing.T) {
	t.Run("restart", func(t *testing.T) {
		proctest.Clean(t)
		c := start(t, cluster.Config{MaxWorkers: 2})
		b := connect(t, c)
		if err := c.FailSpawns(1); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		h, err := b.Register(ctxT(t), def("retried", "run", 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		st, err := b.WaitForStartup(ctxT(t), h)
		if err != nil || st.Status != bgworker.Started {
			t.Fatalf("WaitForStartup = %v, %v", st, err)
		}
		if d := time.Since(t0); d < time.Second {
			t.Errorf("started %v after a failed spawn, want >= restart_time (1 s)", d)
		}
		recs, _ := c.Records()
		failed := filter(recs, postmaster.RecordSpawnFailed, inSlot(h.Slot))
		if len(failed) != 1 || failed[0].Decision != bgworker.RestartAfter || !strings.Contains(failed[0].Detail, "injected") {
			t.Fatalf("spawn-failed records: %v", failed)
		}
		launch := filter(recs, postmaster.RecordLaunch, inSlot(h.Slot))
		if len(launch) != 1 || launch[0].Now-failed[0].Now < time.Second {
			t.Fatalf("launch %v after failure %v", launch, failed)
		}
	})
	t.Run("never-restart", func(t *testing.T) {
		proctest.Clean(t)
		c := start(t, cluster.Config{MaxWorkers: 1})
		b := connect(t, c)
		if err := c.FailSpawns(1); err != nil {
			t.Fatal(err)
		}
		h, err := b.Register(ctxT(t), def("doomed", "run", 0, bgworker.NeverRestart))
		if err != nil {
			t.Fatal(err)
		}
		st, err := b.WaitForStartup(ctxT(t), h)
		if err != nil || st.Status != bgworker.Stopped {
			t.Fatalf("WaitForStartup = %v, %v; want STOPPED", st, err)
		}
		if _, err := b.Register(ctxT(t), def("next", "run", 0, bgworker.NeverRestart)); err != nil {
			t.Fatalf("register right after STOPPED: %v", err)
		}
		recs, _ := c.Records()
		if f := filter(recs, postmaster.RecordSpawnFailed, nil); len(f) != 1 || f[0].Decision != bgworker.Forget {
			t.Fatalf("spawn-failed records: %v", f)
		}
		if f := filter(recs, postmaster.RecordNotify, func(r postmaster.Record) bool {
			return r.Reason == postmaster.NotifyForgotten && r.Notify == int32(b.Pid())
		}); len(f) != 1 {
			t.Fatalf("forgotten notifications: %v", f)
		}
	})
}

// TestRegisterErrors: errors the backend reports keep their identity
// across the connection.
func TestRegisterErrors(t *testing.T) {
	proctest.Clean(t)
	c := start(t, cluster.Config{MaxWorkers: 1, Static: []bgworker.Worker{def("static", "run", 0, 1)}})
	b := connect(t, c)
	_, err := b.Register(ctxT(t), def("full", "run", 0, 1))
	if !errors.Is(err, bgworker.ErrNoFreeSlot) {
		t.Errorf("register in a full cluster: %v, want ErrNoFreeSlot", err)
	}
	bad := def("bad", "run", 0, -5)
	_, err = b.Register(ctxT(t), bad)
	var ie *bgworker.InvalidError
	if !errors.Is(err, bgworker.ErrInvalidWorker) || !errors.As(err, &ie) || ie.Field != bgworker.FieldRestartTime {
		t.Errorf("register of a bad worker: %v, want ErrInvalidWorker on bgw_restart_time", err)
	}
	_, err = b.Register(ctxT(t), def("nowhere", "no_such_entry", 0, 1))
	if !errors.Is(err, worker.ErrUnknownEntry) {
		t.Errorf("register of an unknown entry: %v, want ErrUnknownEntry", err)
	}
	_, err = b.GetPid(ctxT(t), bgworker.Handle{Segment: c.SegmentID() + 1})
	if !errors.Is(err, bgworker.ErrForeignHandle) {
		t.Errorf("GetPid of a foreign handle: %v", err)
	}
	// Nothing reached the postmaster: no adoption, no rejection.
	recs, _ := c.Records()
	if n := len(filter(recs, postmaster.RecordAdopt, nil)) + len(filter(recs, postmaster.RecordReject, nil)); n != 0 {
		t.Errorf("%d adopt/reject records", n)
	}
}

// TestStopOrderly: Stop is an orderly shutdown: SIGTERM to the workers,
// which exit 1, then the postmaster exits 0; stamps increase through the
// log and the harness's clock reads later than every record.
func TestStopOrderly(t *testing.T) {
	proctest.Clean(t)
	dir := t.TempDir()
	t.Setenv(envTestDir, dir)
	c, err := cluster.Start(ctxT(t), cluster.Config{MaxWorkers: 2, Dir: t.TempDir(),
		Static: []bgworker.Worker{def("a", "record", 1, 1), def("b", "record", 2, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	b := connect(t, c)
	// Wait until both workers run their entries: a SIGTERM before a
	// worker has set up its signal handling kills it by signal (see
	// docs/runtime-plumbing.md, "Start-up window").
	waitFile(t, filepath.Join(dir, "record"), 2)
	mid := c.Stamp()
	if err := c.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetPid(ctxT(t), bgworker.Handle{}); err == nil {
		t.Error("backend still answers after Stop")
	}
	recs, err := c.Records()
	if err != nil {
		t.Fatal(err)
	}
	kinds := func(k postmaster.RecordKind) int { return len(filter(recs, k, nil)) }
	if kinds(postmaster.RecordShutdown) != 1 || kinds(postmaster.RecordShutdownDone) != 1 {
		t.Errorf("shutdown records missing")
	}
	for _, r := range filter(recs, postmaster.RecordExited, nil) {
		if r.Exit.Code != 1 {
			t.Errorf("worker exit at shutdown: %v", r)
		}
	}
	var stamps []uint64
	for _, r := range recs {
		stamps = append(stamps, r.Call, r.Return)
	}
	if !slices.IsSorted(stamps) || stamps[0] != 1 {
		t.Errorf("stamps not increasing from 1: %v", stamps)
	}
	// The harness's reading falls between the launches and the shutdown.
	for _, r := range recs {
		if (r.Kind == postmaster.RecordLaunch && r.Return > mid) || (r.Kind == postmaster.RecordShutdown && r.Call < mid) {
			t.Errorf("harness stamp %d, record %v", mid, r)
		}
	}
}

// waitFile waits until the file at path has at least n lines.
func waitFile(t *testing.T, path string, n int) []string {
	t.Helper()
	end := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(b) > 0 && len(lines) >= n {
			return lines
		}
		if time.Now().After(end) {
			t.Fatalf("%s: %q after 5 s, want %d lines", path, b, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
