package spec

import "fmt"

// OpKind names an operation of the specification (see docs/spec.md).
type OpKind uint8

// The operations. The first three are a backend's calls; the rest are the
// postmaster's actions on shared memory.
const (
	// OpRegister is RegisterDynamicBackgroundWorker(Input.Worker).
	OpRegister OpKind = iota
	// OpGetPid is GetBackgroundWorkerPid(Input.Handle).
	OpGetPid
	// OpWaitForStartup is WaitForBackgroundWorkerStartup(Input.Handle).
	OpWaitForStartup
	// OpLaunch is ReportBackgroundWorkerPID: slot Input.Slot's worker runs
	// as Input.Pid.
	OpLaunch
	// OpExit is the postmaster reaping slot Input.Slot's worker: pid 0.
	OpExit
	// OpForget is ForgetBackgroundWorker on slot Input.Slot: in_use false.
	OpForget
	// OpReinit is the crash restart's BackgroundWorkerShmemInit: the slots
	// in Input.InUse hold the postmaster's surviving workers.
	OpReinit
	// OpDied is the postmaster's death.
	OpDied
)

// String returns the operation's name, such as "Register".
func (k OpKind) String() string {
	switch k {
	case OpRegister:
		return "Register"
	case OpGetPid:
		return "GetPid"
	case OpWaitForStartup:
		return "WaitForStartup"
	case OpLaunch:
		return "Launch"
	case OpExit:
		return "Exit"
	case OpForget:
		return "Forget"
	case OpReinit:
		return "Reinit"
	case OpDied:
		return "Died"
	}
	return fmt.Sprintf("OpKind(%d)", uint8(k))
}

// Input is one operation with its arguments. Only the fields of its Kind
// are read: Worker for OpRegister; Handle for OpGetPid and
// OpWaitForStartup; Slot for OpLaunch, OpExit and OpForget; Pid for
// OpLaunch; InUse for OpReinit.
type Input struct {
	Kind   OpKind
	Worker Worker // OpRegister: the worker definition
	Handle Handle // OpGetPid, OpWaitForStartup: the handle asked about
	Slot   int    // OpLaunch, OpExit, OpForget: the slot index
	Pid    Pid    // OpLaunch: the new worker's pid
	InUse  []int  // OpReinit: the slots in use after re-initialization
}

// String returns a compact description, such as "GetPid(s2/g1/e0)" or
// "Launch(s2, pid=4242)".
func (in Input) String() string {
	switch in.Kind {
	case OpRegister:
		return fmt.Sprintf("Register(%v)", in.Worker)
	case OpGetPid, OpWaitForStartup:
		return fmt.Sprintf("%v(%v)", in.Kind, in.Handle)
	case OpLaunch:
		return fmt.Sprintf("Launch(s%d, pid=%d)", in.Slot, in.Pid)
	case OpExit, OpForget:
		return fmt.Sprintf("%v(s%d)", in.Kind, in.Slot)
	case OpReinit:
		return fmt.Sprintf("Reinit(in_use=%v)", in.InUse)
	case OpDied:
		return "Died"
	}
	return in.Kind.String()
}

// Result is the outcome of OpRegister.
type Result uint8

// The outcomes of RegisterDynamicBackgroundWorker.
const (
	ResultOK         Result = iota // registered; Output.Handle is the handle
	ResultNoFreeSlot               // every slot was in use
	ResultInvalid                  // the worker was rejected; Output.Invalid names the field
)

// String returns "ok", "no-free-slot" or "invalid".
func (r Result) String() string {
	switch r {
	case ResultOK:
		return "ok"
	case ResultNoFreeSlot:
		return "no-free-slot"
	case ResultInvalid:
		return "invalid"
	}
	return fmt.Sprintf("Result(%d)", uint8(r))
}

// Output is an operation's observed result. Only the fields of the
// operation's kind are read (see [Step]): Result, Handle and Invalid for
// OpRegister; Status and Pid for OpGetPid and OpWaitForStartup; nothing but
// Unknown for the postmaster's operations, which return nothing.
type Output struct {
	// Unknown marks an operation cut short by a crash: it may or may not
	// have taken effect, and its result was never seen.
	Unknown bool
	Result  Result // OpRegister
	Handle  Handle // OpRegister with ResultOK
	Invalid Field  // OpRegister with ResultInvalid
	Status  Status // OpGetPid, OpWaitForStartup
	Pid     Pid    // OpGetPid, OpWaitForStartup with Started
}

// String returns a compact description without knowing the operation, so it
// guesses which fields matter: "unknown"; "no-free-slot"; "invalid(name)";
// "ok s2/g1/e0" when Handle is set; else the status, with the pid for
// STARTED. An empty output (a postmaster operation's) reads as
// NOT_YET_STARTED; use [Describe] when the input is at hand.
func (out Output) String() string {
	switch {
	case out.Unknown:
		return "unknown"
	case out.Result == ResultNoFreeSlot:
		return "no-free-slot"
	case out.Result == ResultInvalid:
		return fmt.Sprintf("invalid(%s)", out.Invalid)
	case out.Handle != Handle{}:
		return "ok " + out.Handle.String()
	}
	return statusString(out.Status, out.Pid)
}

func statusString(st Status, pid Pid) string {
	if st == Started {
		return fmt.Sprintf("STARTED pid=%d", pid)
	}
	return st.String()
}

// Describe returns "input -> output" with the output described as the
// input's kind reads it, such as "GetPid(s2/g1/e0) -> STARTED pid=4242" or
// "Exit(s2) -> done". It is meant for porcupine's DescribeOperation.
func Describe(in Input, out Output) string {
	var o string
	switch {
	case out.Unknown:
		o = "unknown"
	case in.Kind == OpRegister:
		switch out.Result {
		case ResultOK:
			o = "ok " + out.Handle.String()
		case ResultInvalid:
			o = fmt.Sprintf("invalid(%s)", out.Invalid)
		default:
			o = out.Result.String()
		}
	case in.Kind == OpGetPid || in.Kind == OpWaitForStartup:
		o = statusString(out.Status, out.Pid)
	default:
		o = "done"
	}
	return in.String() + " -> " + o
}
