package bgworker

import (
	"fmt"
	"time"

	"bgwmodel/impl/flaw"
)

// ExitStatus is how a worker process ended.
type ExitStatus struct {
	// Code is the exit code when the process exited normally.
	Code int
	// Signaled is true when the process was killed by a signal; Code is
	// then meaningless.
	Signaled bool
}

// String returns "exit N" or "killed by signal".
func (e ExitStatus) String() string {
	if e.Signaled {
		return "killed by signal"
	}
	return fmt.Sprintf("exit %d", e.Code)
}

// RestartAction is what the postmaster does after a worker exits.
type RestartAction uint8

const (
	// RestartNow: start the worker again at once (exit 0).
	RestartNow RestartAction = iota + 1
	// RestartAfter: start it again once its restart_time has passed.
	RestartAfter
	// Forget: never restart it; free its slot and notify its registrant.
	Forget
	// CrashRestart: the exit may have corrupted shared memory; restart
	// the whole cluster.
	CrashRestart
)

// String returns the action's name.
func (a RestartAction) String() string {
	switch a {
	case RestartNow:
		return "restart-now"
	case RestartAfter:
		return "restart-after"
	case Forget:
		return "forget"
	case CrashRestart:
		return "crash-restart"
	}
	return fmt.Sprintf("RestartAction(%d)", uint8(a))
}

// RestartDecision is the postmaster's decision about an exited worker.
type RestartDecision struct {
	Action RestartAction
	// Delay is the wait before the restart, for RestartAfter.
	Delay time.Duration
}

// DecideRestart is the seed postmaster's rule for an exited worker
// (CleanupBackgroundWorker with maybe_start_bgworker): exit 0 restarts at
// once; any other exit of a ShmemAccess worker except exit 1 crashes the
// cluster; otherwise the worker is forgotten if its restart_time is
// NeverRestart, else restarted after restart_time. It does not block.
func DecideRestart(w *Worker, e ExitStatus, flaws flaw.Set) RestartDecision {
	if !e.Signaled && e.Code == 0 {
		return RestartDecision{Action: RestartNow}
	}
	if w.Flags&ShmemAccess != 0 && (e.Signaled || e.Code != 1) {
		return RestartDecision{Action: CrashRestart}
	}
	return DecideSpawnFailure(w, flaws)
}

// DecideSpawnFailure is the fixed postmaster's rule for a worker whose
// process could not be started: as if it had crashed at that moment
// (upstream 4fe04244b5): forget it if NeverRestart, else retry after
// restart_time. It does not block.
func DecideSpawnFailure(w *Worker, flaws flaw.Set) RestartDecision {
	if w.RestartTime == NeverRestart {
		return RestartDecision{Action: Forget}
	}
	return RestartDecision{Action: RestartAfter, Delay: RestartDelay(w.RestartTime, flaws)}
}

// RestartDelay is the wait before a crashed worker is restarted. The seed
// computes restart_time * 1000 milliseconds in a 32-bit int, which
// overflows from 2,147,484 s on; with [flaw.RestartOverflow] that wrapped
// value is used (a negative one means at once), otherwise the exact one.
// It does not block.
func RestartDelay(restartTime int32, flaws flaw.Set) time.Duration {
	if restartTime < 0 {
		return 0
	}
	if flaws.Has(flaw.RestartOverflow) {
		ms := restartTime * 1000 // wraps, as C int arithmetic does on every platform PostgreSQL runs on
		if ms < 0 {
			return 0
		}
		return time.Duration(ms) * time.Millisecond
	}
	return time.Duration(restartTime) * time.Second
}

// ReadyToRestart reports whether a worker that crashed at crashedAt may
// start again at now (the TimestampDifferenceExceeds gate of
// maybe_start_bgworker): whether now - crashedAt >= [RestartDelay],
// computed without overflow for any two durations. A negative restart time
// (NeverRestart, which is forgotten rather than restarted) counts as no
// delay. It does not block.
func ReadyToRestart(restartTime int32, crashedAt, now time.Duration, flaws flaw.Set) bool {
	delay := RestartDelay(restartTime, flaws) // >= 0
	switch {
	case now >= 0 && crashedAt < 0 && now-crashedAt < 0:
		return true // the difference overflows: it exceeds any delay
	case now < 0 && crashedAt >= 0 && now-crashedAt > 0:
		return false // the difference underflows: it is negative
	}
	return now-crashedAt >= delay
}
