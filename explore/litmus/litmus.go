package litmus

import (
	"errors"
	"fmt"
	"strings"

	"bgwmodel/explore"
	"bgwmodel/impl/shmem"
)

// Litmus locations: x, y and z, each a 32-bit word in its own 8 bytes.
const (
	X shmem.Offset = 0
	Y shmem.Offset = 8
	Z shmem.Offset = 16
)

// Regs are one litmus thread's registers.
type Regs [4]uint32

// Thread is one thread of a litmus test: ordinary Go code over the
// explorer's [shmem.Memory], keeping what it loads in its registers.
type Thread func(m shmem.Memory, r *Regs)

// Outcome is the final state of one execution of a litmus test:
// registers and memory.
type Outcome struct {
	regs []Regs
	mem  shmem.Memory
}

// R is register reg of thread th.
func (o *Outcome) R(th, reg int) uint32 { return o.regs[th][reg] }

// M is the final value of the word at off.
func (o *Outcome) M(off shmem.Offset) uint32 {
	v, err := o.mem.Load32(off, shmem.Relaxed)
	if err != nil {
		panic(err)
	}
	return v
}

// Test is a litmus test: threads and the interesting (weak) outcome.
// Its verdict under a model comes from exploring it exhaustively.
type Test struct {
	// Name follows herd: FAMILY+A0+A1…, one annotation per thread that
	// has one: po (nothing), wb, rb, fsc (barriers between the thread's
	// accesses), rel (release stores), acq (acquire loads), relacq (both).
	Name   string
	Family string
	// Prog shows the threads, as "P0: W x=1; wb; W y=1 ‖ P1: …".
	Prog string
	// Cond is the outcome, in herd's notation ("1:r0=1 ∧ 1:r1=0").
	Cond    string
	Threads []Thread
	// Exists reports whether an execution ended in the outcome.
	Exists func(o *Outcome) bool
}

// errWitness is the check error of an execution that shows the outcome.
var errWitness = errors.New("litmus: outcome observed")

// Scenario returns the test as a scenario whose check fails exactly when
// an execution ends in the outcome.
func (lt *Test) Scenario() explore.Scenario {
	return explore.Scenario{Name: lt.Name, MemSize: 24, Setup: func(w *explore.World) error {
		w.NameLoc(X, "x")
		w.NameLoc(Y, "y")
		w.NameLoc(Z, "z")
		regs := make([]Regs, len(lt.Threads))
		for i, p := range lt.Threads {
			w.Spawn(fmt.Sprintf("P%d", i), func(t *explore.Thread) { p(t.Mem(), &regs[i]) }, 0)
		}
		w.OnEnd(func(e *explore.End) error {
			if lt.Exists(&Outcome{regs: regs, mem: e.Mem()}) {
				return errWitness
			}
			return nil
		})
		return nil
	}}
}

// Result is one litmus test's verdict under one model.
type Result struct {
	Test   string
	Family string
	Model  explore.ModelKind
	// Allowed is the computed verdict: some execution ended in the
	// outcome.
	Allowed bool
	// Expected is the verdict the literature gives, and Source says where
	// from.
	Expected bool
	Source   string
	// Executions and Pruned count the search (it stops at the first
	// witness).
	Executions, Pruned int
	// Witness is the trace of an execution showing the outcome.
	Witness string
}

// Match reports whether the computed verdict is the expected one.
func (r Result) Match() bool { return r.Allowed == r.Expected }

// Verdict formats a verdict as "allowed" or "forbidden".
func Verdict(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "forbidden"
}

// Run runs every test of [Tests] exhaustively under the model
// named model ("sc", "tso" or "view") and returns computed and expected
// verdicts. A mismatch is not an error: check [Result.Match].
func Run(model string) ([]Result, error) {
	m, err := explore.ParseModel(model)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, lt := range Tests() {
		r, err := Check(&lt, m)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Check explores one test under one model: DFS with no preemption
// bound and state hashing (sound here: the check reads only final
// registers and memory), stopping at the first witness.
func Check(lt *Test, m explore.ModelKind) (Result, error) {
	exp, ok := expectedVerdict(lt.Name, m)
	if !ok {
		return Result{}, fmt.Errorf("litmus: no expected verdict for %s under %s", lt.Name, m)
	}
	rep, err := explore.Explore(lt.Scenario(), explore.Options{Model: m, PreemptionBound: explore.Unbounded, StateHashing: true})
	if err != nil {
		return Result{}, err
	}
	r := Result{Test: lt.Name, Family: lt.Family, Model: m, Expected: exp.allowed, Source: exp.source,
		Executions: rep.Executions, Pruned: rep.Pruned}
	for _, f := range rep.Failures {
		if f.Kind != explore.FailCheck || !errors.Is(f.Err, errWitness) {
			return r, fmt.Errorf("litmus %s under %s: %w", lt.Name, m, f)
		}
		r.Allowed, r.Witness = true, f.Trace
	}
	if !r.Allowed && !rep.Exhausted {
		return r, fmt.Errorf("litmus %s under %s: search not exhausted: %v", lt.Name, m, rep)
	}
	return r, nil
}

// Format formats results (of one or more models) as a Markdown
// table, one row per test and a column per model: the computed verdict,
// marked "✗" where it differs from the expected one.
func Format(results []Result) string {
	var models []explore.ModelKind
	seenModel := map[explore.ModelKind]bool{}
	var tests []string
	byTest := map[string]map[explore.ModelKind]Result{}
	for _, r := range results {
		if !seenModel[r.Model] {
			seenModel[r.Model] = true
			models = append(models, r.Model)
		}
		if byTest[r.Test] == nil {
			byTest[r.Test] = map[explore.ModelKind]Result{}
			tests = append(tests, r.Test)
		}
		byTest[r.Test][r.Model] = r
	}
	var b strings.Builder
	b.WriteString("| test |")
	for _, m := range models {
		fmt.Fprintf(&b, " %s |", m)
	}
	b.WriteString("\n|---|")
	for range models {
		b.WriteString("---|")
	}
	b.WriteByte('\n')
	for _, t := range tests {
		fmt.Fprintf(&b, "| %s |", t)
		for _, m := range models {
			r, ok := byTest[t][m]
			switch {
			case !ok:
				b.WriteString(" |")
			case r.Match():
				fmt.Fprintf(&b, " %s |", Verdict(r.Allowed))
			default:
				fmt.Fprintf(&b, " %s ✗ (expected %s) |", Verdict(r.Allowed), Verdict(r.Expected))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
