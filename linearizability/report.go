package linearizability

import (
	"fmt"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// Result is the outcome of one check.
type Result uint8

// The results of a check. The zero value is Unknown: nothing is a pass
// unless a check says so.
const (
	// Unknown: the check could not decide (it timed out, or its engines
	// disagreed). Never a pass.
	Unknown Result = iota
	// Ok: the check found the history linearizable.
	Ok
	// Violation: the check proved the history not linearizable.
	Violation
)

// String returns "unknown", "ok" or "violation".
func (r Result) String() string {
	switch r {
	case Unknown:
		return "unknown"
	case Ok:
		return "ok"
	case Violation:
		return "violation"
	}
	return fmt.Sprintf("Result(%d)", uint8(r))
}

// CheckName names a check of [Check].
type CheckName string

// The checks.
const (
	// CheckSlots is the per-slot check ([PerSlot]).
	CheckSlots CheckName = "slots"
	// CheckNoFreeSlot is the count check of "no free slot" answers
	// ([Count]).
	CheckNoFreeSlot CheckName = "no-free-slot"
	// CheckValidity is the state-independent check ([Validity]).
	CheckValidity CheckName = "validity"
	// CheckExact is the unpartitioned check ([Exact]).
	CheckExact CheckName = "exact"
)

// Verdict is the outcome of one check.
type Verdict struct {
	Check   CheckName
	Result  Result
	Ops     int           // operations in the check's projection, summed over its partitions
	Parts   int           // partitions (slots for CheckSlots)
	Windows int           // windows porcupine checked (partitioned checks)
	Elapsed time.Duration // time the check took
	// Where says where a violation (or an undecided part) is: a slot and
	// a window of operations, or an operation.
	Where string
	// Detail explains a violation or an Unknown result in a few lines:
	// the operation no linearization allows, porcupine's longest partial
	// linearization with its states, and the operations one of which would
	// have to come next.
	Detail string
	// Model and Info are porcupine's model and linearization info for the
	// window, partition or history in which the violation was found, for
	// [WriteHTML]. Info is nil when there is nothing to show (a check that
	// passed in windows keeps no info; the exact check always keeps it).
	Model porcupine.Model
	Info  *porcupine.LinearizationInfo
	span  [2]int64 // the calls Info covers, if a window; zero for all
}

// Report is the outcome of [Check]: one [Verdict] per check run.
type Report struct {
	Mode     Mode // the mode asked for
	Ops      int  // operations in the history
	Verdicts []Verdict
	Elapsed  time.Duration
	// Err reports a malformed history or bad options; there are no
	// verdicts then.
	Err error
}

// Ok reports whether every check ran and passed: no error, at least one
// verdict, and every verdict [Ok]. A timeout is never a pass.
func (r Report) Ok() bool {
	if r.Err != nil || len(r.Verdicts) == 0 {
		return false
	}
	for _, v := range r.Verdicts {
		if v.Result != Ok {
			return false
		}
	}
	return true
}

// Result returns [Violation] if any check found one, else [Unknown] if any
// check could not decide or none ran, else [Ok].
func (r Report) Result() Result {
	if r.Err != nil || len(r.Verdicts) == 0 {
		return Unknown
	}
	res := Ok
	for _, v := range r.Verdicts {
		switch v.Result {
		case Violation:
			return Violation
		case Unknown:
			res = Unknown
		}
	}
	return res
}

// Violation returns the first verdict that found a violation, or nil.
func (r Report) Violation() *Verdict {
	for i := range r.Verdicts {
		if r.Verdicts[i].Result == Violation {
			return &r.Verdicts[i]
		}
	}
	return nil
}

// String returns a readable summary: a headline, one line per check, and
// the details of every check that did not pass.
func (r Report) String() string {
	var b strings.Builder
	if r.Err != nil {
		fmt.Fprintf(&b, "linearizability: no verdict: %v\n", r.Err)
		return b.String()
	}
	head := map[Result]string{Ok: "OK", Violation: "VIOLATION", Unknown: "UNKNOWN"}[r.Result()]
	fmt.Fprintf(&b, "linearizability: %s (%d operations, mode %v, %d checks, %v)\n",
		head, r.Ops, r.Mode, len(r.Verdicts), r.Elapsed.Round(time.Millisecond))
	for _, v := range r.Verdicts {
		fmt.Fprintf(&b, "  %-13s %-9v %d ops", v.Check, v.Result, v.Ops)
		if v.Parts > 1 || v.Check == CheckSlots {
			fmt.Fprintf(&b, ", %d parts", v.Parts)
		}
		if v.Windows > 0 {
			fmt.Fprintf(&b, ", %d windows", v.Windows)
		}
		fmt.Fprintf(&b, ", %v\n", v.Elapsed.Round(time.Microsecond))
	}
	for _, v := range r.Verdicts {
		if v.Result == Ok {
			continue
		}
		fmt.Fprintf(&b, "%s: %v", v.Check, v.Result)
		if v.Where != "" {
			fmt.Fprintf(&b, " in %s", v.Where)
		}
		b.WriteString("\n")
		for _, line := range strings.Split(v.Detail, "\n") {
			if line != "" {
				fmt.Fprintf(&b, "  %s\n", line)
			}
		}
	}
	return b.String()
}
