package explore

import (
	"errors"
	"testing"

	"bgwmodel/impl/shmem"
)

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
