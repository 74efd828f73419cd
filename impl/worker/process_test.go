package worker_test

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
	"bgwmodel/impl/worker"
)

// TestWorkerProcess runs real worker processes (this test binary in role
// worker.Role) and checks their exit status and stderr for each way a
// worker ends.
func TestWorkerProcess(t *testing.T) {
	const fatalTerm = `FATAL:  terminating background worker "test worker" due to administrator command`
	named := def("name", 42)
	named.Name, named.RestartTime = "named worker", 7
	for _, tc := range []struct {
		name   string
		role   string
		def    bgworker.Worker
		event  string // after "R", joined by +: a signal name, "pause" or "death"
		want   bgworker.ExitStatus
		stderr string // substring; "" means stderr must be empty
	}{
		{"entry exits 0", worker.Role, def("exit_arg", 0), "", bgworker.ExitStatus{Code: 0}, ""},
		{"entry exits 1", worker.Role, def("exit_arg", 1), "", bgworker.ExitStatus{Code: 1}, ""},
		{"entry exits 2", worker.Role, def("exit_arg", 2), "", bgworker.ExitStatus{Code: 2}, ""},
		{"definition passed through", worker.Role, named, "", bgworker.ExitStatus{Code: 0}, ""},
		{"unknown entry", worker.Role, def("no_such_function", 0), "", bgworker.ExitStatus{Code: 1},
			`could not find function "no_such_function"`},
		{"panic", worker.Role, def("panic", 0), "", bgworker.ExitStatus{Code: 1}, "panic: boom"},
		{"no definition", "start-noenv", def("exit_arg", 0), "", bgworker.ExitStatus{Code: 1},
			worker.EnvWorker + " not set"},
		{"SIGTERM", worker.Role, def("wait", 0), "SIGTERM", bgworker.ExitStatus{Code: 1}, fatalTerm},
		{"SIGQUIT", worker.Role, def("wait", 0), "SIGQUIT", bgworker.ExitStatus{Code: 2}, ""},
		{"SIGUSR1 sets the latch", worker.Role, def("latch", 0), "SIGUSR1", bgworker.ExitStatus{Code: 0}, ""},
		{"SIGINT and SIGHUP ignored", worker.Role, def("latch", 0), "SIGINT+SIGHUP+pause+SIGUSR1", bgworker.ExitStatus{Code: 0}, ""},
		{"SIGKILL", worker.Role, def("wait", 0), "SIGKILL", bgworker.ExitStatus{Signaled: true}, ""},
		{"postmaster death", worker.Role, def("wait", 0), "death", bgworker.ExitStatus{Code: 1},
			`FATAL:  terminating background worker "test worker" due to unexpected postmaster exit`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proctest.Clean(t)
			k := proctest.NewKit(t, 4096)
			r, w := proctest.Pipe(t)
			env, err := worker.Environ(tc.def)
			if err != nil {
				t.Fatal(err)
			}
			stderr, err := os.CreateTemp(t.TempDir(), "stderr")
			if err != nil {
				t.Fatal(err)
			}
			defer stderr.Close()
			pid, err := (&proc.Command{Role: tc.role, Env: env, Files: k.Files(w), Stderr: stderr}).Start()
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
			start := time.Now()
			if tc.event != "" {
				proctest.Expect(t, r, "R", 10*time.Second)
				start = time.Now()
			}
			for _, ev := range strings.Split(tc.event, "+") {
				switch ev {
				case "SIGTERM", "SIGQUIT", "SIGUSR1", "SIGKILL", "SIGINT", "SIGHUP":
					sig := map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "SIGQUIT": syscall.SIGQUIT,
						"SIGUSR1": syscall.SIGUSR1, "SIGKILL": syscall.SIGKILL,
						"SIGINT": syscall.SIGINT, "SIGHUP": syscall.SIGHUP}[ev]
					if err := proc.Kill(pid, sig); err != nil {
						t.Fatal(err)
					}
				case "pause":
					time.Sleep(50 * time.Millisecond)
				case "death":
					k.Pipe.Close()
				}
			}
			e := proctest.ReapAll(t, 10*time.Second, pid)[pid]
			msg, _ := os.ReadFile(stderr.Name())
			if e.Status != tc.want {
				t.Errorf("%v, want %v; stderr %q", e, tc.want, msg)
			}
			if tc.want.Signaled && e.Signal != syscall.SIGKILL {
				t.Errorf("signal %v", e.Signal)
			}
			if got := string(msg); (tc.stderr == "") != (got == "") || !strings.Contains(got, tc.stderr) {
				t.Errorf("stderr %q, want %q", got, tc.stderr)
			}
			if d := time.Since(start); tc.event != "" && d > 2*time.Second {
				t.Errorf("worker took %v to exit after %s", d, tc.event)
			}
		})
	}
}
