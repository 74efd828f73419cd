package spec

import (
	"errors"
	"fmt"
	"testing"
)

// TestLegal checks every rule of the postmaster's operations, each with
// the operations it allows and those it refuses, and that Step applies a
// postmaster operation exactly when Legal allows it.
func TestLegal(t *testing.T) {
	// Slot 0 never started, 1 running, 2 exited, 3 free.
	s := st(0, true, used(1, -1), used(2, 40), used(3, 0), free(4, 0))
	dead := s.Clone()
	dead.Alive = false
	launch := func(slot int, pid Pid) Input { return Input{Kind: OpLaunch, Slot: slot, Pid: pid} }
	exit := func(slot int) Input { return Input{Kind: OpExit, Slot: slot} }
	forget := func(slot int) Input { return Input{Kind: OpForget, Slot: slot} }
	reinit := func(slots ...int) Input { return Input{Kind: OpReinit, InUse: slots} }
	died := Input{Kind: OpDied}
	cases := []struct {
		name string
		s    State
		in   Input
		want Rule // 0: legal
	}{
		{"dead: launch", dead, launch(0, 50), RuleDead},
		{"dead: exit", dead, exit(1), RuleDead},
		{"dead: forget", dead, forget(2), RuleDead},
		{"dead: reinit", dead, reinit(0), RuleDead},
		{"dead: died again", dead, died, RuleDead},
		{"alive: died", s, died, 0},
		{"alive: reinit", s, reinit(0, 1), 0},

		{"no slot: launch -1", s, launch(-1, 50), RuleNoSlot},
		{"no slot: exit past the end", s, exit(4), RuleNoSlot},
		{"no slot: forget past the end", s, forget(9), RuleNoSlot},

		{"not in use: launch", s, launch(3, 50), RuleNotInUse},
		{"not in use: exit", s, exit(3), RuleNotInUse},
		{"not in use: forget", s, forget(3), RuleNotInUse},

		{"bad pid: 0", s, launch(0, 0), RuleBadPid},
		{"bad pid: -1", s, launch(0, -1), RuleBadPid},
		{"bad pid checked before running", s, launch(1, 0), RuleBadPid},

		{"running: launch never started", s, launch(0, 50), 0},
		{"running: restart after exit", s, launch(2, 50), 0},
		{"running: launch a running worker", s, launch(1, 50), RuleRunning},
		{"running: launch the same pid again", s, launch(1, 40), RuleRunning},
		{"running: forget never started", s, forget(0), 0},
		{"running: forget after exit", s, forget(2), 0},
		{"running: forget a running worker", s, forget(1), RuleRunning},

		{"not running: exit a running worker", s, exit(1), 0},
		{"not running: exit never started", s, exit(0), RuleNotRunning},
		{"not running: exit twice", s, exit(2), RuleNotRunning},

		{"reinit: nothing", s, reinit(), 0},
		{"reinit: every slot", s, reinit(3, 2, 1, 0), 0},
		{"reinit: duplicate", s, reinit(1, 1), RuleReinitSlots},
		{"reinit: slot -1", s, reinit(-1), RuleReinitSlots},
		{"reinit: past the end", s, reinit(0, 4), RuleReinitSlots},

		{"not postmaster: register", s, Input{Kind: OpRegister, Worker: good}, RuleNotPostmaster},
		{"not postmaster: get pid", s, Input{Kind: OpGetPid}, RuleNotPostmaster},
		{"not postmaster: wait", s, Input{Kind: OpWaitForStartup}, RuleNotPostmaster},
		{"not postmaster: kind 99", s, Input{Kind: 99}, RuleNotPostmaster},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Legal(tc.s, tc.in)
			var r *Refusal
			switch {
			case tc.want == 0 && err != nil:
				t.Fatalf("Legal(%v, %v) = %v, want nil", tc.s, tc.in, err)
			case tc.want != 0 && (!errors.As(err, &r) || r.Rule != tc.want):
				t.Fatalf("Legal(%v, %v) = %v, want rule %q", tc.s, tc.in, err, tc.want)
			}
			if tc.in.Kind < OpLaunch || tc.in.Kind > OpDied {
				return
			}
			if got := len(Step(tc.s, tc.in, Output{})) == 1; got != (err == nil) {
				t.Errorf("Step applies %v: %v; Legal says %v", tc.in, got, err)
			}
		})
	}
}

func TestRefusalStrings(t *testing.T) {
	cases := []struct{ got, want string }{
		{(&Refusal{In: Input{Kind: OpLaunch, Slot: 0, Pid: 7}, Rule: RuleRunning}).Error(),
			"spec: Launch(s0, pid=7) refused: the worker is running"},
		{(&Refusal{In: Input{Kind: OpExit, Slot: 2}, Rule: RuleNotRunning}).Error(),
			"spec: Exit(s2) refused: the worker is not running"},
		{RuleDead.String(), "the postmaster is dead"},
		{Rule(0).String(), "Rule(0)"},
		{Rule(99).String(), "Rule(99)"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
}

func TestSlotRunning(t *testing.T) {
	for _, c := range []struct {
		pid  Pid
		want bool
	}{{InvalidPid, false}, {DeadPid, false}, {1, true}, {4242, true}} {
		t.Run(fmt.Sprintf("pid %d", c.pid), func(t *testing.T) {
			if got := (Slot{InUse: true, Pid: c.pid}).Running(); got != c.want {
				t.Errorf("Running with pid %d = %v, want %v", c.pid, got, c.want)
			}
		})
	}
}
