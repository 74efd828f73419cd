package spec

import "fmt"

// Rule names a rule that the seed's postmaster keeps when it acts on
// shared memory. [Step] refuses a postmaster operation that breaks one, so
// a history in which the postmaster launches a running worker, reports
// the exit of a worker that never ran, or acts after its death has no
// linearization, and every checker built on Step reports it.
//
// The seed is bgworker.c as of August 2013; the postmaster functions that
// call into it (do_start_bgworker, maybe_start_bgworker,
// CleanupBackgroundWorker) are in PostgreSQL's
// src/backend/postmaster/postmaster.c of the same 9.4 development cycle.
type Rule uint8

// The rules, in the order [Legal] checks them.
const (
	// RuleDead: a dead postmaster does nothing, and dies only once. No
	// seed function says so: a process that has exited runs no code. The
	// seed relies on it in WaitForBackgroundWorkerStartup, which answers
	// BGWH_POSTMASTER_DIED once WL_POSTMASTER_DEATH fires and never waits
	// again.
	RuleDead Rule = iota + 1
	// RuleNoSlot: the slot must exist. ReportBackgroundWorkerPID and
	// ForgetBackgroundWorker assert rw_shmem_slot < max_worker_processes;
	// BackgroundWorkerShmemInit asserts the same of every slot it fills.
	RuleNoSlot
	// RuleNotInUse: Launch, Exit and Forget name a slot in use. The
	// postmaster acts only on the workers of its private
	// BackgroundWorkerList, and each holds an in-use slot:
	// BackgroundWorkerShmemInit sets in_use for every listed worker,
	// BackgroundWorkerStateChange adopts only slots it reads in use, and
	// ForgetBackgroundWorker clears in_use as it deletes the entry.
	RuleNotInUse
	// RuleBadPid: a launch publishes a pid > 0. do_start_bgworker calls
	// ReportBackgroundWorkerPID only in fork's parent branch with the
	// child's pid; a failed fork (-1) is logged and reports nothing, in the
	// seed and after its fix (PostgreSQL 4fe04244b5).
	RuleBadPid
	// RuleRunning: Launch and Forget name a worker that is not running.
	// maybe_start_bgworker skips every worker whose rw_pid is not 0
	// ("already running?") before it forks it (do_start_bgworker) or
	// forgets it (ForgetBackgroundWorker, for a crashed NEVER_RESTART
	// worker), so the slot then holds either InvalidPid, as
	// RegisterDynamicBackgroundWorker and BackgroundWorkerShmemInit leave
	// it, or the pid 0 that CleanupBackgroundWorker reported when the
	// worker exited (ReportBackgroundWorkerPID; ReportBackgroundWorkerExit
	// since PostgreSQL aea5d29836). A registration that the implementation
	// refuses on adoption (read as a Forget) is freed before it ever ran.
	RuleRunning
	// RuleNotRunning: Exit names a running worker. CleanupBackgroundWorker
	// finds the worker whose rw_pid is the reaped child's pid, sets rw_pid
	// to 0 and reports it: only a worker that do_start_bgworker forked
	// and reported can exit. A worker reaped during a crash restart is not
	// reported at all (HandleChildCrash); its slot keeps its pid until
	// [OpReinit] rebuilds shared memory.
	RuleNotRunning
	// RuleReinitSlots: a re-initialization lists distinct, existing
	// slots. BackgroundWorkerShmemInit gives each worker of the private
	// list its own slot, numbering them from 0 below max_worker_processes.
	RuleReinitSlots
	// RuleNotPostmaster: the operation is not the postmaster's (a
	// backend's call, or an unknown kind).
	RuleNotPostmaster
)

var ruleNames = [...]string{
	RuleDead:          "the postmaster is dead",
	RuleNoSlot:        "no such slot",
	RuleNotInUse:      "the slot is not in use",
	RuleBadPid:        "a launch needs a pid > 0",
	RuleRunning:       "the worker is running",
	RuleNotRunning:    "the worker is not running",
	RuleReinitSlots:   "the slots must be distinct and exist",
	RuleNotPostmaster: "not a postmaster operation",
}

// String returns a short statement of the rule broken, such as "the
// worker is running".
func (r Rule) String() string {
	if int(r) < len(ruleNames) && ruleNames[r] != "" {
		return ruleNames[r]
	}
	return fmt.Sprintf("Rule(%d)", uint8(r))
}

// Refusal is why [Legal] refuses a postmaster operation: the operation and
// the rule it breaks.
type Refusal struct {
	In   Input
	Rule Rule
}

// Error returns "spec: Launch(s0, pid=7) refused: the worker is running".
func (r *Refusal) Error() string {
	return fmt.Sprintf("spec: %v refused: %v", r.In, r.Rule)
}

// Running reports whether the slot's worker is running: its pid is
// neither [InvalidPid] (not started yet) nor [DeadPid] (exited, or never
// used).
func (sl Slot) Running() bool { return sl.Pid > 0 }

// Legal reports whether the postmaster may perform in from s: nil, or a
// [*Refusal] naming the first [Rule] it breaks, checked in the order of
// the Rule constants. [Step] applies a postmaster operation exactly when
// Legal returns nil. A backend operation, or an unknown kind, is refused
// with [RuleNotPostmaster].
func Legal(s State, in Input) error {
	refuse := func(r Rule) error { return &Refusal{In: in, Rule: r} }
	switch in.Kind {
	case OpLaunch, OpExit, OpForget, OpReinit, OpDied:
	default:
		return refuse(RuleNotPostmaster)
	}
	if !s.Alive {
		return refuse(RuleDead)
	}
	switch in.Kind {
	case OpLaunch, OpExit, OpForget:
		if in.Slot < 0 || in.Slot >= len(s.Slots) {
			return refuse(RuleNoSlot)
		}
		sl := s.Slots[in.Slot]
		switch {
		case !sl.InUse:
			return refuse(RuleNotInUse)
		case in.Kind == OpLaunch && in.Pid <= 0:
			return refuse(RuleBadPid)
		case in.Kind != OpExit && sl.Running():
			return refuse(RuleRunning)
		case in.Kind == OpExit && !sl.Running():
			return refuse(RuleNotRunning)
		}
	case OpReinit:
		seen := make([]bool, len(s.Slots))
		for _, i := range in.InUse {
			if i < 0 || i >= len(s.Slots) || seen[i] {
				return refuse(RuleReinitSlots)
			}
			seen[i] = true
		}
	}
	return nil
}
