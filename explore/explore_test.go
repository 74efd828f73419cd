package explore

import (
	"errors"
	"testing"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/shmem"
)

const (
	offA shmem.Offset = 0
	offB shmem.Offset = 8
	offC shmem.Offset = 16
)

func mustExplore(t *testing.T, s Scenario, opt Options) *Report {
	t.Helper()
	rep, err := Explore(s, opt)
	if err != nil {
		t.Fatalf("Explore(%s, %s): %v", s.Name, opt.Model, err)
	}
	return rep
}

func load32(t *Thread, off shmem.Offset) uint32 {
	v, err := t.Mem().Load32(off, shmem.Relaxed)
	if err != nil {
		t.Fail(err)
	}
	return v
}

func store32(t *Thread, off shmem.Offset, v uint32) {
	if err := t.Mem().Store32(off, v, shmem.Relaxed); err != nil {
		t.Fail(err)
	}
}

// counterScenario: n threads each add 1 to a counter with a plain load and
// store, under the lock if locked; the check wants the counter to be n.
func counterScenario(n int, locked bool) Scenario {
	return Scenario{Name: "counter", MemSize: 16, Setup: func(w *World) error {
		w.NameLoc(offA, "counter")
		lk := w.NewLock("L")
		for i := range n {
			w.Spawn("T"+itoa(i), func(t *Thread) {
				if locked {
					if err := t.Lock(lk).Acquire(bgworker.LockExclusive); err != nil {
						t.Fail(err)
					}
				}
				store32(t, offA, load32(t, offA)+1)
				if locked {
					if err := t.Lock(lk).Release(bgworker.LockExclusive); err != nil {
						t.Fail(err)
					}
				}
			}, 0)
		}
		w.OnEnd(func(e *End) error {
			if v, _ := e.Mem().Load32(offA, shmem.Relaxed); v != uint32(n) {
				return errors.New("lost update: counter=" + itoa(int(v)))
			}
			return nil
		})
		return nil
	}}
}

func TestLockMutualExclusion(t *testing.T) {
	for _, m := range Models() {
		t.Run(string(m), func(t *testing.T) {
			rep := mustExplore(t, counterScenario(3, true), Options{Model: m, PreemptionBound: Unbounded, StateHashing: true})
			if len(rep.Failures) > 0 || !rep.Exhausted {
				t.Fatalf("locked counter: %v %v", rep, rep.Failures)
			}
			rep = mustExplore(t, counterScenario(2, false), Options{Model: m, PreemptionBound: Unbounded})
			if len(rep.Failures) == 0 {
				t.Fatalf("unlocked counter: no lost update found: %v", rep)
			}
		})
	}
}

// fencedCounter: two threads add 1 to a counter between full barriers, so
// the lost update needs a preemption under every model (the barriers take
// away the weak-memory ways to lose it).
func fencedCounter() Scenario {
	return Scenario{Name: "fenced-counter", MemSize: 8, Setup: func(w *World) error {
		for i := range 2 {
			w.Spawn("T"+itoa(i), func(t *Thread) {
				t.Mem().Fence(shmem.FullBarrier)
				store32(t, offA, load32(t, offA)+1)
				t.Mem().Fence(shmem.FullBarrier)
			}, 0)
		}
		w.OnEnd(func(e *End) error {
			if v, _ := e.Mem().Load32(offA, shmem.Relaxed); v != 2 {
				return errors.New("lost update")
			}
			return nil
		})
		return nil
	}}
}

func TestPreemptionBound(t *testing.T) {
	// The planted lost update needs exactly one preemption: T0 loads, T1
	// runs whole, T0 stores.
	for _, m := range Models() {
		t.Run(string(m), func(t *testing.T) {
			rep := mustExplore(t, fencedCounter(), Options{Model: m, PreemptionBound: 0})
			if len(rep.Failures) != 0 || !rep.Exhausted {
				t.Fatalf("bound 0 found %v (%v)", rep.Failures, rep)
			}
			rep = mustExplore(t, fencedCounter(), Options{Model: m, PreemptionBound: 1})
			if len(rep.Failures) != 1 {
				t.Fatalf("bound 1 found no bug: %v", rep)
			}
			if f := rep.Failures[0]; f.Preemptions != 1 || f.Kind != FailCheck {
				t.Fatalf("failure %v with %d preemptions", f, f.Preemptions)
			}
		})
	}
}

func TestRMWAtomicity(t *testing.T) {
	s := Scenario{Name: "add", MemSize: 16, Setup: func(w *World) error {
		for i := range 3 {
			w.Spawn("T"+itoa(i), func(t *Thread) {
				if _, err := t.Mem().Add64(offA, 1, shmem.Relaxed); err != nil {
					t.Fail(err)
				}
			}, 0)
		}
		w.OnEnd(func(e *End) error {
			if v, _ := e.Mem().Load64(offA, shmem.Relaxed); v != 3 {
				return errors.New("lost add: " + itoa(int(v)))
			}
			return nil
		})
		return nil
	}}
	for _, m := range Models() {
		rep := mustExplore(t, s, Options{Model: m, PreemptionBound: Unbounded})
		if len(rep.Failures) > 0 || !rep.Exhausted {
			t.Errorf("%s: %v %v", m, rep, rep.Failures)
		}
	}
}

// spinlockScenario protects a plain counter with a CAS spinlock; with
// relaxed lock orders the view model loses the counter's update.
func spinlockScenario(acquire, release shmem.Order) Scenario {
	return Scenario{Name: "spinlock", MemSize: 16, Setup: func(w *World) error {
		w.NameLoc(offA, "lock")
		w.NameLoc(offB, "counter")
		var done [2]bool
		for i := range 2 {
			w.Spawn("T"+itoa(i), func(t *Thread) {
				m := t.Mem()
				for try := 0; ; try++ {
					ok, _ := m.CompareAndSwap32(offA, 0, 1, acquire)
					if ok {
						break
					}
					if try == 2 {
						return
					}
				}
				store32(t, offB, load32(t, offB)+1)
				_ = m.Store32(offA, 0, release)
				done[i] = true
			}, 0)
		}
		w.OnEnd(func(e *End) error {
			want := uint32(0)
			for _, d := range done {
				if d {
					want++
				}
			}
			if v, _ := e.Mem().Load32(offB, shmem.Relaxed); v != want {
				return errors.New("counter " + itoa(int(v)) + " want " + itoa(int(want)))
			}
			return nil
		})
		return nil
	}}
}

func TestCASSpinlock(t *testing.T) {
	for _, m := range Models() {
		rep := mustExplore(t, spinlockScenario(shmem.Acquire, shmem.Release), Options{Model: m, PreemptionBound: Unbounded, StateHashing: true})
		if len(rep.Failures) > 0 || !rep.Exhausted {
			t.Errorf("%s acq/rel spinlock: %v %v", m, rep, rep.Failures)
		}
	}
	rep := mustExplore(t, spinlockScenario(shmem.Relaxed, shmem.Relaxed), Options{Model: View, PreemptionBound: Unbounded, StateHashing: true})
	if len(rep.Failures) == 0 {
		t.Errorf("relaxed spinlock under view: no lost update: %v", rep)
	}
}

func TestReleaseSequenceThroughRMW(t *testing.T) {
	// T0 publishes data with a release store to flag; T1 bumps flag with a
	// relaxed RMW; T2 acquires flag = 2 and must see the data: the RMW
	// continues T0's release sequence.
	s := Scenario{Name: "relseq", MemSize: 16, Setup: func(w *World) error {
		w.Spawn("T0", func(t *Thread) {
			store32(t, offA, 1)
			_ = t.Mem().Store64(offB, 1, shmem.Release)
		}, 0)
		w.Spawn("T1", func(t *Thread) { _, _ = t.Mem().Add64(offB, 1, shmem.Relaxed) }, 0)
		w.Spawn("T2", func(t *Thread) {
			if f, _ := t.Mem().Load64(offB, shmem.Acquire); f == 2 && load32(t, offA) != 1 {
				t.Fail(errors.New("release sequence broken"))
			}
		}, 0)
		return nil
	}}
	rep := mustExplore(t, s, Options{Model: View, PreemptionBound: Unbounded, StateHashing: true})
	if len(rep.Failures) > 0 || !rep.Exhausted {
		t.Fatalf("%v %v", rep, rep.Failures)
	}
}

func TestStateHashingWithBounds(t *testing.T) {
	for _, m := range Models() {
		for _, bound := range []int{0, 1, 2} {
			for _, s := range []Scenario{fencedCounter(), counterScenario(3, false), spinlockScenario(shmem.Relaxed, shmem.Relaxed)} {
				opt := Options{Model: m, PreemptionBound: bound, MaxFailures: -1}
				plain := mustExplore(t, s, opt)
				opt.StateHashing = true
				hashed := mustExplore(t, s, opt)
				if (len(plain.Failures) > 0) != (len(hashed.Failures) > 0) || hashed.Executions > plain.Executions {
					t.Errorf("%s/%s bound %d: plain %v, hashed %v", s.Name, m, bound, plain, hashed)
				}
			}
		}
	}
}

// mpScenario is message passing with relaxed accesses (the litmus test
// MP): T0 stores A=1 then B=1, T1 loads B then A; the check fails on the
// weak outcome B=1, A=0.
func mpScenario() Scenario {
	return Scenario{Name: "MP", MemSize: 16, Setup: func(w *World) error {
		var b, a uint32
		w.Spawn("T0", func(t *Thread) { store32(t, offA, 1); store32(t, offB, 1) }, 0)
		w.Spawn("T1", func(t *Thread) { b = load32(t, offB); a = load32(t, offA) }, 0)
		w.OnEnd(func(*End) error {
			if b == 1 && a == 0 {
				return errors.New("weak outcome B=1, A=0")
			}
			return nil
		})
		return nil
	}}
}

// sbScenario is store buffering with relaxed accesses (the litmus test
// SB): each thread stores its location then loads the other's; the check
// fails when both load 0.
func sbScenario() Scenario {
	return Scenario{Name: "SB", MemSize: 16, Setup: func(w *World) error {
		var r [2]uint32
		w.Spawn("T0", func(t *Thread) { store32(t, offA, 1); r[0] = load32(t, offB) }, 0)
		w.Spawn("T1", func(t *Thread) { store32(t, offB, 1); r[1] = load32(t, offA) }, 0)
		w.OnEnd(func(*End) error {
			if r == [2]uint32{} {
				return errors.New("weak outcome: both loads read 0")
			}
			return nil
		})
		return nil
	}}
}
