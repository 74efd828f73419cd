package explore

import (
	"context"
	"errors"
	"strings"
	"testing"

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
