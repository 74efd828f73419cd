package proc_test

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
)

// TestDeathPipeWriteEndCloses: children see the postmaster as alive, then
// as dead promptly once the parent closes its end of the pipe.
func TestDeathPipeWriteEndCloses(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(strconv.Itoa(n)+" children", func(t *testing.T) {
			proctest.Clean(t)
			k := proctest.NewKit(t, testSegSize)
			r, w := proctest.Pipe(t)
			var pids []int
			for i := 0; i < n; i++ {
				pid, err := proc.Spawn("death-watch", nil, k.Files(w))
				if err != nil {
					t.Fatal(err)
				}
				pids = append(pids, pid)
			}
			w.Close()
			proctest.Expect(t, r, strings.Repeat("A", n), 10*time.Second)
			start := time.Now()
			if err := k.Pipe.Close(); err != nil {
				t.Fatal(err)
			}
			for pid, e := range proctest.ReapAll(t, 10*time.Second, pids...) {
				if e.Status != (bgworker.ExitStatus{}) {
					t.Errorf("child %d: %v", pid, e)
				}
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("children took %v to notice", d)
			}
		})
	}
}

// TestDeathPipeStoppedPostmasterKilled: a middle process is the
// postmaster of a grandchild; it is stopped with SIGSTOP, then killed with
// SIGKILL. The grandchild sees the pipe's end-of-file and exits; being an
// orphan, it is reparented to this (subreaper) process and reaped here.
func TestDeathPipeStoppedPostmasterKilled(t *testing.T) {
	proctest.Clean(t)
	k := proctest.NewKit(t, testSegSize)
	ready, readyW := proctest.Pipe(t)
	pidR, pidW := proctest.Pipe(t)
	middle, err := proc.Spawn("middle", nil, k.Files(readyW, pidW))
	if err != nil {
		t.Fatal(err)
	}
	readyW.Close()
	pidW.Close()
	line := ""
	for !strings.HasSuffix(line, "\n") {
		s, err := proctest.Read(pidR, 1, 10*time.Second)
		if err != nil {
			t.Fatalf("reading the grandchild's pid: %q, %v", line, err)
		}
		line += s
	}
	grandchild, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	proctest.Expect(t, ready, "A", 10*time.Second)

	if err := proc.Kill(middle, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if ex, err := proc.Reap(); err != nil || len(ex) != 0 {
		t.Fatalf("someone exited while the postmaster was only stopped: %v, %v", ex, err)
	}
	start := time.Now()
	if err := proc.Kill(middle, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	got := proctest.ReapAll(t, 10*time.Second, middle, grandchild)
	if e := got[middle]; !e.Status.Signaled || e.Signal != syscall.SIGKILL {
		t.Errorf("middle: %v", e)
	}
	if e := got[grandchild]; e.Status != (bgworker.ExitStatus{}) {
		t.Errorf("grandchild: %v", e)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("grandchild took %v to notice", d)
	}
}

// TestDeathInProcess covers Alive and Close without a child.
func TestDeathInProcess(t *testing.T) {
	proctest.Clean(t)
	t.Run("close before death", func(t *testing.T) {
		r, _ := proctest.Pipe(t)
		d, err := proc.NewDeath(r)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Alive() {
			t.Fatal("dead at start")
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-d.Dead():
			t.Fatal("Close declared death")
		default:
		}
		if !d.Alive() {
			t.Fatal("dead after Close")
		}
	})
	t.Run("Alive sees end-of-file", func(t *testing.T) {
		r, w := proctest.Pipe(t)
		d, err := proc.NewDeath(r)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		w.Close()
		if d.Alive() {
			t.Fatal("alive after the write end closed")
		}
		select {
		case <-d.Dead():
		case <-time.After(10 * time.Second):
			t.Fatal("Dead not closed")
		}
		if d.Err() != nil {
			t.Fatal(d.Err())
		}
	})
}
