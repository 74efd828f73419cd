package implspec_test

import (
	"reflect"
	"testing"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/postmaster"
	"bgwmodel/internal/implspec"
	"bgwmodel/spec"
)

func TestFieldsMapOneToOne(t *testing.T) {
	seen := map[spec.Field]bool{}
	for _, f := range []bgworker.Field{bgworker.FieldName, bgworker.FieldFlags, bgworker.FieldStartTime,
		bgworker.FieldRestartTime, bgworker.FieldLibraryName, bgworker.FieldFunctionName, bgworker.FieldNotifyPid} {
		sf, ok := implspec.Field(f)
		if !ok || seen[sf] {
			t.Errorf("Field(%q) = %q, %v", f, sf, ok)
		}
		seen[sf] = true
	}
	if _, ok := implspec.Field("bgw_main"); ok {
		t.Error("unknown field mapped")
	}
}

func TestValues(t *testing.T) {
	w := bgworker.Worker{Name: "n", Flags: bgworker.ShmemAccess, StartTime: bgworker.RecoveryFinished,
		RestartTime: 7, LibraryName: "l", FunctionName: "f", MainArg: 9, NotifyPid: 3}
	want := spec.Worker{Name: "n", Flags: spec.FlagShmemAccess, StartTime: spec.RecoveryFinished,
		RestartTime: 7, LibraryName: "l", FunctionName: "f", MainArg: 9, NotifyPid: 3}
	if got := implspec.Worker(w); got != want {
		t.Fatalf("Worker = %+v", got)
	}
	if h := implspec.Handle(bgworker.Handle{Segment: 5, Epoch: 2, Slot: 1, Generation: 4}); h != (spec.Handle{Slot: 1, Generation: 4, Epoch: 2}) {
		t.Fatalf("Handle = %+v", h)
	}
	for _, tc := range []struct {
		in   bgworker.Status
		want spec.Status
	}{{bgworker.Started, spec.Started}, {bgworker.NotYetStarted, spec.NotYetStarted},
		{bgworker.Stopped, spec.Stopped}, {bgworker.PostmasterDied, spec.PostmasterDied}} {
		if got, ok := implspec.Status(tc.in); !ok || got != tc.want {
			t.Errorf("Status(%v) = %v, %v", tc.in, got, ok)
		}
	}
	if _, ok := implspec.Status(0); ok {
		t.Error("zero status mapped")
	}
	if _, err := implspec.Decision(bgworker.RestartDecision{}); err == nil {
		t.Error("zero decision mapped")
	}
	d, err := implspec.Decision(bgworker.RestartDecision{Action: bgworker.Forget})
	if err != nil || d.Action != spec.Forget {
		t.Errorf("Decision(forget) = %v, %v", d, err)
	}
}

func TestOp(t *testing.T) {
	for _, tc := range []struct {
		rec  postmaster.Record
		want spec.Input
		ok   bool
	}{
		{postmaster.Record{Kind: postmaster.RecordLaunch, Slot: 2, Pid: 77}, spec.Input{Kind: spec.OpLaunch, Slot: 2, Pid: 77}, true},
		{postmaster.Record{Kind: postmaster.RecordReportStopped, Slot: 2, Pid: 77}, spec.Input{Kind: spec.OpExit, Slot: 2}, true},
		{postmaster.Record{Kind: postmaster.RecordForget, Slot: 3}, spec.Input{Kind: spec.OpForget, Slot: 3}, true},
		{postmaster.Record{Kind: postmaster.RecordReject, Slot: 4}, spec.Input{Kind: spec.OpForget, Slot: 4}, true},
		{postmaster.Record{Kind: postmaster.RecordReinit, Slot: -1, InUse: []int{0, 1}}, spec.Input{Kind: spec.OpReinit, InUse: []int{0, 1}}, true},
		{postmaster.Record{Kind: postmaster.RecordAdopt, Slot: 1}, spec.Input{}, false},
		{postmaster.Record{Kind: postmaster.RecordInit, Slot: -1, InUse: []int{0}}, spec.Input{}, false},
	} {
		t.Run(tc.rec.Kind.String(), func(t *testing.T) {
			got, ok := implspec.Op(tc.rec)
			if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Op = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
