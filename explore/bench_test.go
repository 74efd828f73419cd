package explore

import "testing"

// benchLitmus explores lt exhaustively (no hashing, every witness) per
// iteration and reports executions per second.
func benchLitmus(b *testing.B, lt LitmusTest) {
	for _, m := range Models() {
		b.Run(string(m), func(b *testing.B) {
			execs := 0
			for b.Loop() {
				rep, err := Explore(lt.Scenario(), Options{Model: m, PreemptionBound: Unbounded, MaxFailures: -1})
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

func BenchmarkMP(b *testing.B) { benchLitmus(b, mp(po, po)) }

func BenchmarkSB(b *testing.B) { benchLitmus(b, sb(po, po)) }
