package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/cluster"
)

// Start a cluster, connect a backend, register a worker and wait for it
// to start, then stop everything. (The program's main, here TestMain,
// called cluster.Main with a registry holding the "run" entry point.)
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Config{MaxWorkers: 2})
	if err != nil {
		panic(err)
	}
	defer c.Stop(ctx)
	b, err := c.Connect(ctx)
	if err != nil {
		panic(err)
	}
	h, err := b.Register(ctx, bgworker.Worker{Name: "example", RestartTime: bgworker.NeverRestart,
		LibraryName: testLib, FunctionName: "run"})
	if err != nil {
		panic(err)
	}
	st, err := b.WaitForStartup(ctx, h)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Status, st.Pid > 0)
	if err := c.Stop(ctx); err != nil {
		panic(err)
	}
	fmt.Println("stopped")
	// Output:
	// STARTED true
	// stopped
}

// A full cluster refuses a registration with bgworker.ErrNoFreeSlot, as
// the backend reported it.
func ExampleBackend_Register() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Config{MaxWorkers: 1,
		Static: []bgworker.Worker{{Name: "static", RestartTime: 1, LibraryName: testLib, FunctionName: "run"}}})
	if err != nil {
		panic(err)
	}
	defer c.Stop(ctx)
	b, err := c.Connect(ctx)
	if err != nil {
		panic(err)
	}
	_, err = b.Register(ctx, bgworker.Worker{Name: "one too many", RestartTime: 1, LibraryName: testLib, FunctionName: "run"})
	fmt.Println(errors.Is(err, bgworker.ErrNoFreeSlot))
	// Output: true
}

// Killing the postmaster ends a backend's wait with POSTMASTER_DIED.
func ExampleCluster_Kill() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Config{MaxWorkers: 1})
	if err != nil {
		panic(err)
	}
	b, err := c.Connect(ctx)
	if err != nil {
		panic(err)
	}
	// The spawn fails, so the worker stays NOT_YET_STARTED for its
	// restart_time (60 s): the wait blocks until the postmaster dies.
	if err := c.FailSpawns(1); err != nil {
		panic(err)
	}
	h, err := b.Register(ctx, bgworker.Worker{Name: "never", RestartTime: 60, LibraryName: testLib, FunctionName: "run"})
	if err != nil {
		panic(err)
	}
	time.AfterFunc(100*time.Millisecond, func() { c.Kill() })
	st, err := b.WaitForStartup(ctx, h)
	fmt.Println(st.Status, err)
	fmt.Println(c.Stop(ctx)) // waits for every orphan
	// Output:
	// POSTMASTER_DIED <nil>
	// <nil>
}

// Stop a backend while it holds BackgroundWorkerLock in the middle of a
// registration, kill it there, and see the cluster restart after the
// crash: the lock is free again, and a new backend registers.
func ExampleBackend_StopAt() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Config{MaxWorkers: 2})
	if err != nil {
		panic(err)
	}
	defer c.Stop(ctx)
	b, err := c.Connect(ctx)
	if err != nil {
		panic(err)
	}
	w := bgworker.Worker{Name: "example", RestartTime: bgworker.NeverRestart, LibraryName: testLib, FunctionName: "run"}
	stopped := b.StopAt(2) // step 1 acquires the lock
	done := make(chan error, 1)
	go func() {
		_, err := b.Register(ctx, w)
		done <- err
	}()
	bp := <-stopped
	fmt.Println(bp.Op, bp.Step, bp.Locked)
	if err := syscall.Kill(b.Pid(), syscall.SIGKILL); err != nil {
		panic(err)
	}
	fmt.Println(errors.Is(<-done, cluster.ErrBackendClosed))
	for { // the crash restart refuses connections for a moment
		b2, err := c.Connect(ctx)
		if err != nil {
			panic(err)
		}
		if _, err = b2.Register(ctx, w); !errors.Is(err, cluster.ErrBackendClosed) {
			fmt.Println(err)
			break
		}
	}
	// Output:
	// register 2 true
	// true
	// <nil>
}
