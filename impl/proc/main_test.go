package proc_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
	"bgwmodel/impl/shmem"
	"bgwmodel/impl/shmem/memfd"
)

// Offsets in the test segment (after the 64-byte header the lock area
// lives in).
const (
	offCounter  shmem.Offset = 128 // u32, incremented non-atomically under the lock
	offInside   shmem.Offset = 132 // u32, 1 while a holder is inside (exclusive)
	offBad      shmem.Offset = 136 // u32, mutual-exclusion violations seen
	offReaders  shmem.Offset = 144 // u64, shared holders inside at once
	testSegSize              = 4096
)

// Exit codes of the test roles.
const (
	exitOK        = 0
	exitSetup     = 90 // ChildFromEnv or similar failed
	exitTimeout   = 91 // an awaited event did not come
	exitViolation = 92 // mutual exclusion broken
)

func TestMain(m *testing.M) {
	proctest.Main(m, proctest.Roles{
		"exit":          roleExit,
		"sleep":         roleSleep,
		"childenv":      roleChildEnv,
		"lock-count":    roleLockCount,
		"lock-shared":   roleLockShared,
		"lock-hold":     roleLockHold,
		"latch-owner":   roleLatchOwner,
		"signal-pm":     roleSignalPostmaster,
		"death-watch":   roleDeathWatch,
		"middle":        roleMiddle,
		"signal-ignore": roleSignalIgnore,
	})
}

// child is ChildFromEnv for a role, exiting with exitSetup on failure.
func child() *proc.Child {
	c, err := proc.ChildFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(exitSetup)
	}
	return c
}

func envInt(name string) int {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil {
		fmt.Fprintf(os.Stderr, "bad %s: %v\n", name, err)
		os.Exit(exitSetup)
	}
	return n
}

func write(f *os.File, s string) {
	if _, err := f.WriteString(s); err != nil {
		fmt.Fprintln(os.Stderr, "write:", err)
		os.Exit(exitSetup)
	}
}

// awaitDeath waits for the postmaster's death for at most 20 s.
func awaitDeath(c *proc.Child) int {
	select {
	case <-c.Death.Dead():
		return exitOK
	case <-time.After(20 * time.Second):
		return exitTimeout
	}
}

// roleExit exits with BGW_TEST_CODE.
func roleExit() int { return envInt("BGW_TEST_CODE") }

// roleSleep reports "R" on fd 5, then waits for the postmaster's death.
func roleSleep() int {
	c := child()
	write(c.Extra[0], "R")
	return awaitDeath(c)
}

// roleSignalIgnore checks that an unexpected SIGUSR1 is harmless to a
// process without a latch: it reports "R", and exits 0 once the
// postmaster dies.
func roleSignalIgnore() int { return roleSleep() }

// roleChildEnv exits 0 if ChildFromEnv succeeds, printing its error and
// exiting exitSetup otherwise.
func roleChildEnv() int {
	c := child()
	if err := c.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitSetup
	}
	return exitOK
}

// roleLockCount increments the shared counter BGW_TEST_ITERS times in each
// of BGW_TEST_GOROUTINES goroutines, under the exclusive lock, checking
// that nobody else is inside.
func roleLockCount() int {
	c := child()
	lk, err := proc.NewLock(c.Region.File())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitSetup
	}
	defer lk.Close()
	iters, gs := envInt("BGW_TEST_ITERS"), envInt("BGW_TEST_GOROUTINES")
	mem := c.Region
	errc := make(chan error, gs)
	for g := 0; g < gs; g++ {
		go func() {
			for i := 0; i < iters; i++ {
				if err := lk.Acquire(bgworker.LockExclusive); err != nil {
					errc <- err
					return
				}
				if ok, _ := mem.CompareAndSwap32(offInside, 0, 1, shmem.Relaxed); !ok {
					v, _ := mem.Load32(offBad, shmem.Relaxed)
					mem.Store32(offBad, v+1, shmem.Relaxed)
				}
				v, _ := mem.Load32(offCounter, shmem.Relaxed)
				if i%16 == 0 {
					runtime.Gosched() // widen the window a racing increment would hit
				}
				mem.Store32(offCounter, v+1, shmem.Relaxed)
				mem.Store32(offInside, 0, shmem.Relaxed)
				if err := lk.Release(bgworker.LockExclusive); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for g := 0; g < gs; g++ {
		if err := <-errc; err != nil {
			fmt.Fprintln(os.Stderr, err)
			return exitSetup
		}
	}
	return exitOK
}

// roleLockShared takes the lock shared, then waits until BGW_TEST_READERS
// holders are inside at once.
func roleLockShared() int {
	c := child()
	lk, err := proc.NewLock(c.Region.File())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitSetup
	}
	defer lk.Close()
	want := uint64(envInt("BGW_TEST_READERS"))
	if err := lk.Acquire(bgworker.LockShared); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitSetup
	}
	c.Region.Add64(offReaders, 1, shmem.Relaxed)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, _ := c.Region.Load64(offReaders, shmem.Relaxed)
		if n >= want {
			break
		}
		if time.Now().After(deadline) {
			return exitTimeout
		}
		time.Sleep(time.Millisecond)
	}
	if err := lk.Release(bgworker.LockShared); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitSetup
	}
	return exitOK
}

// roleLockHold takes the lock in BGW_TEST_MODE, reports "R" on fd 5 and
// holds it until the postmaster dies or the process is killed.
func roleLockHold() int {
	c := child()
	lk, err := proc.NewLock(c.Region.File())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitSetup
	}
	if err := lk.Acquire(bgworker.LockMode(envInt("BGW_TEST_MODE"))); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitSetup
	}
	write(c.Extra[0], "R")
	return awaitDeath(c)
}

// roleLatchOwner runs BGW_TEST_ROUNDS rounds of: Reset, write one byte on
// fd 5 (asking the parent for a SIGUSR1), on odd rounds sleep so the
// signal lands between Reset and Wait, then Wait. A lost wake-up is a
// timeout.
func roleLatchOwner() int {
	c := child()
	l := proc.NewLatch(c.Death)
	defer l.Close()
	rounds := envInt("BGW_TEST_ROUNDS")
	for i := 0; i < rounds; i++ {
		l.Reset()
		write(c.Extra[0], "k")
		if i%2 == 1 {
			time.Sleep(2 * time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ev, err := l.Wait(ctx)
		cancel()
		if err != nil || ev != bgworker.WaitLatchSet {
			fmt.Fprintf(os.Stderr, "round %d: wait = %v, %v\n", i, ev, err)
			return exitTimeout
		}
	}
	return exitOK
}

// roleSignalPostmaster sends SIGUSR1 to the postmaster each time it reads
// a byte on fd 5, until end-of-file; then it reports on its exit code
// whether a signal to a dead postmaster is refused.
func roleSignalPostmaster() int {
	c := child()
	s, err := c.Signaller()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitSetup
	}
	var b [1]byte
	for {
		n, err := c.Extra[0].Read(b[:])
		if n == 0 || err != nil {
			return exitOK
		}
		if err := s.SignalPostmaster(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return exitSetup
		}
	}
}

// roleDeathWatch writes "A" (or "D") on fd 5 as Alive reports, waits for
// the postmaster's death, and checks Alive agrees.
func roleDeathWatch() int {
	c := child()
	if c.Death.Alive() {
		write(c.Extra[0], "A")
	} else {
		write(c.Extra[0], "D")
	}
	if code := awaitDeath(c); code != exitOK {
		return code
	}
	if c.Death.Alive() {
		fmt.Fprintln(os.Stderr, "Dead fired but Alive reports true")
		return exitViolation
	}
	return exitOK
}

// roleMiddle is a postmaster in the middle: it spawns a death-watch
// grandchild with its own death pipe (passing its fd 5 on as the
// grandchild's fd 5), writes the grandchild's pid and a newline on its
// fd 6, and waits to be stopped and killed.
func roleMiddle() int {
	c := child()
	region, err := memfd.Create("middle", testSegSize)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitSetup
	}
	dp, err := proc.NewDeathPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitSetup
	}
	pid, err := proc.Spawn("death-watch", nil, []*os.File{region.File(), dp.ReadEnd(), c.Extra[0]})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitSetup
	}
	write(c.Extra[1], strconv.Itoa(pid)+"\n")
	return awaitDeath(c)
}
