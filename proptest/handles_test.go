package proptest

import (
	"testing"

	"pgregory.net/rapid"

	"bgwmodel/impl/flaw"
)

// weakFlaws are flaws that only a weak memory model shows. On the
// in-process shmem.Local, whose accesses are sequentially consistent, they
// change no output, so the sequential properties must still pass: a
// violation reported for them would be a false alarm.
var weakFlaws = []struct {
	name string
	cfg  ClusterConfig
}{
	{"no-forget-barrier", ClusterConfig{Postmaster: flaw.Of(flaw.NoForgetBarrier)}},
	{"unordered-pmsignal", ClusterConfig{Backend: flaw.Of(flaw.UnorderedPMSignal), Postmaster: flaw.Of(flaw.UnorderedPMSignal)}},
}

func TestHandleGeneration(t *testing.T) {
	rapid.Check(t, HandleProperty(ClusterConfig{}))
}

// TestHandleGeneration_Sizes runs the property on each cluster size alone.
func TestHandleGeneration_Sizes(t *testing.T) {
	for _, n := range []int{1, 2, 4} {
		t.Run(itoa(n)+"-slots", rapid.MakeCheck(HandleProperty(ClusterConfig{MinSlots: n, MaxSlots: n})))
	}
}

// TestHandleGeneration_CatchesBroken runs the handle-generation property
// with the no-inuse-check flaw: rapid must find a worker forgotten before
// it started whose handle reads NOT_YET_STARTED instead of STOPPED.
func TestHandleGeneration_CatchesBroken(t *testing.T) { runCatchesBroken(t) }

// TestHandleGeneration_WeakFlawsPass checks that flaws invisible under
// sequential consistency raise no false alarm.
func TestHandleGeneration_WeakFlawsPass(t *testing.T) {
	for _, f := range weakFlaws {
		t.Run(f.name, rapid.MakeCheck(HandleProperty(f.cfg)))
	}
}
