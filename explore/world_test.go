package explore

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/shmem"
)

func TestHang(t *testing.T) {
	s := Scenario{Name: "hang", MemSize: 8, Setup: func(w *World) error {
		w.Spawn("waiter", func(t *Thread) {
			if _, err := t.Latch().Wait(context.Background()); err != nil {
				t.Fail(err)
			}
		}, 0)
		w.Spawn("other", func(t *Thread) { store32(t, offA, 1) }, 0)
		return nil
	}}
	for _, m := range Models() {
		rep := mustExplore(t, s, Options{Model: m, PreemptionBound: Unbounded, MaxFailures: -1})
		if len(rep.Failures) == 0 {
			t.Fatalf("%s: no hang found", m)
		}
		f := rep.Failures[0]
		if f.Kind != FailHang || !errors.Is(f, ErrHang) || len(f.Blocked) != 1 || !strings.HasPrefix(f.Blocked[0], "waiter: latch wait") {
			t.Fatalf("%s: %v (blocked %q)", m, f, f.Blocked)
		}
	}
}

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

func TestPanicReported(t *testing.T) {
	s := Scenario{Name: "panic", MemSize: 8, Setup: func(w *World) error {
		w.Spawn("ok", func(t *Thread) { store32(t, offA, 1) }, 0)
		w.Spawn("bad", func(t *Thread) {
			if load32(t, offA) == 1 {
				panic("boom")
			}
		}, 0)
		return nil
	}}
	rep := mustExplore(t, s, Options{Model: SC, PreemptionBound: Unbounded})
	if len(rep.Failures) != 1 {
		t.Fatalf("%v", rep)
	}
	f := rep.Failures[0]
	if f.Kind != FailPanic || f.Thread != "bad" || !strings.Contains(f.Error(), "boom") {
		t.Fatalf("%v", f)
	}
}

func TestMisuse(t *testing.T) {
	cases := []struct {
		name string
		body func(t *Thread)
	}{
		{"size", func(t *Thread) {
			_, _ = t.Mem().Load32(offA, shmem.Relaxed)
			_, _ = t.Mem().Load64(offA, shmem.Relaxed)
		}},
		{"overlap", func(t *Thread) {
			_, _ = t.Mem().Load64(offA, shmem.Relaxed)
			_, _ = t.Mem().Load32(offA+4, shmem.Relaxed)
		}},
		{"block", func(t *Thread) {
			_ = t.Mem().StoreBytes(offA, make([]byte, 8))
			_ = t.Mem().LoadBytes(offA, make([]byte, 4))
		}},
		{"acquire store", func(t *Thread) { _ = t.Mem().Store32(offA, 1, shmem.Acquire) }},
		{"release load", func(t *Thread) { _, _ = t.Mem().Load32(offA, shmem.Release) }},
	}
	for _, c := range cases {
		rep := mustExplore(t, Scenario{Name: c.name, MemSize: 16, Setup: func(w *World) error {
			w.Spawn("T", c.body, 0)
			return nil
		}}, Options{Model: View})
		if len(rep.Failures) != 1 || rep.Failures[0].Kind != FailMisuse {
			t.Errorf("%s: %v %v", c.name, rep, rep.Failures)
		}
	}
	// Bad offsets are errors returned to the caller, as with shmem.
	rep := mustExplore(t, Scenario{Name: "bounds", MemSize: 16, Setup: func(w *World) error {
		w.Spawn("T", func(t *Thread) {
			if _, err := t.Mem().Load32(16, shmem.Relaxed); !errors.Is(err, shmem.ErrOutOfRange) {
				t.Failf("out of range: %v", err)
			}
			if _, err := t.Mem().Load64(4, shmem.Relaxed); !errors.Is(err, shmem.ErrMisaligned) {
				t.Failf("misaligned: %v", err)
			}
			if t.Mem().Size() != 16 {
				t.Failf("size %d", t.Mem().Size())
			}
		}, 0)
		return nil
	}}, Options{Model: View})
	if len(rep.Failures) != 0 {
		t.Errorf("bounds: %v", rep.Failures)
	}
}

func TestInitMemAndBlocks(t *testing.T) {
	s := Scenario{Name: "init", MemSize: 96, Setup: func(w *World) error {
		im := w.InitMem()
		if err := im.Store32(offA, 8, shmem.Relaxed); err != nil {
			return err
		}
		if err := im.StoreBytes(32, []byte("hello")); err != nil {
			return err
		}
		w.Spawn("T", func(t *Thread) {
			if v := load32(t, offA); v != 8 {
				t.Failf("initial value %d", v)
			}
			buf := make([]byte, 5)
			if err := t.Mem().LoadBytes(32, buf); err != nil || string(buf) != "hello" {
				t.Failf("block %q %v", buf, err)
			}
			_ = t.Mem().StoreBytes(32, []byte("world"))
		}, 0)
		w.OnEnd(func(e *End) error {
			buf := make([]byte, 5)
			if err := e.Mem().LoadBytes(32, buf); err != nil || string(buf) != "world" {
				return errors.New("final block " + string(buf))
			}
			if err := e.Mem().Store32(offA, 1, shmem.Relaxed); !errors.Is(err, ErrReadOnly) {
				return errors.New("final memory is writable")
			}
			return nil
		})
		return nil
	}}
	for _, m := range Models() {
		rep := mustExplore(t, s, Options{Model: m})
		if len(rep.Failures) != 0 {
			t.Errorf("%s: %v", m, rep.Failures)
		}
	}
}

func TestObserverAndNotes(t *testing.T) {
	var ops []OpKind
	s := Scenario{Name: "observe", MemSize: 8, Setup: func(w *World) error {
		w.Spawn("T", func(t *Thread) {
			t.Note("start")
			store32(t, offA, 1)
			t.Mem().Fence(shmem.FullBarrier)
		}, 0)
		w.OnStep(func(s *Step) error {
			ops = append(ops, s.Op)
			if s.Op == OpFence {
				return errors.New("saw a fence")
			}
			return nil
		})
		return nil
	}}
	rep := mustExplore(t, s, Options{Model: View})
	if len(rep.Failures) != 1 || rep.Failures[0].Kind != FailObserver {
		t.Fatalf("%v", rep.Failures)
	}
	if len(ops) != 3 || ops[0] != OpNote || ops[1] != OpStore || ops[2] != OpFence {
		t.Fatalf("observed %v", ops)
	}
}

func TestRandom(t *testing.T) {
	rep := mustExplore(t, counterScenario(3, false), Options{Model: TSO, Strategy: Random, MaxExecutions: 200, Seed: 1, PreemptionBound: Unbounded})
	if rep.Executions == 0 || len(rep.Failures) != 1 {
		t.Fatalf("%v", rep)
	}
	r, err := Replay(counterScenario(3, false), rep.Failures[0].Trace)
	if err != nil || r.Failure == nil || r.Failure.Kind != FailCheck {
		t.Fatalf("replay: %v %v", r, err)
	}
	if _, err := Explore(counterScenario(2, false), Options{Model: SC, Strategy: Random}); !errors.Is(err, ErrBadOptions) {
		t.Fatalf("random without a budget: %v", err)
	}
	rep = mustExplore(t, counterScenario(2, true), Options{Model: SC, Strategy: Random, Budget: 20 * time.Millisecond})
	if rep.Executions == 0 || len(rep.Failures) != 0 {
		t.Fatalf("budget: %v", rep)
	}
}

func TestTruncated(t *testing.T) {
	s := Scenario{Name: "spin", MemSize: 8, Setup: func(w *World) error {
		w.Spawn("spinner", func(t *Thread) {
			for load32(t, offA) == 0 {
			}
		}, 0)
		return nil
	}}
	rep := mustExplore(t, s, Options{Model: SC, MaxSteps: 50})
	if rep.Truncated != 1 || len(rep.Failures) != 0 || rep.MaxDepth != 50 {
		t.Fatalf("%v", rep)
	}
}

func TestNoGoroutineLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	runs := []struct {
		s   Scenario
		opt Options
	}{
		{counterScenario(3, true), Options{Model: View, PreemptionBound: 1}},
		{holderScenario(false), Options{Model: TSO, PreemptionBound: Unbounded, MaxKills: 1, MaxFailures: -1}},
		{holderScenario(true), Options{Model: View, PreemptionBound: Unbounded, MaxFailures: -1}},
		{Scenario{Name: "hang", MemSize: 8, Setup: func(w *World) error {
			w.Spawn("a", func(t *Thread) { _, _ = t.Latch().Wait(context.Background()) }, 0)
			w.Spawn("b", func(t *Thread) { t.Sleep(time.Second); t.Fail(errors.New("x")) }, 0)
			return nil
		}}, Options{Model: SC, MaxFailures: -1}},
		{Scenario{Name: "panic", MemSize: 8, Setup: func(w *World) error {
			w.Spawn("a", func(t *Thread) { t.Yield(); panic("x") }, 0)
			w.Spawn("b", func(t *Thread) {
				for {
					t.Yield()
				}
			}, 0)
			return nil
		}}, Options{Model: SC, MaxSteps: 20, MaxFailures: -1, PreemptionBound: Unbounded}},
	}
	for _, s := range []Scenario{mpScenario(), sbScenario()} {
		runs = append(runs, struct {
			s   Scenario
			opt Options
		}{s, Options{Model: View, PreemptionBound: Unbounded, StateHashing: true}})
	}
	for _, r := range runs {
		mustExplore(t, r.s, r.opt)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestSetupErrors(t *testing.T) {
	if _, err := Explore(Scenario{Name: "x"}, Options{Model: SC}); !errors.Is(err, ErrBadOptions) {
		t.Errorf("no Setup: %v", err)
	}
	if _, err := Explore(counterScenario(1, false), Options{Model: "arm"}); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("bad model: %v", err)
	}
	boom := errors.New("boom")
	_, err := Explore(Scenario{Name: "x", Setup: func(w *World) error {
		w.Spawn("T", func(t *Thread) { t.Yield() }, 0)
		return boom
	}}, Options{Model: SC})
	if !errors.Is(err, boom) {
		t.Errorf("Setup error: %v", err)
	}
	_, err = Explore(Scenario{Name: "x", Setup: func(w *World) error { panic("oops") }}, Options{Model: SC})
	if err == nil || !strings.Contains(err.Error(), "oops") {
		t.Errorf("Setup panic: %v", err)
	}
}
