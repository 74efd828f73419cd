package proptest

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
	"bgwmodel/spec"
)

// Broken restart rules beyond the catalogue's restart-overflow flaw.
var (
	// gateOffByOne restarts one nanosecond late: the gate compares with >
	// where the seed's TimestampDifferenceExceeds uses >=.
	gateOffByOne = func() RestartRules {
		r := ImplRestartRules(0)
		r.Ready = func(rt int32, crashedAt, now time.Duration) bool {
			return now-crashedAt > bgworker.RestartDelay(rt, 0)
		}
		return r
	}()
	// exit2WithoutShmemCrashes crashes the cluster for any exit other
	// than 0 and 1, even of a worker without shared memory access.
	exit2WithoutShmemCrashes = func() RestartRules {
		r := ImplRestartRules(0)
		r.Decide = func(w *bgworker.Worker, e bgworker.ExitStatus) bgworker.RestartDecision {
			if e.Signaled || (e.Code != 0 && e.Code != 1) {
				return bgworker.RestartDecision{Action: bgworker.CrashRestart}
			}
			return bgworker.DecideRestart(w, e, 0)
		}
		return r
	}()

	brokenRestartRules = []struct {
		name string
		r    RestartRules
	}{
		{"restart-overflow", ImplRestartRules(flaw.Of(flaw.RestartOverflow))},
		{"gate-off-by-one", gateOffByOne},
		{"exit2-without-shmem-crashes", exit2WithoutShmemCrashes},
	}
)

func TestRestartTime(t *testing.T) {
	rapid.Check(t, RestartProperty(ImplRestartRules(0)))
}

// TestRestartTime_Boundaries pins the restart rule at its boundaries, for
// the implementation and, where they differ, for the restart-overflow
// flaw, with the expected values written out.
func TestRestartTime_Boundaries(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		rt          int32
		delay       time.Duration // exact
		flawedDelay time.Duration // with restart-overflow
	}{
		{-1, 0, 0},
		{0, 0, 0},
		{60, time.Minute, time.Minute},
		{2_147_483, 2_147_483 * time.Second, 2_147_483 * time.Second},
		{2_147_484, 2_147_484 * time.Second, 0},                  // 2,147,484,000 ms wraps negative: at once
		{4_294_967, 4_294_967 * time.Second, 0},                  // wraps to -296 ms: at once
		{4_294_968, 4_294_968 * time.Second, 704 * ms},           // wraps to 704 ms
		{86_400_000, 86_400_000 * time.Second, 500_654_080 * ms}, // wraps to about 5.8 days
		{bgworker.MaxRestartTime - 1, 86_399_999 * time.Second, 500_653_080 * ms},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%ds", tc.rt), func(t *testing.T) {
			w := bgworker.Worker{Name: "w", RestartTime: tc.rt}
			for _, c := range []struct {
				name  string
				flaws flaw.Set
				delay time.Duration
			}{{"impl", 0, tc.delay}, {"restart-overflow", flaw.Of(flaw.RestartOverflow), tc.flawedDelay}} {
				if got := bgworker.RestartDelay(tc.rt, c.flaws); got != c.delay {
					t.Errorf("%s: RestartDelay(%d) = %v, want %v", c.name, tc.rt, got, c.delay)
				}
				d := bgworker.DecideRestart(&w, bgworker.ExitStatus{Code: 1}, c.flaws)
				if tc.rt == bgworker.NeverRestart {
					if d.Action != bgworker.Forget {
						t.Errorf("%s: exit 1 of a NEVER_RESTART worker: %v, want forget", c.name, d)
					}
					continue
				}
				if d.Action != bgworker.RestartAfter || d.Delay != c.delay {
					t.Errorf("%s: DecideRestart(exit 1) = %v, want restart-after %v", c.name, d, c.delay)
				}
				at := time.Hour
				if c.delay > 0 && bgworker.ReadyToRestart(tc.rt, at, at+c.delay-time.Nanosecond, c.flaws) {
					t.Errorf("%s: ready 1 ns before %v", c.name, c.delay)
				}
				if !bgworker.ReadyToRestart(tc.rt, at, at+c.delay, c.flaws) {
					t.Errorf("%s: not ready exactly at %v", c.name, c.delay)
				}
			}
			// The implementation is the specification.
			if got, want := bgworker.RestartDelay(tc.rt, 0), spec.RestartDelay(tc.rt); tc.rt >= 0 && got != want {
				t.Errorf("RestartDelay(%d) = %v; spec %v", tc.rt, got, want)
			}
		})
	}
}

// TestRestartTime_CatchesBroken runs the restart-time property against the
// restart-overflow flaw and other broken rules: rapid must find a
// counterexample for each.
func TestRestartTime_CatchesBroken(t *testing.T) { runCatchesBroken(t) }
