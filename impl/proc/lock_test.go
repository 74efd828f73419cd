package proc_test

import (
	"errors"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
	"bgwmodel/impl/shmem"
	"bgwmodel/impl/shmem/memfd"
)

func newLock(t *testing.T, r *memfd.Region) *proc.Lock {
	t.Helper()
	lk, err := proc.NewLock(r.File())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lk.Close() })
	return lk
}

// TestLockExclusionAcrossProcesses: children (each with several
// goroutines sharing one Lock) increment a non-atomic counter under the
// exclusive lock; the total is exact and nobody ever saw another holder
// inside.
func TestLockExclusionAcrossProcesses(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		children, goroutines, it int
	}{
		{"1 process x 4 goroutines", 1, 4, 2000},
		{"4 processes x 1 goroutine", 4, 1, 1500},
		{"3 processes x 3 goroutines", 3, 3, 700},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proctest.Clean(t)
			k := proctest.NewKit(t, testSegSize)
			env := []string{
				"BGW_TEST_ITERS=" + strconv.Itoa(tc.it),
				"BGW_TEST_GOROUTINES=" + strconv.Itoa(tc.goroutines),
			}
			var pids []int
			for i := 0; i < tc.children; i++ {
				pid, err := proc.Spawn("lock-count", env, k.Files())
				if err != nil {
					t.Fatal(err)
				}
				pids = append(pids, pid)
			}
			for pid, e := range proctest.ReapAll(t, 30*time.Second, pids...) {
				if e.Status != (bgworker.ExitStatus{Code: exitOK}) {
					t.Errorf("child %d: %v", pid, e)
				}
			}
			got, _ := k.Region.Load32(offCounter, shmem.Relaxed)
			bad, _ := k.Region.Load32(offBad, shmem.Relaxed)
			if want := uint32(tc.children * tc.goroutines * tc.it); got != want || bad != 0 {
				t.Errorf("counter = %d (want %d), violations = %d", got, want, bad)
			}
		})
	}
}

// TestLockSharedConcurrentReaders: several processes hold the lock shared
// at the same time (each waits inside until all are in), and an exclusive
// request from another process is refused while they do.
func TestLockSharedConcurrentReaders(t *testing.T) {
	for _, readers := range []int{2, 4} {
		t.Run(strconv.Itoa(readers)+" readers", func(t *testing.T) {
			proctest.Clean(t)
			k := proctest.NewKit(t, testSegSize)
			var pids []int
			for i := 0; i < readers; i++ {
				pid, err := proc.Spawn("lock-shared", []string{"BGW_TEST_READERS=" + strconv.Itoa(readers)}, k.Files())
				if err != nil {
					t.Fatal(err)
				}
				pids = append(pids, pid)
			}
			for pid, e := range proctest.ReapAll(t, 20*time.Second, pids...) {
				if e.Status != (bgworker.ExitStatus{Code: exitOK}) {
					t.Errorf("reader %d: %v", pid, e)
				}
			}
		})
	}
}

// TestLockKilledHolder: a holder killed by SIGKILL does not wedge the
// others: the kernel drops its OFD lock when its descriptions close.
// While it lives, a conflicting TryAcquire fails and a compatible one
// succeeds.
func TestLockKilledHolder(t *testing.T) {
	for _, tc := range []struct {
		name       string
		held       bgworker.LockMode
		sharedOK   bool // may this process take it shared meanwhile?
		afterDeath bgworker.LockMode
	}{
		{"exclusive holder", bgworker.LockExclusive, false, bgworker.LockExclusive},
		{"shared holder", bgworker.LockShared, true, bgworker.LockExclusive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proctest.Clean(t)
			k := proctest.NewKit(t, testSegSize)
			r, w := proctest.Pipe(t)
			pid, err := proc.Spawn("lock-hold", []string{"BGW_TEST_MODE=" + strconv.Itoa(int(tc.held))}, k.Files(w))
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
			proctest.Expect(t, r, "R", 10*time.Second)

			lk := newLock(t, k.Region)
			if ok, err := lk.TryAcquire(bgworker.LockExclusive); ok || err != nil {
				t.Fatalf("TryAcquire(exclusive) while held %s = %v, %v", tc.held, ok, err)
			}
			ok, err := lk.TryAcquire(bgworker.LockShared)
			if ok != tc.sharedOK || err != nil {
				t.Fatalf("TryAcquire(shared) while held %s = %v, %v", tc.held, ok, err)
			}
			if ok {
				if err := lk.Release(bgworker.LockShared); err != nil {
					t.Fatal(err)
				}
			}

			// A blocked Acquire is released by the kill.
			done := make(chan error, 1)
			go func() { done <- lk.Acquire(tc.afterDeath) }()
			select {
			case err := <-done:
				t.Fatalf("Acquire returned while the holder lives: %v", err)
			case <-time.After(50 * time.Millisecond):
			}
			if err := proc.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Acquire still blocked 10 s after the holder was killed")
			}
			if err := lk.Release(tc.afterDeath); err != nil {
				t.Fatal(err)
			}
			e := proctest.ReapAll(t, 10*time.Second, pid)[pid]
			if !e.Status.Signaled || e.Signal != syscall.SIGKILL {
				t.Errorf("holder: %v, want killed by SIGKILL", e)
			}
		})
	}
}

// TestLockInProcess covers the in-process gate (under the race detector):
// goroutines sharing one Lock increment a plain Go int, shared holders
// coexist, and misuse is an error, not a crash.
func TestLockInProcess(t *testing.T) {
	proctest.Clean(t)
	r, err := memfd.Create("lock-in-process", testSegSize)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	t.Run("exclusive", func(t *testing.T) {
		lk := newLock(t, r)
		var n int // a plain int: the race detector checks the gate
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Go(func() {
				for i := 0; i < 500; i++ {
					if err := lk.Acquire(bgworker.LockExclusive); err != nil {
						t.Error(err)
						return
					}
					n++
					if err := lk.Release(bgworker.LockExclusive); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if n != 2000 {
			t.Errorf("n = %d, want 2000", n)
		}
	})
	t.Run("shared holders coexist; a second Lock is excluded", func(t *testing.T) {
		a, b := newLock(t, r), newLock(t, r)
		for i := 0; i < 2; i++ {
			if err := a.Acquire(bgworker.LockShared); err != nil {
				t.Fatal(err)
			}
		}
		if ok, _ := a.TryAcquire(bgworker.LockExclusive); ok {
			t.Fatal("exclusive granted beside shared holders")
		}
		if ok, _ := b.TryAcquire(bgworker.LockShared); !ok {
			t.Fatal("shared refused to another description")
		}
		if ok, _ := b.TryAcquire(bgworker.LockExclusive); ok {
			t.Fatal("exclusive granted to another description beside shared holders")
		}
		b.Release(bgworker.LockShared)
		a.Release(bgworker.LockShared)
		if ok, _ := b.TryAcquire(bgworker.LockExclusive); ok {
			t.Fatal("exclusive granted while one shared holder remains")
		}
		a.Release(bgworker.LockShared)
		if ok, err := b.TryAcquire(bgworker.LockExclusive); !ok || err != nil {
			t.Fatalf("exclusive refused once free: %v", err)
		}
		if ok, _ := a.TryAcquire(bgworker.LockShared); ok {
			t.Fatal("shared granted beside an exclusive holder")
		}
		b.Release(bgworker.LockExclusive)
	})
	t.Run("misuse", func(t *testing.T) {
		lk := newLock(t, r)
		for _, tc := range []struct {
			name string
			err  error
			do   func() error
		}{
			{"release exclusive not held", proc.ErrNotHeld, func() error { return lk.Release(bgworker.LockExclusive) }},
			{"release shared not held", proc.ErrNotHeld, func() error { return lk.Release(bgworker.LockShared) }},
			{"acquire bad mode", proc.ErrBadMode, func() error { return lk.Acquire(0) }},
			{"release bad mode", proc.ErrBadMode, func() error { return lk.Release(7) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.do(); !errors.Is(err, tc.err) {
					t.Errorf("err = %v, want %v", err, tc.err)
				}
			})
		}
		if _, err := proc.NewLock(nil); err == nil {
			t.Error("NewLock(nil) succeeded")
		}
		lk2, err := proc.NewLock(r.File())
		if err != nil {
			t.Fatal(err)
		}
		lk2.Close()
		if err := lk2.Acquire(bgworker.LockExclusive); !errors.Is(err, proc.ErrLockClosed) {
			t.Errorf("Acquire after Close = %v", err)
		}
		if err := lk2.Close(); !errors.Is(err, proc.ErrLockClosed) {
			t.Errorf("second Close = %v", err)
		}
	})
}
