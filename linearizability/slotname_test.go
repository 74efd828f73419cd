package linearizability

import (
	"strings"
	"testing"

	"bgwmodel/spec"
)

// TestOutOfRangeSlotNamed: an operation naming a slot that does not exist
// is reported with the slot it names and the slots there are, never as
// slot 0.
func TestOutOfRangeSlotNamed(t *testing.T) {
	const slots = 8
	started := func(slot int) Operation { return getpid(1, 10, 11, hd(slot, 1, 0), spec.Started, 4242) }
	for _, tc := range []struct {
		name  string
		op    Operation
		check CheckName
		want  []string // in the verdict's place and detail
	}{
		{"getpid-5000", started(5000), CheckSlots, []string{"slot 5000, which does not exist", "slots 0..7"}},
		{"getpid-minus-3", getpid(1, 10, 11, hd(-3, 1, 0), spec.NotYetStarted, 0), CheckSlots,
			[]string{"slot -3, which does not exist", "slots 0..7"}},
		{"wait-slot-8", wait(1, 10, 11, hd(8, 1, 0), spec.Started, 4242), CheckSlots,
			[]string{"slot 8, which does not exist", "slots 0..7"}},
		{"launch-5000", launch(10, 11, 5000, 4242), CheckValidity, []string{"slot 5000 does not exist", "slots 0..7"}},
		{"register-minus-3", reg(1, 10, 11, hd(-3, 1, 0)), CheckValidity,
			[]string{"slot -3, which does not exist", "slots 0..7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := History{reg(2, 1, 2, hd(0, 1, 0)), tc.op}
			rep := Check(h, Options{Slots: slots, Mode: ModePartitioned})
			v := verdictOf(t, rep, tc.check)
			if v.Result != Violation {
				t.Fatalf("%s check: %v, want violation:\n%v", tc.check, v.Result, rep)
			}
			text := v.Where + "\n" + v.Detail
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("the report does not say %q:\n%v", w, rep)
				}
			}
			if strings.HasPrefix(v.Where, "slot 0") {
				t.Errorf("reported as slot 0:\n%v", rep)
			}
		})
	}
	t.Run("stopped-is-legal", func(t *testing.T) {
		h := History{getpid(1, 10, 11, hd(5000, 1, 0), spec.Stopped, spec.DeadPid)}
		if rep := Check(h, Options{Slots: slots, Mode: ModeAuto}); !rep.Ok() {
			t.Errorf("STOPPED for a slot that does not exist is legal:\n%v", rep)
		}
	})
}
