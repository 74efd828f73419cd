package proptest

import (
	"bgwmodel/internal/implspec"
	"time"

	"pgregory.net/rapid"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
	"bgwmodel/spec"
)

// RestartRules is the restart policy under test: the implementation's
// decisions about a worker that exited or failed to spawn, and its restart
// gate. Like [Validator] it is a value so that the same property runs
// against the implementation and against broken variants.
type RestartRules struct {
	// Decide is DecideRestart.
	Decide func(*bgworker.Worker, bgworker.ExitStatus) bgworker.RestartDecision
	// SpawnFailure is DecideSpawnFailure.
	SpawnFailure func(*bgworker.Worker) bgworker.RestartDecision
	// Delay is RestartDelay.
	Delay func(restartTime int32) time.Duration
	// Ready is ReadyToRestart.
	Ready func(restartTime int32, crashedAt, now time.Duration) bool
}

// ImplRestartRules returns the implementation's restart rules with the
// given flaws: [bgworker.DecideRestart], [bgworker.DecideSpawnFailure],
// [bgworker.RestartDelay] and [bgworker.ReadyToRestart]. The zero set is
// the correct implementation; flaw.Of(flaw.RestartOverflow) is the seed's
// 32-bit millisecond arithmetic.
func ImplRestartRules(flaws flaw.Set) RestartRules {
	return RestartRules{
		Decide: func(w *bgworker.Worker, e bgworker.ExitStatus) bgworker.RestartDecision {
			return bgworker.DecideRestart(w, e, flaws)
		},
		SpawnFailure: func(w *bgworker.Worker) bgworker.RestartDecision {
			return bgworker.DecideSpawnFailure(w, flaws)
		},
		Delay: func(rt int32) time.Duration { return bgworker.RestartDelay(rt, flaws) },
		Ready: func(rt int32, crashedAt, now time.Duration) bool {
			return bgworker.ReadyToRestart(rt, crashedAt, now, flaws)
		},
	}
}

// RestartTimeValidGen draws a restart time that passes the sanity check:
// one of [RestartEdgeSeconds] (NEVER_RESTART, 0, both sides of the 32-bit
// millisecond overflow at 2,147,484 s and of the wrap at 4,294,968 s, and
// the maximum 86,400,000 s) or any value in 0..86,400,000.
func RestartTimeValidGen() *rapid.Generator[int32] {
	return rapid.OneOf(
		rapid.SampledFrom(RestartEdgeSeconds),
		rapid.Int32Range(0, bgworker.MaxRestartTime))
}

// RestartProperty is the restart-time property. For a worker with flags
// from [FlagsGen] and a restart time from [RestartTimeValidGen] (the
// restart rule assumes a worker that passed the sanity check), an exit
// from [ExitGen], and clock readings from [ClockGen] around the exact
// delay:
//
//   - r.Decide agrees with [spec.Restart]: same action, same delay;
//   - r.SpawnFailure agrees with [spec.SpawnFailed];
//   - r.Delay equals [spec.RestartDelay] for restart times >= 0, and is
//     not positive for NEVER_RESTART (both mean "no wait");
//   - r.Ready agrees with [spec.ReadyToRestart] at the drawn clock:
//     exactly at the delay, one nanosecond before and after, at once, and
//     anywhere in between.
func RestartProperty(r RestartRules) func(*rapid.T) {
	return func(t *rapid.T) {
		w := bgworker.Worker{
			Name:        "w",
			Flags:       FlagsGen().Draw(t, "flags"),
			StartTime:   bgworker.ConsistentState,
			RestartTime: RestartTimeValidGen().Draw(t, "restart_time"),
		}
		e := ExitGen().Draw(t, "exit")
		sw := implspec.Worker(w)

		arg := w
		got, err := implspec.Decision(r.Decide(&arg, e))
		if err != nil {
			t.Fatalf("DecideRestart(%v, %v): %v", sw, e, err)
		}
		if want := spec.Restart(sw, implspec.Exit(e)); got != want {
			t.Fatalf("DecideRestart(%v, %v) = %v; spec.Restart = %v", sw, e, got, want)
		}
		got, err = implspec.Decision(r.SpawnFailure(&arg))
		if err != nil {
			t.Fatalf("DecideSpawnFailure(%v): %v", sw, err)
		}
		if want := spec.SpawnFailed(sw); got != want {
			t.Fatalf("DecideSpawnFailure(%v) = %v; spec.SpawnFailed = %v", sw, got, want)
		}
		if arg != w {
			t.Fatalf("the restart rules changed the worker: %#v became %#v", w, arg)
		}

		rt := w.RestartTime
		exact := spec.RestartDelay(rt)
		if d := r.Delay(rt); rt >= 0 && d != exact {
			t.Fatalf("RestartDelay(%d) = %v; spec.RestartDelay = %v", rt, d, exact)
		} else if rt < 0 && d > 0 {
			t.Fatalf("RestartDelay(%d) = %v; want no wait", rt, d)
		}

		c := ClockGen(exact).Draw(t, "clock")
		got2 := r.Ready(rt, c.CrashedAt, c.Now)
		if want := spec.ReadyToRestart(rt, c.CrashedAt, c.Now); got2 != want {
			t.Fatalf("ReadyToRestart(%d s, crashedAt=%v, now=%v [elapsed %v]) = %v; spec = %v",
				rt, c.CrashedAt, c.Now, c.Now-c.CrashedAt, got2, want)
		}
	}
}
