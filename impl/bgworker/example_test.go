package bgworker_test

import (
	"context"
	"fmt"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/shmem"
)

// A whole handoff in one process: a backend registers a worker, the
// postmaster adopts it and reports its pid, and the backend's wait returns.
func Example() {
	pm, _ := bgworker.NewPostmaster(bgworker.PostmasterConfig{MaxWorkers: 2, SegmentID: 7})
	mem := shmem.NewLocal(bgworker.ShmemSize(2))
	seg, _ := pm.BackgroundWorkerShmemInit(mem)

	latch := bgworker.NewLocalLatch()
	signalled := false
	be := bgworker.NewBackend(seg, bgworker.BackendConfig{
		Lock:       new(bgworker.MutexLock),
		Postmaster: bgworker.SignalFunc(func() error { signalled = true; return nil }),
		Latch:      latch,
	})
	h, err := be.RegisterDynamicBackgroundWorker(bgworker.Worker{
		Name: "demo", Flags: bgworker.ShmemAccess, StartTime: bgworker.ConsistentState,
		RestartTime: bgworker.NeverRestart, LibraryName: "demo", FunctionName: "main", NotifyPid: 100,
	})
	fmt.Println("registered:", h.Slot, h.Generation, err, "signalled:", signalled)

	st, _ := be.GetBackgroundWorkerPid(h)
	fmt.Println("before launch:", st.Status)

	// The postmaster's side, as its signal handler would run it.
	if set, _ := pm.CheckPostmasterSignal(); set {
		sc, _ := pm.BackgroundWorkerStateChange(func(pid int32) bool { return pid == 100 })
		rw := sc.Adopted[0]
		rw.Pid, rw.Started = 4242, true
		notify, _ := pm.ReportBackgroundWorkerPID(rw)
		fmt.Println("notify:", notify)
		latch.Set() // SIGUSR1 to the backend
	}
	st, _ = be.WaitForBackgroundWorkerStartup(context.Background(), h)
	fmt.Println("after launch:", st.Status, st.Pid)
	// Output:
	// registered: 0 1 <nil> signalled: true
	// before launch: NOT_YET_STARTED
	// notify: 100
	// after launch: STARTED 4242
}

// A definition the API refuses names the field at fault.
func ExampleValidateWorker() {
	err := bgworker.ValidateWorker(&bgworker.Worker{
		Name: "db", Flags: bgworker.BackendDatabaseConnection, RestartTime: 10,
	})
	fmt.Println(err)
	// Output:
	// bgworker: background worker "db": invalid bgw_flags: must attach to shared memory in order to request a database connection
}

// The restart rule, with the seed's 32-bit overflow fixed.
func ExampleDecideRestart() {
	w := bgworker.Worker{Name: "w", RestartTime: 2_147_484}
	fmt.Println(bgworker.DecideRestart(&w, bgworker.ExitStatus{Code: 1}, 0))
	fmt.Println(bgworker.DecideRestart(&w, bgworker.ExitStatus{Code: 0}, 0))
	w.Flags = bgworker.ShmemAccess
	fmt.Println(bgworker.DecideRestart(&w, bgworker.ExitStatus{Code: 2}, 0))
	// Output:
	// {restart-after 596h31m24s}
	// {restart-now 0s}
	// {crash-restart 0s}
}
