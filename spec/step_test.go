package spec

import (
	"fmt"
	"testing"
)

type stepCase struct {
	name string
	s    State
	in   Input
	out  Output
	want []State // nil: the output is not allowed
}

// runSteps checks each case's Step result as a set of states, and that Step
// neither changes its argument nor returns states sharing memory with it.
func runSteps(t *testing.T, cases []stepCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.s.Clone()
			got := Step(tc.s, tc.in, tc.out)
			if !tc.s.Equal(before) {
				t.Fatalf("Step changed its state: %v, was %v", tc.s, before)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Step(%v, %s) = %v, want %v", tc.s, Describe(tc.in, tc.out), got, tc.want)
			}
			for _, w := range tc.want {
				n := 0
				for _, g := range got {
					if g.Equal(w) {
						n++
					}
				}
				if n != 1 {
					t.Fatalf("Step(%v, %s) = %v, want %v", tc.s, Describe(tc.in, tc.out), got, tc.want)
				}
			}
			for _, g := range got {
				for i := range g.Slots {
					g.Slots[i].Generation += 100
				}
			}
			if !tc.s.Equal(before) {
				t.Fatalf("a state returned by Step shares memory with its argument")
			}
		})
	}
}

func TestStepRegister(t *testing.T) {
	reg := Input{Kind: OpRegister, Worker: good}
	bad := reg
	bad.Worker.Name = ""
	s := st(0, true, used(1, 5), free(1, 0), free(0, -1))
	full := st(0, true, used(1, 5), used(2, -1))
	ok := func(slot int, gen, epoch uint64) Output {
		return Output{Result: ResultOK, Handle: Handle{slot, gen, epoch}}
	}
	runSteps(t, []stepCase{
		{"take free slot 1", s, reg, ok(1, 2, 0), []State{st(0, true, used(1, 5), used(2, -1), free(0, -1))}},
		{"take free slot 2", s, reg, ok(2, 1, 0), []State{st(0, true, used(1, 5), free(1, 0), used(1, -1))}},
		{"take slot in use", s, reg, ok(0, 2, 0), nil},
		{"generation not incremented", s, reg, ok(1, 1, 0), nil},
		{"generation incremented twice", s, reg, ok(1, 3, 0), nil},
		{"generation 0", s, reg, ok(2, 0, 0), nil},
		{"wrong epoch", s, reg, ok(1, 2, 1), nil},
		{"slot -1", s, reg, ok(-1, 1, 0), nil},
		{"slot past the end", s, reg, ok(3, 1, 0), nil},
		{"no free slot while slots are free", s, reg, Output{Result: ResultNoFreeSlot}, nil},
		{"no free slot when full", full, reg, Output{Result: ResultNoFreeSlot}, []State{full}},
		{"no free slot with no slots", st(0, true), reg, Output{Result: ResultNoFreeSlot}, []State{st(0, true)}},
		{"ok when full", full, reg, ok(1, 3, 0), nil},
		{"valid worker reported invalid", s, reg, Output{Result: ResultInvalid, Invalid: FieldName}, nil},
		{"unknown result value", s, reg, Output{Result: 9}, nil},
		{"unknown output: unchanged or any free slot", s, reg, Output{Unknown: true}, []State{
			s,
			st(0, true, used(1, 5), used(2, -1), free(0, -1)),
			st(0, true, used(1, 5), free(1, 0), used(1, -1)),
		}},
		{"unknown output when full", full, reg, Output{Unknown: true}, []State{full}},
		{"invalid worker, right field", s, bad, Output{Result: ResultInvalid, Invalid: FieldName}, []State{s}},
		{"invalid worker, wrong field", s, bad, Output{Result: ResultInvalid, Invalid: FieldFlags}, nil},
		{"invalid worker, no field", s, bad, Output{Result: ResultInvalid}, nil},
		{"invalid worker registered", s, bad, ok(1, 2, 0), nil},
		{"invalid worker, no free slot", full, bad, Output{Result: ResultNoFreeSlot}, nil},
		{"invalid worker, unknown output", s, bad, Output{Unknown: true}, []State{s}},
		{"after re-init", st(4, true, free(0, 0)), reg, ok(0, 1, 4), []State{st(4, true, used(1, -1))}},
		{"after re-init, old epoch", st(4, true, free(0, 0)), reg, ok(0, 1, 3), nil},
		{"postmaster dead", st(0, false, free(0, 0)), reg, ok(0, 1, 0), []State{st(0, false, used(1, -1))}},
	})
}

func TestStepGetPid(t *testing.T) {
	s := st(1, true, used(2, -1), used(2, 0), used(2, 77), free(2, 77))
	get := func(slot int) Input { return Input{Kind: OpGetPid, Handle: Handle{slot, 2, 1}} }
	out := func(st Status, pid Pid) Output { return Output{Status: st, Pid: pid} }
	runSteps(t, []stepCase{
		{"not yet started", s, get(0), out(NotYetStarted, 0), []State{s}},
		{"not yet started, said stopped", s, get(0), out(Stopped, 0), nil},
		{"not yet started, said started", s, get(0), out(Started, 5), nil},
		{"dead", s, get(1), out(Stopped, 0), []State{s}},
		{"dead, said not yet started", s, get(1), out(NotYetStarted, 0), nil},
		{"running", s, get(2), out(Started, 77), []State{s}},
		{"running, wrong pid", s, get(2), out(Started, 78), nil},
		{"running, said stopped", s, get(2), out(Stopped, 0), nil},
		{"free slot", s, get(3), out(Stopped, 0), []State{s}},
		{"free slot, said started (seed's no-inuse-check)", s, get(3), out(Started, 77), nil},
		{"stopped, pid ignored", s, get(1), out(Stopped, 99), []State{s}},
		{"not yet started, pid ignored", s, get(0), out(NotYetStarted, -1), []State{s}},
		{"never postmaster died", st(1, false, used(2, -1)), get(0), out(PostmasterDied, 0), nil},
		{"stale epoch", s, Input{Kind: OpGetPid, Handle: Handle{2, 2, 0}}, out(Stopped, 0), []State{s}},
		{"stale epoch, said started", s, Input{Kind: OpGetPid, Handle: Handle{2, 2, 0}}, out(Started, 77), nil},
		{"old generation", s, Input{Kind: OpGetPid, Handle: Handle{2, 1, 1}}, out(Stopped, 0), []State{s}},
		{"out of range", s, get(9), out(Stopped, 0), []State{s}},
		{"unknown output", s, get(2), Output{Unknown: true}, []State{s}},
	})
}

func TestStepWaitForStartup(t *testing.T) {
	alive := st(0, true, used(1, -1), used(1, 0), used(1, 8))
	dead := alive.Clone()
	dead.Alive = false
	wait := func(slot int) Input { return Input{Kind: OpWaitForStartup, Handle: Handle{slot, 1, 0}} }
	out := func(st Status, pid Pid) Output { return Output{Status: st, Pid: pid} }
	runSteps(t, []stepCase{
		{"never not yet started", alive, wait(0), out(NotYetStarted, 0), nil},
		{"never not yet started, dead", dead, wait(0), out(NotYetStarted, 0), nil},
		{"postmaster died", dead, wait(0), out(PostmasterDied, 0), []State{dead}},
		{"postmaster died, worker running", dead, wait(2), out(PostmasterDied, 0), []State{dead}},
		{"postmaster died, worker stopped", dead, wait(1), out(PostmasterDied, 0), []State{dead}},
		{"postmaster died while alive", alive, wait(0), out(PostmasterDied, 0), nil},
		{"started", alive, wait(2), out(Started, 8), []State{alive}},
		{"started, wrong pid", alive, wait(2), out(Started, 9), nil},
		{"started, postmaster dead", dead, wait(2), out(Started, 8), []State{dead}},
		{"stopped", alive, wait(1), out(Stopped, 0), []State{alive}},
		{"stopped, postmaster dead", dead, wait(1), out(Stopped, 0), []State{dead}},
		{"stopped while running", alive, wait(2), out(Stopped, 0), nil},
		{"started while not yet started", alive, wait(0), out(Started, 8), nil},
		{"stale handle", alive, Input{Kind: OpWaitForStartup, Handle: Handle{2, 1, 5}}, out(Stopped, 0), []State{alive}},
		{"unknown output", alive, wait(0), Output{Unknown: true}, []State{alive}},
	})
}

func TestStepPostmaster(t *testing.T) {
	s := st(0, true, used(1, -1), used(2, 40), free(3, 0), free(4, 41))
	un := Output{Unknown: true}
	launch := func(slot int, pid Pid) Input { return Input{Kind: OpLaunch, Slot: slot, Pid: pid} }
	exit := func(slot int) Input { return Input{Kind: OpExit, Slot: slot} }
	forget := func(slot int) Input { return Input{Kind: OpForget, Slot: slot} }
	reinit := func(slots ...int) Input { return Input{Kind: OpReinit, InUse: slots} }
	died := Input{Kind: OpDied}
	dead := s.Clone()
	dead.Alive = false
	stopped := st(0, true, used(1, -1), used(2, 0), free(3, 0), free(4, 41))
	runSteps(t, []stepCase{
		{"launch", s, launch(0, 50), Output{}, []State{st(0, true, used(1, 50), used(2, 40), free(3, 0), free(4, 41))}},
		{"launch a running slot", s, launch(1, 51), Output{}, nil},
		{"restart an exited slot", stopped, launch(1, 51), Output{}, []State{st(0, true, used(1, -1), used(2, 51), free(3, 0), free(4, 41))}},
		{"launch after death", dead, launch(0, 50), Output{}, nil},
		{"launch pid 0", s, launch(0, 0), Output{}, nil},
		{"launch pid -1", s, launch(0, -1), Output{}, nil},
		{"launch free slot", s, launch(2, 50), Output{}, nil},
		{"launch slot -1", s, launch(-1, 50), Output{}, nil},
		{"launch slot past the end", s, launch(4, 50), Output{}, nil},
		{"launch ignores output fields", s, launch(0, 50), Output{Status: Stopped, Result: ResultInvalid}, []State{st(0, true, used(1, 50), used(2, 40), free(3, 0), free(4, 41))}},
		{"launch unknown", s, launch(0, 50), un, []State{s, st(0, true, used(1, 50), used(2, 40), free(3, 0), free(4, 41))}},
		{"launch unknown, illegal", s, launch(2, 50), un, []State{s}},
		{"exit", s, exit(1), Output{}, []State{st(0, true, used(1, -1), used(2, 0), free(3, 0), free(4, 41))}},
		{"exit before launch", s, exit(0), Output{}, nil},
		{"exit twice", stopped, exit(1), Output{}, nil},
		{"exit after death", dead, exit(1), Output{}, nil},
		{"exit free slot", s, exit(3), Output{}, nil},
		{"exit out of range", s, exit(7), Output{}, nil},
		{"exit unknown", s, exit(1), un, []State{s, st(0, true, used(1, -1), used(2, 0), free(3, 0), free(4, 41))}},
		{"exit unknown, no effect", st(0, true, used(1, 0)), exit(0), un, []State{st(0, true, used(1, 0))}},
		{"forget keeps pid and generation", stopped, forget(1), Output{}, []State{st(0, true, used(1, -1), free(2, 0), free(3, 0), free(4, 41))}},
		{"forget a running worker", s, forget(1), Output{}, nil},
		{"forget after death", dead, forget(0), Output{}, nil},
		{"forget unknown, running: no effect", s, forget(1), un, []State{s}},
		{"forget before launch", s, forget(0), Output{}, []State{st(0, true, free(1, -1), used(2, 40), free(3, 0), free(4, 41))}},
		{"forget free slot", s, forget(2), Output{}, nil},
		{"forget slot -1", s, forget(-1), Output{}, nil},
		{"forget unknown", s, forget(0), un, []State{s, st(0, true, free(1, -1), used(2, 40), free(3, 0), free(4, 41))}},
		{"reinit", s, reinit(0, 2), Output{}, []State{st(1, true, used(0, -1), free(0, 0), used(0, -1), free(0, 0))}},
		{"reinit nothing", s, reinit(), Output{}, []State{st(1, true, free(0, 0), free(0, 0), free(0, 0), free(0, 0))}},
		{"reinit every slot", s, reinit(3, 2, 1, 0), Output{}, []State{st(1, true, used(0, -1), used(0, -1), used(0, -1), used(0, -1))}},
		{"reinit duplicate", s, reinit(0, 0), Output{}, nil},
		{"reinit slot -1", s, reinit(-1), Output{}, nil},
		{"reinit slot past the end", s, reinit(4), Output{}, nil},
		{"reinit unknown", s, reinit(1), un, []State{s, st(1, true, free(0, 0), used(0, -1), free(0, 0), free(0, 0))}},
		{"reinit unknown, illegal", s, reinit(1, 1), un, []State{s}},
		{"reinit after death", dead, reinit(0), Output{}, nil},
		{"reinit unknown after death: no effect", dead, reinit(0), un, []State{dead}},
		{"died", s, died, Output{}, []State{dead}},
		{"died twice", dead, died, Output{}, nil},
		{"died unknown", s, died, un, []State{s, dead}},
		{"died unknown, already dead", dead, died, un, []State{dead}},
	})
}

func TestStepUnknownKind(t *testing.T) {
	runSteps(t, []stepCase{
		{"kind 99", Init(1, 0), Input{Kind: 99}, Output{}, nil},
		{"kind 99 unknown output", Init(1, 0), Input{Kind: 99}, Output{Unknown: true}, nil},
	})
}

// TestStepEpochMakesOldHandlesStale replays a crash: a handle taken before
// the re-init names a slot and generation that the new memory reuses, yet
// it reads STOPPED and the new registration's handle differs from it.
func TestStepEpochMakesOldHandlesStale(t *testing.T) {
	s := Init(1, 0)
	reg := Input{Kind: OpRegister, Worker: good}
	old := Handle{0, 1, 0}
	s = only(t, Step(s, reg, Output{Handle: old}))
	s = only(t, Step(s, Input{Kind: OpReinit}, Output{}))
	fresh := Handle{0, 1, 1}
	if len(Step(s, reg, Output{Handle: old})) != 0 {
		t.Fatal("a registration after re-init returned a pre-crash handle")
	}
	s = only(t, Step(s, reg, Output{Handle: fresh}))
	s = only(t, Step(s, Input{Kind: OpLaunch, Slot: 0, Pid: 9}, Output{}))
	if st, _ := StatusOf(s, old); st != Stopped {
		t.Errorf("pre-crash handle reads %v, want STOPPED", st)
	}
	if st, pid := StatusOf(s, fresh); st != Started || pid != 9 {
		t.Errorf("new handle reads %v %d, want STARTED 9", st, pid)
	}
}

func only(t *testing.T, states []State) State {
	t.Helper()
	if len(states) != 1 {
		t.Fatalf("got %d states, want 1: %v", len(states), states)
	}
	return states[0]
}

func TestOpStrings(t *testing.T) {
	h := Handle{2, 1, 0}
	for _, tc := range []struct {
		got, want string
	}{
		{Input{Kind: OpRegister, Worker: good}.String(), `Register("w" shmem ConsistentState restart=60s notify=0)`},
		{Input{Kind: OpGetPid, Handle: h}.String(), "GetPid(s2/g1/e0)"},
		{Input{Kind: OpWaitForStartup, Handle: h}.String(), "WaitForStartup(s2/g1/e0)"},
		{Input{Kind: OpLaunch, Slot: 2, Pid: 4242}.String(), "Launch(s2, pid=4242)"},
		{Input{Kind: OpExit, Slot: 2}.String(), "Exit(s2)"},
		{Input{Kind: OpForget, Slot: 2}.String(), "Forget(s2)"},
		{Input{Kind: OpReinit, InUse: []int{0, 1}}.String(), "Reinit(in_use=[0 1])"},
		{Input{Kind: OpDied}.String(), "Died"},
		{Input{Kind: 42}.String(), "OpKind(42)"},
		{Output{Unknown: true}.String(), "unknown"},
		{Output{Handle: h}.String(), "ok s2/g1/e0"},
		{Output{Result: ResultNoFreeSlot}.String(), "no-free-slot"},
		{Output{Result: ResultInvalid, Invalid: FieldFlags}.String(), "invalid(flags)"},
		{Output{Status: Started, Pid: 7}.String(), "STARTED pid=7"},
		{Output{Status: Stopped}.String(), "STOPPED"},
		{Result(5).String(), "Result(5)"},
		{Describe(Input{Kind: OpGetPid, Handle: h}, Output{Status: Started, Pid: 7}), "GetPid(s2/g1/e0) -> STARTED pid=7"},
		{Describe(Input{Kind: OpRegister, Worker: good}, Output{Handle: h}), `Register("w" shmem ConsistentState restart=60s notify=0) -> ok s2/g1/e0`},
		{Describe(Input{Kind: OpRegister, Worker: good}, Output{Result: ResultNoFreeSlot}), `Register("w" shmem ConsistentState restart=60s notify=0) -> no-free-slot`},
		{Describe(Input{Kind: OpRegister, Worker: good}, Output{Result: ResultInvalid, Invalid: FieldName}), `Register("w" shmem ConsistentState restart=60s notify=0) -> invalid(name)`},
		{Describe(Input{Kind: OpExit, Slot: 1}, Output{}), "Exit(s1) -> done"},
		{Describe(Input{Kind: OpWaitForStartup, Handle: h}, Output{Unknown: true}), "WaitForStartup(s2/g1/e0) -> unknown"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
	for k := OpRegister; k <= OpDied; k++ {
		if s := k.String(); s == fmt.Sprintf("OpKind(%d)", k) {
			t.Errorf("OpKind %d has no name", k)
		}
	}
}
