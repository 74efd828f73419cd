package linearizability

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/anishathalye/porcupine"

	"bgwmodel/spec"
)

// Stamp is a reading of the stress segment's logical clock: an atomic
// fetch-add, totally ordered across processes. An operation's Call stamp
// is taken before its first shared access and its Return stamp after its
// last one.
type Stamp uint64

// Infinity is the Return stamp of an operation cut short by a crash: it
// never returned, so it may be linearized at any point after its call, or
// not at all.
const Infinity Stamp = math.MaxUint64

// maxFinite is the largest finite stamp: porcupine keeps times in an int64
// and Infinity maps to math.MaxInt64.
const maxFinite Stamp = math.MaxInt64 - 1

// String returns the stamp in decimal, or "inf" for [Infinity].
func (t Stamp) String() string {
	if t == Infinity {
		return "inf"
	}
	return fmt.Sprintf("%d", uint64(t))
}

// time converts a stamp to porcupine's int64 time.
func (t Stamp) time() int64 {
	if t == Infinity {
		return math.MaxInt64
	}
	return int64(t)
}

// Operation is one operation of a history: who ran it, what it was, what it
// returned and when. An operation cut short by a crash has Output.Unknown
// set and Return [Infinity]; every other operation has a known output and
// a finite Return no smaller than Call.
type Operation struct {
	// Client identifies a sequential client: its operations never overlap.
	// A process that survives a crash of its own operation, or a process
	// restarted after one, continues under a fresh client id.
	Client int
	// Process names the process that ran the operation, such as
	// "backend-3" or "postmaster". It is for people; checking ignores it.
	Process string
	// Input is the operation and its arguments.
	Input spec.Input
	// Output is what the operation returned, or Unknown.
	Output spec.Output
	// Call and Return bound the operation in time (a closed interval).
	Call, Return Stamp
}

// String returns a one-line description, such as
// "backend-1 (client 3) [12, 15] GetPid(s2/g1/e0) -> STARTED pid=4242".
func (op Operation) String() string {
	return fmt.Sprintf("%s (client %d) [%v, %v] %s", op.Process, op.Client, op.Call, op.Return,
		spec.Describe(op.Input, op.Output))
}

// History is a list of operations in any order.
type History []Operation

// ErrMalformed is wrapped by every error [History.Validate] returns.
var ErrMalformed = errors.New("linearizability: malformed history")

// OpError reports a malformed operation: the index of the operation in
// its history and what is wrong with it. It wraps [ErrMalformed].
type OpError struct {
	Index  int    // index of the offending operation
	Reason string // what is wrong
}

// Error returns "linearizability: malformed history: operation N: reason".
func (e *OpError) Error() string {
	return fmt.Sprintf("%v: operation %d: %s", ErrMalformed, e.Index, e.Reason)
}

// Unwrap returns [ErrMalformed].
func (e *OpError) Unwrap() error { return ErrMalformed }

// Validate reports the first malformed operation of h as an [*OpError],
// or nil. An operation is malformed if its client id is negative, its kind,
// status or result is unknown, its Return is before its Call, a stamp is
// too large for porcupine (at or above 2^63-1, other than Infinity), its
// output is unknown but its Return finite or the other way round, or if it
// overlaps another operation of the same client, or its client id was used
// by another process. These are recording errors, not violations.
func (h History) Validate() error {
	if i, reason := h.firstMalformed(); i >= 0 {
		return &OpError{Index: i, Reason: reason}
	}
	return nil
}

// firstMalformed returns the index of the first malformed operation and
// why, or -1.
func (h History) firstMalformed() (int, string) {
	for i, op := range h {
		if reason := op.malformed(); reason != "" {
			return i, reason
		}
	}
	idx := make([]int, len(h))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := &h[idx[a]], &h[idx[b]]
		if x.Client != y.Client {
			return x.Client < y.Client
		}
		return x.Call < y.Call
	})
	for k := 1; k < len(idx); k++ {
		prev, op := &h[idx[k-1]], &h[idx[k]]
		if prev.Client != op.Client {
			continue
		}
		if prev.Process != op.Process {
			return idx[k], fmt.Sprintf("client %d is used by processes %q and %q", op.Client, prev.Process, op.Process)
		}
		if op.Call <= prev.Return {
			if prev.Return == Infinity {
				return idx[k], fmt.Sprintf("client %d calls again after an operation cut short at %v (use a fresh client id)", op.Client, prev.Call)
			}
			return idx[k], fmt.Sprintf("client %d overlaps its own operation [%v, %v]", op.Client, prev.Call, prev.Return)
		}
	}
	return -1, ""
}

// malformed says what is wrong with op on its own, or "".
func (op *Operation) malformed() string {
	switch {
	case op.Client < 0:
		return fmt.Sprintf("negative client id %d", op.Client)
	case op.Input.Kind > spec.OpDied:
		return fmt.Sprintf("unknown operation kind %d", op.Input.Kind)
	case op.Call > maxFinite:
		return fmt.Sprintf("call stamp %v too large", op.Call)
	case op.Return != Infinity && op.Return > maxFinite:
		return fmt.Sprintf("return stamp %v too large", op.Return)
	case op.Return < op.Call:
		return fmt.Sprintf("return %v before call %v", op.Return, op.Call)
	case op.Output.Unknown && op.Return != Infinity:
		return fmt.Sprintf("unknown output with a finite return %v", op.Return)
	case !op.Output.Unknown && op.Return == Infinity:
		return "known output with an infinite return"
	case op.Output.Unknown:
		return ""
	case op.Input.Kind == spec.OpRegister && op.Output.Result > spec.ResultInvalid:
		return fmt.Sprintf("unknown register result %d", op.Output.Result)
	case (op.Input.Kind == spec.OpGetPid || op.Input.Kind == spec.OpWaitForStartup) && op.Output.Status > spec.PostmasterDied:
		return fmt.Sprintf("unknown status %d", op.Output.Status)
	}
	return ""
}

// Porcupine converts h to porcupine's operations, in the same order:
// Input is the [spec.Input], Output the [spec.Output], ClientId the client,
// Metadata the process name, and [Infinity] becomes math.MaxInt64. The
// models of this package ([Exact], [PerSlot], [Count], [Validity]) read
// histories in this form. Call [History.Validate] first: stamps too large
// for an int64 are not converted faithfully.
func (h History) Porcupine() []porcupine.Operation {
	ops := make([]porcupine.Operation, len(h))
	for i := range h {
		ops[i] = h[i].porcupine()
	}
	return ops
}

func (op *Operation) porcupine() porcupine.Operation {
	return porcupine.Operation{
		ClientId: op.Client,
		Input:    op.Input,
		Output:   op.Output,
		Call:     op.Call.time(),
		Return:   op.Return.time(),
		Metadata: op.Process,
	}
}

// SortByCall sorts h by Call stamp, keeping the order of equal stamps.
func (h History) SortByCall() {
	sort.SliceStable(h, func(i, j int) bool { return h[i].Call < h[j].Call })
}
