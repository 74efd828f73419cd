package postmaster_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/shmem"
)

// TestRecordJSONRoundTrip: every record the core makes in a varied run,
// and a record of every kind with every field set, survive encoding and
// decoding unchanged.
func TestRecordJSONRoundTrip(t *testing.T) {
	recs := sampleRecords(t)
	for k := postmaster.RecordInit; k <= postmaster.RecordIgnored; k++ {
		recs = append(recs, postmaster.Record{Kind: k, Now: 3 * time.Millisecond, Call: 1, Return: 2, Epoch: 4,
			Slot: 5, Pid: 6, Name: "n", RestartTime: -1, Flags: bgworker.ShmemAccess, Exit: bgworker.ExitStatus{Code: 3},
			Decision: bgworker.CrashRestart, Delay: time.Second, Notify: 7, Reason: postmaster.NotifyRejected,
			State: bgworker.RecoveryFinished, InUse: []int{0, 2}, Detail: "d\n\"q\""})
	}
	var buf []byte
	for _, r := range recs {
		var err error
		if buf, err = postmaster.AppendRecordLine(buf, r); err != nil {
			t.Fatal(err)
		}
	}
	if n := bytes.Count(buf, []byte("\n")); n != len(recs) {
		t.Fatalf("%d lines for %d records", n, len(recs))
	}
	got, err := postmaster.DecodeRecords(bytes.NewReader(buf))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, recs) {
		for i := range recs {
			if i >= len(got) || !reflect.DeepEqual(got[i], recs[i]) {
				t.Fatalf("record %d:\n got %#v\nwant %#v", i, got[i], recs[i])
			}
		}
		t.Fatalf("%d records, want %d", len(got), len(recs))
	}
}

// sampleRecords drives a core through start, spawn failure, exits, a
// backend, a crash restart and a shutdown, and returns its records.
func sampleRecords(t *testing.T) []postmaster.Record {
	t.Helper()
	cfg := postmaster.Config{MaxWorkers: 3, Static: []bgworker.Worker{{Name: "s", RestartTime: 1,
		Flags: bgworker.ShmemAccess, LibraryName: "l", FunctionName: "f"}}, ConsistentDelay: time.Millisecond}
	n := uint64(0)
	cfg.Stamp = func() uint64 { n++; return n }
	core, err := postmaster.New(cfg, shmem.NewLocal(bgworker.ShmemSize(cfg.MaxWorkers)))
	if err != nil {
		t.Fatal(err)
	}
	var recs []postmaster.Record
	pid := int32(100)
	var step func(ev postmaster.Event)
	step = func(ev postmaster.Event) {
		if err := core.Step(ev); err != nil {
			t.Fatal(err)
		}
		rd := core.Ready()
		recs = append(recs, rd.Records...)
		for _, a := range rd.Actions {
			if a.Kind == postmaster.ActionSpawn {
				pid++
				step(postmaster.Event{Kind: postmaster.EventSpawnResult, Now: ev.Now, SpawnToken: a.Token, Pid: pid})
			}
		}
	}
	step(postmaster.Event{Kind: postmaster.EventStart})
	step(postmaster.Event{Kind: postmaster.EventTick, Now: time.Second})
	step(postmaster.Event{Kind: postmaster.EventBackendStarted, Now: time.Second, Pid: 50})
	step(postmaster.Event{Kind: postmaster.EventChildExited, Now: 2 * time.Second, Pid: 101, Exit: bgworker.ExitStatus{Code: 1}})
	step(postmaster.Event{Kind: postmaster.EventTick, Now: 3 * time.Second})
	step(postmaster.Event{Kind: postmaster.EventChildExited, Now: 4 * time.Second, Pid: 77})
	step(postmaster.Event{Kind: postmaster.EventBackendExited, Now: 5 * time.Second, Pid: 50, Exit: bgworker.ExitStatus{Signaled: true}})
	step(postmaster.Event{Kind: postmaster.EventChildExited, Now: 5 * time.Second, Pid: pid, Exit: bgworker.ExitStatus{Code: 2}})
	step(postmaster.Event{Kind: postmaster.EventTick, Now: 6 * time.Second})
	step(postmaster.Event{Kind: postmaster.EventShutdown, Now: 7 * time.Second})
	step(postmaster.Event{Kind: postmaster.EventChildExited, Now: 8 * time.Second, Pid: pid, Exit: bgworker.ExitStatus{Code: 1}})
	return recs
}

// TestRecordJSONFields pins the stable field names.
func TestRecordJSONFields(t *testing.T) {
	for _, tc := range []struct {
		r    postmaster.Record
		want string
	}{
		{postmaster.Record{Kind: postmaster.RecordLaunch, Now: 1500, Call: 3, Return: 4, Slot: 2, Pid: 77, Name: "w", RestartTime: 0, Notify: 9},
			`{"kind":"launch","now_ns":1500,"call":3,"return":4,"epoch":0,"slot":2,"pid":77,"name":"w","restart_time":0,"notify":9}`},
		{postmaster.Record{Kind: postmaster.RecordExited, Slot: 0, Pid: 5, Name: "w", RestartTime: 60, Flags: bgworker.ShmemAccess,
			Exit: bgworker.ExitStatus{Code: 1}, Decision: bgworker.RestartAfter, Delay: time.Minute},
			`{"kind":"exited","now_ns":0,"call":0,"return":0,"epoch":0,"slot":0,"pid":5,"name":"w","restart_time":60,"flags":1,"exit":{"code":1},"decision":"restart-after","delay_ns":60000000000}`},
		{postmaster.Record{Kind: postmaster.RecordStateReached, Slot: -1, State: bgworker.PostmasterStart},
			`{"kind":"state-reached","now_ns":0,"call":0,"return":0,"epoch":0,"slot":-1,"state":"PostmasterStart"}`},
		{postmaster.Record{Kind: postmaster.RecordReinit, Slot: -1, Epoch: 1, InUse: []int{}},
			`{"kind":"reinit","now_ns":0,"call":0,"return":0,"epoch":1,"slot":-1,"in_use":[]}`},
		{postmaster.Record{Kind: postmaster.RecordNotify, Slot: 1, Notify: 8, Reason: postmaster.NotifyForgotten},
			`{"kind":"notify","now_ns":0,"call":0,"return":0,"epoch":0,"slot":1,"notify":8,"reason":"forgotten"}`},
		{postmaster.Record{Kind: postmaster.RecordBackendExited, Slot: -1, Pid: 8, Exit: bgworker.ExitStatus{Signaled: true}},
			`{"kind":"backend-exited","now_ns":0,"call":0,"return":0,"epoch":0,"slot":-1,"pid":8,"exit":{"code":0,"signaled":true}}`},
	} {
		b, err := tc.r.MarshalJSON()
		if err != nil || string(b) != tc.want {
			t.Errorf("%v:\n got %s, %v\nwant %s", tc.r, b, err, tc.want)
		}
	}
}

// TestDecodeRecordsErrors: bad lines are named; a torn last line is
// ErrTruncatedRecord with the records before it.
func TestDecodeRecordsErrors(t *testing.T) {
	good := `{"kind":"shutdown","now_ns":0,"call":0,"return":0,"epoch":0,"slot":-1}` + "\n"
	for _, tc := range []struct {
		name, in string
		n        int
		trunc    bool
		msg      string
	}{
		{"empty", "", 0, false, ""},
		{"blank lines", "\n" + good + "\n\n" + good, 2, false, ""},
		{"torn last line", good + `{"kind":"shut`, 1, true, "line 2"},
		{"unknown kind", good + `{"kind":"party","now_ns":0,"call":0,"return":0,"epoch":0,"slot":-1}` + "\n", 1, false, `line 2: unknown kind "party"`},
		{"unknown field", `{"kind":"shutdown","slot":-1,"colour":1}` + "\n", 0, false, `line 1: json: unknown field "colour"`},
		{"unknown decision", `{"kind":"exited","slot":0,"decision":"maybe"}` + "\n", 0, false, `unknown decision "maybe"`},
		{"not JSON", "hello\n", 0, false, "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := postmaster.DecodeRecords(strings.NewReader(tc.in))
			if len(recs) != tc.n {
				t.Errorf("%d records, want %d", len(recs), tc.n)
			}
			if errors.Is(err, postmaster.ErrTruncatedRecord) != tc.trunc || (tc.msg == "") != (err == nil) ||
				(err != nil && !strings.Contains(err.Error(), tc.msg)) {
				t.Errorf("error %v, want %q (truncated %v)", err, tc.msg, tc.trunc)
			}
		})
	}
}

// TestRecordJSONCoversEveryField fails when Record gains a field the log
// codec (runrecord.go) does not carry yet.
func TestRecordJSONCoversEveryField(t *testing.T) {
	encoded := map[string]bool{"Kind": true, "Now": true, "Call": true, "Return": true, "Epoch": true, "Slot": true,
		"Pid": true, "Name": true, "RestartTime": true, "Flags": true, "Exit": true, "Decision": true, "Delay": true,
		"Notify": true, "Reason": true, "State": true, "InUse": true, "Detail": true}
	rt := reflect.TypeFor[postmaster.Record]()
	for i := range rt.NumField() {
		if name := rt.Field(i).Name; !encoded[name] {
			t.Errorf("Record.%s is not in the record log's JSON encoding: add it to runrecord.go", name)
		}
	}
}
