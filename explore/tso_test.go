package explore

import (
	"testing"

	"bgwmodel/impl/shmem"
)

// TestTSOFlushReduction: flushes are offered only where they can matter,
// so a thread's run of stores that nobody else reads does not multiply the
// executions, while every outcome stays reachable.
func TestTSOFlushReduction(t *testing.T) {
	const n = 12
	outcomes := map[[2]uint32]bool{}
	var r0, r1 uint32
	s := Scenario{Name: "stores", MemSize: 8 * (n + 2), Setup: func(w *World) error {
		w.Spawn("writer", func(t *Thread) {
			for i := range n {
				store32(t, shmem.Offset(8*i), 1)
			}
		}, 0)
		w.Spawn("reader", func(t *Thread) {
			r0 = load32(t, shmem.Offset(8*(n-1)))
			r1 = load32(t, 0)
		}, 0)
		w.OnEnd(func(*End) error {
			outcomes[[2]uint32{r0, r1}] = true
			return nil
		})
		return nil
	}}
	rep := mustExplore(t, s, Options{Model: TSO, PreemptionBound: Unbounded})
	if !rep.Exhausted || len(rep.Failures) > 0 {
		t.Fatalf("%v %v", rep, rep.Failures)
	}
	// Without the reduction the 12 flushes interleave with the writer's 12
	// stores in Catalan(12) = 208,012 ways, times the reader's positions.
	if rep.Executions > 2000 {
		t.Errorf("%d executions: flushes that cannot matter are still explored", rep.Executions)
	}
	// TSO allows r0=0,r1=0 (nothing flushed yet), r0=0,r1=1 and r0=1,r1=1
	// (FIFO flushes: the last store visible implies the first), never
	// r0=1,r1=0.
	want := map[[2]uint32]bool{{0, 0}: true, {0, 1}: true, {1, 1}: true}
	for o := range want {
		if !outcomes[o] {
			t.Errorf("outcome %v not reached", o)
		}
	}
	for o := range outcomes {
		if !want[o] {
			t.Errorf("outcome %v reached, which TSO forbids", o)
		}
	}
	t.Logf("%v", rep)
}
