package postmaster

import (
	"errors"
	"slices"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
)

// A never-restart worker that exits 1 is forgotten. Fixed: its slot is
// free by the time its registrant is told. With notify-before-free the
// registrant is told first and a registration at that moment finds no free
// slot; the next tick frees it.
func TestNeverRestartFreesBeforeNotify(t *testing.T) {
	tests := []struct {
		name      string
		flaws     flaw.Set
		wantFree  bool // a slot is free when the notify is sent
		wantOrder []RecordKind
	}{
		{"fixed", 0, true, []RecordKind{RecordExited, RecordReportStopped, RecordForget, RecordNotify}},
		{"notify-before-free", flaw.Of(flaw.NotifyBeforeFree), false,
			[]RecordKind{RecordExited, RecordReportStopped, RecordNotify, RecordForget}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, Config{MaxWorkers: 1, Flaws: tc.flaws})
			d.start()
			be := d.startBackend(100)
			other := d.startBackend(200)
			h := d.register(be, withNotify(wk("once", bgworker.ShmemAccess, bgworker.PostmasterStart, bgworker.NeverRestart), 100))
			pid := d.pidOf("once")

			notified := false
			var regErr error
			var atNotify bgworker.PidStatus
			d.onSignal = func(a Action) {
				if a.Signal != SIGUSR1 || a.Pid != 100 || notified {
					return
				}
				notified = true
				atNotify = d.status(be, h)
				_, regErr = other.RegisterDynamicBackgroundWorker(wk("next", 0, bgworker.PostmasterStart, 5))
			}
			d.now = 2 * time.Second
			mark := len(d.recs)
			d.exitChild(pid, exit1)
			if !notified {
				t.Fatalf("registrant not notified:\n%s", d.dump(mark))
			}
			if atNotify.Status != bgworker.Stopped {
				t.Errorf("status at notify %v, want STOPPED", atNotify)
			}
			if tc.wantFree && regErr != nil {
				t.Errorf("registration at notify: %v, want a free slot", regErr)
			}
			if !tc.wantFree && !errors.Is(regErr, bgworker.ErrNoFreeSlot) {
				t.Errorf("registration at notify: %v, want ErrNoFreeSlot", regErr)
			}
			d.runUntil(d.now) // the deferred free, with the flaw
			if got := d.kinds(mark, RecordStateReached); !slices.Equal(got, tc.wantOrder) {
				t.Fatalf("records %v, want %v:\n%s", got, tc.wantOrder, d.dump(mark))
			}
			if f := d.recsOf(mark, RecordForget)[0]; f.Slot != h.Slot || f.Notify != 100 {
				t.Errorf("forget record %v", f)
			}
			if n := d.recsOf(mark, RecordNotify); len(n) != 1 {
				t.Errorf("notified %d times, want once: %v", len(n), n)
			}
			if len(d.c.Workers()) != 0 {
				t.Errorf("still registered: %v", d.c.Workers())
			}
			if !tc.wantFree {
				if _, err := other.RegisterDynamicBackgroundWorker(wk("next", 0, bgworker.PostmasterStart, 5)); err != nil {
					t.Errorf("registration after the deferred free: %v", err)
				}
			}
		})
	}
}

func TestSpawnFailure(t *testing.T) {
	tests := []struct {
		name     string
		flaws    flaw.Set
		restart  int32
		fails    int
		forget   bool // the worker is forgotten
		notified bool // its registrant is told (forgotten ones only)
		leaked   int
		retryIn  time.Duration // for workers not forgotten: when the spawn is retried
	}{
		{name: "fixed, restart after restart_time", restart: 10, fails: 1, retryIn: 10 * time.Second},
		{name: "fixed, restart_time 0 retries on the next tick", restart: 0, fails: 1, retryIn: 0},
		{name: "fixed, never restart: forgotten and notified", restart: bgworker.NeverRestart, fails: 1, forget: true, notified: true},
		{name: "silent-forget, never restart: forgotten silently", flaws: flaw.Of(flaw.SilentForget),
			restart: bgworker.NeverRestart, fails: 1, forget: true},
		{name: "silent-forget, restart after restart_time", flaws: flaw.Of(flaw.SilentForget), restart: 10, fails: 1,
			retryIn: 10 * time.Second},
		{name: "spawn-failure-as-start retries hot and leaks", flaws: flaw.Of(flaw.SpawnFailureAsStart),
			restart: 10, fails: 3, leaked: 3},
		{name: "spawn-failure-as-start never forgets", flaws: flaw.Of(flaw.SpawnFailureAsStart, flaw.SilentForget),
			restart: bgworker.NeverRestart, fails: 2, leaked: 2},
	}
	const t0 = time.Second
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, Config{MaxWorkers: 2, Flaws: tc.flaws})
			d.start()
			be := d.startBackend(100)
			d.now = t0
			d.fail["w"] = tc.fails
			mark, amark := len(d.recs), len(d.acts)
			h := d.register(be, withNotify(wk("w", bgworker.ShmemAccess, bgworker.PostmasterStart, tc.restart), 100))

			failed := d.recsOf(mark, RecordSpawnFailed)
			if len(failed) == 0 || failed[0].Slot != h.Slot {
				t.Fatalf("spawn-failed records %v:\n%s", failed, d.dump(mark))
			}
			if tc.forget {
				if f := d.recsOf(mark, RecordForget); len(f) != 1 || f[0].Slot != h.Slot {
					t.Fatalf("forget records %v", f)
				}
				if st := d.status(be, h); st.Status != bgworker.Stopped {
					t.Errorf("status %v, want STOPPED", st)
				}
				n := d.recsOf(mark, RecordNotify)
				if tc.notified != (len(n) == 1 && n[0].Reason == NotifyForgotten) {
					t.Errorf("notify records %v, want notified=%v", n, tc.notified)
				}
				if sig := d.actsOf(amark, ActionSignal); tc.notified != (len(sig) == 1) {
					t.Errorf("signals %v", sig)
				}
				if len(d.c.Workers()) != 0 {
					t.Errorf("still registered")
				}
				d.runUntil(time.Hour)
				if got := d.spawned(amark); len(got) != 1 {
					t.Errorf("spawned %v after forget", got)
				}
				return
			}
			if tc.leaked > 0 {
				// The seed: crashed_at stays 0; each tick at t0 retries.
				d.runUntil(t0)
				if got := d.c.LeakedChildSlots(); got != tc.leaked {
					t.Errorf("leaked child slots %d, want %d", got, tc.leaked)
				}
				for _, r := range d.recsOf(mark, RecordSpawn) {
					if r.Now != t0 {
						t.Errorf("retry at %v, want %v (hot)", r.Now, t0)
					}
				}
				if got := len(d.spawned(amark)); got != tc.fails+1 {
					t.Errorf("%d spawns, want %d", got, tc.fails+1)
				}
				if len(d.recsOf(mark, RecordForget)) != 0 {
					t.Errorf("forgotten")
				}
			} else {
				if f := failed[0]; f.Decision != bgworker.RestartAfter || f.Delay != tc.retryIn {
					t.Errorf("spawn-failed %v", f)
				}
				if st := d.status(be, h); st.Status != bgworker.NotYetStarted {
					t.Errorf("status %v, want NOT_YET_STARTED", st)
				}
				if len(d.recsOf(mark, RecordNotify)) != 0 {
					t.Errorf("notified on a failed spawn")
				}
				if tc.retryIn > 0 {
					d.runUntil(t0 + tc.retryIn - 1)
					if got := d.spawned(amark); len(got) != 1 {
						t.Fatalf("retried before restart_time: %v", got)
					}
				}
				d.runUntil(t0 + tc.retryIn)
				if d.c.LeakedChildSlots() != 0 {
					t.Errorf("leaked without the flaw")
				}
			}
			pid := d.pidOf("w")
			if st := d.status(be, h); st.Status != bgworker.Started || st.Pid != pid {
				t.Errorf("status after retry %v", st)
			}
			if n := d.recsOf(mark, RecordNotify); len(n) != 1 || n[0].Reason != NotifyLaunched {
				t.Errorf("notify records %v", n)
			}
		})
	}
}

// A static worker's failed spawn is retried after restart_time too.
func TestStaticSpawnFailure(t *testing.T) {
	d := newDriver(t, Config{MaxWorkers: 1, Static: []bgworker.Worker{wk("s", 0, bgworker.PostmasterStart, 3)}})
	d.fail["s"] = 1
	d.start()
	d.runUntil(3*time.Second - 1)
	if len(d.c.Children()) != 0 {
		t.Fatalf("restarted early")
	}
	d.runUntil(3 * time.Second)
	if len(d.c.Children()) != 1 {
		t.Fatalf("not restarted:\n%s", d.dump(0))
	}
}

func TestNotifyPidOfNonBackendDropped(t *testing.T) {
	d := newDriver(t, Config{MaxWorkers: 2})
	d.start()
	be := d.startBackend(100)
	mark, amark := len(d.recs), len(d.acts)
	h := d.register(be, withNotify(wk("w", 0, bgworker.PostmasterStart, 5), 555))
	if a := d.recsOf(mark, RecordAdopt); len(a) != 1 || a[0].Notify != 0 {
		t.Fatalf("adopt %v", a)
	}
	if dn := d.recsOf(mark, RecordDropNotify); len(dn) != 1 || dn[0].Pid != 555 {
		t.Fatalf("drop-notify %v", dn)
	}
	if sig := d.actsOf(amark, ActionSignal); len(sig) != 0 {
		t.Fatalf("signals %v", sig)
	}
	d.exitChild(d.pidOf("w"), exit1)
	if sig := d.actsOf(amark, ActionSignal); len(sig) != 0 {
		t.Fatalf("signals %v", sig)
	}
	if st := d.status(be, h); st.Status != bgworker.Stopped {
		t.Errorf("status %v", st)
	}
}

func TestBackendExitStopsNotifications(t *testing.T) {
	for _, tc := range []struct {
		name string
		exit bgworker.ExitStatus
	}{{"exit 0", exit0}, {"exit 1", exit1}} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, Config{MaxWorkers: 2, ConsistentDelay: time.Second})
			d.start()
			be := d.startBackend(100)
			d.register(be, withNotify(wk("w", bgworker.ShmemAccess, bgworker.ConsistentState, 5), 100))
			mark, amark := len(d.recs), len(d.acts)
			d.exitBackend(100, tc.exit)
			if got := d.kinds(mark); !slices.Equal(got, []RecordKind{RecordBackendExited}) {
				t.Fatalf("records %v", got)
			}
			if w := d.c.Workers(); w[0].Worker.NotifyPid != 0 {
				t.Fatalf("notify pid still %d", w[0].Worker.NotifyPid)
			}
			d.runUntil(time.Second)
			if len(d.c.Children()) != 1 {
				t.Fatalf("not launched:\n%s", d.dump(mark))
			}
			if sig := d.actsOf(amark, ActionSignal); len(sig) != 0 {
				t.Errorf("signalled an exited backend: %v", sig)
			}
			if len(d.c.LiveBackends()) != 0 || d.c.PMState() != PMRun {
				t.Errorf("backends %v, state %v", d.c.LiveBackends(), d.c.PMState())
			}
		})
	}
}

// TestInconsistentSpawnResult: a spawn result that is not a clean success
// (an error, or no pid, whatever the other field says) is a spawn
// failure: the worker is not launched and no pid is reported.
func TestInconsistentSpawnResult(t *testing.T) {
	for _, tc := range []struct {
		name string
		pid  int32
		err  string
	}{
		{"no error, no pid", 0, ""},
		{"no error, a negative pid", -1, ""},
		{"an error and a pid", 4242, "fork: out of memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, Config{MaxWorkers: 1, Static: []bgworker.Worker{wk("s", 0, bgworker.PostmasterStart, 3)}})
			d.holdSpawns = true
			d.start()
			d.holdSpawns = false
			if len(d.held) != 1 {
				t.Fatalf("held %d spawn results, want 1", len(d.held))
			}
			ev := d.held[0]
			ev.Pid, ev.SpawnErr = tc.pid, tc.err
			d.feed(ev)
			var failed, launched int
			for _, r := range d.recs {
				switch r.Kind {
				case RecordSpawnFailed:
					failed++
				case RecordLaunch:
					launched++
				}
			}
			if failed != 1 || launched != 0 {
				t.Fatalf("%d spawn failures and %d launches, want 1 and 0:\n%s", failed, launched, d.dump(0))
			}
		})
	}
}
