package proc_test

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
)

// TestSpawnReapExitStatus: children exit 0, 1, 2 or are killed by a
// signal, and Reap reports each as a bgworker.ExitStatus.
func TestSpawnReapExitStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		role string
		code int            // for role "exit"
		sig  syscall.Signal // sent once the child is ready
		want bgworker.ExitStatus
	}{
		{"exit 0", "exit", 0, 0, bgworker.ExitStatus{Code: 0}},
		{"exit 1", "exit", 1, 0, bgworker.ExitStatus{Code: 1}},
		{"exit 2", "exit", 2, 0, bgworker.ExitStatus{Code: 2}},
		{"exit 3", "exit", 3, 0, bgworker.ExitStatus{Code: 3}},
		{"SIGKILL", "sleep", 0, syscall.SIGKILL, bgworker.ExitStatus{Signaled: true}},
		{"SIGTERM", "sleep", 0, syscall.SIGTERM, bgworker.ExitStatus{Signaled: true}},
		{"SIGUSR1 without a latch is ignored", "signal-ignore", 0, syscall.SIGUSR1, bgworker.ExitStatus{Code: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proctest.Clean(t)
			k := proctest.NewKit(t, testSegSize)
			r, w := proctest.Pipe(t)
			pid, err := proc.Spawn(tc.role, []string{"BGW_TEST_CODE=" + strconv.Itoa(tc.code)}, k.Files(w))
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
			if tc.sig != 0 {
				proctest.Expect(t, r, "R", 10*time.Second)
				if err := proc.KillAll([]int{pid}, tc.sig); err != nil {
					t.Fatal(err)
				}
				if tc.sig == syscall.SIGUSR1 {
					time.Sleep(20 * time.Millisecond)
					k.Pipe.Close() // let it exit on its own
				}
			}
			e := proctest.ReapAll(t, 10*time.Second, pid)[pid]
			if e.Pid != pid || e.Status != tc.want {
				t.Fatalf("%v, want %v", e, tc.want)
			}
			if tc.want.Signaled && e.Signal != tc.sig {
				t.Fatalf("signal %v, want %v", e.Signal, tc.sig)
			}
		})
	}
}

// TestSpawnManyReapOnce: a burst of children is reaped by Reap calls
// driven by SIGCHLD (coalesced signals included), each pid exactly once.
func TestSpawnManyReapOnce(t *testing.T) {
	proctest.Clean(t)
	k := proctest.NewKit(t, testSegSize)
	want := map[int]int{}
	var pids []int
	for i := 0; i < 8; i++ {
		pid, err := proc.Spawn("exit", []string{"BGW_TEST_CODE=" + strconv.Itoa(i%3)}, k.Files())
		if err != nil {
			t.Fatal(err)
		}
		want[pid] = i % 3
		pids = append(pids, pid)
	}
	for pid, e := range proctest.ReapAll(t, 20*time.Second, pids...) {
		if e.Status != (bgworker.ExitStatus{Code: want[pid]}) {
			t.Errorf("%v, want exit %d", e, want[pid])
		}
	}
	if ex, err := proc.Reap(); len(ex) != 0 || err != nil {
		t.Errorf("Reap with no children = %v, %v", ex, err)
	}
}

// TestSpawnProcessGroup: a spawned child leads its own session and group,
// and knows the postmaster by the pid in its environment.
func TestSpawnProcessGroup(t *testing.T) {
	proctest.Clean(t)
	k := proctest.NewKit(t, testSegSize)
	r, w := proctest.Pipe(t)
	pid, err := proc.Spawn("sleep", nil, k.Files(w))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	proctest.Expect(t, r, "R", 10*time.Second)
	pgid, err := syscall.Getpgid(pid)
	if err != nil || pgid != pid {
		t.Errorf("child's pgid = %d, %v; want %d", pgid, err, pid)
	}
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	vars := strings.Split(string(env), "\x00")
	for _, want := range []string{
		proc.EnvRole + "=sleep",
		proc.EnvPostmasterPid + "=" + strconv.Itoa(os.Getpid()),
		proc.EnvFiles + "=3",
	} {
		found := false
		for _, v := range vars {
			found = found || v == want
		}
		if !found {
			t.Errorf("child environment lacks %s", want)
		}
	}
	k.Pipe.Close()
	if e := proctest.ReapAll(t, 10*time.Second, pid)[pid]; e.Status != (bgworker.ExitStatus{}) {
		t.Errorf("%v", e)
	}
}

// TestChildFromEnvErrors: a child whose inherited files are missing or
// wrong fails with an error naming the fd.
func TestChildFromEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files func(k *proctest.Kit, extra *os.File) []*os.File
		want  string // in stderr; "" means success
	}{
		{"complete", func(k *proctest.Kit, x *os.File) []*os.File { return k.Files(x) }, ""},
		{"two extra files", func(k *proctest.Kit, x *os.File) []*os.File { return k.Files(x, x) }, ""},
		{"no files", func(*proctest.Kit, *os.File) []*os.File { return nil }, "0 inherited files; need fd 3 (shared memory) and fd 4"},
		{"one file", func(k *proctest.Kit, _ *os.File) []*os.File { return k.Files()[:1] }, "1 inherited files"},
		{"pipe for memfd", func(k *proctest.Kit, _ *os.File) []*os.File {
			return []*os.File{k.Pipe.ReadEnd(), k.Pipe.ReadEnd()}
		}, "fd 3 is not the shared memory (it is pipe:"},
		{"memfd for pipe", func(k *proctest.Kit, _ *os.File) []*os.File {
			return []*os.File{k.Region.File(), k.Region.File()}
		}, "fd 4 is not the postmaster-death pipe (it is /memfd:"},
		{"swapped", func(k *proctest.Kit, _ *os.File) []*os.File {
			return []*os.File{k.Pipe.ReadEnd(), k.Region.File()}
		}, "fd 3 is not the shared memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proctest.Clean(t)
			k := proctest.NewKit(t, testSegSize)
			_, x := proctest.Pipe(t)
			stderr, err := os.CreateTemp(t.TempDir(), "stderr")
			if err != nil {
				t.Fatal(err)
			}
			defer stderr.Close()
			pid, err := (&proc.Command{Role: "childenv", Files: tc.files(k, x), Stderr: stderr}).Start()
			if err != nil {
				t.Fatal(err)
			}
			e := proctest.ReapAll(t, 10*time.Second, pid)[pid]
			msg, _ := os.ReadFile(stderr.Name())
			switch {
			case tc.want == "" && e.Status != (bgworker.ExitStatus{}):
				t.Errorf("%v: %s", e, msg)
			case tc.want != "" && (e.Status != bgworker.ExitStatus{Code: exitSetup} || !strings.Contains(string(msg), tc.want)):
				t.Errorf("%v, stderr %q; want exit %d and %q", e, msg, exitSetup, tc.want)
			}
		})
	}
}

// TestSpawnRefuses: bad roles and environments are refused before any
// process starts.
func TestSpawnRefuses(t *testing.T) {
	proctest.Clean(t)
	for _, tc := range []struct {
		name string
		role string
		env  []string
	}{
		{"empty role", "", nil},
		{"role with =", "a=b", nil},
		{"entry without =", "exit", []string{"FOO"}},
		{"reserved role variable", "exit", []string{proc.EnvRole + "=x"}},
		{"reserved pid variable", "exit", []string{proc.EnvPostmasterPid + "=1"}},
		{"reserved files variable", "exit", []string{proc.EnvFiles + "=9"}},
		{"nil file", "exit", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var files []*os.File
			if tc.name == "nil file" {
				files = []*os.File{os.Stdin, nil}
			}
			if pid, err := proc.Spawn(tc.role, tc.env, files); err == nil {
				proc.WaitPid(pid)
				t.Fatal("Spawn succeeded")
			}
		})
	}
	if err := proc.KillAll([]int{0, 1, -3}, syscall.SIGTERM); err == nil {
		t.Error("KillAll of 0, 1, -3 succeeded")
	}
}

// TestChildFromEnvNotChild: without BGW_ROLE the process is not a child.
func TestChildFromEnvNotChild(t *testing.T) {
	proctest.Clean(t)
	t.Setenv(proc.EnvRole, "")
	if _, err := proc.ChildFromEnv(); err != proc.ErrNotChild {
		t.Fatalf("err = %v, want ErrNotChild", err)
	}
}

// TestInspect: the leak-check helpers see a new fd and a new child.
func TestInspect(t *testing.T) {
	proctest.Clean(t)
	n0, err := proc.CountOpenFDs()
	if err != nil {
		t.Fatal(err)
	}
	r, w := proctest.Pipe(t)
	if n, _ := proc.CountOpenFDs(); n != n0+2 {
		t.Errorf("fds %d after a pipe, want %d", n, n0+2)
	}
	k := proctest.NewKit(t, testSegSize)
	pid, err := proc.Spawn("sleep", nil, k.Files(w))
	if err != nil {
		t.Fatal(err)
	}
	proctest.Expect(t, r, "R", 10*time.Second)
	if kids, err := proc.ChildPids(); err != nil || len(kids) != 1 || kids[0] != pid {
		t.Errorf("ChildPids = %v, %v; want [%d]", kids, err, pid)
	}
	k.Pipe.Close()
	if _, err := proc.WaitPid(pid); err != nil {
		t.Fatal(err)
	}
	if kids, _ := proc.ChildPids(); len(kids) != 0 {
		t.Errorf("ChildPids after reaping = %v", kids)
	}
}
