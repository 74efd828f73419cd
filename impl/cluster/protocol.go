package cluster

import (
	"context"
	"errors"
	"fmt"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/worker"
)

// The backend protocol: a backend connects to the harness's unix-domain
// socket, sends one hello line, then answers requests, one at a time, one
// JSON object per line each way. See docs/runtime.md.

// Op names a backend request.
type Op string

// The backend requests.
const (
	// OpRegister: RegisterDynamicBackgroundWorker(worker); notify_pid
	// defaults to the backend's own pid. Reply: handle (and an error if
	// the postmaster could not be signalled).
	OpRegister Op = "register"
	// OpGetPid: GetBackgroundWorkerPid(handle). Reply: status, pid.
	OpGetPid Op = "get_pid"
	// OpWaitForStartup: WaitForBackgroundWorkerStartup(handle), for at most
	// timeout_ms. Reply: status, pid.
	OpWaitForStartup Op = "wait_for_startup"
	// OpWaitForShutdown: WaitForBackgroundWorkerShutdown(handle)
	// (PostgreSQL 9.5), for at most timeout_ms. Reply: status.
	OpWaitForShutdown Op = "wait_for_shutdown"
	// OpExit: reply, then exit with code.
	OpExit Op = "exit"
)

// ErrorCode classifies a backend's error so that the harness can rebuild
// it with its identity (errors.Is).
type ErrorCode string

// The error codes.
const (
	CodeNoFreeSlot     ErrorCode = "no_free_slot"    // bgworker.ErrNoFreeSlot
	CodeInvalidWorker  ErrorCode = "invalid_worker"  // *bgworker.InvalidError
	CodeUnknownEntry   ErrorCode = "unknown_entry"   // worker.ErrUnknownEntry
	CodeForeignHandle  ErrorCode = "foreign_handle"  // bgworker.ErrForeignHandle
	CodeBadHandle      ErrorCode = "bad_handle"      // bgworker.ErrBadHandle
	CodePostmasterDead ErrorCode = "postmaster_dead" // proc.ErrPostmasterDead
	CodeTimeout        ErrorCode = "timeout"         // context.DeadlineExceeded
	CodeBadRequest     ErrorCode = "bad_request"     // ErrProtocol
	CodeInternal       ErrorCode = "internal"        // anything else
)

// ErrProtocol: a peer sent something that is not the protocol.
var ErrProtocol = errors.New("cluster: protocol error")

// codeErrors pairs each code with the sentinel it stands for, in the
// order encodeError tries them.
var codeErrors = [...]struct {
	code ErrorCode
	err  error
}{
	{CodeNoFreeSlot, bgworker.ErrNoFreeSlot}, {CodeUnknownEntry, worker.ErrUnknownEntry},
	{CodeForeignHandle, bgworker.ErrForeignHandle}, {CodeBadHandle, bgworker.ErrBadHandle},
	{CodePostmasterDead, proc.ErrPostmasterDead}, {CodeTimeout, context.DeadlineExceeded},
	{CodeBadRequest, ErrProtocol},
}

// sentinel returns the error code stands for, or nil.
func (code ErrorCode) sentinel() error {
	for _, ce := range codeErrors {
		if ce.code == code {
			return ce.err
		}
	}
	return nil
}

// wireWorker is a bgworker.Worker on the wire. NotifyPid nil means "this
// backend".
type wireWorker struct {
	Name         string `json:"name"`
	Flags        uint32 `json:"flags"`
	StartTime    uint32 `json:"start_time"`
	RestartTime  int32  `json:"restart_time"`
	LibraryName  string `json:"library_name"`
	FunctionName string `json:"function_name"`
	MainArg      uint64 `json:"main_arg"`
	NotifyPid    *int32 `json:"notify_pid,omitempty"`
}

func toWire(w bgworker.Worker) *wireWorker {
	ww := &wireWorker{Name: w.Name, Flags: uint32(w.Flags), StartTime: uint32(w.StartTime),
		RestartTime: w.RestartTime, LibraryName: w.LibraryName, FunctionName: w.FunctionName, MainArg: w.MainArg}
	if w.NotifyPid != 0 {
		n := w.NotifyPid
		ww.NotifyPid = &n
	}
	return ww
}

// fromWire returns the worker, with NotifyPid self when unset.
func (ww *wireWorker) fromWire(self int32) bgworker.Worker {
	w := bgworker.Worker{Name: ww.Name, Flags: bgworker.Flags(ww.Flags), StartTime: bgworker.StartTime(ww.StartTime),
		RestartTime: ww.RestartTime, LibraryName: ww.LibraryName, FunctionName: ww.FunctionName,
		MainArg: ww.MainArg, NotifyPid: self}
	if ww.NotifyPid != nil {
		w.NotifyPid = *ww.NotifyPid
	}
	return w
}

// wireHandle is a bgworker.Handle on the wire.
type wireHandle struct {
	Segment    uint64 `json:"segment"`
	Epoch      uint64 `json:"epoch"`
	Slot       int    `json:"slot"`
	Generation uint64 `json:"generation"`
}

func (h wireHandle) handle() bgworker.Handle { return bgworker.Handle(h) }

// request is one request line.
type request struct {
	Op        Op          `json:"op"`
	Worker    *wireWorker `json:"worker,omitempty"`
	Handle    *wireHandle `json:"handle,omitempty"`
	TimeoutMS int64       `json:"timeout_ms,omitempty"`
	Code      int         `json:"code,omitempty"`
	// StopAt arms a breakpoint: the backend stops itself (SIGSTOP) just
	// before step StopAt of this operation, after sending a line with
	// Stopped set (see Backend.StopAt). 0: no breakpoint.
	StopAt int `json:"stop_at,omitempty"`
}

// wireError is an error on the wire; Field, Worker and Reason are set for
// CodeInvalidWorker.
type wireError struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
	Field   string    `json:"field,omitempty"`
	Worker  string    `json:"worker,omitempty"`
	Reason  string    `json:"reason,omitempty"`
}

// response is one reply line.
type response struct {
	Handle *wireHandle `json:"handle,omitempty"`
	Status string      `json:"status,omitempty"`
	Pid    int32       `json:"pid,omitempty"`
	Error  *wireError  `json:"error,omitempty"`
	// Steps is how many steps the operation took (see Breakpoint).
	Steps int `json:"steps,omitempty"`
	// Stopped, on a line of its own before the reply, says the backend
	// is about to stop itself at the armed breakpoint.
	Stopped *Breakpoint `json:"stopped,omitempty"`
}

// helloLine is the backend's first line.
type helloLine struct {
	Hello struct {
		ID  string `json:"id"`
		Pid int    `json:"pid"`
	} `json:"hello"`
}

// parseStatus reads a status by its name ("STARTED").
func parseStatus(name string) (bgworker.Status, error) {
	for s := bgworker.Started; s <= bgworker.PostmasterDied; s++ {
		if s.String() == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown status %q", ErrProtocol, name)
}

// encodeError classifies err for the wire.
func encodeError(err error) *wireError {
	if err == nil {
		return nil
	}
	we := &wireError{Code: CodeInternal, Message: err.Error()}
	var ie *bgworker.InvalidError
	if errors.As(err, &ie) {
		we.Code, we.Field, we.Worker, we.Reason = CodeInvalidWorker, string(ie.Field), ie.Worker, ie.Reason
		return we
	}
	for _, ce := range codeErrors {
		if errors.Is(err, ce.err) {
			we.Code = ce.code
			break
		}
	}
	return we
}

// RemoteError is an error a backend process reported: its message, and
// the identity of the error it stood for (errors.Is works with the
// sentinel its code names, such as bgworker.ErrNoFreeSlot).
type RemoteError struct {
	// Pid is the backend that reported it.
	Pid int
	// Code classifies it.
	Code ErrorCode
	// Message is the backend's error text.
	Message string
	err     error
}

// Error returns "cluster: backend PID: MESSAGE".
func (e *RemoteError) Error() string { return fmt.Sprintf("cluster: backend %d: %s", e.Pid, e.Message) }

// Unwrap returns the sentinel error the code stands for, or nil.
func (e *RemoteError) Unwrap() error { return e.err }

// decodeError rebuilds an error from the wire. An invalid worker comes
// back as a *bgworker.InvalidError (wrapped), so errors.As finds its field.
func decodeError(pid int, we *wireError) error {
	if we == nil {
		return nil
	}
	if we.Code == CodeInvalidWorker {
		return fmt.Errorf("cluster: backend %d: %w",
			pid, &bgworker.InvalidError{Worker: we.Worker, Field: bgworker.Field(we.Field), Reason: we.Reason})
	}
	return &RemoteError{Pid: pid, Code: we.Code, Message: we.Message, err: we.Code.sentinel()}
}
