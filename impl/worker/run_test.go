package worker_test

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
	"bgwmodel/impl/worker"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func def(function string, arg uint64) bgworker.Worker {
	return bgworker.Worker{Name: "test worker", Flags: bgworker.ShmemAccess, RestartTime: 1,
		LibraryName: testLib, FunctionName: function, MainArg: arg}
}

// TestRunInProcess drives Run with injected signals: the logic a worker
// process runs, under the race detector.
func TestRunInProcess(t *testing.T) {
	const fatalTerm = `FATAL:  terminating background worker "test worker" due to administrator command`
	for _, tc := range []struct {
		name   string
		def    bgworker.Worker
		event  string // after the entry is ready: "SIGTERM", "SIGQUIT", "SIGUSR1", "death"
		want   int
		stderr string // substring; "" means stderr must be empty
	}{
		{"entry exits 0", def("exit_arg", 0), "", 0, ""},
		{"entry exits 1", def("exit_arg", 1), "", 1, ""},
		{"entry exits 2", def("exit_arg", 2), "", 2, ""},
		{"entry exits 255", def("exit_arg", 255), "", 255, ""},
		{"entry exit code out of range", def("exit_arg", 256), "", 1, "outside 0..255"},
		{"unknown entry", def("no_such_function", 0), "", 1,
			`could not find function "no_such_function" in library "worker_test"`},
		{"panic", def("panic", 0), "", 1, "panic: boom"},
		{"SIGTERM", def("wait", 0), "SIGTERM", 1, fatalTerm},
		{"SIGQUIT", def("wait", 0), "SIGQUIT", worker.ExitQuickDie, ""},
		{"SIGUSR1 sets the latch", def("latch", 0), "SIGUSR1", 0, ""},
		{"postmaster death", def("wait", 0), "death", 1, "due to unexpected postmaster exit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proctest.Clean(t)
			r, w := proctest.Pipe(t)
			dr, dw := proctest.Pipe(t)
			death, err := proc.NewDeath(dr)
			if err != nil {
				t.Fatal(err)
			}
			defer death.Close()
			sigs := make(chan os.Signal, 1)
			var stderr syncBuffer
			done := make(chan int, 1)
			go func() {
				done <- worker.Run(testRegistry(), tc.def, worker.Options{
					Child:   &proc.Child{Death: death, Extra: []*os.File{w}},
					Stderr:  &stderr,
					Signals: sigs,
				})
			}()
			if tc.event != "" {
				proctest.Expect(t, r, "R", 10*time.Second)
			}
			switch tc.event {
			case "SIGTERM":
				sigs <- syscall.SIGTERM
			case "SIGQUIT":
				sigs <- syscall.SIGQUIT
			case "SIGUSR1":
				if err := proc.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
					t.Fatal(err)
				}
			case "death":
				dw.Close()
			}
			var code int
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return")
			}
			if code != tc.want {
				t.Errorf("exit code %d, want %d; stderr %q", code, tc.want, stderr.String())
			}
			if got := stderr.String(); (tc.stderr == "") != (got == "") || !strings.Contains(got, tc.stderr) {
				t.Errorf("stderr %q, want %q", got, tc.stderr)
			}
		})
	}
}
