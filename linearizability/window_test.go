package linearizability

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"bgwmodel/spec"
)

// quiescentPoints counts the points of h, other than its end, where every
// operation called has returned or was cut short.
func quiescentPoints(h History) int {
	ops := append(History(nil), h...)
	ops.SortByCall()
	n := 0
	last := Stamp(0)
	for i, op := range ops {
		if i > 0 && last < op.Call {
			n++
		}
		if op.Return != Infinity {
			last = max(last, op.Return)
		}
	}
	return n
}

// plantWrongPid returns a copy of h with the GetPid nearest its middle
// that answered STARTED changed to a pid no worker ever had: illegal in
// every state, in the middle of the run.
func plantWrongPid(t *testing.T, h History) (History, Operation) {
	t.Helper()
	out := append(History(nil), h...)
	out.SortByCall()
	for d := 0; d < len(out)/2; d++ {
		for _, i := range []int{len(out)/2 - d, len(out)/2 + d} {
			op := &out[i]
			if op.Input.Kind == spec.OpGetPid && !op.Output.Unknown && op.Output.Status == spec.Started {
				op.Output.Pid = 999_999
				return out, *op
			}
		}
	}
	t.Fatal("no GetPid that answered STARTED")
	return nil, Operation{}
}

// TestOverlappingWindows: a slot whose operations overlap without end
// splits into many windows, passes when linearizable, and a violation in
// the middle of the run is found by the windowed and the exact checks.
func TestOverlappingWindows(t *testing.T) {
	const nops, window = 3000, 32
	good := GenerateOverlapping(7, nops, 1, 8)
	if n := quiescentPoints(good); n != 0 {
		t.Fatalf("the overlapping history has %d quiescent points", n)
	}
	bad, planted := plantWrongPid(t, good)
	for _, tc := range []struct {
		name string
		h    History
		want Result
	}{
		{"linearizable", good, Ok},
		{"wrong-pid-in-the-middle", bad, Violation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Check(tc.h, Options{Slots: 1, Mode: ModePartitioned, Window: window, Timeout: time.Minute})
			if rep.Result() != tc.want {
				t.Fatalf("partitioned: %v, want %v:\n%v", rep.Result(), tc.want, rep)
			}
			slots := verdictOf(t, rep, CheckSlots)
			if tc.want == Ok && slots.Windows < nops/(4*window) {
				t.Errorf("partitioned: %d windows for %d operations: the run was not split", slots.Windows, nops)
			}
			if tc.want == Violation {
				if slots.Result != Violation || slots.Info == nil {
					t.Errorf("slots check: %v, info %v:\n%v", slots.Result, slots.Info != nil, rep)
				}
				if !strings.Contains(slots.Detail, "pid=999999") {
					t.Errorf("the violation does not show the planted operation %v:\n%v", planted, rep)
				}
			}
			if testing.Short() {
				return
			}
			exact := Check(tc.h, Options{Slots: 1, Mode: ModeExact, Timeout: time.Minute})
			if exact.Result() != tc.want {
				t.Errorf("exact: %v, want %v:\n%v", exact.Result(), tc.want, exact)
			}
		})
	}
}

// TestWindowedAgreesWithExact: on small random histories, overlapping or
// not, legal or perturbed, cutting as often as possible gives the verdict
// of a single window; a partitioned violation is an exact one; an exact
// pass is a partitioned pass; and nothing is left undecided.
func TestWindowedAgreesWithExact(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Int64().Draw(rt, "seed")
		nslots := rapid.IntRange(1, 2).Draw(rt, "slots")
		nops := rapid.IntRange(10, 60).Draw(rt, "ops")
		clients := rapid.IntRange(2, 6).Draw(rt, "clients")
		gen := Generate
		if rapid.Bool().Draw(rt, "overlapping") {
			gen = GenerateOverlapping
		}
		h := gen(seed, nops, nslots, clients)
		rng := rand.New(rand.NewSource(seed))
		for range rapid.IntRange(0, 2).Draw(rt, "perturbations") {
			h = perturb(h, rng, nslots)
		}
		if h.Validate() != nil {
			return
		}
		check := func(mode Mode, window int) Report {
			return Check(h, Options{Slots: nslots, Mode: mode, Window: window, Timeout: 20 * time.Second})
		}
		exact, tiny, whole := check(ModeExact, 0), check(ModePartitioned, 1), check(ModePartitioned, 1<<30)
		for _, rep := range []Report{exact, tiny, whole} {
			if rep.Result() == Unknown {
				rt.Fatalf("undecided:\n%v", rep)
			}
		}
		if tiny.Result() != whole.Result() {
			rt.Fatalf("cut at every chance: %v; one window: %v\n%v\n%v", tiny.Result(), whole.Result(), tiny, whole)
		}
		if tiny.Result() == Violation && exact.Result() != Violation {
			rt.Fatalf("partitioned violation, exact %v: unsound\n%v", exact.Result(), tiny)
		}
		if exact.Result() == Ok && tiny.Result() != Ok {
			rt.Fatalf("exact passes, partitioned %v:\n%v", tiny.Result(), tiny)
		}
	})
}

// TestMemoryBudgetNeverPasses: a check that outgrows its memory budget
// is unknown, says so, and is never a pass.
func TestMemoryBudgetNeverPasses(t *testing.T) {
	h := GenerateOverlapping(3, 20000, 1, 8)
	for _, tc := range []struct {
		name   string
		mode   Mode
		budget int64
		want   string
	}{
		{"exact", ModeExact, 16 << 20, "memory budget of 16 MiB exceeded during the exact check of 20003 operations"},
		{"partitioned", ModePartitioned, 64 << 10, "memory budget of 64 KiB exceeded after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Check(h, Options{Slots: 1, Mode: tc.mode, MemoryBudget: tc.budget})
			if rep.Ok() || rep.Result() != Unknown {
				t.Fatalf("result %v, want unknown:\n%v", rep.Result(), rep)
			}
			if s := rep.String(); !strings.Contains(s, tc.want) || !strings.Contains(s, "never a pass") {
				t.Errorf("report does not say %q and that it is never a pass:\n%v", tc.want, s)
			}
		})
	}
}
