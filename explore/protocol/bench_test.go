package protocol

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"bgwmodel/explore"
	"bgwmodel/impl/flaw"
)

// BenchmarkScenarios explores every scenario exhaustively at the default
// bound under each model (the default implementation, every failure
// counted) and reports executions per second.
func BenchmarkScenarios(b *testing.B) {
	for _, s := range Scenarios() {
		for _, m := range explore.Models() {
			b.Run(s.Name+"/"+string(m), func(b *testing.B) {
				es, err := s.Build(Variant{})
				if err != nil {
					b.Fatal(err)
				}
				execs := 0
				for b.Loop() {
					rep, err := explore.Explore(es, explore.Options{Model: m, PreemptionBound: DefaultBound, MaxFailures: -1})
					if err != nil {
						b.Fatal(err)
					}
					execs += rep.Executions
				}
				b.ReportMetric(float64(execs)/b.Elapsed().Seconds(), "execs/s")
				b.ReportMetric(float64(execs)/float64(b.N), "execs/op")
			})
		}
	}
}

// firstCounterexample explores v in s under m and returns the time and
// executions to the first failure (ok false if none within 10 s).
func firstCounterexample(es explore.Scenario, opt explore.Options) (time.Duration, int, bool) {
	opt.Budget = 10 * time.Second
	start := time.Now()
	rep, err := explore.Explore(es, opt)
	if err != nil || len(rep.Failures) == 0 {
		return 0, 0, false
	}
	return time.Since(start), rep.Executions, true
}

// BenchmarkFirstCounterexample measures, for each flaw in its designated
// scenario under the weakest model that catches it, the time to the first
// counterexample: by DFS at the default bound, and by random search at the
// same bound (the median over 9 seeds), as bgw explore runs them.
func BenchmarkFirstCounterexample(b *testing.B) {
	for _, e := range flaw.Catalogue() {
		exp := flawExpect[e.Flaw]
		m := exp.models[0]
		s, err := Lookup(exp.scenario)
		if err != nil {
			b.Fatal(err)
		}
		es, err := s.Build(Variant{Flaws: flaw.Of(e.Flaw)})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("%s/%s/%s/dfs", e.Name, exp.scenario, m), func(b *testing.B) {
			var execs int
			for b.Loop() {
				_, n, ok := firstCounterexample(es, explore.Options{Model: m, PreemptionBound: DefaultBound})
				if !ok {
					b.Fatal("not caught")
				}
				execs = n
			}
			b.ReportMetric(float64(execs), "execs")
		})
		b.Run(fmt.Sprintf("%s/%s/%s/random", e.Name, exp.scenario, m), func(b *testing.B) {
			var times []time.Duration
			var execs []int
			for b.Loop() {
				times, execs = times[:0], execs[:0]
				for seed := uint64(1); seed <= 9; seed++ {
					d, n, ok := firstCounterexample(es, explore.Options{Model: m, Strategy: explore.Random, Seed: seed, PreemptionBound: DefaultBound})
					if !ok {
						d, n = 10*time.Second, 0
					}
					times, execs = append(times, d), append(execs, n)
				}
			}
			slices.Sort(times)
			slices.Sort(execs)
			b.ReportMetric(float64(times[4].Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(execs[4]), "median-execs")
		})
	}
}

// BenchmarkStateHashing explores one scenario with no preemption bound,
// with and without state hashing, keeping only the checks for which
// hashing is sound, and reports the executions of each.
func BenchmarkStateHashing(b *testing.B) {
	s, err := Lookup("spawn-failure")
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range explore.Models() {
		for _, hashing := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/%s/hashing=%v", s.Name, m, hashing), func(b *testing.B) {
				es, err := s.build(Variant{}, &observer{stateOnly: true})
				if err != nil {
					b.Fatal(err)
				}
				var rep *explore.Report
				for b.Loop() {
					rep, err = explore.Explore(es, explore.Options{Model: m, PreemptionBound: explore.Unbounded,
						StateHashing: hashing, Budget: time.Minute})
					if err != nil || len(rep.Failures) > 0 || !rep.Exhausted {
						b.Fatalf("%v %v", rep, err)
					}
				}
				b.ReportMetric(float64(rep.Executions), "execs")
				b.ReportMetric(float64(rep.Pruned), "pruned")
			})
		}
	}
}
