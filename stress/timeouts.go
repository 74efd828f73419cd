package stress

// Timeouts counts what ran out of time in a campaign. None of it is a
// violation (a wait the waiters check finds left waiting is one, and is
// counted there instead), and none of it is a pass either: a soak reports
// the counts beside the violations.
type Timeouts struct {
	// Ops is the number of Register and GetPid calls that hit the
	// harness's bound on one operation and were recorded as cut short.
	Ops int `json:"ops"`
	// Waits is the number of WaitForStartup calls that hit the workload's
	// wait_timeout (WaitOutcome "timeout") and that the waiters check
	// judged legal (a worker waiting for its restart_time, a launch
	// delayed by the start state).
	Waits int `json:"waits"`
	// Checks is the number of the verdict's checks that could not decide
	// in time ([Undecided]).
	Checks int `json:"checks"`
}

// Total returns Ops + Waits + Checks. It does not block.
func (t Timeouts) Total() int { return t.Ops + t.Waits + t.Checks }

// countTimeouts counts the timeouts of a finished campaign: ops cut short
// by their bound, the waits that timed out less those found left waiting
// (violations), and the undecided checks of v.
func countTimeouts(ops int, waits []WaitRecord, v *Verdict) Timeouts {
	t := Timeouts{Ops: ops}
	type key struct {
		process string
		client  int
		call    uint64
	}
	bad := map[key]bool{}
	for _, f := range v.Waiters {
		bad[key{f.Wait.Process, f.Wait.Client, f.Wait.Call}] = true
	}
	for _, w := range waits {
		if w.Outcome == WaitTimedOut && !bad[key{w.Process, w.Client, w.Call}] {
			t.Waits++
		}
	}
	for _, c := range v.Checks {
		if c.Outcome == Undecided {
			t.Checks++
		}
	}
	return t
}
