package explore_test

import (
	"testing"

	"bgwmodel/explore"
	"bgwmodel/explore/litmus"
)

// benchLitmus explores the litmus test called name exhaustively (no
// hashing, every witness) per iteration and reports executions per second.
func benchLitmus(b *testing.B, name string) {
	lt, ok := litmus.Lookup(name)
	if !ok {
		b.Fatalf("no litmus test %s", name)
	}
	for _, m := range explore.Models() {
		b.Run(string(m), func(b *testing.B) {
			execs := 0
			for b.Loop() {
				rep, err := explore.Explore(lt.Scenario(), explore.Options{Model: m, PreemptionBound: explore.Unbounded, MaxFailures: -1})
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

func BenchmarkMP(b *testing.B) { benchLitmus(b, "MP") }

func BenchmarkSB(b *testing.B) { benchLitmus(b, "SB") }
