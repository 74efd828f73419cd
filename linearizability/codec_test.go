package linearizability

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"bgwmodel/spec"
)

// everyKind holds one operation of every kind and output form.
var everyKind = History{
	reg(1, 1, 2, hd(3, 7, 1)),
	regFull(2, 3, 4),
	regInvalid(3, 5, 6, badWorker, spec.FieldRestartTime),
	backend(4, 7, 8, spec.Input{Kind: spec.OpRegister, Worker: spec.Worker{Name: "odd \"name\"", Flags: 0x7,
		StartTime: 9, RestartTime: spec.NeverRestart, LibraryName: "", FunctionName: "f", MainArg: 1<<64 - 1, NotifyPid: -3}},
		spec.Output{Result: spec.ResultInvalid, Invalid: spec.FieldFlags}),
	cut(reg(5, 9, 0, hd(0, 0, 0))),
	getpid(6, 10, 11, hd(3, 7, 1), spec.Started, 4242),
	getpid(7, 12, 13, hd(3, 7, 1), spec.NotYetStarted, 0),
	getpid(8, 14, 15, hd(3, 7, 1), spec.Stopped, 0),
	cut(getpid(9, 16, 0, hd(3, 7, 1), 0, 0)),
	wait(10, 17, 18, hd(0, 1, 0), spec.PostmasterDied, 0),
	wait(11, 19, 20, hd(0, 1, 0), spec.Started, 99),
	launch(21, 22, 3, 4242),
	exit(23, 24, 3),
	forget(25, 26, 3),
	reinit(27, 28, 0, 2),
	reinit(29, 30),
	died(31, 32),
	cut(postmaster(33, 0, spec.Input{Kind: spec.OpLaunch, Slot: 1, Pid: 5})),
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	for _, op := range everyKind {
		if err := enc.Encode(op); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Decode(&buf, "round.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(everyKind) {
		t.Fatalf("decoded %d operations, want %d", len(got), len(everyKind))
	}
	for i := range got {
		t.Run(spec.Describe(everyKind[i].Input, everyKind[i].Output), func(t *testing.T) {
			if !reflect.DeepEqual(got[i], everyKind[i]) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got[i], everyKind[i])
			}
		})
	}
}

// oneWrite counts Write calls.
type oneWrite struct {
	calls int
	buf   bytes.Buffer
}

func (w *oneWrite) Write(p []byte) (int, error) {
	w.calls++
	return w.buf.Write(p)
}

func TestEncoderWritesWholeLines(t *testing.T) {
	w := &oneWrite{}
	enc := NewEncoder(w)
	for i, op := range everyKind {
		if err := enc.Encode(op); err != nil {
			t.Fatal(err)
		}
		if w.calls != i+1 || !bytes.HasSuffix(w.buf.Bytes(), []byte("}\n")) {
			t.Fatalf("after %d operations: %d writes, output ends %q", i+1, w.calls, w.buf.String()[max(0, w.buf.Len()-5):])
		}
	}
	if err := enc.Encode(Operation{Client: 1, Input: spec.Input{Kind: spec.OpDied}, Call: 5, Return: 1}); err == nil {
		t.Error("encoded a malformed operation")
	}
	if w.calls != len(everyKind) {
		t.Error("a failed Encode wrote")
	}
}

func TestFormatExamples(t *testing.T) {
	for _, tc := range []struct {
		op   Operation
		want string
	}{
		{reg(3, 12, 15, hd(2, 1, 0)), `{"client":3,"process":"backend-3","op":"register","input":{"worker":{"name":"w","flags":1,"start_time":1,"restart_time":60,"library_name":"lib","function_name":"main","main_arg":0,"notify_pid":4242}},"output":{"result":"ok","handle":{"slot":2,"generation":1,"epoch":0}},"call":12,"return":15}`},
		{regFull(3, 12, 15), `"output":{"result":"no_free_slot"}`},
		{regInvalid(3, 12, 15, badWorker, spec.FieldRestartTime), `"output":{"result":"invalid","field":"restart_time"}`},
		{getpid(3, 12, 15, hd(2, 1, 0), spec.Started, 4242), `"op":"get_pid","input":{"handle":{"slot":2,"generation":1,"epoch":0}},"output":{"status":"STARTED","pid":4242}`},
		{wait(3, 12, 15, hd(2, 1, 0), spec.Stopped, 0), `"op":"wait_for_startup","input":{"handle":{"slot":2,"generation":1,"epoch":0}},"output":{"status":"STOPPED"}`},
		{launch(12, 15, 2, 4242), `"op":"launch","input":{"slot":2,"pid":4242},"output":{}`},
		{exit(12, 15, 2), `"op":"exit","input":{"slot":2},"output":{}`},
		{forget(12, 15, 2), `"op":"forget","input":{"slot":2},"output":{}`},
		{reinit(12, 15, 0, 1), `"op":"reinit","input":{"in_use":[0,1]},"output":{}`},
		{died(12, 15), `{"client":0,"process":"postmaster","op":"died","input":{},"output":{},"call":12,"return":15}`},
		{cut(getpid(3, 12, 0, hd(2, 1, 0), 0, 0)), `"output":{"unknown":true},"call":12,"return":null}`},
	} {
		t.Run(tc.op.Input.Kind.String(), func(t *testing.T) {
			line, err := Marshal(tc.op)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(line), tc.want) {
				t.Errorf("line\n%s\ndoes not contain\n%s", line, tc.want)
			}
		})
	}
}

const goodLine = `{"client":1,"process":"backend-1","op":"get_pid","input":{"handle":{"slot":0,"generation":1,"epoch":0}},"output":{"status":"STOPPED"},"call":3,"return":4}`

func TestDecodeErrors(t *testing.T) {
	line := func(s string) string { return goodLine + "\n" + s + "\n" }
	for _, tc := range []struct {
		name, input string
		line        int
		want        string
		is          error
	}{
		{"empty file", "", 0, "no operations", ErrEmpty},
		{"blank line", goodLine + "\n\n" + goodLine + "\n", 2, "blank line", nil},
		{"only a newline", "\n", 1, "blank line", nil},
		{"unknown field", line(`{"client":1,"process":"b","op":"died","input":{},"output":{},"call":1,"return":2,"x":1}`), 2, `unknown field "x"`, nil},
		{"unknown input field", line(`{"client":1,"process":"b","op":"died","input":{"colour":1},"output":{},"call":1,"return":2}`), 2, `unknown field "colour"`, nil},
		{"unknown worker field", line(strings.Replace(mustLine(reg(1, 1, 2, hd(0, 1, 0))), `"notify_pid"`, `"notify"`, 1)), 2, `unknown field "notify"`, nil},
		{"unknown op", line(`{"client":1,"process":"b","op":"frobnicate","input":{},"output":{},"call":1,"return":2}`), 2, `unknown op "frobnicate"`, nil},
		{"bad status", line(strings.Replace(goodLine, "STOPPED", "RUNNING", 1)), 2, `unknown status "RUNNING"`, nil},
		{"bad result", line(strings.Replace(mustLine(regFull(2, 5, 6)), "no_free_slot", "full", 1)), 2, `unknown result "full"`, nil},
		{"bad invalid field", line(strings.Replace(mustLine(regInvalid(2, 5, 6, badWorker, spec.FieldName)), `"field":"name"`, `"field":"nom"`, 1)), 2, `unknown field name "nom"`, nil},
		{"return before call", line(strings.Replace(goodLine, `"call":3`, `"call":5`, 1)), 2, "return 4 before call 5", nil},
		{"missing client", line(strings.Replace(goodLine, `"client":1,`, "", 1)), 2, `missing field "client"`, nil},
		{"missing process", line(strings.Replace(goodLine, `"process":"backend-1",`, "", 1)), 2, `missing field "process"`, nil},
		{"missing op", line(strings.Replace(goodLine, `"op":"get_pid",`, "", 1)), 2, `missing field "op"`, nil},
		{"missing call", line(strings.Replace(goodLine, `"call":3,`, "", 1)), 2, `missing field "call"`, nil},
		{"null input", line(strings.Replace(goodLine, `{"handle":{"slot":0,"generation":1,"epoch":0}}`, "null", 1)), 2, `missing field "input"`, nil},
		{"missing output", line(strings.Replace(goodLine, `"output":{"status":"STOPPED"},`, "", 1)), 2, `missing field "output"`, nil},
		{"missing epoch", line(strings.Replace(goodLine, `,"epoch":0`, "", 1)), 2, `missing field "epoch"`, nil},
		{"missing status", line(strings.Replace(goodLine, `"status":"STOPPED"`, "", 1)), 2, `missing field "status"`, nil},
		{"missing pid", line(strings.Replace(goodLine, `"status":"STOPPED"`, `"status":"STARTED"`, 1)), 2, `missing field "pid"`, nil},
		{"missing worker field", line(strings.Replace(mustLine(reg(1, 1, 2, hd(0, 1, 0))), `"main_arg":0,`, "", 1)), 2, `missing field "main_arg"`, nil},
		{"field of another op", line(strings.Replace(goodLine, `{"handle"`, `{"slot":1,"handle"`, 1)), 2, `field "slot" not allowed`, nil},
		{"pid without STARTED", line(strings.Replace(goodLine, `"STOPPED"`, `"STOPPED","pid":5`, 1)), 2, `field "pid" not allowed`, nil},
		{"output of another op", line(strings.Replace(goodLine, `{"status":"STOPPED"}`, `{"result":"ok"}`, 1)), 2, `missing field "status"`, nil},
		{"unknown output with finite return", line(strings.Replace(goodLine, `{"status":"STOPPED"}`, `{"unknown":true}`, 1)), 2, "unknown output with a finite return", nil},
		{"known output with null return", line(strings.Replace(goodLine, `"return":4`, `"return":null`, 1)), 2, "known output with an infinite return", nil},
		{"unknown false", line(strings.Replace(goodLine, `{"status":"STOPPED"}`, `{"unknown":false}`, 1)), 2, `"unknown" must be true`, nil},
		{"unknown with status", line(strings.Replace(goodLine, `{"status":"STOPPED"}`, `{"unknown":true,"status":"STOPPED"}`, 1)), 2, `field "status" not allowed`, nil},
		{"trailing garbage", line(goodLine + ` {}`), 2, "trailing data", nil},
		{"trailing text", line(goodLine + `x`), 2, "", nil},
		{"not json", line(`client=1`), 2, "invalid character", nil},
		{"empty process", line(strings.Replace(goodLine, `"backend-1"`, `""`, 1)), 2, "empty process", nil},
		{"truncated last line", goodLine + "\n" + goodLine[:40], 2, "truncated last line", ErrTruncated},
		{"client overlap", goodLine + "\n" + strings.Replace(goodLine, `"call":3`, `"call":4`, 1) + "\n", 2, "overlaps its own operation", ErrMalformed},
		{"client of two processes", goodLine + "\n" + strings.NewReplacer(`"call":3`, `"call":5`, `"return":4`, `"return":6`, `backend-1`, `backend-2`).Replace(goodLine) + "\n", 2, `used by processes`, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.input), "h.jsonl")
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DecodeError", err)
			}
			if de.File != "h.jsonl" || de.Line != tc.line {
				t.Errorf("at %s:%d, want line %d (%v)", de.File, de.Line, tc.line, err)
			}
			prefix := fmt.Sprintf("linearizability: h.jsonl:%d: ", tc.line)
			if tc.line == 0 {
				prefix = "linearizability: h.jsonl: "
			}
			if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want prefix %q and %q", msg, prefix, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
			if tc.is != ErrTruncated && errors.Is(err, ErrTruncated) {
				t.Errorf("error %v claims a truncated line", err)
			}
		})
	}
}

func mustLine(op Operation) string {
	b, err := Marshal(op)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestDecodeLastLineWithoutNewline(t *testing.T) {
	h, err := Decode(strings.NewReader(goodLine), "h.jsonl")
	if err != nil || len(h) != 1 {
		t.Fatalf("a whole last line without its newline: %v, %d operations", err, len(h))
	}
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	tc := handCases[0] // lifecycle: postmaster and two backends
	files := map[string]*os.File{}
	for _, op := range tc.h {
		f := files[op.Process]
		if f == nil {
			var err error
			if f, err = os.OpenFile(filepath.Join(dir, op.Process+".jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
				t.Fatal(err)
			}
			files[op.Process] = f
		}
		if err := NewEncoder(f).Encode(op); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		f.Close()
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a history"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != len(tc.h) {
		t.Fatalf("read %d operations, want %d", len(h), len(tc.h))
	}
	for i := 1; i < len(h); i++ {
		if h[i].Call < h[i-1].Call {
			t.Fatal("ReadDir result not sorted by call")
		}
	}
	if rep := Check(h, Options{Slots: tc.slots}); !rep.Ok() {
		t.Errorf("merged history rejected:\n%v", rep)
	}

	// A client id shared by two files is caught, with its file and line.
	clash := strings.Replace(goodLine, `"call":3,"return":4`, `"call":100,"return":101`, 1)
	clash = strings.Replace(clash, `"backend-1"`, `"intruder"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "intruder.jsonl"), []byte(clash+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadDir(dir)
	var de *DecodeError
	if !errors.As(err, &de) || !strings.HasSuffix(de.File, "intruder.jsonl") || de.Line != 1 || !strings.Contains(err.Error(), "used by processes") {
		t.Errorf("client clash: %v", err)
	}
	if _, err := ReadDir(t.TempDir()); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty directory: %v", err)
	}
}
