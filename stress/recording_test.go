package stress

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bgwmodel/impl/cluster"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/proc/proctest"
	"bgwmodel/linearizability"
	"bgwmodel/spec"
)

func TestCutCause(t *testing.T) {
	live := context.Background()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		wait bool
		want CutCause
	}{
		{"campaign end", ended, context.Canceled, false, CutCampaignEnd},
		{"campaign end beats a closed backend", ended, cluster.ErrBackendClosed, false, CutCampaignEnd},
		{"backend gone", live, fmt.Errorf("x: %w", cluster.ErrBackendClosed), false, CutBackendGone},
		{"wait timeout", live, context.DeadlineExceeded, true, CutWaitTimeout},
		{"op timeout", live, context.DeadlineExceeded, false, CutTimeout},
		{"op timeout that closed the connection", live, fmt.Errorf("%w: %w", cluster.ErrBackendClosed, context.DeadlineExceeded), false, CutTimeout},
		{"anything else", live, errors.New("stress: recording: status 7"), false, CutError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cutCause(tc.ctx, tc.err, tc.wait); got != tc.want {
				t.Fatalf("cutCause = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestRecordingResult: an unknown outcome passes the recording check only
// with a recorded cause the run's evidence explains.
func TestRecordingResult(t *testing.T) {
	unknown := func(client int, call linearizability.Stamp) linearizability.Operation {
		return linearizability.Operation{Client: client, Process: "b1 pid 100", Call: call, Return: linearizability.Infinity,
			Input: spec.Input{Kind: spec.OpGetPid}, Output: spec.Output{Unknown: true}}
	}
	cut := func(client int, call, at uint64, cause CutCause) CutRecord {
		return CutRecord{Process: "b1 pid 100", Client: client, Op: "get_pid", Call: call, At: at, Pid: 100, Cause: cause, Error: "x"}
	}
	recs := []postmaster.Record{
		{Kind: postmaster.RecordBackendStarted, Pid: 100, Call: 5, Return: 5},
		{Kind: postmaster.RecordCrashRestart, Call: 50, Return: 50},
	}
	died := &linearizability.Operation{Input: spec.Input{Kind: spec.OpDied}, Call: 80}
	killed := []FaultEvent{{Kind: FaultKillBackend, Pid: 100, Done: true}}
	for _, tc := range []struct {
		name   string
		cut    *CutRecord
		faults []FaultEvent
		recs   []postmaster.Record
		died   *linearizability.Operation
		want   Outcome
		why    string
	}{
		{"campaign end", ptr(cut(1, 10, 20, CutCampaignEnd)), nil, nil, nil, Pass, "campaign end 1"},
		{"backend killed", ptr(cut(1, 10, 20, CutBackendGone)), killed, nil, nil, Pass, "backend killed 1"},
		{"crash restart", ptr(cut(1, 10, 60, CutBackendGone)), nil, recs, nil, Pass, "crash restart 1"},
		{"backend gone before the crash restart", ptr(cut(1, 10, 20, CutBackendGone)), nil, recs, nil, Undecided, "backend-gone"},
		{"backend gone, nothing shows why", ptr(cut(1, 10, 20, CutBackendGone)), nil, nil, nil, Undecided, "backend-gone"},
		{"another backend killed", ptr(cut(1, 10, 20, CutBackendGone)), []FaultEvent{{Kind: FaultKillBackend, Pid: 101, Done: true}}, nil, nil, Undecided, ""},
		{"postmaster died", ptr(cut(1, 10, 90, CutError)), nil, nil, died, Pass, "postmaster died 1"},
		{"an error before the death", ptr(cut(1, 10, 70, CutError)), nil, nil, died, Undecided, "error"},
		{"wait timeout", ptr(cut(1, 10, 20, CutWaitTimeout)), nil, nil, nil, Pass, "wait timed out"},
		{"op timeout", ptr(cut(1, 10, 20, CutTimeout)), nil, nil, nil, Undecided, "timeout"},
		{"no cut record", nil, nil, nil, nil, Undecided, "no cause recorded"},
		{"a cut record of another operation", ptr(cut(1, 11, 20, CutCampaignEnd)), nil, nil, nil, Undecided, "no cause recorded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cuts []CutRecord
			if tc.cut != nil {
				cuts = append(cuts, *tc.cut)
			}
			r := recordingResult(linearizability.History{unknown(1, 10)}, cuts, tc.faults, tc.recs, tc.died)
			if r.Outcome != tc.want || !strings.Contains(r.Summary+r.Detail, tc.why) {
				t.Fatalf("%v: %s\n%s\nwant %v saying %q", r.Outcome, r.Summary, r.Detail, tc.want, tc.why)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestNothingDecidedIsNoPass: a campaign whose Registers and GetPids all
// come back unknown (each cut short by a bound of a microsecond) passes
// linearizability vacuously, and is no pass: the recording check finds
// the outcomes cut short for no cause the run shows, and the coverage
// check finds the run decided none of them.
func TestNothingDecidedIsNoPass(t *testing.T) {
	if testing.Short() {
		t.Skip("a campaign: not with -short")
	}
	proctest.Clean(t)
	cfg := DefaultConfig()
	cfg.Seed, cfg.Duration = 31, Duration(4*time.Second)
	cfg.Workload.WaitForStartup = 0 // only Registers and GetPids
	res, err := Run(context.Background(), cfg, Options{Dir: filepath.Join(t.TempDir(), "run"), opTimeout: time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	v := res.Verdict
	if res.Outcome() != Undecided {
		t.Fatalf("outcome %v, want UNKNOWN\n%s", res.Outcome(), v)
	}
	if c := v.Check(CheckRecording); c == nil || c.Outcome != Undecided || !strings.Contains(c.Detail, "timeout") {
		t.Errorf("recording: %+v", c)
	}
	if c := v.Check(CheckCoverage); c == nil || c.Outcome != Undecided || !strings.Contains(c.Summary, "register-ok") {
		t.Errorf("coverage: %+v", c)
	}
	if n := v.Coverage.Counts[CoverRegisterOK]; n != 0 {
		t.Errorf("%d registrations decided", n)
	}
}

// TestCoverageResult: every kind in reach decided passes; a kind missing
// is vacuous, naming it, unless waived.
func TestCoverageResult(t *testing.T) {
	full := Coverage{Counts: map[CoverKind]int{}, Slots: []int{0, 3, 2}, Static: 1}
	for _, k := range CoverKinds() {
		full.Counts[k] = 1
	}
	noFree := full
	noFree.Counts = maps.Clone(full.Counts)
	noFree.Counts[CoverRegisterNoFreeSlot] = 0
	slotless := Coverage{Counts: maps.Clone(full.Counts), Slots: []int{0, 3, 0}, Static: 1}
	slotless.Counts[CoverSlots] = 0
	reach := []CoverKind{CoverRegisterOK, CoverRegisterNoFreeSlot, CoverSlots}
	for _, tc := range []struct {
		name   string
		cov    Coverage
		waived []CoverKind
		want   Outcome
		says   string
	}{
		{"all decided", full, nil, Pass, "every one of 3 kinds"},
		{"one missing", noFree, nil, Undecided, "vacuous: never decided: register-no-free-slot"},
		{"one missing, waived", noFree, []CoverKind{CoverRegisterNoFreeSlot}, Pass, "waived"},
		{"a slot never used", slotless, nil, Undecided, "no dynamic worker launched in slots [2]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := coverageResult(tc.cov, reach, tc.waived)
			if r.Outcome != tc.want || !strings.Contains(r.Summary, tc.says) {
				t.Fatalf("%v: %s, want %v saying %q", r.Outcome, r.Summary, tc.want, tc.says)
			}
		})
	}
}
