package linearizability

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"bgwmodel/spec"
)

// verdictOf returns the verdict of the named check, or fails the test.
func verdictOf(t *testing.T, rep Report, name CheckName) Verdict {
	t.Helper()
	for _, v := range rep.Verdicts {
		if v.Check == name {
			return v
		}
	}
	t.Fatalf("no %s verdict in\n%v", name, rep)
	return Verdict{}
}

func TestHandWritten(t *testing.T) {
	for _, tc := range handCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []Mode{ModeExact, ModePartitioned, ModeAuto} {
				rep := Check(tc.h, Options{Slots: tc.slots, Static: tc.static, Mode: mode, Timeout: 10 * time.Second})
				if rep.Err != nil {
					t.Fatalf("%v: %v", mode, rep.Err)
				}
				if tc.legal {
					if !rep.Ok() {
						t.Errorf("%v: legal history rejected:\n%v", mode, rep)
					}
					continue
				}
				if mode == ModePartitioned && len(tc.checks) == 0 {
					if !rep.Ok() {
						t.Errorf("partitioned: expected to miss this violation, got\n%v", rep)
					}
					continue
				}
				if rep.Ok() || rep.Result() != Violation {
					t.Errorf("%v: illegal history not caught:\n%v", mode, rep)
					continue
				}
				if mode == ModeExact {
					if v := verdictOf(t, rep, CheckExact); v.Result != Violation || v.Info == nil {
						t.Errorf("exact: %v, info %v", v.Result, v.Info != nil)
					}
					continue
				}
				for _, name := range tc.checks {
					v := verdictOf(t, rep, name)
					if v.Result != Violation {
						t.Errorf("%v: check %s: %v, want violation:\n%v", mode, name, v.Result, rep)
					}
					if v.Info == nil || v.Detail == "" || v.Where == "" {
						t.Errorf("%v: check %s: violation without info, detail or place:\n%v", mode, name, rep)
					}
				}
				for _, v := range rep.Verdicts {
					if v.Result == Unknown {
						t.Errorf("%v: check %s undecided:\n%v", mode, v.Check, rep)
					}
				}
			}
		})
	}
}

func TestViolationReport(t *testing.T) {
	tc := handCases[slices.IndexFunc(handCases, func(c handCase) bool { return c.name == "stale-handle-started-after-reuse" })]
	rep := Check(tc.h, Options{Slots: tc.slots, Mode: ModePartitioned})
	s := rep.String()
	for _, want := range []string{
		"VIOLATION",
		"slots: violation in slot 0",
		"no linearization lets this operation return as it did",
		"backend-1 (client 1) [13, 14] GetPid(s0/g1/e0) -> STARTED pid=101",
		"longest partial linearization",
		"one of these must come next",
		"no-free-slot  ok",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
}

func TestHTML(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"stale-handle-started-after-reuse", "no-free-slot-with-free-slot", "invalid-worker-accepted"} {
		t.Run(name, func(t *testing.T) {
			tc := handCases[slices.IndexFunc(handCases, func(c handCase) bool { return c.name == name })]
			for _, mode := range []Mode{ModeExact, ModePartitioned} {
				rep := Check(tc.h, Options{Slots: tc.slots, Mode: mode})
				v := rep.Violation()
				if v == nil {
					t.Fatalf("%v: no violation:\n%v", mode, rep)
				}
				path := filepath.Join(dir, name+"-"+mode.String()+".html")
				if err := v.WriteHTML(path, tc.h); err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), "<html") || !strings.Contains(string(b), "PartialLinearizations") {
					t.Errorf("%s does not look like porcupine's view", path)
				}
			}
		})
	}
	// Passing windows keep no info.
	rep := Check(handCases[0].h, Options{Slots: 1, Mode: ModePartitioned})
	if err := rep.Verdicts[0].WriteHTML(filepath.Join(dir, "none.html"), nil); err == nil {
		t.Error("WriteHTML of a passing partitioned verdict succeeded")
	}
}

func TestGeneratedPass(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		seed                 int64
		nops, slots, clients int
	}{
		{"1k-4slots-6clients", 1, 1000, 4, 6},
		{"1k-1slot-3clients", 2, 1000, 1, 3},
		{"1k-8slots-12clients", 3, 1000, 8, 12},
		{"5k-3slots-8clients", 4, 5000, 3, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := Generate(tc.seed, tc.nops, tc.slots, tc.clients)
			if err := h.Validate(); err != nil {
				t.Fatal(err)
			}
			modes := []Mode{ModePartitioned, ModeExact}
			if testing.Short() && tc.nops > 1000 {
				modes = modes[:1]
			}
			for _, mode := range modes {
				rep := Check(h, Options{Slots: tc.slots, Mode: mode, Timeout: 30 * time.Second, Window: 64})
				if !rep.Ok() {
					t.Errorf("%v: generated history rejected:\n%v", mode, rep)
				}
			}
		})
	}
}

func TestGeneratedHasEverything(t *testing.T) {
	h := Generate(1, 3000, 2, 6)
	seen := map[string]bool{}
	for _, op := range h {
		key := op.Input.Kind.String()
		switch {
		case op.Output.Unknown:
			key += "/unknown"
		case op.Input.Kind == spec.OpRegister:
			key += "/" + op.Output.Result.String()
		case op.Input.Kind == spec.OpGetPid || op.Input.Kind == spec.OpWaitForStartup:
			key += "/" + op.Output.Status.String()
		}
		seen[key] = true
	}
	for _, want := range []string{"Register/ok", "Register/no-free-slot", "Register/invalid", "Register/unknown",
		"GetPid/NOT_YET_STARTED", "GetPid/STARTED", "GetPid/STOPPED", "WaitForStartup/STARTED",
		"Launch", "Exit", "Forget", "Reinit"} {
		if !seen[want] {
			t.Errorf("no %s in a generated history; have %v", want, seen)
		}
	}
	var a, b strings.Builder
	for _, op := range Generate(7, 500, 3, 4) {
		line, _ := Marshal(op)
		a.Write(line)
	}
	for _, op := range Generate(7, 500, 3, 4) {
		line, _ := Marshal(op)
		b.Write(line)
	}
	if a.String() != b.String() {
		t.Error("the same seed gave two histories")
	}
}

func TestMutatedFail(t *testing.T) {
	// The exact check's search grows exponentially with the operations in
	// flight before a violation (cut-short ones stay in flight forever), so
	// it gets shorter histories, from seeds whose crashes come late.
	for _, m := range Mutations {
		t.Run(m.String(), func(t *testing.T) {
			found := 0
			for seed := int64(1); seed <= 40 && found < 4; seed++ {
				for _, run := range []struct {
					mode Mode
					nops int
				}{{ModePartitioned, 1000}, {ModeExact, 300}} {
					if run.mode == ModeExact && (seed < 2 || seed > 5) {
						continue
					}
					h := Generate(seed, run.nops, 3, 6)
					bad, i, ok := Mutate(h, m, seed)
					if !ok {
						continue // MutateSkipGeneration needs a history without a cut-short Register
					}
					if run.mode == ModePartitioned {
						found++
					}
					rep := Check(bad, Options{Slots: 3, Mode: run.mode, Timeout: 30 * time.Second})
					if rep.Result() != Violation {
						t.Errorf("seed %d, %v: mutation of %v not caught:\n%v", seed, run.mode, bad[i], rep)
					}
				}
			}
			if found == 0 {
				t.Fatalf("mutation %v applies to no generated history", m)
			}
		})
	}
}

func TestMutateLeavesInputAlone(t *testing.T) {
	h := Generate(3, 500, 2, 4)
	before, _ := Marshal(h[0])
	for _, m := range Mutations {
		if bad, i, ok := Mutate(h, m, 1); ok {
			a, _ := Marshal(h[i])
			b, _ := Marshal(bad[i])
			if string(a) == string(b) {
				t.Errorf("%v changed nothing at %d", m, i)
			}
		}
	}
	if after, _ := Marshal(h[0]); string(after) != string(before) {
		t.Error("Mutate changed its input")
	}
}

func TestTimeoutIsNeverOk(t *testing.T) {
	h := Generate(5, 30000, 4, 8)
	for _, mode := range []Mode{ModePartitioned, ModeExact} {
		rep := Check(h, Options{Slots: 4, Mode: mode, Timeout: time.Microsecond})
		if rep.Ok() {
			t.Errorf("%v: a timed out check passed:\n%v", mode, rep)
		}
		if rep.Result() != Unknown {
			t.Errorf("%v: result %v, want unknown:\n%v", mode, rep.Result(), rep)
		}
		if !strings.Contains(rep.String(), "never a pass") {
			t.Errorf("%v: report does not say why:\n%v", mode, rep)
		}
	}
}

func TestCheckErrors(t *testing.T) {
	good := History{reg(1, 1, 2, hd(0, 1, 0))}
	for _, tc := range []struct {
		name string
		h    History
		opts Options
		want string
	}{
		{"static above slots", good, Options{Slots: 1, Static: 2}, "Static"},
		{"bad mode", good, Options{Slots: 1, Mode: 9}, "mode"},
		{"return before call", History{reg(1, 5, 2, hd(0, 1, 0))}, Options{Slots: 1}, "return 2 before call 5"},
		{"client overlaps itself", History{reg(1, 1, 4, hd(0, 1, 0)), getpid(1, 3, 5, hd(0, 1, 0), spec.Stopped, 0)},
			Options{Slots: 1}, "overlaps"},
		{"call after cut short", History{cut(reg(1, 1, 0, hd(0, 1, 0))), getpid(1, 3, 5, hd(0, 1, 0), spec.Stopped, 0)},
			Options{Slots: 1}, "fresh client id"},
		{"unknown with finite return", History{func() Operation { o := reg(1, 1, 2, hd(0, 1, 0)); o.Output.Unknown = true; return o }()},
			Options{Slots: 1}, "finite return"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Check(tc.h, tc.opts)
			if rep.Err == nil || !strings.Contains(rep.Err.Error(), tc.want) {
				t.Fatalf("Err = %v, want it to mention %q", rep.Err, tc.want)
			}
			if rep.Ok() || rep.Result() != Unknown || len(rep.Verdicts) != 0 {
				t.Errorf("a report with an error: ok %v, result %v, %d verdicts", rep.Ok(), rep.Result(), len(rep.Verdicts))
			}
		})
	}
}

func TestEmptyHistory(t *testing.T) {
	rep := Check(nil, Options{Slots: 2, Mode: ModePartitioned})
	if !rep.Ok() {
		t.Errorf("empty history:\n%v", rep)
	}
}

// TestModelsWithPorcupine runs the exported models through porcupine
// directly, as a caller without Check would.
func TestModelsWithPorcupine(t *testing.T) {
	for _, tc := range handCases {
		t.Run(tc.name, func(t *testing.T) {
			ops := tc.h.Porcupine()
			if got := porcupine.CheckOperations(Exact(tc.slots, tc.static), ops); got != tc.legal {
				t.Errorf("Exact: linearizable %v, want %v", got, tc.legal)
			}
			models := map[CheckName]porcupine.Model{
				CheckSlots:      PerSlot(tc.slots, tc.static),
				CheckNoFreeSlot: Count(tc.slots, tc.static),
				CheckValidity:   Validity(tc.slots, tc.static),
			}
			for name, model := range models {
				want := tc.legal || !slices.Contains(tc.checks, name)
				if got := porcupine.CheckOperations(model, ops); got != want {
					t.Errorf("%s: linearizable %v, want %v", name, got, want)
				}
			}
		})
	}
}
