package explore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
)

func TestDaemonAndTimers(t *testing.T) {
	// A daemon postmaster sleeps, then sets the backend's latch; the
	// backend waits. Time advances only to the daemon's timer.
	var woke time.Duration
	s := Scenario{Name: "timers", MemSize: 8, Setup: func(w *World) error {
		backend := w.Spawn("backend", func(t *Thread) {
			ev, err := t.Latch().Wait(context.Background())
			if err != nil || ev != bgworker.WaitLatchSet {
				t.Failf("wait: %v %v", ev, err)
			}
			woke = t.Now()
		}, 0)
		w.Spawn("pm", func(t *Thread) {
			t.Sleep(5 * time.Second)
			if err := t.Signal(backend); err != nil {
				t.Fail(err)
			}
			for {
				t.Latch().Reset()
				if _, timedOut := t.WaitUntil(t.Now() + time.Minute); !timedOut {
					t.Fail(errors.New("daemon woken"))
				}
			}
		}, Daemon|Postmaster)
		return nil
	}}
	rep := mustExplore(t, s, Options{Model: View, PreemptionBound: Unbounded})
	if len(rep.Failures) > 0 || !rep.Exhausted || woke != 5*time.Second {
		t.Fatalf("%v %v woke at %v", rep, rep.Failures, woke)
	}
	// With a horizon, a waiter that the periodic daemon never wakes hangs.
	s.Setup = func(w *World) error {
		w.Spawn("backend", func(t *Thread) { _, _ = t.Latch().Wait(context.Background()) }, 0)
		w.Spawn("pm", func(t *Thread) {
			for {
				t.WaitUntil(t.Now() + time.Minute)
			}
		}, Daemon)
		return nil
	}
	s.TimeHorizon = 10 * time.Minute
	rep = mustExplore(t, s, Options{Model: SC})
	if len(rep.Failures) != 1 || rep.Failures[0].Kind != FailHang {
		t.Fatalf("horizon: %v %v", rep, rep.Failures)
	}
}

func TestSpawnReapAndSignals(t *testing.T) {
	// The postmaster spawns a worker, which writes data (relaxed) and
	// exits 3; the postmaster reaps it and must see the data: exit/reap
	// synchronise. The worker also signals a backend, which must see
	// data written before the signal.
	s := Scenario{Name: "spawn", MemSize: 24, Setup: func(w *World) error {
		backend := w.Spawn("backend", func(t *Thread) {
			if _, err := t.Latch().Wait(context.Background()); err != nil {
				t.Fail(err)
			}
			if v := load32(t, offB); v != 7 {
				t.Failf("backend read %d after the signal", v)
			}
		}, 0)
		w.Spawn("pm", func(t *Thread) {
			child := t.Spawn("worker", func(t *Thread) {
				store32(t, offA, 42)
				store32(t, offB, 7)
				if err := t.Signal(backend); err != nil {
					t.Fail(err)
				}
				t.Exit(3)
			}, 0)
			for {
				t.Latch().Reset()
				if ex := t.Reap(); len(ex) > 0 {
					if ex[0].Thread != child || ex[0].State != StateExited || ex[0].Code != 3 {
						t.Failf("reaped %+v", ex[0])
					}
					if v := load32(t, offA); v != 42 {
						t.Failf("pm read %d after reaping", v)
					}
					return
				}
				if _, err := t.Latch().Wait(context.Background()); err != nil {
					t.Fail(err)
				}
			}
		}, Postmaster)
		return nil
	}}
	for _, m := range Models() {
		rep := mustExplore(t, s, Options{Model: m, PreemptionBound: Unbounded, StateHashing: true})
		if len(rep.Failures) > 0 || !rep.Exhausted {
			t.Errorf("%s: %v %v", m, rep, rep.Failures)
		}
	}
}

func TestPostmasterDeath(t *testing.T) {
	s := Scenario{Name: "pmdeath", MemSize: 8, Setup: func(w *World) error {
		w.Spawn("backend", func(t *Thread) {
			ev, err := t.Latch().Wait(context.Background())
			if err != nil || ev&bgworker.WaitPostmasterDeath == 0 || !t.PostmasterDied() {
				t.Failf("wait: %v %v", ev, err)
			}
			if err := t.SignalPostmaster(); !errors.Is(err, ErrNoPostmaster) {
				t.Failf("signal to a dead postmaster: %v", err)
			}
		}, 0)
		w.Spawn("pm", func(t *Thread) { t.Exit(1) }, Postmaster)
		return nil
	}}
	rep := mustExplore(t, s, Options{Model: TSO, PreemptionBound: Unbounded})
	if len(rep.Failures) > 0 || !rep.Exhausted {
		t.Fatalf("%v %v", rep, rep.Failures)
	}
}

// holderScenario: a killable holder takes the lock with a deferred release;
// a waiter takes it after. killer, if set, kills the holder once it holds
// the lock (the holder signals it).
func holderScenario(killer bool) Scenario {
	return Scenario{Name: "holder", MemSize: 8, Setup: func(w *World) error {
		lk := w.NewLock("BackgroundWorkerLock")
		var killerID ThreadID
		holder := w.Spawn("holder", func(t *Thread) {
			l := t.Lock(lk)
			if err := l.Acquire(bgworker.LockExclusive); err != nil {
				t.Fail(err)
			}
			defer func() { _ = l.Release(bgworker.LockExclusive) }()
			if killer {
				_ = t.Signal(killerID)
			}
			store32(t, offA, 1)
			store32(t, offA, 2)
		}, Killable)
		if killer {
			killerID = w.Spawn("killer", func(t *Thread) {
				if _, err := t.Latch().Wait(context.Background()); err != nil {
					t.Fail(err)
				}
				if err := t.Kill(holder); errors.Is(err, ErrNoSuchThread) {
					return // the holder was already done
				} else if err != nil {
					t.Fail(err)
				}
				if err := t.Kill(holder); !errors.Is(err, ErrNoSuchThread) {
					t.Failf("second kill: %v", err)
				}
			}, 0)
		}
		w.Spawn("waiter", func(t *Thread) {
			l := t.Lock(lk)
			if err := l.Acquire(bgworker.LockShared); err != nil {
				t.Fail(err)
			}
			_ = l.Release(bgworker.LockShared)
		}, 0)
		return nil
	}}
}

func TestKillLockHolder(t *testing.T) {
	for _, m := range Models() {
		t.Run(string(m), func(t *testing.T) {
			// No kills: no failure.
			rep := mustExplore(t, holderScenario(false), Options{Model: m, PreemptionBound: Unbounded})
			if len(rep.Failures) > 0 {
				t.Fatalf("no kills: %v", rep.Failures)
			}
			// Search-injected kill: the waiter hangs on the lock the dead
			// holder still holds (its deferred Release did not run).
			rep = mustExplore(t, holderScenario(false), Options{Model: m, PreemptionBound: Unbounded, MaxKills: 1})
			if len(rep.Failures) != 1 {
				t.Fatalf("kills: %v", rep)
			}
			f := rep.Failures[0]
			if f.Kind != FailHang || len(f.Blocked) != 1 || !strings.Contains(f.Blocked[0], "held by holder [killed] exclusive") {
				t.Fatalf("kills: %v", f)
			}
			if !strings.Contains(f.Trace, "k0") {
				t.Fatalf("trace %q has no kill", f.Trace)
			}
			// Kill from thread code.
			rep = mustExplore(t, holderScenario(true), Options{Model: m, PreemptionBound: Unbounded, MaxFailures: -1})
			hangs := 0
			for _, f := range rep.Failures {
				if f.Kind != FailHang {
					t.Fatalf("explicit kill: %v", f)
				}
				hangs++
			}
			if hangs == 0 || !rep.Exhausted {
				t.Fatalf("explicit kill: %v", rep)
			}
		})
	}
}
