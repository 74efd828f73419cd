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

var (
	benchMu        sync.Mutex
	benchHistories = map[int]History{}
)

func benchHistory(nops int) History {
	benchMu.Lock()
	defer benchMu.Unlock()
	if h, ok := benchHistories[nops]; ok {
		return h
	}
	h := Generate(42, nops, benchSlots, benchClients)
	benchHistories[nops] = h
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
	if nops >= 1_000_000 && testing.Short() {
		b.Skip("1M operations: not under -short")
	}
	h := benchHistory(nops)
	opts := Options{Slots: benchSlots, Mode: ModePartitioned}
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

// BenchmarkGenerate100k measures the generator, for scale.
func BenchmarkGenerate100k(b *testing.B) {
	for b.Loop() {
		Generate(42, 100_000, benchSlots, benchClients)
	}
}
