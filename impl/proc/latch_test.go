package proc_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
)

// TestLatchInProcess covers Set, Reset, Wait and a SIGUSR1 this process
// sends itself.
func TestLatchInProcess(t *testing.T) {
	proctest.Clean(t)
	short := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 50*time.Millisecond)
	}
	long := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 10*time.Second)
	}
	for _, tc := range []struct {
		name string
		do   func(l *proc.Latch)
		ctx  func() (context.Context, context.CancelFunc)
		want bgworker.WaitEvents
		err  error
	}{
		{"unset times out", func(*proc.Latch) {}, short, 0, context.DeadlineExceeded},
		{"Set", func(l *proc.Latch) { l.Set() }, long, bgworker.WaitLatchSet, nil},
		{"Set then Reset", func(l *proc.Latch) { l.Set(); l.Reset() }, short, 0, context.DeadlineExceeded},
		{"SIGUSR1", func(*proc.Latch) { proc.Kill(os.Getpid(), syscall.SIGUSR1) }, long, bgworker.WaitLatchSet, nil},
		{"Reset then SIGUSR1", func(l *proc.Latch) { l.Reset(); proc.Kill(os.Getpid(), syscall.SIGUSR1) }, long, bgworker.WaitLatchSet, nil},
		{"SIGUSR1 later", func(*proc.Latch) {
			time.AfterFunc(20*time.Millisecond, func() { proc.Kill(os.Getpid(), syscall.SIGUSR1) })
		}, long, bgworker.WaitLatchSet, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := proc.NewLatch(nil)
			defer l.Close()
			tc.do(l)
			ctx, cancel := tc.ctx()
			defer cancel()
			ev, err := l.Wait(ctx)
			if ev != tc.want || !errors.Is(err, tc.err) {
				t.Fatalf("Wait = %v, %v; want %v, %v", ev, err, tc.want, tc.err)
			}
			if tc.want&bgworker.WaitLatchSet != 0 {
				// It stays set until Reset.
				if ev, err := l.Wait(context.Background()); ev != bgworker.WaitLatchSet || err != nil {
					t.Fatalf("second Wait = %v, %v", ev, err)
				}
				l.Reset()
				if l.IsSet() {
					t.Fatal("set after Reset")
				}
			}
		})
	}
	t.Run("postmaster death", func(t *testing.T) {
		r, w := proctest.Pipe(t)
		d, err := proc.NewDeath(r)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		l := proc.NewLatch(d)
		defer l.Close()
		time.AfterFunc(20*time.Millisecond, func() { w.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if ev, err := l.Wait(ctx); ev != bgworker.WaitPostmasterDeath || err != nil {
			t.Fatalf("Wait = %v, %v", ev, err)
		}
		l.Set()
		if ev, _ := l.Wait(ctx); ev != bgworker.WaitPostmasterDeath|bgworker.WaitLatchSet {
			t.Fatalf("Wait with both = %v", ev)
		}
	})
}

// TestLatchAcrossProcesses: SIGUSR1 from another process sets the latch,
// round after round, including rounds where the signal arrives between
// Reset and Wait; a lost wake-up would be a 5 s timeout.
func TestLatchAcrossProcesses(t *testing.T) {
	const rounds = 100
	t.Run("child's latch, parent signals", func(t *testing.T) {
		proctest.Clean(t)
		k := proctest.NewKit(t, testSegSize)
		r, w := proctest.Pipe(t)
		pid, err := proc.Spawn("latch-owner", []string{"BGW_TEST_ROUNDS=" + strconv.Itoa(rounds)}, k.Files(w))
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		for i := 0; i < rounds; i++ {
			proctest.Expect(t, r, "k", 10*time.Second)
			if err := proc.Kill(pid, syscall.SIGUSR1); err != nil {
				t.Fatal(err)
			}
		}
		if e := proctest.ReapAll(t, 10*time.Second, pid)[pid]; e.Status != (bgworker.ExitStatus{}) {
			t.Errorf("latch owner: %v", e)
		}
	})
	t.Run("postmaster's latch, child signals", func(t *testing.T) {
		proctest.Clean(t)
		k := proctest.NewKit(t, testSegSize)
		l := proc.NewLatch(nil)
		defer l.Close()
		r, w := proctest.Pipe(t)
		pid, err := proc.Spawn("signal-pm", nil, k.Files(r))
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		for i := 0; i < rounds; i++ {
			l.Reset()
			if _, err := w.Write([]byte{'s'}); err != nil {
				t.Fatal(err)
			}
			if i%2 == 1 {
				time.Sleep(2 * time.Millisecond)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			ev, err := l.Wait(ctx)
			cancel()
			if ev != bgworker.WaitLatchSet || err != nil {
				t.Fatalf("round %d: Wait = %v, %v", i, ev, err)
			}
		}
		w.Close()
		if e := proctest.ReapAll(t, 10*time.Second, pid)[pid]; e.Status != (bgworker.ExitStatus{}) {
			t.Errorf("signaller: %v", e)
		}
	})
}

// TestSignaller covers the postmaster signaller's refusals.
func TestSignaller(t *testing.T) {
	proctest.Clean(t)
	for _, pid := range []int{-5, 0, 1} {
		if _, err := proc.NewSignaller(pid, nil); !errors.Is(err, proc.ErrBadPid) {
			t.Errorf("NewSignaller(%d) = %v", pid, err)
		}
	}
	r, w := proctest.Pipe(t)
	d, err := proc.NewDeath(r)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	l := proc.NewLatch(nil)
	defer l.Close()
	s, err := proc.NewSignaller(os.Getpid(), d)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SignalPostmaster(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ev, err := l.Wait(ctx); ev != bgworker.WaitLatchSet || err != nil {
		t.Fatalf("Wait = %v, %v", ev, err)
	}
	w.Close()
	<-d.Dead()
	if err := s.SignalPostmaster(); !errors.Is(err, proc.ErrPostmasterDead) {
		t.Errorf("signal to a dead postmaster = %v", err)
	}
	if err := proc.Kill(0, syscall.SIGUSR1); !errors.Is(err, proc.ErrBadPid) {
		t.Errorf("Kill(0) = %v", err)
	}
}
