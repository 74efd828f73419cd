package proc_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
)

// TestStat follows a child through its states: running or sleeping,
// stopped (SIGSTOP), a zombie once it exits, gone once reaped; and reads
// this process's own parent.
func TestStat(t *testing.T) {
	proctest.Clean(t)
	if st, err := proc.Stat(os.Getpid()); err != nil || st.Pid != os.Getpid() || st.Ppid != os.Getppid() || st.Exited() {
		t.Fatalf("Stat(self) = %+v, %v", st, err)
	}
	r, w := proctest.Pipe(t)
	k := proctest.NewKit(t, testSegSize)
	pid, err := proc.Spawn("sleep", nil, k.Files(w))
	if err != nil {
		t.Fatal(err)
	}
	proctest.Expect(t, r, "R", 10*time.Second)
	waitFor := func(what string, ok func(proc.Status, error) bool) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			st, err := proc.Stat(pid)
			if ok(st, err) {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("child %d never %s: %+v, %v", pid, what, st, err)
			}
		}
	}
	waitFor("alive, our child", func(st proc.Status, err error) bool {
		return err == nil && st.Ppid == os.Getpid() && !st.Exited() && !proc.Gone(pid)
	})
	proc.Kill(pid, syscall.SIGSTOP)
	waitFor("stopped", func(st proc.Status, err error) bool { return err == nil && st.State == proc.StateStopped })
	proc.Kill(pid, syscall.SIGKILL)
	waitFor("a zombie", func(st proc.Status, err error) bool {
		return err == nil && st.State == proc.StateZombie && st.Exited() && proc.Gone(pid)
	})
	if _, err := proc.WaitPid(pid); err != nil {
		t.Fatal(err)
	}
	if _, err := proc.Stat(pid); err == nil || !proc.Gone(pid) {
		t.Errorf("Stat of a reaped child: %v; Gone %v", err, proc.Gone(pid))
	}
}
