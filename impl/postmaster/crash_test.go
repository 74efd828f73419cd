package postmaster

import (
	"errors"
	"slices"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/shmem"
)

// crashSetup starts a cluster with a shmem static worker, a non-shmem
// static worker, backend 100 and a dynamic worker it registered.
func crashSetup(t *testing.T) (*fakeDriver, *bgworker.Backend, bgworker.Handle) {
	t.Helper()
	d := newDriver(t, Config{MaxWorkers: 4, ConsistentDelay: time.Second, Static: []bgworker.Worker{
		wk("stat", bgworker.ShmemAccess, bgworker.PostmasterStart, 5),
		wk("plain", 0, bgworker.PostmasterStart, 5),
	}})
	d.start()
	be := d.startBackend(100)
	h := d.register(be, withNotify(wk("dyn", bgworker.ShmemAccess, bgworker.PostmasterStart, bgworker.NeverRestart), 100))
	d.runUntil(2 * time.Second)
	if n := len(d.c.Children()); n != 3 {
		t.Fatalf("%d children, want 3", n)
	}
	return d, be, h
}

func TestCrashRestart(t *testing.T) {
	tests := []struct {
		name    string
		trigger func(d *fakeDriver)
		crash   bool
	}{
		{"shmem worker exits 2", func(d *fakeDriver) { d.exitChild(d.pidOf("stat"), exit2) }, true},
		{"shmem worker killed", func(d *fakeDriver) { d.exitChild(d.pidOf("dyn"), signaled) }, true},
		{"backend killed", func(d *fakeDriver) { d.exitBackend(100, signaled) }, true},
		{"backend exits 2", func(d *fakeDriver) { d.exitBackend(100, exit2) }, true},
		{"non-shmem worker exits 2", func(d *fakeDriver) { d.exitChild(d.pidOf("plain"), exit2) }, false},
		{"shmem worker exits 1", func(d *fakeDriver) { d.exitChild(d.pidOf("stat"), exit1) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, be, h := crashSetup(t)
			d.now = 3 * time.Second
			mark, amark := len(d.recs), len(d.acts)
			tc.trigger(d)
			if !tc.crash {
				if len(d.actsOf(amark, ActionKillAll)) != 0 || len(d.recsOf(mark, RecordCrashRestart)) != 0 {
					t.Fatalf("crash restart:\n%s", d.dump(mark))
				}
				if ex := d.recsOf(mark, RecordExited); len(ex) != 1 || ex[0].Decision != bgworker.RestartAfter {
					t.Fatalf("exited %v", ex)
				}
				return
			}
			if len(d.actsOf(amark, ActionKillAll)) != 1 || len(d.recsOf(mark, RecordCrashRestart)) != 1 {
				t.Fatalf("no crash restart:\n%s", d.dump(mark))
			}
			// Nothing starts between KillAll and Reinit.
			kill := slices.IndexFunc(d.acts[amark:], func(a Action) bool { return a.Kind == ActionKillAll })
			if got := d.spawned(amark); len(got) > 0 {
				first := slices.IndexFunc(d.acts[amark:], func(a Action) bool { return a.Kind == ActionSpawn })
				ri := slices.IndexFunc(d.recs[mark:], func(r Record) bool { return r.Kind == RecordReinit })
				if first < kill || ri < 0 {
					t.Fatalf("spawn before reinit:\n%s", d.dump(mark))
				}
			}
			re := d.recsOf(mark, RecordReinit)
			if len(re) != 1 || !slices.Equal(re[0].InUse, []int{0, 1, 2}) || re[0].Epoch != 1 {
				t.Fatalf("reinit records %v:\n%s", re, d.dump(mark))
			}
			if d.c.Epoch() != 1 || d.c.PMState() != PMRun {
				t.Fatalf("epoch %d state %v", d.c.Epoch(), d.c.PMState())
			}
			// The old handle is from another epoch: STOPPED, whatever the slot holds.
			if st := d.status(be, h); st.Status != bgworker.Stopped {
				t.Errorf("old handle reads %v, want STOPPED", st)
			}
			// Statics (and, as in the seed, the dynamic worker) are back;
			// the ConsistentState phase starts again.
			if got := d.spawned(amark + kill); !slices.Equal(got, []string{"stat", "plain", "dyn"}) {
				t.Errorf("spawned after reinit %v", got)
			}
			for _, w := range d.c.Workers() {
				if w.Worker.NotifyPid != 0 || w.Pid == 0 || !w.Started {
					t.Errorf("worker after reinit %+v", w)
				}
			}
			if st, _ := d.c.StartState(); st != bgworker.PostmasterStart {
				t.Errorf("start state %v after reinit", st)
			}
			if w, ok := d.c.NextWake(); !ok || w != d.now+time.Second {
				t.Errorf("next wake %v %v", w, ok)
			}
			if len(d.c.LiveBackends()) != 0 {
				t.Errorf("backends survived: %v", d.c.LiveBackends())
			}
			// A new backend registers in the new epoch.
			be2 := d.startBackend(300)
			h2 := d.register(be2, wk("fresh", 0, bgworker.PostmasterStart, 5))
			if h2.Epoch != 1 || h2.Slot != 3 {
				t.Errorf("new handle %+v", h2)
			}
		})
	}
}

// The core waits for every child and backend before re-initializing; a
// second crash only adds a record; a spawn answered late is killed.
func TestCrashRestartWaits(t *testing.T) {
	d, _, _ := crashSetup(t)
	d.autoKill = false
	d.startBackend(101)
	// A spawn outstanding when the crash comes.
	d.holdSpawns = true
	d.exitChild(d.pidOf("plain"), exit0)
	d.holdSpawns = false
	if d.c.PendingSpawns() != 1 || len(d.held) != 1 {
		t.Fatalf("pending %d held %d", d.c.PendingSpawns(), len(d.held))
	}
	mark := len(d.recs)
	d.exitChild(d.pidOf("stat"), exit2)
	if d.c.PMState() != PMCrashWait || len(d.actsOf(0, ActionKillAll)) != 1 {
		t.Fatalf("state %v", d.c.PMState())
	}
	steps := []func(){
		func() { d.exitBackend(100, exit2) },                        // killed backend: no second restart
		func() { d.exitChild(d.pidOf("dyn"), exit2) },               // a second crash: records only
		func() { d.feed(d.held[0]) },                                // late spawn: SIGQUIT
		func() { d.feed(Event{Kind: EventPMSignal}) },               // adoption may happen, nothing starts
		func() { d.exitChild(d.pidOf("plain"), signaled) },          // the late child
		func() { d.feed(Event{Kind: EventTick}) },                   // nothing starts
		func() { d.exitBackend(101, bgworker.ExitStatus{Code: 2}) }, // the last one
	}
	for i, step := range steps {
		step()
		if last := i == len(steps)-1; last != (len(d.recsOf(mark, RecordReinit)) == 1) {
			t.Fatalf("after step %d: reinit=%v:\n%s", i, !last, d.dump(mark))
		}
		if i < len(steps)-1 && len(d.recsOf(mark, RecordSpawn)) != 0 {
			t.Fatalf("spawned during crash restart:\n%s", d.dump(mark))
		}
	}
	if n := len(d.recsOf(mark, RecordCrashRestart)); n != 1 {
		t.Errorf("%d crash-restart records, want 1 (a second worker crash is only reaped)", n)
	}
	late := d.recsOf(mark, RecordLateSpawn)
	if len(late) != 1 || !slices.ContainsFunc(d.acts, func(a Action) bool {
		return a.Kind == ActionSignal && a.Signal == SIGQUIT && a.Pid == late[0].Pid
	}) {
		t.Errorf("late spawn %v not killed", late)
	}
	if n := len(d.actsOf(0, ActionKillAll)); n != 1 {
		t.Errorf("%d KillAll", n)
	}
}

func TestCorruptSharedMemory(t *testing.T) {
	const slotBase, slotSize, worker = 64, 232, 16
	tests := []struct {
		name    string
		corrupt func(m shmem.Memory)
		want    []RecordKind
		notify  bool
	}{
		{"total_slots", func(m shmem.Memory) { _ = m.Store32(8, 99, shmem.Relaxed) }, []RecordKind{RecordCorrupt}, false},
		{"garbage slot", func(m shmem.Memory) {
			off := shmem.Offset(slotBase + 2*slotSize)
			junk := make([]byte, 216)
			for i := range junk {
				junk[i] = 0xff
			}
			_ = m.StoreBytes(off+worker, junk)
			_ = m.Store32(off, 1, shmem.Relaxed)
		}, []RecordKind{RecordReject, RecordDropNotify}, false},
		{"bad restart time, live registrant", func(m shmem.Memory) {
			off := shmem.Offset(slotBase + 3*slotSize)
			blk := make([]byte, 216)
			copy(blk, "bad")
			copy(blk[64:], "lib")
			copy(blk[128:], "fn")
			blk[192] = 1                                    // flags
			copy(blk[200:], []byte{0xfb, 0xff, 0xff, 0xff}) // restart_time -5
			blk[204] = 100                                  // notify pid 100
			_ = m.StoreBytes(off+worker, blk)
			_ = m.Store32(off, 1, shmem.Relaxed)
		}, []RecordKind{RecordReject, RecordNotify}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, Config{MaxWorkers: 4, Static: []bgworker.Worker{wk("s", 0, bgworker.PostmasterStart, 5)}})
			d.start()
			d.startBackend(100)
			tc.corrupt(d.mem)
			_ = d.mem.Store32(12, 1, shmem.Relaxed) // PMSIGNAL flag
			mark, amark := len(d.recs), len(d.acts)
			d.feed(Event{Kind: EventPMSignal})
			if got := d.kinds(mark); !slices.Equal(got, tc.want) {
				t.Fatalf("records %v, want %v:\n%s", got, tc.want, d.dump(mark))
			}
			if got := d.actsOf(amark, ActionSignal); tc.notify != (len(got) == 1 && got[0].Pid == 100) {
				t.Errorf("signals %v", got)
			}
			if r := d.recsOf(mark, RecordReject); len(r) == 1 {
				if v, _ := d.mem.Load32(shmem.Offset(slotBase+r[0].Slot*slotSize), shmem.Relaxed); v != 0 {
					t.Errorf("rejected slot still in use")
				}
			}
			if len(d.c.Workers()) != 1 || d.c.PMState() != PMRun {
				t.Errorf("workers %v state %v", d.c.Workers(), d.c.PMState())
			}
		})
	}
}

func TestShutdown(t *testing.T) {
	statics := []bgworker.Worker{wk("a", bgworker.ShmemAccess, bgworker.PostmasterStart, 5), wk("b", 0, bgworker.PostmasterStart, 5)}
	tests := []struct {
		name  string
		setup func(d *fakeDriver)
		kills int // SIGTERMs expected
	}{
		{"running workers", func(d *fakeDriver) {}, 2},
		{"no workers", func(d *fakeDriver) {
			d.autoKill = true
			d.exitChild(d.pidOf("a"), exit1)
			d.exitChild(d.pidOf("b"), exit1)
			d.autoKill = false
		}, 0},
		{"spawn outstanding", func(d *fakeDriver) {
			d.holdSpawns = true
			d.exitChild(d.pidOf("b"), exit0)
			d.holdSpawns = false
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, Config{MaxWorkers: 3, Static: statics})
			d.start()
			d.startBackend(100)
			d.autoKill = false
			tc.setup(d)
			mark, amark := len(d.recs), len(d.acts)
			d.feed(Event{Kind: EventShutdown})
			terms := d.actsOf(amark, ActionSignal)
			if len(terms) != tc.kills {
				t.Fatalf("signals %v, want %d SIGTERM", terms, tc.kills)
			}
			for _, a := range terms {
				if a.Signal != SIGTERM {
					t.Errorf("signal %v", a)
				}
			}
			for _, ev := range d.held {
				d.feed(ev) // the late spawn gets its SIGTERM now
			}
			for _, pid := range d.c.Children() {
				if d.exited {
					t.Fatalf("exited with children")
				}
				d.exitChild(pid, exit0) // exit 0 would restart: not during shutdown
			}
			d.runUntil(time.Hour)
			if !d.exited || d.c.PMState() != PMExited {
				t.Fatalf("not exited:\n%s", d.dump(mark))
			}
			if got := d.spawned(amark); len(got) != 0 {
				t.Errorf("spawned during shutdown: %v", got)
			}
			if got := d.kinds(mark); got[len(got)-1] != RecordShutdownDone {
				t.Errorf("records %v", got)
			}
			if err := d.c.Step(Event{Kind: EventTick}); !errors.Is(err, ErrExited) {
				t.Errorf("step after exit: %v", err)
			}
		})
	}
}

// SIGTERM during a crash restart: the postmaster exits instead of
// re-initializing once every child is gone.
func TestShutdownDuringCrashRestart(t *testing.T) {
	d, _, _ := crashSetup(t)
	d.autoKill = false
	d.exitChild(d.pidOf("stat"), exit2)
	d.feed(Event{Kind: EventShutdown})
	for _, pid := range d.c.Children() {
		d.exitChild(pid, signaled)
	}
	if d.exited {
		t.Fatalf("exited with a backend alive")
	}
	d.exitBackend(100, exit2)
	if !d.exited || len(d.recsOf(0, RecordReinit)) != 0 {
		t.Fatalf("exited=%v:\n%s", d.exited, d.dump(0))
	}
}
