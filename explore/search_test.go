package explore

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

func TestRandom(t *testing.T) {
	rep := mustExplore(t, counterScenario(3, false), Options{Model: TSO, Strategy: Random, MaxExecutions: 200, Seed: 1, PreemptionBound: Unbounded})
	if rep.Executions == 0 || len(rep.Failures) != 1 {
		t.Fatalf("%v", rep)
	}
	r, err := Replay(counterScenario(3, false), rep.Failures[0].Trace)
	if err != nil || r.Failure == nil || r.Failure.Kind != FailCheck {
		t.Fatalf("replay: %v %v", r, err)
	}
	if _, err := Explore(counterScenario(2, false), Options{Model: SC, Strategy: Random}); !errors.Is(err, ErrBadOptions) {
		t.Fatalf("random without a budget: %v", err)
	}
	rep = mustExplore(t, counterScenario(2, true), Options{Model: SC, Strategy: Random, Budget: 20 * time.Millisecond})
	if rep.Executions == 0 || len(rep.Failures) != 0 {
		t.Fatalf("budget: %v", rep)
	}
}

func TestTruncated(t *testing.T) {
	s := Scenario{Name: "spin", MemSize: 8, Setup: func(w *World) error {
		w.Spawn("spinner", func(t *Thread) {
			for load32(t, offA) == 0 {
			}
		}, 0)
		return nil
	}}
	rep := mustExplore(t, s, Options{Model: SC, MaxSteps: 50})
	if rep.Truncated != 1 || len(rep.Failures) != 0 || rep.MaxDepth != 50 {
		t.Fatalf("%v", rep)
	}
}

func TestNoGoroutineLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	runs := []struct {
		s   Scenario
		opt Options
	}{
		{counterScenario(3, true), Options{Model: View, PreemptionBound: 1}},
		{holderScenario(false), Options{Model: TSO, PreemptionBound: Unbounded, MaxKills: 1, MaxFailures: -1}},
		{holderScenario(true), Options{Model: View, PreemptionBound: Unbounded, MaxFailures: -1}},
		{Scenario{Name: "hang", MemSize: 8, Setup: func(w *World) error {
			w.Spawn("a", func(t *Thread) { _, _ = t.Latch().Wait(context.Background()) }, 0)
			w.Spawn("b", func(t *Thread) { t.Sleep(time.Second); t.Fail(errors.New("x")) }, 0)
			return nil
		}}, Options{Model: SC, MaxFailures: -1}},
		{Scenario{Name: "panic", MemSize: 8, Setup: func(w *World) error {
			w.Spawn("a", func(t *Thread) { t.Yield(); panic("x") }, 0)
			w.Spawn("b", func(t *Thread) {
				for {
					t.Yield()
				}
			}, 0)
			return nil
		}}, Options{Model: SC, MaxSteps: 20, MaxFailures: -1, PreemptionBound: Unbounded}},
	}
	for _, s := range []Scenario{mpScenario(), sbScenario()} {
		runs = append(runs, struct {
			s   Scenario
			opt Options
		}{s, Options{Model: View, PreemptionBound: Unbounded, StateHashing: true}})
	}
	for _, r := range runs {
		mustExplore(t, r.s, r.opt)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
