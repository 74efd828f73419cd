package proptest

import (
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

func TestAgainstSpec(t *testing.T) {
	rapid.Check(t, AgainstSpecProperty(ClusterConfig{}))
}

// TestAgainstSpec_Sizes runs the property on each cluster size alone.
func TestAgainstSpec_Sizes(t *testing.T) {
	for _, n := range []int{1, 2, 4} {
		t.Run(itoa(n)+"-slots", rapid.MakeCheck(AgainstSpecProperty(ClusterConfig{MinSlots: n, MaxSlots: n})))
	}
}

// TestAgainstSpec_CatchesBroken runs the impl-against-spec property with
// the no-inuse-check flaw: spec.Step must reject a GetBackgroundWorkerPid
// answer.
func TestAgainstSpec_CatchesBroken(t *testing.T) { runCatchesBroken(t) }

// TestAgainstSpec_WeakFlawsPass checks that flaws invisible under
// sequential consistency raise no false alarm.
func TestAgainstSpec_WeakFlawsPass(t *testing.T) {
	for _, f := range weakFlaws {
		t.Run(f.name, rapid.MakeCheck(AgainstSpecProperty(f.cfg)))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
