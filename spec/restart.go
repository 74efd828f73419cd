package spec

import (
	"fmt"
	"time"
)

// Exit is how a worker process ended, as the postmaster's wait status
// reports it.
type Exit struct {
	Code     int  // the exit code, or the signal number when Signaled
	Signaled bool // killed by a signal rather than exiting
}

// String returns "exit N" or "signal N".
func (e Exit) String() string {
	if e.Signaled {
		return fmt.Sprintf("signal %d", e.Code)
	}
	return fmt.Sprintf("exit %d", e.Code)
}

// Action is what the postmaster does with a worker that has stopped.
type Action uint8

// The actions of the restart rule (the seed's CleanupBackgroundWorker).
const (
	// RestartNow: start the worker again without delay (it is not
	// considered crashed; the seed clears rw_crashed_at).
	RestartNow Action = iota
	// RestartAfter: the worker crashed; start it again once
	// [Decision.Delay] has passed (see [ReadyToRestart]).
	RestartAfter
	// Forget: the worker crashed and is NEVER_RESTART; forget it
	// (ForgetBackgroundWorker: its slot becomes free).
	Forget
	// CrashRestart: the whole cluster crashed: every child gets SIGQUIT
	// and shared memory is re-initialized from the postmaster's private
	// list (see [OpReinit]).
	CrashRestart
)

// String returns the action's name.
func (a Action) String() string {
	switch a {
	case RestartNow:
		return "RestartNow"
	case RestartAfter:
		return "RestartAfter"
	case Forget:
		return "Forget"
	case CrashRestart:
		return "CrashRestart"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Decision is the outcome of the restart rule: an [Action] and, for
// [RestartAfter], how long after the crash the worker may start again.
type Decision struct {
	Action Action
	Delay  time.Duration // only for RestartAfter; zero otherwise
}

// String returns the action, with the delay for RestartAfter.
func (d Decision) String() string {
	if d.Action == RestartAfter {
		return fmt.Sprintf("RestartAfter(%v)", d.Delay)
	}
	return d.Action.String()
}

// RestartDelay converts a restart_time in seconds to a duration in exact
// 64-bit arithmetic. Every int32 fits: |restartTime| seconds is at most about
// 2.1e18 nanoseconds. The seed's postmaster computes restart_time * 1000 in
// 32-bit milliseconds, which overflows from 2,147,484 seconds on (the
// restart-overflow flaw); this function is the fixed rule.
func RestartDelay(restartTime int32) time.Duration {
	return time.Duration(int64(restartTime)) * time.Second
}

// crashed is the decision for a worker that crashed without taking the
// cluster down: forget it if it is NEVER_RESTART, else restart it after
// restart_time.
func crashed(w Worker) Decision {
	if w.RestartTime == NeverRestart {
		return Decision{Action: Forget}
	}
	return Decision{Action: RestartAfter, Delay: RestartDelay(w.RestartTime)}
}

// Restart is the seed postmaster's rule for a worker process that has
// exited (postmaster.c, CleanupBackgroundWorker and maybe_start_bgworker):
//
//   - exit code 0 (not signaled): [RestartNow], whatever RestartTime, even
//     [NeverRestart];
//   - a worker with [FlagShmemAccess] that ends any other way than exit
//     code 0 or 1, including any signal: [CrashRestart];
//   - otherwise (exit 1, or any other exit of a worker without
//     [FlagShmemAccess]) the worker crashed: [Forget] if RestartTime is
//     [NeverRestart], else [RestartAfter] with Delay = RestartTime seconds
//     (see [RestartDelay]: exact, no 32-bit overflow).
//
// Restart assumes w passes [SanityCheck]; for another negative RestartTime
// it returns a negative Delay, which [ReadyToRestart] treats as ready at
// once.
func Restart(w Worker, e Exit) Decision {
	if !e.Signaled && e.Code == 0 {
		return Decision{Action: RestartNow}
	}
	if w.Flags&FlagShmemAccess != 0 && (e.Signaled || e.Code != 1) {
		return Decision{Action: CrashRestart}
	}
	return crashed(w)
}

// SpawnFailed is the rule for a worker whose process could not be started
// (fork failed): it is treated as a crash at that moment, [Forget] if
// RestartTime is [NeverRestart], else [RestartAfter] RestartTime seconds.
// This is the upstream fix (PostgreSQL 4fe04244b5) of the seed's
// spawn-failure-as-start flaw, where a failed spawn was retried
// at once and its bookkeeping half-updated.
func SpawnFailed(w Worker) Decision {
	return crashed(w)
}

// ReadyToRestart reports whether a worker that crashed at crashedAt may be
// started again at now: now - crashedAt >= restartTime seconds. It is the
// gate of the seed's maybe_start_bgworker (TimestampDifferenceExceeds(
// rw_crashed_at, now, restart_time * 1000)) computed exactly: the
// difference and the comparison use 64-bit arithmetic that cannot overflow,
// for every int32 restartTime and every pair of durations.
//
// The formula is applied to every restartTime as given, [NeverRestart]
// (-1 s) included; the postmaster never asks about a NeverRestart worker,
// which is forgotten instead (see [Restart]).
func ReadyToRestart(restartTime int32, crashedAt, now time.Duration) bool {
	d := int64(RestartDelay(restartTime)) // |d| < 2^62
	if now >= crashedAt {
		// now - crashedAt is in [0, 2^64), exact in uint64.
		diff := uint64(now) - uint64(crashedAt)
		return d <= 0 || diff >= uint64(d)
	}
	// now - crashedAt = -m with m in (0, 2^64): ready iff -m >= d, that is
	// d < 0 and m <= -d.
	m := uint64(crashedAt) - uint64(now)
	return d < 0 && m <= uint64(-d)
}
