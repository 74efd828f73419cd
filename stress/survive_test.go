package stress

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/cluster"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
	"bgwmodel/spec"
)

// TestPostmasterSurvives: a postmaster that dies while the campaign runs,
// without the harness killing or stopping it, fails postmaster-survives
// (and nothing else: the death is in the history, so the other checks
// judge the run soundly), with its exit status and the server log as
// evidence; bgw check finds the same from the run directory.
func TestPostmasterSurvives(t *testing.T) {
	for _, c := range []struct {
		name   string
		sig    syscall.Signal
		keepOn bool   // not stop at the first violation: run the grace after the death
		status string // in the check's summary
		log    string // in its detail
	}{
		// SIGKILL: no word from the postmaster; SIGABRT: the Go runtime
		// prints its goroutines and exits with code 2.
		{"sigkill", syscall.SIGKILL, false, "killed by signal 9 (killed)", "last lines of the server log"},
		{"sigabrt", syscall.SIGABRT, false, "exit code 2", "last complaint in the server log: SIGABRT: abort"},
		// The waits in flight answer POSTMASTER_DIED, which the death
		// recorded in the history explains.
		{"sigkill-grace", syscall.SIGKILL, true, "killed by signal 9 (killed)", "last lines of the server log"},
		// SIGTERM: an orderly shutdown nobody asked for. The death pipe
		// closes before the postmaster drains its backends (seconds), so
		// POSTMASTER_DIED answers come before the process is gone: the
		// death is placed where the pipe closed (death-pipe-closed, see
		// TestDeathCall), and only postmaster-survives fails.
		{"sigterm-grace", syscall.SIGTERM, true, "exit code 0", "last lines of the server log"},
	} {
		t.Run(c.name, func(t *testing.T) {
			proctest.Clean(t)
			cfg := DefaultConfig()
			cfg.Seed, cfg.Duration = 61, Duration(20*time.Second)
			cfg.Check.StopOnViolation = !c.keepOn
			var camp *campaign
			var pm int
			var once sync.Once
			opts := Options{Dir: filepath.Join(t.TempDir(), "run"), ProgressEvery: 20 * time.Millisecond,
				started: func(c *campaign) { camp, pm = c, c.cl.PostmasterPid() },
				Progress: func(p Progress) {
					// Well under way, and while a backend waits for a
					// worker (POSTMASTER_DIED is then due).
					if p.Ops >= 200 && (!c.keepOn || p.Elapsed > time.Second && camp.waiting()) {
						once.Do(func() { proc.Kill(pm, c.sig) })
					}
				}}
			res, err := Run(context.Background(), cfg, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Verdict.Failed(); !slices.Equal(got, []CheckName{CheckPostmaster}) {
				t.Fatalf("failed checks %v, want [%s]:\n%s%s", got, CheckPostmaster, Summary(res), res.Verdict)
			}
			r := res.Verdict.Check(CheckPostmaster)
			if !strings.Contains(r.Summary, c.status) || !strings.Contains(r.Detail, c.log) {
				t.Errorf("summary %q, detail:\n%s\nwant %q and %q", r.Summary, r.Detail, c.status, c.log)
			}
			if res.Postmaster.Ended != EndedOnItsOwn || res.Postmaster.Pid != pm || res.Elapsed >= cfg.Duration.D() {
				t.Errorf("postmaster %+v after %v", res.Postmaster, res.Elapsed)
			}
			if !strings.HasPrefix(res.FirstViolation, string(CheckPostmaster)) {
				t.Errorf("first violation %q", res.FirstViolation)
			}
			died := 0
			for _, op := range res.Verdict.History {
				if op.Output.Status == spec.PostmasterDied {
					died++
				}
			}
			t.Logf("%d operations answered POSTMASTER_DIED\n%s", died, Summary(res))
			v, err := CheckDir(res.Dir, CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Failed(); !slices.Equal(got, []CheckName{CheckPostmaster}) {
				t.Errorf("CheckDir: failed %v:\n%s", got, v)
			}
		})
	}
}

// TestPostmasterExitJudged: how the postmaster ended decides the check,
// and an I/O error of its own is an infrastructure failure, not a
// violation.
func TestPostmasterExitJudged(t *testing.T) {
	for _, c := range []struct {
		name  string
		exit  PostmasterExit
		want  Outcome // of postmaster-survives, if not infra
		infra string  // in the infrastructure failure, if one
	}{
		{"stopped", PostmasterExit{Pid: 7, Ended: EndedStopped}, Pass, ""},
		{"killed", PostmasterExit{Pid: 7, Ended: EndedKilled, Code: 137}, Pass, ""},
		{"panic", PostmasterExit{Pid: 7, Ended: EndedOnItsOwn, Code: 2, Cause: "panic: runtime error: index out of range"}, Fail, ""},
		{"signal", PostmasterExit{Pid: 7, Ended: EndedOnItsOwn, Code: 134}, Fail, ""},
		{"exit-0", PostmasterExit{Pid: 7, Ended: EndedOnItsOwn}, Fail, ""},
		{"core-error", PostmasterExit{Pid: 7, Ended: EndedOnItsOwn, Code: 1, Cause: "FATAL:  postmaster: core: slot 3 adopted twice"}, Fail, ""},
		// A panic quoting an errno is still a panic.
		{"panic-enospc", PostmasterExit{Pid: 7, Ended: EndedOnItsOwn, Code: 2, Cause: "panic: no space left on device"}, Fail, ""},
		{"enospc", PostmasterExit{Pid: 7, Ended: EndedOnItsOwn, Code: 1,
			Cause: "FATAL:  postmaster: record log: write records: no space left on device"}, 0,
			"its record log D/records.jsonl: FATAL: postmaster: record log: write records: no space left on device"},
		{"efbig", PostmasterExit{Pid: 7, Ended: EndedOnItsOwn, Code: 1,
			Cause: "FATAL:  postmaster: record log: write records: file too large"}, 0, "file too large"},
		{"efbig-at-stop", PostmasterExit{Pid: 7, Ended: EndedStopped, Code: 1,
			Cause: "FATAL:  postmaster: record log: write records: file too large"}, 0, "exit code 1"},
		{"no-room-for-a-word", PostmasterExit{Pid: 7, Ended: EndedOnItsOwn, Code: 1,
			Cause: "FATAL:  (the postmaster's own complaint is not in the server log) the run directory is not writable: write D/.probe-1: no space left on device"},
			0, "the run directory D"},
		{"at-the-file-size-limit", PostmasterExit{Pid: 7, Ended: EndedOnItsOwn, Code: 1,
			Cause: "FATAL:  (the postmaster's own complaint is not in the server log) D/server.log (32768 bytes) is at the postmaster's file size limit (32768 bytes): file too large"},
			0, "file too large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := infraFailure(c.exit, "D")
			if c.infra != "" {
				if err == nil || !strings.Contains(err.Error(), c.infra) || !strings.HasPrefix(err.Error(), "stress: ") {
					t.Errorf("infrastructure failure %v, want %q", err, c.infra)
				}
				return
			}
			if err != nil {
				t.Fatalf("infrastructure failure %v, want none", err)
			}
			r := postmasterResult(c.exit)
			if r.Outcome != c.want || r.Name != CheckPostmaster {
				t.Errorf("%s %v, want %v: %s\n%s", r.Name, r.Outcome, c.want, r.Summary, r.Detail)
			}
			if r.Outcome == Fail && (!strings.Contains(r.Detail, c.exit.Status()) || !strings.Contains(r.Detail, c.exit.Cause)) {
				t.Errorf("detail lacks the status or the cause:\n%s", r.Detail)
			}
		})
	}
}

func TestReadServerLog(t *testing.T) {
	pmFrame := "bgwmodel/impl/postmaster.(*loop).run(0x1)\n\t/src/impl/postmaster/run.go:120 +0x5\n"
	pmDump := "SIGABRT: abort\nPC=0x1 m=0 sigcode=0\n\ngoroutine 1 [select]:\n" + pmFrame
	workerDump := "SIGQUIT: quit\nPC=0x2 m=0\n\ngoroutine 1 [running]:\nbgwmodel/impl/worker.Main(0x3)\n"
	for _, c := range []struct {
		name, log, cause string
		tail             int
	}{
		{"record-log", `LOG:  starting
FATAL:  postmaster: record log: write records: file too large
FATAL:  terminating background worker "w" due to unexpected postmaster exit
FATAL:  terminating connection due to unexpected postmaster exit
FATAL:  backend: lost
FATAL:  supervisor: gone
`, "FATAL:  postmaster: record log: write records: file too large", 6},
		{"abort", pmDump + strings.Repeat("goroutine 7 [IO wait]:\n", 40), "SIGABRT: abort", serverLogTail},
		// A child's crash dump after the postmaster's is not its cause.
		{"abort-then-child", pmDump + workerDump, "SIGABRT: abort", 9},
		{"child-only", workerDump + "panic: boom\n\ngoroutine 1:\nbgwmodel/stress.flaky()\n", "", 7},
		{"panic", "LOG:  x\npanic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:\n" + pmFrame,
			"panic: runtime error: index out of range [3] with length 3", 5},
		{"fatal-error", "fatal error: concurrent map writes\n\ngoroutine 9 [running]:\n" +
			"created by bgwmodel/impl/pmdriver.Run in goroutine 1\n", "fatal error: concurrent map writes", 3},
		{"killed", "LOG:  nothing\n", "", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "server.log")
			os.WriteFile(path, []byte(c.log), 0o600)
			cause, tail := readServerLog(path)
			if cause != c.cause || len(tail) != c.tail {
				t.Errorf("cause %q, %d lines of tail; want %q, %d", cause, len(tail), c.cause, c.tail)
			}
		})
	}
	if cause, tail := readServerLog(filepath.Join(t.TempDir(), "none")); cause != "" || tail != nil {
		t.Errorf("no log: %q %q", cause, tail)
	}
}

func TestWithoutExitError(t *testing.T) {
	ee := &cluster.ExitError{Code: 2, Message: "panic"}
	other := os.ErrDeadlineExceeded
	for _, c := range []struct {
		name string
		in   error
		want string
	}{
		{"nil", nil, ""},
		{"alone", ee, ""},
		{"other", other, other.Error()},
		{"joined", errors.Join(other, ee), other.Error()},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := withoutExitError(c.in)
			if (got == nil) != (c.want == "") || (got != nil && got.Error() != c.want) {
				t.Errorf("withoutExitError(%v) = %v, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestCountTimeouts(t *testing.T) {
	waits := []WaitRecord{
		{Process: "b1", Client: 1, Call: 10, Outcome: WaitTimedOut},
		{Process: "b1", Client: 1, Call: 20, Outcome: WaitTimedOut}, // left waiting: a violation
		{Process: "b2", Client: 2, Call: 30, Outcome: WaitCancelled},
		{Process: "b2", Client: 2, Call: 40, Outcome: WaitLost},
	}
	v := &Verdict{Checks: []CheckResult{{Outcome: Pass}, {Outcome: Undecided}, {Outcome: Fail}},
		Waiters: []WaiterFinding{{Wait: waits[1]}}}
	got := countTimeouts(3, waits, v)
	if got != (Timeouts{Ops: 3, Waits: 1, Checks: 1}) || got.Total() != 5 {
		t.Errorf("countTimeouts = %+v", got)
	}
}

// TestSilentIOFailure: a postmaster that exited on an error of its own
// without a word in the server log is taken for an I/O failure only on
// evidence: a run directory that takes no write, or a log at the
// postmaster's file size limit.
func TestSilentIOFailure(t *testing.T) {
	t.Run("at-the-limit", func(t *testing.T) {
		c := &campaign{dir: t.TempDir(), pmFileLimit: 32 << 10}
		os.WriteFile(filepath.Join(c.dir, RecordsFile), make([]byte, 1000), 0o600)
		if got := c.silentIOFailure(); got != "" {
			t.Errorf("a small record log: %q, want no I/O failure", got)
		}
		os.WriteFile(filepath.Join(c.dir, cluster.ServerLogFile), make([]byte, 32<<10), 0o600)
		if got := c.silentIOFailure(); !ioFailure(got) || !strings.Contains(got, "server.log (32768 bytes) is at the postmaster's file size limit (32768 bytes): file too large") {
			t.Errorf("a server log at the limit: %q", got)
		}
	})
	t.Run("unlimited", func(t *testing.T) {
		c := &campaign{dir: t.TempDir()}
		os.WriteFile(filepath.Join(c.dir, RecordsFile), make([]byte, 64<<10), 0o600)
		if got := c.silentIOFailure(); got != "" {
			t.Errorf("%q, want no I/O failure", got)
		}
	})
	t.Run("full", func(t *testing.T) {
		dir := t.TempDir()
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
			t.Skipf("cannot mount a tmpfs (need root or CAP_SYS_ADMIN): %v", err)
		}
		t.Cleanup(func() { syscall.Unmount(dir, 0) })
		f, err := os.Create(filepath.Join(dir, "filler"))
		if err != nil {
			t.Fatal(err)
		}
		for err == nil {
			_, err = f.Write(make([]byte, 4096))
		}
		f.Close()
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("filling the tmpfs: %v", err)
		}
		c := &campaign{dir: dir}
		if got := c.silentIOFailure(); !ioFailure(got) || !strings.Contains(got, syscall.ENOSPC.Error()) {
			t.Errorf("a full run directory: %q", got)
		}
	})
}

func TestFileSizeLimit(t *testing.T) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if got := fileSizeLimit(os.Getpid()); old.Cur == ^uint64(0) && got != 0 {
		t.Errorf("unlimited: %d", got)
	}
	huge := uint64(1) << 50 // no test file comes near it
	if old.Max != ^uint64(0) && old.Max < huge {
		t.Skipf("hard limit %d", old.Max)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: huge, Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	if got := fileSizeLimit(os.Getpid()); got != int64(huge) {
		t.Errorf("fileSizeLimit = %d, want %d", got, huge)
	}
	if got := fileSizeLimit(-1); got != 0 {
		t.Errorf("no such process: %d", got)
	}
}

// TestDeathCall: a postmaster that exited on its own died, for its
// children, when it closed the death pipe, however long it lived on.
func TestDeathCall(t *testing.T) {
	closed := postmaster.Record{Kind: postmaster.RecordDeathPipeClosed, Call: 40, Return: 40}
	done := postmaster.Record{Kind: postmaster.RecordShutdownDone, Call: 38, Return: 39}
	for _, tc := range []struct {
		name      string
		lastAlive uint64
		recs      []postmaster.Record
		want      uint64
	}{
		{"no close recorded", 90, []postmaster.Record{done}, 90},
		{"the close, long before the exit", 90, []postmaster.Record{done, closed}, 40},
		{"seen alive last before the close", 30, []postmaster.Record{done, closed}, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := deathCall(tc.lastAlive, tc.recs); got != tc.want {
				t.Fatalf("deathCall = %d, want %d", got, tc.want)
			}
		})
	}
}
