package spec

// Step returns every state that can follow s when operation in returns out:
// one state per way in which out is a legal output of in from s, no two
// equal. An empty result means out is not a legal output of in from s.
// Step never changes s, and the states it returns share no memory with s.
//
// For each kind:
//
//   - [OpRegister] (RegisterDynamicBackgroundWorker): if [Validate] rejects
//     the worker, the only legal output is [ResultInvalid] naming the same
//     [Field], and the state is unchanged. Otherwise [ResultOK] with handle
//     h is legal iff slot h.Slot is free, h.Generation is its generation
//     plus one and h.Epoch is s.Epoch; the slot becomes in use with that
//     generation and pid [InvalidPid]. Any free slot may be taken: which one
//     is policy, not specification. [ResultNoFreeSlot] is legal iff every
//     slot is in use ([State.Full]), and leaves the state unchanged.
//   - [OpGetPid] (GetBackgroundWorkerPid): Status must be [StatusOf], and
//     for [Started] Pid must be its pid; the state is unchanged.
//   - [OpWaitForStartup] (WaitForBackgroundWorkerStartup): [NotYetStarted]
//     is never legal; [PostmasterDied] is legal iff the postmaster is dead,
//     whatever the slot's status; [Started] and [Stopped] must match
//     [StatusOf] as for OpGetPid. The state is unchanged.
//   - [OpLaunch] (ReportBackgroundWorkerPID after a fork): legal iff the
//     postmaster is alive, the slot exists, is in use, is not running
//     ([Slot.Running]: pid [InvalidPid], never started, or [DeadPid], exited
//     and now restarted) and Pid > 0; sets the slot's pid.
//   - [OpExit] (the postmaster reaping a worker and reporting pid 0): legal
//     iff the postmaster is alive and the slot exists, is in use and is
//     running; sets its pid to [DeadPid].
//   - [OpForget] (ForgetBackgroundWorker): legal iff the postmaster is
//     alive and the slot exists, is in use and is not running; clears
//     in_use, keeping pid and generation.
//   - [OpReinit] (BackgroundWorkerShmemInit after a crash): legal iff the
//     postmaster is alive and the listed slots exist and are distinct; they
//     become in use with generation 0 and pid [InvalidPid], every other slot
//     free with generation 0 and pid [DeadPid], and Epoch grows by one.
//   - [OpDied]: legal iff the postmaster is alive; it is dead from then on.
//
// A dead postmaster does nothing more, so none of its operations is legal
// after OpDied. [Legal] says why a postmaster operation is refused; each
// rule cites the seed code that guarantees it.
//
// Only the output fields of the operation's kind are read (see [Output]);
// the postmaster's operations return nothing, so for them only
// Output.Unknown matters.
//
// An Unknown output (an operation cut short by a crash) may or may not have
// taken effect: for OpRegister with a valid worker the next states are s
// and every successful take of a free slot; for the postmaster's operations
// they are s and, if the operation is legal, its effect; for the rest, and
// for OpRegister with an invalid worker, s alone.
func Step(s State, in Input, out Output) []State {
	switch in.Kind {
	case OpRegister:
		return stepRegister(s, in.Worker, out)
	case OpGetPid, OpWaitForStartup:
		if out.Unknown || statusLegal(s, in, out) {
			return []State{s.Clone()}
		}
		return nil
	case OpLaunch, OpExit, OpForget, OpReinit, OpDied:
		next, ok := apply(s, in)
		switch {
		case !out.Unknown && ok:
			return []State{next}
		case !out.Unknown:
			return nil
		case ok && !next.Equal(s):
			return []State{s.Clone(), next}
		}
		return []State{s.Clone()}
	}
	return nil
}

// stepRegister is Step for OpRegister.
func stepRegister(s State, w Worker, out Output) []State {
	if bad := Validate(w); bad != nil {
		if out.Unknown || (out.Result == ResultInvalid && out.Invalid == bad.Field) {
			return []State{s.Clone()}
		}
		return nil
	}
	if out.Unknown {
		states := []State{s.Clone()}
		for i, sl := range s.Slots {
			if !sl.InUse {
				states = append(states, take(s, i))
			}
		}
		return states
	}
	switch out.Result {
	case ResultOK:
		h := out.Handle
		if h.Epoch != s.Epoch || h.Slot < 0 || h.Slot >= len(s.Slots) {
			return nil
		}
		if sl := s.Slots[h.Slot]; sl.InUse || h.Generation != sl.Generation+1 {
			return nil
		}
		return []State{take(s, h.Slot)}
	case ResultNoFreeSlot:
		if s.Full() {
			return []State{s.Clone()}
		}
	}
	return nil
}

// take returns s after a backend takes free slot i, as
// RegisterDynamicBackgroundWorker does: pid InvalidPid, generation + 1,
// in_use true.
func take(s State, i int) State {
	t := s.Clone()
	t.Slots[i] = Slot{InUse: true, Generation: s.Slots[i].Generation + 1, Pid: InvalidPid}
	return t
}

// statusLegal reports whether out is a legal output of OpGetPid or
// OpWaitForStartup from s.
func statusLegal(s State, in Input, out Output) bool {
	if in.Kind == OpWaitForStartup {
		switch out.Status {
		case NotYetStarted:
			return false
		case PostmasterDied:
			return !s.Alive
		}
	}
	st, pid := StatusOf(s, in.Handle)
	if out.Status != st {
		return false
	}
	return st != Started || out.Pid == pid
}

// apply returns the effect of a postmaster operation on s, and whether the
// operation is legal from s.
func apply(s State, in Input) (State, bool) {
	if Legal(s, in) != nil {
		return State{}, false
	}
	t := s.Clone()
	switch in.Kind {
	case OpLaunch:
		t.Slots[in.Slot].Pid = in.Pid
	case OpExit:
		t.Slots[in.Slot].Pid = DeadPid
	case OpForget:
		t.Slots[in.Slot].InUse = false
	case OpReinit:
		t = State{Slots: make([]Slot, len(s.Slots)), Alive: s.Alive, Epoch: s.Epoch + 1}
		for _, i := range in.InUse {
			t.Slots[i] = Slot{InUse: true, Pid: InvalidPid}
		}
	case OpDied:
		t.Alive = false
	}
	return t, true
}
