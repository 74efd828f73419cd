package linearizability

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzDecode: the history codec never panics; every refusal is a
// *DecodeError naming the file and a line; every accepted history
// re-encodes to lines that decode to the same history, and can be checked
// without a panic.
//
//	go test ./linearizability -run XXX -fuzz FuzzDecode -fuzztime 60s
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"client":1,"process":"backend-1","op":"get_pid","input":{"handle":{"slot":0,"generation":1,"epoch":0}},"output":{"status":"STOPPED"},"call":1,"return":2}` + "\n"))
	f.Add([]byte(`{"client":0,"process":"postmaster","op":"reinit","input":{"in_use":[0]},"output":{},"call":3,"return":4}` + "\n"))
	f.Add([]byte(`{"client":2,"process":"b","op":"register","input":{"worker":{"name":"w","flags":1,"start_time":1,"restart_time":60,"library_name":"l","function_name":"f","main_arg":0,"notify_pid":9}},"output":{"unknown":true},"call":5,"return":null}` + "\n"))
	f.Add([]byte("{\"client\":1,"))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := Decode(bytes.NewReader(data), "fuzz.jsonl")
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.File != "fuzz.jsonl" || !strings.Contains(err.Error(), "fuzz.jsonl:") {
				t.Fatalf("refusal %v does not name the file and line", err)
			}
			return
		}
		var buf bytes.Buffer
		enc := NewEncoder(&buf)
		for _, op := range h {
			if err := enc.Encode(op); err != nil {
				t.Fatalf("re-encode %v: %v", op, err)
			}
		}
		again, err := Decode(&buf, "again.jsonl")
		if err != nil || len(again) != len(h) {
			t.Fatalf("re-decode: %d ops, %v", len(again), err)
		}
		if len(h) <= 50 {
			Check(h, Options{Slots: 4, Timeout: 200 * time.Millisecond})
		}
	})
}
