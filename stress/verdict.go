package stress

import (
	"fmt"
	"strings"

	"bgwmodel/linearizability"
	"bgwmodel/policy"
)

// CheckName names one check of a run's [Verdict].
type CheckName string

// The checks of a run.
const (
	// CheckLinearizability: linearizability.Check of the merged histories
	// (ModeAuto).
	CheckLinearizability CheckName = "linearizability"
	// CheckPolicy: policy.Validate of the postmaster's record log.
	CheckPolicy CheckName = "policy"
	// CheckWaiters: no WaitForStartup left waiting (see [JudgeWaits]).
	CheckWaiters CheckName = "waiters"
	// CheckStop: the orderly stop worked and left no process behind.
	CheckStop CheckName = "stop"
	// CheckPostmaster: the postmaster ran until the harness stopped or
	// killed it (see [PostmasterExit]).
	CheckPostmaster CheckName = "postmaster-survives"
	// CheckRecording: every outcome the histories leave unknown has a
	// cause the run shows ([CutsFile]); otherwise Undecided.
	CheckRecording CheckName = "recording"
	// CheckLive: the history of a linearizability violation found while
	// the campaign ran ([LiveViolationFile]), checked again.
	CheckLive CheckName = "live-linearizability"
	// CheckCoverage: the run decided every kind of outcome its
	// configuration can reach ([Config.Reachable]); otherwise it is
	// vacuous: Undecided.
	CheckCoverage CheckName = "coverage"
)

// Outcome is the result of one check.
type Outcome uint8

// The outcomes. The zero value is Undecided: nothing passes unless a
// check says so.
const (
	// Undecided: the check could not decide (a timeout); never a pass.
	Undecided Outcome = iota
	// Pass: the check found nothing wrong.
	Pass
	// Fail: the check found a violation.
	Fail
	// Skipped: there was nothing to check (no record log, say).
	Skipped
)

// String returns "UNKNOWN", "PASS", "FAIL" or "skipped".
func (o Outcome) String() string {
	switch o {
	case Undecided:
		return "UNKNOWN"
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	case Skipped:
		return "skipped"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// CheckResult is one check's verdict.
type CheckResult struct {
	Name    CheckName `json:"name"`
	Outcome Outcome   `json:"-"`
	// Summary is one line; Detail explains a failure in a few lines.
	Summary string `json:"summary"`
	Detail  string `json:"detail,omitempty"`
}

// Verdict is the verdict of every check of a run, with the evidence.
type Verdict struct {
	Checks []CheckResult
	// Report is the linearizability report; History the history checked
	// (after the death cut, see CheckDir).
	Report  linearizability.Report
	History linearizability.History
	// Policy and Waiters are the violations those checks found.
	Policy  []policy.Violation
	Waiters []WaiterFinding
	// Coverage is what the run decided.
	Coverage Coverage
}

// Outcome is Fail if any check failed, else Undecided if any could not
// decide (or none ran), else Pass.
func (v *Verdict) Outcome() Outcome {
	out, ran := Pass, false
	for _, c := range v.Checks {
		switch c.Outcome {
		case Fail:
			return Fail
		case Undecided:
			out = Undecided
		}
		if c.Outcome != Skipped {
			ran = true
		}
	}
	if !ran {
		return Undecided
	}
	return out
}

// Check returns the named check's result, or nil if it was not run.
func (v *Verdict) Check(name CheckName) *CheckResult {
	for i := range v.Checks {
		if v.Checks[i].Name == name {
			return &v.Checks[i]
		}
	}
	return nil
}

// Failed returns the names of the checks that failed.
func (v *Verdict) Failed() []CheckName {
	var out []CheckName
	for _, c := range v.Checks {
		if c.Outcome == Fail {
			out = append(out, c.Name)
		}
	}
	return out
}

// String returns one line per check, then the details of every check
// that did not pass.
func (v *Verdict) String() string {
	var b strings.Builder
	for _, c := range v.Checks {
		fmt.Fprintf(&b, "  %-20s %-8v %s\n", c.Name, c.Outcome, c.Summary)
	}
	for _, c := range v.Checks {
		if c.Detail == "" || c.Outcome == Pass || c.Outcome == Skipped {
			continue
		}
		fmt.Fprintf(&b, "\n%s: %v\n", c.Name, c.Outcome)
		for _, line := range strings.Split(strings.TrimRight(c.Detail, "\n"), "\n") {
			fmt.Fprintf(&b, "  %s\n", line)
		}
	}
	return b.String()
}

// linResult turns a linearizability report into a check result.
func linResult(rep linearizability.Report) CheckResult {
	r := CheckResult{Name: CheckLinearizability}
	if rep.Err != nil {
		r.Outcome, r.Summary = Undecided, fmt.Sprintf("no verdict: %v", rep.Err)
		return r
	}
	var parts []string
	for _, v := range rep.Verdicts {
		parts = append(parts, fmt.Sprintf("%s %v", v.Check, v.Result))
	}
	r.Summary = fmt.Sprintf("%d operations, %s (%v)", rep.Ops, strings.Join(parts, ", "), rep.Elapsed.Round(1e6))
	switch rep.Result() {
	case linearizability.Ok:
		r.Outcome = Pass
	case linearizability.Violation:
		r.Outcome = Fail
		r.Detail = rep.String()
	default:
		r.Outcome = Undecided
		r.Detail = rep.String() + "a timeout or an undecided check is never a pass: re-check with a longer -timeout\n"
	}
	return r
}

// policyResult turns the validator's violations into a check result.
func policyResult(n int, vs []policy.Violation) CheckResult {
	r := CheckResult{Name: CheckPolicy, Outcome: Pass, Summary: fmt.Sprintf("%d records, no rule broken", n)}
	if len(vs) == 0 {
		return r
	}
	rules := map[policy.Rule]int{}
	var order []string
	for _, v := range vs {
		if rules[v.Rule] == 0 {
			order = append(order, string(v.Rule))
		}
		rules[v.Rule]++
	}
	var b strings.Builder
	writeFirst(&b, vs, PolicyFile)
	var counts []string
	for _, name := range order {
		counts = append(counts, fmt.Sprintf("%s ×%d", name, rules[policy.Rule(name)]))
	}
	r.Outcome, r.Summary, r.Detail = Fail, fmt.Sprintf("%d records, broken: %s", n, strings.Join(counts, ", ")), b.String()
	return r
}

// waitersResult turns the waiter findings into a check result.
func waitersResult(judged int, fs []WaiterFinding) CheckResult {
	r := CheckResult{Name: CheckWaiters, Outcome: Pass,
		Summary: fmt.Sprintf("%d unanswered waits judged, none left waiting", judged)}
	if len(fs) == 0 {
		return r
	}
	var b strings.Builder
	writeFirst(&b, fs, WaitersFile)
	r.Outcome, r.Summary, r.Detail = Fail, fmt.Sprintf("%d of %d unanswered waits left waiting", len(fs), judged), b.String()
	return r
}

// stopVerdict is the stop check: Stop's error and the processes left.
func stopVerdict(stopErr error, left []int) CheckResult {
	r := CheckResult{Name: CheckStop, Outcome: Pass, Summary: "orderly stop, no process left"}
	var b strings.Builder
	if stopErr != nil {
		fmt.Fprintf(&b, "stop: %v\n", stopErr)
	}
	if len(left) > 0 {
		fmt.Fprintf(&b, "processes left after stop: %v\n", left)
	}
	if b.Len() > 0 {
		r.Outcome, r.Summary, r.Detail = Fail, strings.SplitN(b.String(), "\n", 2)[0], b.String()
	}
	return r
}

// detailLines is how many findings a check's detail lists.
const detailLines = 10

// writeFirst writes the first detailLines findings, one a line, then how
// many more there are and the file that lists them all ("" for none).
func writeFirst[T any](b *strings.Builder, findings []T, file string) {
	for i, f := range findings {
		if i == detailLines {
			fmt.Fprintf(b, "... and %d more", len(findings)-detailLines)
			if file != "" {
				fmt.Fprintf(b, " (%s)", file)
			}
			b.WriteString("\n")
			break
		}
		fmt.Fprintf(b, "%v\n", f)
	}
}
