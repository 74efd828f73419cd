package cluster_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/cluster"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/shmem"
	"bgwmodel/impl/shmem/memfd"
)

// roleFloor is the floor's child: the least a worker start can cost.
const roleFloor = "floor"

// floorMain re-executes as a child of the benchmark, maps the segment,
// reads it, and signals the parent back (SIGUSR1): spawn + exec + attach +
// signal, without the protocol.
func floorMain() int {
	c, err := proc.ChildFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 90
	}
	if _, err := c.Region.Load32(0, shmem.Acquire); err != nil {
		return 91
	}
	sig, err := c.Signaller()
	if err != nil {
		return 92
	}
	if err := sig.SignalPostmaster(); err != nil {
		return 93
	}
	return 0
}

// floor measures the floor: the benchmark process spawns a floor child
// and waits on its latch for the child's SIGUSR1.
type floor struct {
	region *memfd.Region
	pipe   *proc.DeathPipe
	latch  *proc.Latch
}

func newFloor(b *testing.B) *floor {
	b.Helper()
	r, err := memfd.Create("floor", bgworker.ShmemSize(8))
	if err != nil {
		b.Fatal(err)
	}
	p, err := proc.NewDeathPipe()
	if err != nil {
		b.Fatal(err)
	}
	f := &floor{region: r, pipe: p, latch: proc.NewLatch(nil)}
	b.Cleanup(func() { f.latch.Close(); p.Close(); r.Close() })
	return f
}

// sample returns one spawn-to-signal time; the child is reaped after.
func (f *floor) sample(b *testing.B) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f.latch.Reset()
	t0 := time.Now()
	pid, err := proc.Spawn(roleFloor, nil, []*os.File{f.region.File(), f.pipe.ReadEnd()})
	if err != nil {
		b.Fatal(err)
	}
	_, err = f.latch.Wait(ctx)
	d := time.Since(t0)
	e, werr := proc.WaitPid(pid)
	if err != nil || werr != nil || e.Status != (bgworker.ExitStatus{}) {
		b.Fatalf("floor child: %v, %v, %v", err, werr, e)
	}
	return d
}

// percentiles returns the p50 and p99 of ds.
func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)*50/100], s[min(len(s)*99/100, len(s)-1)]
}

func reportPercentiles(b *testing.B, prefix string, ds []time.Duration) (p50, p99 time.Duration) {
	p50, p99 = percentiles(ds)
	b.ReportMetric(float64(p50)/1e3, prefix+"p50-µs")
	b.ReportMetric(float64(p99)/1e3, prefix+"p99-µs")
	return p50, p99
}

// BenchmarkFloor is the floor on its own: spawn + exec + attach + SIGUSR1
// round trip from the benchmark process.
func BenchmarkFloor(b *testing.B) {
	f := newFloor(b)
	var ds []time.Duration
	for b.Loop() {
		ds = append(ds, f.sample(b))
	}
	reportPercentiles(b, "", ds)
}

// BenchmarkRegisterToStarted: a backend registers a worker and waits for
// its startup (RegisterDynamicBackgroundWorker, then
// WaitForBackgroundWorkerStartup returning STARTED after the postmaster's
// SIGUSR1), timed from the harness, which talks to the backend over its
// socket: p50-µs and p99-µs. The postmaster reports STARTED once exec has
// succeeded (PostgreSQL reports it once fork has), before the worker's own
// runtime has started, so it also reports running-p50/p99: until the
// worker's entry runs and signals the harness, the same end point as the
// floor's. Each iteration takes a floor sample too (untimed by b), so the
// floor and the ratios come from the same run. Between iterations the
// worker (NEVER_RESTART) exits and is forgotten.
func BenchmarkRegisterToStarted(b *testing.B) {
	c, err := cluster.Start(context.Background(), cluster.Config{MaxWorkers: 8, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Stop(context.Background())
	be, err := c.Connect(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	f := newFloor(b)
	w := def("bench", "ping", uint64(os.Getpid()), bgworker.NeverRestart)
	ctx := context.Background()
	var started, running, fl []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		fl = append(fl, f.sample(b))
		f.latch.Reset()
		b.StartTimer()
		t0 := time.Now()
		h, err := be.Register(ctx, w)
		if err != nil {
			b.Fatal(err)
		}
		st, err := be.WaitForStartup(ctx, h)
		d := time.Since(t0)
		b.StopTimer()
		if err != nil || st.Status != bgworker.Started {
			b.Fatalf("WaitForStartup = %v, %v", st, err)
		}
		started = append(started, d)
		if _, err := f.latch.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		running = append(running, time.Since(t0))
		if st, err := be.WaitForShutdown(ctx, h); err != nil || st.Status != bgworker.Stopped {
			b.Fatalf("WaitForShutdown = %v, %v", st, err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	p50, p99 := reportPercentiles(b, "", started)
	r50, r99 := reportPercentiles(b, "running-", running)
	f50, f99 := reportPercentiles(b, "floor-", fl)
	b.ReportMetric(float64(p50)/float64(f50), "ratio-p50")
	b.ReportMetric(float64(p99)/float64(f99), "ratio-p99")
	b.ReportMetric(float64(r50)/float64(f50), "ratio-running-p50")
	b.ReportMetric(float64(r99)/float64(f99), "ratio-running-p99")
}
