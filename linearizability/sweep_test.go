package linearizability

import (
	"testing"
)

// creditHistory has no linearization, and only its count projection
// shows why in a way the sweep could miss: r (a Register) is called after
// q, another Register, was linearized, and r returning must not be taken
// as q having taken effect (a, q, b, e, r leave both slots in use, so c
// finds no free slot).
var creditHistory = History{
	reg(1, 1, 2, hd(1, 1, 0)),   // a: one slot in use
	reg(2, 3, 100, hd(0, 1, 0)), // q: in flight until the end
	regFull(3, 10, 20),          // b: both in use, so q came before b
	forget(22, 25, 1),           // e: one in use
	reg(4, 30, 40, hd(1, 2, 0)), // r: both in use by 40
	reg(5, 50, 60, hd(0, 2, 0)), // c: needs a free slot: there is none
	forget(70, 80, 1),
}

// TestSweepClassCredit: an operation called after another of its class
// was linearized is not taken for the linearized one.
func TestSweepClassCredit(t *testing.T) {
	part := countPartition(creditHistory, 2)
	res := sweep[countCfg](countMachine{nslots: 2}, part, []countCfg{{n: 0}}, DefaultWindow, &limits{},
		func(window[countCfg]) bool { return true })
	if res.failed < 0 {
		t.Fatalf("the sweep linearizes a count projection that has no linearization")
	}
	rep := Check(creditHistory, Options{Slots: 2, Mode: ModePartitioned})
	if v := verdictOf(t, rep, CheckNoFreeSlot); v.Result != Violation {
		t.Errorf("no-free-slot check: %v, want violation:\n%v", v.Result, rep)
	}
}
