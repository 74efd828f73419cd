package linearizability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"bgwmodel/spec"
)

// The operation names of the JSON lines format, one per [spec.OpKind].
var opNames = [...]string{
	spec.OpRegister:       "register",
	spec.OpGetPid:         "get_pid",
	spec.OpWaitForStartup: "wait_for_startup",
	spec.OpLaunch:         "launch",
	spec.OpExit:           "exit",
	spec.OpForget:         "forget",
	spec.OpReinit:         "reinit",
	spec.OpDied:           "died",
}

// The result names of the format, one per [spec.Result].
var resultNames = [...]string{
	spec.ResultOK:         "ok",
	spec.ResultNoFreeSlot: "no_free_slot",
	spec.ResultInvalid:    "invalid",
}

// The status names of the format, one per [spec.Status]: the seed's
// BGWH_ names without the prefix.
var statusNames = [...]string{
	spec.NotYetStarted:  "NOT_YET_STARTED",
	spec.Started:        "STARTED",
	spec.Stopped:        "STOPPED",
	spec.PostmasterDied: "POSTMASTER_DIED",
}

// The fields an "invalid" register result may name.
var fieldNames = []spec.Field{
	spec.FieldName, spec.FieldFlags, spec.FieldStartTime, spec.FieldRestartTime,
	spec.FieldLibraryName, spec.FieldFunctionName, spec.FieldNotifyPid,
}

// jsonLine is one line of the format. Pointers tell a missing field from a
// zero one; Return is nil both when absent and when null (infinity).
type jsonLine struct {
	Client  *int            `json:"client"`
	Process *string         `json:"process"`
	Op      *string         `json:"op"`
	Input   json.RawMessage `json:"input"`
	Output  json.RawMessage `json:"output"`
	Call    *uint64         `json:"call"`
	Return  *uint64         `json:"return"`
}

// jsonWorker is a [spec.Worker]; every field is required.
type jsonWorker struct {
	Name         *string `json:"name"`
	Flags        *uint32 `json:"flags"`
	StartTime    *uint32 `json:"start_time"`
	RestartTime  *int32  `json:"restart_time"`
	LibraryName  *string `json:"library_name"`
	FunctionName *string `json:"function_name"`
	MainArg      *uint64 `json:"main_arg"`
	NotifyPid    *int32  `json:"notify_pid"`
}

// jsonHandle is a [spec.Handle]; every field is required.
type jsonHandle struct {
	Slot       *int    `json:"slot"`
	Generation *uint64 `json:"generation"`
	Epoch      *uint64 `json:"epoch"`
}

// jsonInput holds the fields of every operation's input; which ones are
// required and which forbidden depends on the operation.
type jsonInput struct {
	Worker *jsonWorker `json:"worker,omitempty"` // register
	Handle *jsonHandle `json:"handle,omitempty"` // get_pid, wait_for_startup
	Slot   *int        `json:"slot,omitempty"`   // launch, exit, forget
	Pid    *int32      `json:"pid,omitempty"`    // launch
	InUse  *[]int      `json:"in_use,omitempty"` // reinit
}

// jsonOutput holds the fields of every operation's output.
type jsonOutput struct {
	Unknown *bool       `json:"unknown,omitempty"` // any operation cut short
	Result  *string     `json:"result,omitempty"`  // register
	Handle  *jsonHandle `json:"handle,omitempty"`  // register ok
	Field   *string     `json:"field,omitempty"`   // register invalid
	Status  *string     `json:"status,omitempty"`  // get_pid, wait_for_startup
	Pid     *int32      `json:"pid,omitempty"`     // get_pid, wait_for_startup with STARTED
}

// Encoder writes operations as JSON lines, one line per operation.
type Encoder struct {
	w   io.Writer
	buf bytes.Buffer
}

// NewEncoder returns an [Encoder] writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Encode writes op as one line, terminated by a newline, with a single
// Write call: a file opened with O_APPEND by several writers never holds
// half a line of a completed Encode, and a writer killed mid-line leaves
// a truncated last line that [Decode] recognizes ([ErrTruncated]). An
// operation with [Infinity] as Return is written with "return":null.
func (e *Encoder) Encode(op Operation) error {
	if reason := unencodable(&op); reason != "" {
		return fmt.Errorf("%w: cannot encode %v: %s", ErrMalformed, op, reason)
	}
	line, err := json.Marshal(toJSON(op))
	if err != nil {
		return fmt.Errorf("linearizability: encode: %w", err)
	}
	e.buf.Reset()
	e.buf.Write(line)
	e.buf.WriteByte('\n')
	if _, err := e.w.Write(e.buf.Bytes()); err != nil {
		return fmt.Errorf("linearizability: write: %w", err)
	}
	return nil
}

// Marshal returns op as one JSON line without the trailing newline.
func Marshal(op Operation) ([]byte, error) {
	if reason := unencodable(&op); reason != "" {
		return nil, fmt.Errorf("%w: cannot encode %v: %s", ErrMalformed, op, reason)
	}
	return json.Marshal(toJSON(op))
}

// unencodable says why op cannot be written in a form the decoder
// accepts, or "".
func unencodable(op *Operation) string {
	if reason := op.malformed(); reason != "" {
		return reason
	}
	if op.Process == "" {
		return "empty process name"
	}
	if !op.Output.Unknown && op.Input.Kind == spec.OpRegister && op.Output.Result == spec.ResultInvalid && !knownField(op.Output.Invalid) {
		return fmt.Sprintf("unknown invalid field %q", op.Output.Invalid)
	}
	return ""
}

func knownField(f spec.Field) bool {
	for _, g := range fieldNames {
		if f == g {
			return true
		}
	}
	return false
}

// toJSON converts op to its line. op must not be malformed.
func toJSON(op Operation) jsonLine {
	client, process, name := op.Client, op.Process, opNames[op.Input.Kind]
	call := uint64(op.Call)
	l := jsonLine{Client: &client, Process: &process, Op: &name, Call: &call}
	if op.Return != Infinity {
		ret := uint64(op.Return)
		l.Return = &ret
	}
	l.Input = mustMarshal(inputJSON(op.Input))
	l.Output = mustMarshal(outputJSON(op.Input.Kind, op.Output))
	return l
}

func mustMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("linearizability: marshal %T: %v", v, err)) // plain structs cannot fail
	}
	return b
}

func handleJSON(h spec.Handle) *jsonHandle {
	return &jsonHandle{Slot: &h.Slot, Generation: &h.Generation, Epoch: &h.Epoch}
}

// jsonWorkerOut and the other Out types fix the field order of the
// encoder's output; they never omit a field the decoder requires.
type jsonWorkerOut struct {
	Name         string `json:"name"`
	Flags        uint32 `json:"flags"`
	StartTime    uint32 `json:"start_time"`
	RestartTime  int32  `json:"restart_time"`
	LibraryName  string `json:"library_name"`
	FunctionName string `json:"function_name"`
	MainArg      uint64 `json:"main_arg"`
	NotifyPid    int32  `json:"notify_pid"`
}

func inputJSON(in spec.Input) any {
	switch in.Kind {
	case spec.OpRegister:
		w := in.Worker
		return struct {
			Worker jsonWorkerOut `json:"worker"`
		}{jsonWorkerOut{w.Name, uint32(w.Flags), uint32(w.StartTime), w.RestartTime,
			w.LibraryName, w.FunctionName, w.MainArg, w.NotifyPid}}
	case spec.OpGetPid, spec.OpWaitForStartup:
		return jsonInput{Handle: handleJSON(in.Handle)}
	case spec.OpLaunch:
		return jsonInput{Slot: &in.Slot, Pid: (*int32)(&in.Pid)}
	case spec.OpExit, spec.OpForget:
		return jsonInput{Slot: &in.Slot}
	case spec.OpReinit:
		inUse := in.InUse
		if inUse == nil {
			inUse = []int{}
		}
		return jsonInput{InUse: &inUse}
	}
	return jsonInput{}
}

func outputJSON(kind spec.OpKind, out spec.Output) jsonOutput {
	if out.Unknown {
		t := true
		return jsonOutput{Unknown: &t}
	}
	switch kind {
	case spec.OpRegister:
		r := resultNames[out.Result]
		o := jsonOutput{Result: &r}
		switch out.Result {
		case spec.ResultOK:
			o.Handle = handleJSON(out.Handle)
		case spec.ResultInvalid:
			f := string(out.Invalid)
			o.Field = &f
		}
		return o
	case spec.OpGetPid, spec.OpWaitForStartup:
		s := statusNames[out.Status]
		o := jsonOutput{Status: &s}
		if out.Status == spec.Started {
			pid := int32(out.Pid)
			o.Pid = &pid
		}
		return o
	}
	return jsonOutput{}
}
