package spec_test

import (
	"fmt"

	"bgwmodel/spec"
)

// A backend registers a worker, the postmaster launches it, and the
// backend reads its pid. Step returns one next state per way the output
// is legal, and none for an illegal output.
func ExampleStep() {
	s := spec.Init(2, 1) // slot 0 holds a static worker, slot 1 is free
	w := spec.Worker{Name: "sweeper", Flags: spec.FlagShmemAccess, StartTime: spec.ConsistentState, RestartTime: 60}

	reg := spec.Input{Kind: spec.OpRegister, Worker: w}
	h := spec.Handle{Slot: 1, Generation: 1, Epoch: 0}
	s = spec.Step(s, reg, spec.Output{Result: spec.ResultOK, Handle: h})[0]
	fmt.Println(s)

	s = spec.Step(s, spec.Input{Kind: spec.OpLaunch, Slot: 1, Pid: 4242}, spec.Output{})[0]
	get := spec.Input{Kind: spec.OpGetPid, Handle: h}
	fmt.Println(len(spec.Step(s, get, spec.Output{Status: spec.Started, Pid: 4242})))
	fmt.Println(len(spec.Step(s, get, spec.Output{Status: spec.NotYetStarted})))

	// Every slot is in use now, so "no free slot" is legal.
	fmt.Println(len(spec.Step(s, reg, spec.Output{Result: spec.ResultNoFreeSlot})))
	// A registration cut short by a crash may or may not have happened.
	fmt.Println(len(spec.Step(spec.Init(2, 0), reg, spec.Output{Unknown: true})))
	// Output:
	// e0 alive [0:in-use g0 pid=-1, 1:in-use g1 pid=-1]
	// 1
	// 0
	// 1
	// 3
}

// The status rule: a forgotten worker reads STOPPED even though it never
// started, and so does a handle from before a crash re-initialization.
func ExampleStatusOf() {
	s := spec.State{
		Slots: []spec.Slot{
			{InUse: true, Generation: 3, Pid: spec.InvalidPid},
			{InUse: true, Generation: 1, Pid: 4242},
			{InUse: false, Generation: 2, Pid: spec.InvalidPid},
		},
		Alive: true,
		Epoch: 1,
	}
	for _, h := range []spec.Handle{
		{Slot: 0, Generation: 3, Epoch: 1},
		{Slot: 1, Generation: 1, Epoch: 1},
		{Slot: 2, Generation: 2, Epoch: 1}, // forgotten before it started
		{Slot: 1, Generation: 1, Epoch: 0}, // issued before the crash
	} {
		status, pid := spec.StatusOf(s, h)
		fmt.Println(h, status, pid)
	}
	// Output:
	// s0/g3/e1 NOT_YET_STARTED 0
	// s1/g1/e1 STARTED 4242
	// s2/g2/e1 STOPPED 0
	// s1/g1/e0 STOPPED 0
}

// The restart rule for a worker with shared-memory access.
func ExampleRestart() {
	w := spec.Worker{Name: "w", Flags: spec.FlagShmemAccess, RestartTime: 4_294_968}
	for _, e := range []spec.Exit{{Code: 0}, {Code: 1}, {Code: 2}, {Code: 9, Signaled: true}} {
		fmt.Println(e, "->", spec.Restart(w, e))
	}
	// Output:
	// exit 0 -> RestartNow
	// exit 1 -> RestartAfter(1193h2m48s)
	// exit 2 -> CrashRestart
	// signal 9 -> CrashRestart
}
