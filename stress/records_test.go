package stress

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/postmaster"
	"bgwmodel/linearizability"
	"bgwmodel/spec"
)

// rec builds a record; call is its Call stamp and Return is call+1.
func rec(kind postmaster.RecordKind, epoch uint64, slot int, call uint64) postmaster.Record {
	return postmaster.Record{Kind: kind, Now: time.Duration(call) * time.Millisecond, Call: call, Return: call + 1, Epoch: epoch, Slot: slot}
}

func TestPostmasterHistory(t *testing.T) {
	init := rec(postmaster.RecordInit, 0, -1, 1)
	init.InUse = []int{0}
	launch := rec(postmaster.RecordLaunch, 0, 1, 5)
	launch.Pid = 4242
	reinit := rec(postmaster.RecordReinit, 1, -1, 20)
	reinit.InUse = []int{0, 1}
	recs := []postmaster.Record{init, rec(postmaster.RecordAdopt, 0, 1, 3), launch,
		rec(postmaster.RecordReportStopped, 0, 1, 9), rec(postmaster.RecordForget, 0, 1, 11),
		rec(postmaster.RecordReject, 0, 2, 13), rec(postmaster.RecordReject, 0, 3, 13),
		rec(postmaster.RecordCrashRestart, 0, -1, 15), reinit}
	h, static, err := PostmasterHistory(recs)
	if err != nil {
		t.Fatal(err)
	}
	if static != 1 {
		t.Errorf("static %d, want 1", static)
	}
	want := []struct {
		kind   spec.OpKind
		slot   int
		client int
	}{{spec.OpLaunch, 1, postmasterClient}, {spec.OpExit, 1, postmasterClient}, {spec.OpForget, 1, postmasterClient},
		{spec.OpForget, 2, postmasterClient}, {spec.OpForget, 3, postmasterClient + 1}, {spec.OpReinit, 0, postmasterClient + 1}}
	if len(h) != len(want) {
		t.Fatalf("history %v, want %d operations", h, len(want))
	}
	for i, w := range want {
		if h[i].Input.Kind != w.kind || (w.kind != spec.OpReinit && h[i].Input.Slot != w.slot) || h[i].Client != w.client {
			t.Errorf("op %d: %v (client %d), want %v s%d client %d", i, h[i], h[i].Client, w.kind, w.slot, w.client)
		}
	}
	if h[0].Input.Pid != 4242 || len(h[5].Input.InUse) != 2 {
		t.Errorf("launch pid %d, reinit in_use %v", h[0].Input.Pid, h[5].Input.InUse)
	}
	if err := h.Validate(); err != nil {
		t.Error(err)
	}
	bad := rec(postmaster.RecordInit, 0, -1, 1)
	bad.InUse = []int{1}
	for _, c := range []struct {
		recs []postmaster.Record
		want string
	}{
		{recs[1:], "no init record"},
		{[]postmaster.Record{bad}, "want 0..n-1"},
		{[]postmaster.Record{init, init}, "a second init record"},
		{[]postmaster.Record{init, {Kind: postmaster.RecordLaunch, Slot: 1, Pid: 3}}, "bad stamps"},
	} {
		if _, _, err := PostmasterHistory(c.recs); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

func TestDeathCut(t *testing.T) {
	op := func(client int, process string, kind spec.OpKind, out spec.Output, call, ret linearizability.Stamp) linearizability.Operation {
		return linearizability.Operation{Client: client, Process: process, Input: spec.Input{Kind: kind}, Output: out, Call: call, Return: ret}
	}
	started := spec.Output{Status: spec.Started, Pid: 7}
	died := spec.Output{Status: spec.PostmasterDied}
	h := linearizability.History{
		op(1, "b1", spec.OpGetPid, started, 2, 4),                                           // before the last record: kept
		op(1, "b1", spec.OpGetPid, started, 5, 12),                                          // after: unknown
		op(1, "b1", spec.OpWaitForStartup, died, 13, 14),                                    // POSTMASTER_DIED: kept
		op(2, "b2", spec.OpGetPid, spec.Output{Unknown: true}, 6, linearizability.Infinity), // already unknown
		op(postmasterClient, "postmaster", spec.OpExit, spec.Output{}, 8, 9),
		op(harnessClient, "harness", spec.OpDied, spec.Output{}, 10, 11),
	}
	recs := []postmaster.Record{rec(postmaster.RecordReportStopped, 0, 0, 8)}
	out := deathCut(h, recs)
	if !reflect.DeepEqual(out[0], h[0]) || !reflect.DeepEqual(out[2:], h[2:]) {
		t.Errorf("deathCut changed what it must keep: %v", out)
	}
	if !out[1].Output.Unknown || out[1].Return != linearizability.Infinity || out[1].Client == 1 || out[1].Client <= harnessClient {
		t.Errorf("deathCut kept %v", out[1])
	}
	if h[1].Output.Unknown {
		t.Error("deathCut changed its input")
	}
	if err := out.Validate(); err != nil {
		t.Error(err)
	}
}

func TestJudgeWaits(t *testing.T) {
	// Slot 3 in epoch 0: generation 1 is adopted and launched at 10;
	// generation 2 is adopted at 20, fails to spawn and waits for its
	// restart, is launched at 40; generation 3 is adopted at 50 and
	// forgotten at 52.
	launch := func(call uint64) postmaster.Record {
		r := rec(postmaster.RecordLaunch, 0, 3, call)
		r.Pid = 99
		return r
	}
	failed := rec(postmaster.RecordSpawnFailed, 0, 3, 22)
	failed.Decision, failed.Delay = bgworker.RestartAfter, time.Second
	recs := []postmaster.Record{
		rec(postmaster.RecordAdopt, 0, 3, 8), rec(postmaster.RecordSpawn, 0, 3, 9), launch(10),
		rec(postmaster.RecordAdopt, 0, 3, 20), rec(postmaster.RecordSpawn, 0, 3, 21), failed,
		rec(postmaster.RecordAdopt, 0, 4, 30), rec(postmaster.RecordSpawn, 0, 3, 39), launch(40),
		rec(postmaster.RecordAdopt, 0, 3, 50), rec(postmaster.RecordForget, 0, 3, 52),
		rec(postmaster.RecordCrashRestart, 0, -1, 60),
	}
	w := func(gen uint64, call, mid uint64) WaitRecord {
		return WaitRecord{Process: "b1", Client: 1, Handle: WaitHandle{Slot: 3, Generation: gen}, Call: call, Mid: mid, Outcome: WaitTimedOut}
	}
	for _, c := range []struct {
		name   string
		wait   WaitRecord
		record int // the record to blame, 0 for none
	}{
		{"launched before mid", w(1, 9, 15), 3},
		{"launched after mid", w(1, 9, 10), 0},
		{"mid before call", w(1, 9, 5), 0},
		{"waiting for a restart", w(2, 21, 35), 0},
		{"launched after the restart", w(2, 21, 45), 9},
		{"forgotten", w(3, 51, 55), 11},
		{"a crash restart before mid", w(3, 51, 65), 0},
		{"another epoch", WaitRecord{Process: "b", Handle: WaitHandle{Slot: 3, Generation: 1, Epoch: 1}, Call: 9, Mid: 15}, 0},
	} {
		fs := JudgeWaits([]WaitRecord{c.wait}, recs, nil)
		switch {
		case c.record == 0 && len(fs) > 0:
			t.Errorf("%s: %v", c.name, fs[0])
		case c.record != 0 && (len(fs) != 1 || fs[0].Record != c.record):
			t.Errorf("%s: %v, want record %d to blame", c.name, fs, c.record)
		}
	}
	died := &linearizability.Operation{Input: spec.Input{Kind: spec.OpDied}, Call: 11, Return: 12}
	if fs := JudgeWaits([]WaitRecord{w(2, 21, 35)}, recs, died); len(fs) != 1 || !strings.Contains(fs[0].Reason, "POSTMASTER_DIED was due") {
		t.Errorf("after the death: %v", fs)
	}
}

func TestReadWaits(t *testing.T) {
	good := `{"process":"b1 pid 5","client":1,"handle":{"slot":1,"generation":2,"epoch":0},"registered":3,"call":4,"mid":9,"outcome":"timeout"}` + "\n"
	ws, err := decodeWaits(strings.NewReader(good+"\n"), "w.jsonl")
	if err != nil || len(ws) != 1 || ws[0].Handle.Generation != 2 || ws[0].Outcome != WaitTimedOut {
		t.Fatalf("%v %v", ws, err)
	}
	for _, c := range []struct{ in, want string }{
		{good + `{"process":"b","call":1,"outcome":"late"}`, `w.jsonl:2: unknown outcome "late"`},
		{`{"process":"b","call":1,"outcome":"lost","extra":1}`, `w.jsonl:1: json: unknown field "extra"`},
		{`{"call":1,"outcome":"lost"}`, `w.jsonl:1: process and call are required`},
	} {
		if _, err := decodeWaits(strings.NewReader(c.in), "w.jsonl"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}
