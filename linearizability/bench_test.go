package linearizability

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// The benchmark histories: 8 slots, 16 backends, generated once per size.
const (
	benchSlots   = 8
	benchClients = 16
)

// The one-slot benchmark histories: one slot, 8 backends, operations that
// overlap without end (issue 11's shape: no quiescent point at all).
const (
	overlapSlots   = 1
	overlapClients = 8
)

// benchShape is a kind of generated benchmark history.
type benchShape struct {
	overlap bool
	nops    int
}

var (
	benchMu        sync.Mutex
	benchHistories = map[benchShape]History{}
)

func benchHistory(nops int) History {
	return cachedHistory(benchShape{nops: nops}, func() History { return Generate(42, nops, benchSlots, benchClients) })
}

func overlapHistory(nops int) History {
	return cachedHistory(benchShape{overlap: true, nops: nops}, func() History {
		return GenerateOverlapping(42, nops, overlapSlots, overlapClients)
	})
}

func cachedHistory(shape benchShape, gen func() History) History {
	benchMu.Lock()
	defer benchMu.Unlock()
	if h, ok := benchHistories[shape]; ok {
		return h
	}
	h := gen()
	benchHistories[shape] = h
	return h
}

// peakSampler samples the Go heap (live and not yet swept objects) and the
// memory mapped by the runtime every millisecond, without stopping the
// world, and keeps the largest values.
type peakSampler struct {
	stop     chan struct{}
	done     chan struct{}
	heap, os uint64
}

func startPeakSampler() *peakSampler {
	p := &peakSampler{stop: make(chan struct{}), done: make(chan struct{})}
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
	}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			p.heap = max(p.heap, samples[0].Value.Uint64())
			p.os = max(p.os, samples[1].Value.Uint64())
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p *peakSampler) finish() {
	close(p.stop)
	<-p.done
}

func heapLive() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// benchCheck checks a generated history of nops operations in the
// partitioned mode and reports, besides time and allocations, the
// operations checked per second, the heap the history itself occupies,
// and the peak heap and runtime memory during the checks.
func benchCheck(b *testing.B, nops int) {
	benchRun(b, nops, func() History { return benchHistory(nops) }, Options{Slots: benchSlots, Mode: ModePartitioned})
}

// benchOverlap is benchCheck on one slot whose operations overlap without
// end, with the default memory budget: the history must pass, not stop.
func benchOverlap(b *testing.B, nops int) {
	benchRun(b, nops, func() History { return overlapHistory(nops) }, Options{Slots: overlapSlots, Mode: ModePartitioned})
}

func benchRun(b *testing.B, nops int, history func() History, opts Options) {
	if nops >= 1_000_000 && testing.Short() {
		b.Skip("1M operations: not under -short")
	}
	h := history()
	base := heapLive()
	b.ReportAllocs()
	p := startPeakSampler()
	for b.Loop() {
		if rep := Check(h, opts); !rep.Ok() {
			b.Fatalf("generated history rejected:\n%v", rep)
		}
	}
	p.finish()
	b.ReportMetric(float64(len(h))*float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	b.ReportMetric(float64(base)/(1<<20), "base-heap-MiB")
	b.ReportMetric(float64(p.heap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(p.os)/(1<<20), "peak-runtime-MiB")
}

func BenchmarkCheck10k(b *testing.B)  { benchCheck(b, 10_000) }
func BenchmarkCheck100k(b *testing.B) { benchCheck(b, 100_000) }
func BenchmarkCheck1M(b *testing.B)   { benchCheck(b, 1_000_000) }

func BenchmarkCheckOneSlotOverlapping10k(b *testing.B)  { benchOverlap(b, 10_000) }
func BenchmarkCheckOneSlotOverlapping100k(b *testing.B) { benchOverlap(b, 100_000) }
func BenchmarkCheckOneSlotOverlapping1M(b *testing.B)   { benchOverlap(b, 1_000_000) }

// BenchmarkGenerate100k measures the generator, for scale.
func BenchmarkGenerate100k(b *testing.B) {
	for b.Loop() {
		Generate(42, 100_000, benchSlots, benchClients)
	}
}
