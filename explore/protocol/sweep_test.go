package protocol

import (
	"flag"
	"testing"
	"time"

	"bgwmodel/explore"
)

var (
	sweep       = flag.Bool("sweep", false, "run the long sweep (with -sweep.bound and -sweep.random)")
	sweepBound  = flag.Int("sweep.bound", 2, "preemption bound of the sweep's DFS")
	sweepRandom = flag.Int("sweep.random", 20000, "random executions per scenario and model in the sweep")
)

// TestSweep explores the default implementation at a deeper bound and
// with random schedules of unbounded preemption, in every scenario under
// every model: no check may fail (a false alarm of the checks, or a bug
// the default bound misses). It takes minutes: run it with
//
//	go test ./explore/protocol -run Sweep -sweep -timeout 1h
func TestSweep(t *testing.T) {
	if testing.Short() || !*sweep {
		t.Skip("long sweep: run with -sweep")
	}
	for _, s := range Scenarios() {
		es, err := s.Build(Variant{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range explore.Models() {
			for _, opt := range []explore.Options{
				{Model: m, PreemptionBound: *sweepBound},
				{Model: m, Strategy: explore.Random, MaxExecutions: *sweepRandom, Seed: 11, PreemptionBound: explore.Unbounded},
			} {
				start := time.Now()
				rep, err := explore.Explore(es, opt)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%v (%v)", rep, time.Since(start).Round(time.Millisecond))
				if len(rep.Failures) > 0 {
					t.Errorf("%s/%s %v: %v\ntrace %s", s.Name, m, opt.Strategy, rep.Failures[0], rep.Failures[0].Trace)
				}
			}
		}
	}
}
