package explore

import (
	"context"
	"testing"

	"bgwmodel/impl/bgworker"
)

// TestLatchResetAcquires: a signal that arrives between a latch wait and
// the reset that clears it is consumed by the reset, so the reset must
// acquire what the signaller published (PostgreSQL's ResetLatch has a
// barrier pairing with SetLatch's), or a Wait/Reset/check loop may miss
// the signaller's data and sleep forever.
func TestLatchResetAcquires(t *testing.T) {
	s := Scenario{Name: "reset", MemSize: 8, Setup: func(w *World) error {
		waiter := w.Spawn("waiter", func(t *Thread) {
			for load32(t, offA) != 1 {
				ev, err := t.Latch().Wait(context.Background())
				if err != nil || ev&bgworker.WaitLatchSet == 0 {
					t.Failf("wait: %v %v", ev, err)
				}
				t.Latch().Reset()
			}
		}, 0)
		w.Spawn("data", func(t *Thread) {
			store32(t, offA, 1)
			_ = t.Signal(waiter) // ESRCH if the waiter is done

		}, 0)
		w.Spawn("other", func(t *Thread) { _ = t.Signal(waiter) }, 0)
		return nil
	}}
	for _, m := range Models() {
		rep := mustExplore(t, s, Options{Model: m, PreemptionBound: Unbounded})
		if len(rep.Failures) > 0 || !rep.Exhausted {
			t.Errorf("%s: %v: %v", m, rep, rep.Failures)
		}
	}
}
