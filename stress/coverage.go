package stress

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/postmaster"
	"bgwmodel/linearizability"
	"bgwmodel/spec"
)

// CoverKind names a kind of outcome a run can decide.
type CoverKind string

// The kinds counted. Those of the backends' operations count decided
// outcomes only (an unknown outcome decides nothing); the others count
// records of the postmaster's log.
const (
	CoverRegisterOK         CoverKind = "register-ok"
	CoverRegisterNoFreeSlot CoverKind = "register-no-free-slot"
	CoverRegisterInvalid    CoverKind = "register-invalid"
	CoverGetPidNotYet       CoverKind = "get-pid-not-yet-started"
	CoverGetPidStarted      CoverKind = "get-pid-started"
	CoverGetPidStopped      CoverKind = "get-pid-stopped"
	CoverWaitStarted        CoverKind = "wait-started"
	CoverWaitStopped        CoverKind = "wait-stopped"
	CoverWaitDied           CoverKind = "wait-postmaster-died"
	// CoverExit0, CoverExit1 and CoverCrash count workers' exits: code 0,
	// code 1, and anything else (another code, a signal).
	CoverExit0 CoverKind = "worker-exit-0"
	CoverExit1 CoverKind = "worker-exit-1"
	CoverCrash CoverKind = "worker-crash"
	// CoverRestart counts exits decided to restart the worker.
	CoverRestart CoverKind = "worker-restart"
	// CoverForget counts slots freed by ForgetBackgroundWorker (or a
	// rejection).
	CoverForget CoverKind = "forget"
	// CoverNotify counts SIGUSR1s sent to registrants.
	CoverNotify CoverKind = "notify"
	// CoverCrashRestart counts crash restarts of the cluster.
	CoverCrashRestart CoverKind = "crash-restart"
	// CoverBackendExit counts backends that exited normally (code 0)
	// while the postmaster ran.
	CoverBackendExit CoverKind = "backend-exit"
	// CoverSlots is not counted by itself: it stands for "every slot a
	// dynamic worker can take was taken by one" (see [Coverage.Slots]).
	CoverSlots CoverKind = "every-dynamic-slot"
)

// CoverKinds returns every kind, in the order reports list them.
func CoverKinds() []CoverKind {
	return []CoverKind{CoverRegisterOK, CoverRegisterNoFreeSlot, CoverRegisterInvalid,
		CoverGetPidNotYet, CoverGetPidStarted, CoverGetPidStopped, CoverWaitStarted, CoverWaitStopped, CoverWaitDied,
		CoverExit0, CoverExit1, CoverCrash, CoverRestart, CoverForget, CoverNotify, CoverCrashRestart, CoverBackendExit,
		CoverSlots}
}

// Coverage is what a run decided: counts by kind, and launches of
// dynamic workers by slot index.
type Coverage struct {
	Counts map[CoverKind]int `json:"counts"`
	// Slots[i] is the number of dynamic workers launched in slot i; the
	// first Static are the static workers' slots and stay 0.
	Slots  []int `json:"dynamic_launches_by_slot"`
	Static int   `json:"static"`
}

// MissingSlots returns the slots no dynamic worker was launched in,
// among those a dynamic worker can take.
func (c Coverage) MissingSlots() []int {
	var out []int
	for i := c.Static; i < len(c.Slots); i++ {
		if c.Slots[i] == 0 {
			out = append(out, i)
		}
	}
	return out
}

// measureCoverage counts what the history (the backends' operations) and
// the record log decided, for a run of slots slots whose first static
// hold static workers.
func measureCoverage(h linearizability.History, recs []postmaster.Record, slots, static int) Coverage {
	c := Coverage{Counts: map[CoverKind]int{}, Slots: make([]int, slots), Static: static}
	for _, op := range h {
		if op.Output.Unknown || op.Process == postmasterProcess || op.Process == harnessProcess {
			continue
		}
		if k, ok := opKind(op); ok {
			c.Counts[k]++
		}
	}
	for _, r := range recs {
		switch r.Kind {
		case postmaster.RecordExited:
			switch {
			case r.Exit.Signaled || (r.Exit.Code != 0 && r.Exit.Code != 1):
				c.Counts[CoverCrash]++
			case r.Exit.Code == 0:
				c.Counts[CoverExit0]++
			default:
				c.Counts[CoverExit1]++
			}
			if r.Decision == bgworker.RestartNow || r.Decision == bgworker.RestartAfter {
				c.Counts[CoverRestart]++
			}
		case postmaster.RecordForget, postmaster.RecordReject:
			c.Counts[CoverForget]++
		case postmaster.RecordNotify:
			c.Counts[CoverNotify]++
		case postmaster.RecordCrashRestart:
			c.Counts[CoverCrashRestart]++
		case postmaster.RecordBackendExited:
			if !r.Exit.Signaled && r.Exit.Code == 0 {
				c.Counts[CoverBackendExit]++
			}
		case postmaster.RecordLaunch:
			if r.Slot >= static && r.Slot < slots {
				c.Slots[r.Slot]++
			}
		}
	}
	if len(c.MissingSlots()) == 0 && static < slots {
		c.Counts[CoverSlots] = 1
	}
	return c
}

// opKind is the kind of a backend operation's decided outcome.
func opKind(op linearizability.Operation) (CoverKind, bool) {
	out := op.Output
	switch op.Input.Kind {
	case spec.OpRegister:
		switch out.Result {
		case spec.ResultOK:
			return CoverRegisterOK, true
		case spec.ResultNoFreeSlot:
			return CoverRegisterNoFreeSlot, true
		case spec.ResultInvalid:
			return CoverRegisterInvalid, true
		}
	case spec.OpGetPid:
		switch out.Status {
		case spec.NotYetStarted:
			return CoverGetPidNotYet, true
		case spec.Started:
			return CoverGetPidStarted, true
		case spec.Stopped:
			return CoverGetPidStopped, true
		}
	case spec.OpWaitForStartup:
		switch out.Status {
		case spec.Started:
			return CoverWaitStarted, true
		case spec.Stopped:
			return CoverWaitStopped, true
		case spec.PostmasterDied:
			return CoverWaitDied, true
		}
	}
	return "", false
}

// Reachable returns the kinds a campaign of this configuration must
// decide at least once, having decided registers Register outcomes:
// every kind its workload and faults are built to produce within its
// duration, surely, even on a slow machine. A campaign shorter than
// coverMinDuration need only decide a registration. Otherwise, a
// periodic fault or workload event counts only if it surely fires (its
// first time falls at most one and a half periods after the faults'
// start); a worker's exit counts only if the worker runs (a static one,
// or a permanent one within the registrations the workload allows); an
// invalid registration counts only once the registrations decided make
// one all but certain (minExpected of them expected). A campaign that
// leaves one undecided is vacuous.
func (c *Config) Reachable(registers int) []CoverKind { return c.reachable(c.Duration.D(), registers) }

// Bounds on what [Config.Reachable] requires.
const (
	// coverMinDuration is the shortest campaign held to more than a
	// registration: a short one on a loaded machine may decide little
	// of the rest, and must not be failed for it.
	coverMinDuration = 15 * time.Second
	// minExpected is how many outcomes of a random kind must be expected
	// before one is required: missing one then has a chance of e^-20.
	minExpected = 20
)

// reachable is Reachable for a campaign whose workload ran for ran (less
// than its duration if it was interrupted), or until the postmaster's
// death fault if that comes first.
func (c *Config) reachable(ran time.Duration, registers int) []CoverKind {
	out := []CoverKind{CoverRegisterOK}
	if ran < coverMinDuration {
		return out
	}
	out = append(out, CoverGetPidNotYet, CoverGetPidStarted, CoverGetPidStopped, CoverWaitStarted, CoverExit1,
		CoverForget, CoverNotify)
	if d := c.Faults.PostmasterDeath; d.Enabled {
		ran = min(ran, time.Duration(d.At*float64(c.Duration.D())))
	}
	fires := func(every Duration) bool {
		return every > 0 && c.Faults.Start.D()+every.D()*3/2 <= ran
	}
	bulk := c.Backends > c.Careful // only bulk drivers take the workload's events
	if float64(registers)*c.Workload.InvalidRate >= minExpected {
		out = append(out, CoverRegisterInvalid)
	}
	if bulk && fires(c.Workload.FillEvery) {
		out = append(out, CoverRegisterNoFreeSlot)
		if len(c.Static) < c.Slots {
			out = append(out, CoverSlots)
		}
	}
	if bulk && fires(c.Workload.BackendExitEvery) {
		out = append(out, CoverBackendExit)
	}
	if fires(c.Faults.KillWorker.Every) {
		out = append(out, CoverCrash)
	}
	if fires(c.Faults.KillBackend.Every) {
		out = append(out, CoverCrashRestart)
	}
	if c.Faults.PostmasterDeath.Enabled {
		out = append(out, CoverWaitDied)
	}
	running := append(append([]WorkerSpec(nil), c.Static...), c.Permanent[:permanentBudget(c)]...)
	for _, s := range running {
		switch {
		case s.Behaviour == Exit0:
			out = append(out, CoverExit0)
		case s.RestartTime != bgworker.NeverRestart && s.Behaviour != RunForever:
			out = append(out, CoverRestart)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// coverageResult is the coverage check: every kind in reach, except the
// waived ones, decided at least once; otherwise the run is vacuous
// (Undecided: exit 2), and the result names what is missing.
func coverageResult(cov Coverage, reach, waived []CoverKind) CheckResult {
	var missing []string
	required := 0
	for _, k := range reach {
		if slices.Contains(waived, k) {
			continue
		}
		required++
		switch {
		case k == CoverSlots && cov.Counts[k] == 0:
			missing = append(missing, fmt.Sprintf("%s (no dynamic worker launched in slots %v)", k, cov.MissingSlots()))
		case cov.Counts[k] == 0:
			missing = append(missing, string(k))
		}
	}
	r := CheckResult{Name: CheckCoverage, Outcome: Pass,
		Summary: fmt.Sprintf("every one of %d kinds in reach decided", required)}
	if len(waived) > 0 {
		r.Summary += fmt.Sprintf(" (waived: %v)", waived)
	}
	r.Detail = cov.String()
	if len(missing) == 0 {
		return r
	}
	r.Outcome = Undecided
	r.Summary = fmt.Sprintf("vacuous: never decided: %s", strings.Join(missing, ", "))
	r.Detail += "a run that leaves an outcome in its reach undecided says nothing about it; " +
		"run longer or waive the kind (check.waive, -waive)\n"
	return r
}

// String returns the counts, one line of kinds and one of slots.
func (c Coverage) String() string {
	var parts []string
	for _, k := range CoverKinds() {
		if k != CoverSlots {
			parts = append(parts, fmt.Sprintf("%s %d", k, c.Counts[k]))
		}
	}
	return fmt.Sprintf("decided: %s\ndynamic launches by slot: %v (static: %d)\n", strings.Join(parts, ", "), c.Slots, c.Static)
}
