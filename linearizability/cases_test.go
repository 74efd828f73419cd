package linearizability

import (
	"fmt"

	"bgwmodel/spec"
)

// Helpers that build small histories by hand. Backends are clients 1, 2,
// ... named "backend-N"; the postmaster is client 0.

var okWorker = spec.Worker{Name: "w", Flags: spec.FlagShmemAccess, StartTime: spec.ConsistentState,
	RestartTime: 60, LibraryName: "lib", FunctionName: "main", NotifyPid: 4242}

func hd(slot int, gen, epoch uint64) spec.Handle {
	return spec.Handle{Slot: slot, Generation: gen, Epoch: epoch}
}

func backend(c int, call, ret Stamp, in spec.Input, out spec.Output) Operation {
	return Operation{Client: c, Process: fmt.Sprintf("backend-%d", c), Input: in, Output: out, Call: call, Return: ret}
}

func postmaster(call, ret Stamp, in spec.Input) Operation {
	return Operation{Client: 0, Process: "postmaster", Input: in, Call: call, Return: ret}
}

func reg(c int, call, ret Stamp, h spec.Handle) Operation {
	return backend(c, call, ret, spec.Input{Kind: spec.OpRegister, Worker: okWorker},
		spec.Output{Result: spec.ResultOK, Handle: h})
}

func regFull(c int, call, ret Stamp) Operation {
	return backend(c, call, ret, spec.Input{Kind: spec.OpRegister, Worker: okWorker},
		spec.Output{Result: spec.ResultNoFreeSlot})
}

func regInvalid(c int, call, ret Stamp, w spec.Worker, f spec.Field) Operation {
	return backend(c, call, ret, spec.Input{Kind: spec.OpRegister, Worker: w},
		spec.Output{Result: spec.ResultInvalid, Invalid: f})
}

func getpid(c int, call, ret Stamp, h spec.Handle, st spec.Status, pid spec.Pid) Operation {
	return backend(c, call, ret, spec.Input{Kind: spec.OpGetPid, Handle: h}, spec.Output{Status: st, Pid: pid})
}

func wait(c int, call, ret Stamp, h spec.Handle, st spec.Status, pid spec.Pid) Operation {
	return backend(c, call, ret, spec.Input{Kind: spec.OpWaitForStartup, Handle: h}, spec.Output{Status: st, Pid: pid})
}

func launch(call, ret Stamp, slot int, pid spec.Pid) Operation {
	return postmaster(call, ret, spec.Input{Kind: spec.OpLaunch, Slot: slot, Pid: pid})
}

func exit(call, ret Stamp, slot int) Operation {
	return postmaster(call, ret, spec.Input{Kind: spec.OpExit, Slot: slot})
}

func forget(call, ret Stamp, slot int) Operation {
	return postmaster(call, ret, spec.Input{Kind: spec.OpForget, Slot: slot})
}

func reinit(call, ret Stamp, inUse ...int) Operation {
	if inUse == nil {
		inUse = []int{}
	}
	return postmaster(call, ret, spec.Input{Kind: spec.OpReinit, InUse: inUse})
}

func died(call, ret Stamp) Operation {
	return postmaster(call, ret, spec.Input{Kind: spec.OpDied})
}

// cut returns op cut short by a crash: unknown output, return at infinity.
func cut(op Operation) Operation {
	op.Output, op.Return = spec.Output{Unknown: true}, Infinity
	return op
}

var badWorker = func() spec.Worker { w := okWorker; w.RestartTime = -2; return w }()

// handCase is a hand-written history and whether it is linearizable.
type handCase struct {
	name          string
	slots, static int
	h             History
	legal         bool
	// checks lists, for an illegal history, the partitioned checks that
	// must find it; none means the partitioned mode misses it (it is not
	// complete) and only the exact check finds it.
	checks []CheckName
}

var handCases = []handCase{
	{name: "lifecycle", slots: 1, legal: true, h: History{
		reg(1, 1, 2, hd(0, 1, 0)),
		getpid(1, 3, 4, hd(0, 1, 0), spec.NotYetStarted, 0),
		launch(5, 6, 0, 100),
		getpid(1, 7, 8, hd(0, 1, 0), spec.Started, 100),
		wait(1, 9, 10, hd(0, 1, 0), spec.Started, 100),
		exit(11, 12, 0),
		getpid(1, 13, 14, hd(0, 1, 0), spec.Stopped, 0),
		forget(15, 16, 0),
		getpid(1, 17, 18, hd(0, 1, 0), spec.Stopped, 0),
		reg(2, 19, 20, hd(0, 2, 0)),
		getpid(1, 21, 22, hd(0, 1, 0), spec.Stopped, 0),
	}},
	{name: "concurrent-launch", slots: 1, legal: true, h: History{
		reg(1, 1, 2, hd(0, 1, 0)),
		launch(3, 8, 0, 100),
		getpid(1, 4, 5, hd(0, 1, 0), spec.NotYetStarted, 0),
		getpid(2, 4, 9, hd(0, 1, 0), spec.Started, 100),
		getpid(1, 6, 7, hd(0, 1, 0), spec.Started, 100),
		wait(1, 10, 11, hd(0, 1, 0), spec.Started, 100),
	}},
	{name: "any-free-slot", slots: 2, legal: true, h: History{
		reg(1, 1, 4, hd(1, 1, 0)),
		reg(2, 2, 3, hd(0, 1, 0)),
		regFull(3, 5, 6),
		forget(7, 8, 1),
		reg(3, 9, 10, hd(1, 2, 0)),
	}},
	{name: "no-free-slot-concurrent-forget", slots: 1, legal: true, h: History{
		reg(1, 1, 2, hd(0, 1, 0)),
		forget(3, 6, 0),
		regFull(2, 4, 5),
	}},
	{name: "crash-restart", slots: 2, legal: true, h: History{
		reg(1, 1, 2, hd(0, 1, 0)),
		cut(reg(2, 3, 0, hd(1, 1, 0))),
		launch(4, 5, 0, 100),
		reinit(6, 7, 0),
		getpid(3, 8, 9, hd(0, 1, 0), spec.Stopped, 0),
		reg(3, 10, 11, hd(1, 1, 1)),
		launch(12, 13, 0, 200),
		getpid(3, 14, 15, hd(1, 1, 1), spec.NotYetStarted, 0),
	}},
	{name: "cut-short-register-took-the-slot", slots: 1, legal: true, h: History{
		cut(reg(1, 1, 0, hd(0, 1, 0))),
		regFull(2, 3, 4),
		forget(5, 6, 0),
		reg(2, 7, 8, hd(0, 2, 0)),
	}},
	{name: "static-worker", slots: 2, static: 1, legal: true, h: History{
		launch(1, 2, 0, 100),
		reg(1, 3, 4, hd(1, 1, 0)),
		regFull(2, 5, 6),
	}},
	{name: "invalid-worker", slots: 1, legal: true, h: History{
		regInvalid(1, 1, 2, badWorker, spec.FieldRestartTime),
		reg(1, 3, 4, hd(0, 1, 0)),
	}},
	{name: "postmaster-died", slots: 1, legal: true, h: History{
		reg(1, 1, 2, hd(0, 1, 0)),
		died(3, 4),
		wait(1, 5, 6, hd(0, 1, 0), spec.PostmasterDied, 0),
		getpid(1, 7, 8, hd(0, 1, 0), spec.NotYetStarted, 0),
	}},
	{name: "zero-slots", slots: 0, legal: true, h: History{
		regFull(1, 1, 2),
		getpid(1, 3, 4, hd(0, 1, 0), spec.Stopped, 0),
		reinit(5, 6),
	}},
	{name: "forgotten-before-start-reads-stopped", slots: 1, legal: true, h: History{
		reg(1, 1, 2, hd(0, 1, 0)),
		forget(3, 4, 0),
		getpid(1, 5, 6, hd(0, 1, 0), spec.Stopped, 0),
		wait(1, 7, 8, hd(0, 1, 0), spec.Stopped, 0),
	}},

	{name: "stale-handle-started-after-reuse", slots: 1, checks: []CheckName{CheckSlots}, h: History{
		reg(1, 1, 2, hd(0, 1, 0)),
		launch(3, 4, 0, 100),
		exit(5, 6, 0),
		forget(7, 8, 0),
		reg(2, 9, 10, hd(0, 2, 0)),
		launch(11, 12, 0, 101),
		getpid(1, 13, 14, hd(0, 1, 0), spec.Started, 101),
	}},
	{name: "not-yet-started-after-forget", slots: 2, checks: []CheckName{CheckSlots}, h: History{
		reg(1, 1, 2, hd(0, 1, 0)),
		forget(3, 4, 0),
		getpid(1, 5, 6, hd(0, 1, 0), spec.NotYetStarted, 0),
	}},
	{name: "generation-skipped", slots: 1, checks: []CheckName{CheckSlots}, h: History{
		reg(1, 1, 2, hd(0, 1, 0)),
		forget(3, 4, 0),
		reg(2, 5, 6, hd(0, 3, 0)),
	}},
	{name: "launch-on-free-slot", slots: 2, checks: []CheckName{CheckSlots}, h: History{
		reg(1, 1, 2, hd(1, 1, 0)),
		launch(3, 4, 0, 100),
	}},
	{name: "no-free-slot-with-free-slot", slots: 2, checks: []CheckName{CheckNoFreeSlot}, h: History{
		reg(1, 1, 2, hd(0, 1, 0)),
		regFull(2, 3, 4),
	}},
	{name: "wait-not-yet-started", slots: 1, checks: []CheckName{CheckSlots}, h: History{
		reg(1, 1, 2, hd(0, 1, 0)),
		wait(1, 3, 4, hd(0, 1, 0), spec.NotYetStarted, 0),
	}},
	{name: "invalid-worker-accepted", slots: 1, checks: []CheckName{CheckValidity}, h: History{
		backend(1, 1, 2, spec.Input{Kind: spec.OpRegister, Worker: badWorker},
			spec.Output{Result: spec.ResultOK, Handle: hd(0, 1, 0)}),
	}},
	{name: "pre-crash-handle-reads-started", slots: 1, checks: []CheckName{CheckSlots}, h: History{
		reg(1, 1, 2, hd(0, 1, 0)),
		reinit(3, 4, 0),
		launch(5, 6, 0, 100),
		getpid(2, 7, 8, hd(0, 1, 0), spec.Started, 100),
	}},
	{name: "cut-short-register-in-two-slots", slots: 2, h: History{
		// One cut-short Register cannot have taken both slots, but each
		// slot's part alone cannot tell: only the exact check sees it.
		cut(reg(1, 1, 0, hd(0, 1, 0))),
		launch(2, 3, 0, 100),
		launch(4, 5, 1, 101),
	}},
	{name: "cut-short-register-freed-twice", slots: 2, checks: []CheckName{CheckNoFreeSlot}, h: History{
		cut(reg(1, 1, 0, hd(0, 1, 0))),
		forget(2, 3, 0),
		forget(4, 5, 1),
	}},
	{name: "zero-slots-register-ok", slots: 0, checks: []CheckName{CheckValidity}, h: History{
		reg(1, 1, 2, hd(0, 1, 0)),
	}},
	{name: "register-after-its-read", slots: 1, checks: []CheckName{CheckSlots}, h: History{
		getpid(1, 1, 2, hd(0, 1, 0), spec.NotYetStarted, 0),
		reg(2, 3, 4, hd(0, 1, 0)),
	}},
}
