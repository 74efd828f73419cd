package cluster_test

import (
	"os"
	"os/signal"
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

// shm gives w the ShmemAccess flag: its bad exits crash the cluster.
func shm(w bgworker.Worker) bgworker.Worker {
	w.Flags |= bgworker.ShmemAccess
	return w
}

// launched returns the pid of the last launch in slot during epoch, or 0.
func launched(recs []postmaster.Record, slot int, epoch uint64) int32 {
	var pid int32
	for _, r := range filter(recs, postmaster.RecordLaunch, inSlot(slot)) {
		if r.Epoch == epoch {
			pid = r.Pid
		}
	}
	return pid
}

// TestCrashRestartWorkerExit2: a ShmemAccess worker exiting with code 2
// crashes the cluster: every child gets SIGQUIT (the backend too), shared
// memory is rebuilt in a new epoch, the static workers come back as new
// processes, and handles from before read STOPPED.
func TestCrashRestartWorkerExit2(t *testing.T) {
	proctest.Clean(t)
	t.Setenv(envTestDir, t.TempDir())
	c := start(t, cluster.Config{MaxWorkers: 4,
		Static: []bgworker.Worker{shm(def("static0", "run", 0, 1)), shm(def("static1", "run", 0, 1))}})
	b := connect(t, c)
	h1, err := b.Register(ctxT(t), shm(def("bystander", "run", 0, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := b.WaitForStartup(ctxT(t), h1); err != nil || st.Status != bgworker.Started {
		t.Fatalf("WaitForStartup = %v, %v", st, err)
	}
	h2, err := b.Register(ctxT(t), shm(def("crasher", "crash-once", 7, 1)))
	if err != nil {
		t.Fatal(err)
	}
	recs := waitRecords(t, c, "re-launch of both static workers", 10*time.Second, func(recs []postmaster.Record) bool {
		return launched(recs, 0, 1) != 0 && launched(recs, 1, 1) != 0
	})
	crash := filter(recs, postmaster.RecordCrashRestart, nil)
	if len(crash) != 1 || !strings.Contains(crash[0].Detail, `"crasher"`) || !strings.Contains(crash[0].Detail, "exit 2") {
		t.Fatalf("crash records: %v", crash)
	}
	if len(filter(recs, postmaster.RecordReinit, nil)) != 1 {
		t.Fatalf("no reinit")
	}
	for slot := range 2 {
		if old, now := launched(recs, slot, 0), launched(recs, slot, 1); old == 0 || now == old {
			t.Errorf("static worker in slot %d: pid %d before the crash, %d after", slot, old, now)
		}
	}
	// The backend was sent SIGQUIT with everyone else.
	quit := filter(recs, postmaster.RecordBackendExited, func(r postmaster.Record) bool { return r.Pid == int32(b.Pid()) })
	if len(quit) != 1 || quit[0].Exit.Code != 2 {
		t.Errorf("backend exit: %v", quit)
	}
	if _, err := b.GetPid(ctxT(t), h1); err == nil {
		t.Errorf("backend answered after the crash restart")
	}
	b2 := connect(t, c)
	for _, h := range []bgworker.Handle{h1, h2} {
		if st, err := b2.GetPid(ctxT(t), h); err != nil || st.Status != bgworker.Stopped {
			t.Errorf("handle %+v from before the crash: %v, %v; want STOPPED", h, st, err)
		}
	}
}

// TestBackendKilled: a backend killed with SIGKILL crashes the cluster.
func TestBackendKilled(t *testing.T) {
	proctest.Clean(t)
	c := start(t, cluster.Config{MaxWorkers: 2, Static: []bgworker.Worker{def("static", "run", 0, 1)}})
	b := connect(t, c)
	recs := waitRecords(t, c, "static launch", 5*time.Second, func(recs []postmaster.Record) bool {
		return launched(recs, 0, 0) != 0
	})
	before := launched(recs, 0, 0)
	if err := proc.Kill(b.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	recs = waitRecords(t, c, "re-launch after the crash", 10*time.Second, func(recs []postmaster.Record) bool {
		return launched(recs, 0, 1) != 0
	})
	died := filter(recs, postmaster.RecordBackendExited, func(r postmaster.Record) bool { return r.Pid == int32(b.Pid()) })
	if len(died) != 1 || !died[0].Exit.Signaled {
		t.Fatalf("backend exit records: %v", died)
	}
	if crash := filter(recs, postmaster.RecordCrashRestart, nil); len(crash) != 1 || !strings.Contains(crash[0].Detail, "backend") {
		t.Fatalf("crash records: %v", crash)
	}
	if after := launched(recs, 0, 1); after == before {
		t.Errorf("static worker kept pid %d", after)
	}
}

// TestPostmasterKilled: when the postmaster is killed with SIGKILL, every
// backend's wait returns POSTMASTER_DIED and every worker and backend
// exits, within a bound, also when the postmaster was stopped (SIGSTOP)
// first; Stop then finds nothing to kill.
func TestPostmasterKilled(t *testing.T) {
	const bound = 2 * time.Second
	for _, stopped := range []bool{false, true} {
		t.Run(map[bool]string{false: "running", true: "stopped"}[stopped], func(t *testing.T) {
			proctest.Clean(t)
			t.Setenv(envTestDir, t.TempDir())
			c := start(t, cluster.Config{MaxWorkers: 4, Static: []bgworker.Worker{def("static", "record", 0, 1)}})
			backends := []*cluster.Backend{connect(t, c), connect(t, c)}
			waitFile(t, os.Getenv(envTestDir)+"/record", 1)
			recs, _ := c.Records()
			pids := []int{int(launched(recs, 0, 0))}
			if stopped {
				// Registrations land in shared memory; the postmaster
				// never sees them.
				if err := proc.Kill(c.PostmasterPid(), syscall.SIGSTOP); err != nil {
					t.Fatal(err)
				}
			} else if err := c.FailSpawns(len(backends)); err != nil {
				t.Fatal(err) // the workers stay NOT_YET_STARTED for 60 s
			}
			type result struct {
				st  bgworker.PidStatus
				err error
				at  time.Time
			}
			results := make(chan result, len(backends))
			for i, b := range backends {
				pids = append(pids, b.Pid())
				h, err := b.Register(ctxT(t), def("waited-for", "run", uint64(i), 60))
				if err != nil {
					t.Fatal(err)
				}
				go func() {
					st, err := b.WaitForStartup(ctxT(t), h)
					results <- result{st, err, time.Now()}
				}()
			}
			if !stopped {
				waitRecords(t, c, "failed spawns", 5*time.Second, func(recs []postmaster.Record) bool {
					return len(filter(recs, postmaster.RecordSpawnFailed, nil)) == len(backends)
				})
			}
			time.Sleep(200 * time.Millisecond) // let the waits begin
			select {
			case r := <-results:
				t.Fatalf("a wait returned before the postmaster died: %v, %v", r.st, r.err)
			default:
			}
			killed := time.Now()
			if err := c.Kill(); err != nil {
				t.Fatal(err)
			}
			for range backends {
				r := <-results
				if r.err != nil || r.st.Status != bgworker.PostmasterDied {
					t.Errorf("wait = %v, %v; want POSTMASTER_DIED", r.st, r.err)
				}
				if d := r.at.Sub(killed); d > bound {
					t.Errorf("wait returned %v after the kill", d)
				}
			}
			for _, pid := range pids {
				for !proc.Gone(pid) && time.Since(killed) < bound {
					time.Sleep(5 * time.Millisecond)
				}
				if !proc.Gone(pid) {
					t.Errorf("pid %d still running %v after the postmaster died", pid, bound)
				}
			}
			t.Logf("all gone %v after the kill", time.Since(killed).Round(time.Millisecond))
		})
	}
}

// TestNotifyStranger: a notify pid that names no backend of the
// postmaster (here the test process, counting its SIGUSR1s) is dropped at
// adoption and never signalled, neither at start nor at stop.
func TestNotifyStranger(t *testing.T) {
	proctest.Clean(t)
	usr1 := make(chan os.Signal, 16)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	c := start(t, cluster.Config{MaxWorkers: 2})
	b := connect(t, c)
	me := int32(os.Getpid())
	w := def("stranger", "exit1", 200, bgworker.NeverRestart)
	w.NotifyPid = me
	h, err := b.Register(ctxT(t), w)
	if err != nil {
		t.Fatal(err)
	}
	pollStatus(t, b, h, 5*time.Second, func(s bgworker.PidStatus) bool { return s.Status == bgworker.Started })
	pollStatus(t, b, h, 5*time.Second, func(s bgworker.PidStatus) bool { return s.Status == bgworker.Stopped })
	recs := waitRecords(t, c, "forget", 5*time.Second, func(recs []postmaster.Record) bool {
		return len(filter(recs, postmaster.RecordForget, inSlot(h.Slot))) == 1
	})
	time.Sleep(100 * time.Millisecond)
	if n := len(usr1); n != 0 {
		t.Errorf("the test process got %d SIGUSR1", n)
	}
	if d := filter(recs, postmaster.RecordDropNotify, inSlot(h.Slot)); len(d) != 1 || d[0].Pid != me {
		t.Errorf("drop-notify records: %v", d)
	}
	for _, r := range recs {
		if r.Notify == me {
			t.Errorf("record names the stranger as registrant: %v", r)
		}
	}
	// The counter works.
	proc.Kill(os.Getpid(), syscall.SIGUSR1)
	select {
	case <-usr1:
	case <-time.After(5 * time.Second):
		t.Error("the SIGUSR1 counter counts nothing")
	}
}
