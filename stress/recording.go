package stress

import (
	"errors"
	"fmt"
	"strings"

	"bgwmodel/impl/cluster"
	"bgwmodel/impl/postmaster"
	"bgwmodel/linearizability"
	"context"
)

// CutsFile lists the operations the harness recorded as cut short (JSON
// lines of [CutRecord]): what the call returned instead of an outcome.
const CutsFile = "cuts.jsonl"

// CutCause is why an operation's outcome is unknown, as the driver saw
// it when the call returned.
type CutCause string

// The causes.
const (
	// CutCampaignEnd: the campaign ended (its duration, a violation, an
	// interrupt) while the call was in flight.
	CutCampaignEnd CutCause = "campaign-end"
	// CutBackendGone: the backend's connection closed: its process is
	// gone.
	CutBackendGone CutCause = "backend-gone"
	// CutWaitTimeout: a WaitForStartup reached the workload's wait
	// timeout; the waiters check judges it.
	CutWaitTimeout CutCause = "wait-timeout"
	// CutTimeout: any other call reached its bound.
	CutTimeout CutCause = "timeout"
	// CutError: the call returned an error that is none of the above, or
	// an outcome the history cannot represent: a recording error.
	CutError CutCause = "error"
)

// CutRecord is one operation recorded with an unknown outcome.
type CutRecord struct {
	// Process and Client name the operation's stream, Call its Call
	// stamp: together they find it in the history.
	Process string `json:"process"`
	Client  int    `json:"client"`
	Op      string `json:"op"`
	Call    uint64 `json:"call"`
	// At is a clock stamp taken when the call returned.
	At uint64 `json:"at"`
	// Pid is the backend's pid.
	Pid   int      `json:"pid"`
	Cause CutCause `json:"cause"`
	// Error is what the call returned, verbatim.
	Error string `json:"error"`
}

// cutCause classifies what a call returned instead of an outcome; ctx is
// the campaign's, wait says the call was a WaitForStartup.
func cutCause(ctx context.Context, err error, wait bool) CutCause {
	switch {
	case ctx.Err() != nil:
		return CutCampaignEnd
	case wait && errors.Is(err, context.DeadlineExceeded):
		return CutWaitTimeout
	case errors.Is(err, context.DeadlineExceeded):
		return CutTimeout // a bound reached closes the connection too: the bound is the cause
	case errors.Is(err, cluster.ErrBackendClosed):
		return CutBackendGone
	}
	return CutError
}

// explainCut says what explains an operation cut short, from the run's
// evidence: the campaign's end, the postmaster's death (died, if any),
// the kill of its backend (a fault), a crash restart (which ends every
// backend), or a wait handed to the waiters check. ok is false for an
// unknown outcome nothing explains.
func explainCut(c CutRecord, faults []FaultEvent, recs []postmaster.Record, died *linearizability.Operation) (why string, ok bool) {
	switch {
	case c.Cause == CutCampaignEnd:
		return "campaign end", true
	case died != nil && c.At >= uint64(died.Call):
		return "postmaster died", true
	case c.Cause == CutWaitTimeout:
		return "wait timed out (judged by the waiters check)", true
	case c.Cause != CutBackendGone:
		return "", false
	}
	for _, f := range faults {
		if f.Kind == FaultKillBackend && f.Done && f.Pid == c.Pid {
			return "backend killed", true
		}
	}
	started := false
	for _, r := range recs {
		switch {
		case r.Kind == postmaster.RecordBackendStarted && int(r.Pid) == c.Pid:
			started = true
		case r.Kind == postmaster.RecordCrashRestart && started && r.Call <= c.At:
			return "crash restart", true
		}
	}
	return "", false
}

// recordingResult is the recording check: every operation of the
// histories with an unknown outcome has a cut record, and each is
// explained (see explainCut). An unexplained one makes the check
// Undecided (exit 2): a history that hides outcomes it should hold
// decides less than it seems, but is no violation of the protocol.
func recordingResult(h linearizability.History, cuts []CutRecord, faults []FaultEvent, recs []postmaster.Record,
	died *linearizability.Operation) CheckResult {
	type key struct {
		client int
		call   uint64
	}
	byOp := make(map[key]CutRecord, len(cuts))
	for _, c := range cuts {
		byOp[key{c.Client, c.Call}] = c
	}
	counts := map[string]int{}
	var order []string
	var bad []string
	n := 0
	for _, op := range h {
		if !op.Output.Unknown || op.Process == postmasterProcess || op.Process == harnessProcess {
			continue
		}
		n++
		c, found := byOp[key{op.Client, uint64(op.Call)}]
		if !found {
			bad = append(bad, fmt.Sprintf("%s (client %d) %s called at %d: unknown outcome, and no cause recorded in %s",
				op.Process, op.Client, op.Input.Kind, op.Call, CutsFile))
			continue
		}
		why, ok := explainCut(c, faults, recs, died)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s (client %d) %s called at %d: %s: %s", c.Process, c.Client, c.Op, c.Call, c.Cause, c.Error))
			continue
		}
		if counts[why] == 0 {
			order = append(order, why)
		}
		counts[why]++
	}
	var parts []string
	for _, why := range order {
		parts = append(parts, fmt.Sprintf("%s %d", why, counts[why]))
	}
	r := CheckResult{Name: CheckRecording, Outcome: Pass, Summary: fmt.Sprintf("%d operations cut short, each explained", n)}
	if len(parts) > 0 {
		r.Summary += ": " + strings.Join(parts, ", ")
	}
	if len(bad) == 0 {
		return r
	}
	var b strings.Builder
	writeFirst(&b, bad, "")
	fmt.Fprintln(&b, "an outcome is unknown only when the call's backend was killed, crashed or lost its connection, "+
		"the postmaster died, or the campaign ended; any other is a recording error")
	r.Outcome = Undecided
	r.Summary = fmt.Sprintf("%d of %d operations cut short without a cause the run shows", len(bad), n)
	r.Detail = b.String()
	return r
}
