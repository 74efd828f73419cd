package bgworker_test

import (
	"testing"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/shmem/memfd"
)

// benchCluster is a cluster over the production memory: a memfd mapping.
func benchCluster(b *testing.B, slots int) (*bgworker.Postmaster, *bgworker.Backend) {
	b.Helper()
	r, err := memfd.Create("bench", bgworker.ShmemSize(slots))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	pm, err := bgworker.NewPostmaster(bgworker.PostmasterConfig{MaxWorkers: slots, SegmentID: 1})
	if err != nil {
		b.Fatal(err)
	}
	seg, err := pm.BackgroundWorkerShmemInit(r)
	if err != nil {
		b.Fatal(err)
	}
	be := bgworker.NewBackend(seg, bgworker.BackendConfig{
		Lock:       new(bgworker.MutexLock),
		Postmaster: bgworker.SignalFunc(func() error { return nil }),
		Latch:      bgworker.NewLocalLatch(),
	})
	return pm, be
}

// BenchmarkRegisterForget measures one dynamic registration, the
// postmaster's adoption of it and its forgetting, over a memfd segment of
// 8 slots with an in-process lock.
func BenchmarkRegisterForget(b *testing.B) {
	pm, be := benchCluster(b, 8)
	w := worker("bench", bgworker.NeverRestart)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := be.RegisterDynamicBackgroundWorker(w); err != nil {
			b.Fatal(err)
		}
		if _, err := pm.CheckPostmasterSignal(); err != nil {
			b.Fatal(err)
		}
		sc, err := pm.BackgroundWorkerStateChange(nil)
		if err != nil || len(sc.Adopted) != 1 {
			b.Fatalf("%+v %v", sc, err)
		}
		if _, err := pm.ForgetBackgroundWorker(sc.Adopted[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetBackgroundWorkerPid measures one status read of a started
// worker over a memfd segment.
func BenchmarkGetBackgroundWorkerPid(b *testing.B) {
	pm, be := benchCluster(b, 8)
	h, err := be.RegisterDynamicBackgroundWorker(worker("bench", 1))
	if err != nil {
		b.Fatal(err)
	}
	pm.CheckPostmasterSignal()
	sc, _ := pm.BackgroundWorkerStateChange(nil)
	sc.Adopted[0].Pid = 123
	pm.ReportBackgroundWorkerPID(sc.Adopted[0])
	b.ReportAllocs()
	for b.Loop() {
		st, err := be.GetBackgroundWorkerPid(h)
		if err != nil || st.Pid != 123 {
			b.Fatal(st, err)
		}
	}
}
