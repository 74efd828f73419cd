package stress

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"bgwmodel/impl/cluster"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/proc"
	"bgwmodel/internal/jsonpos"
	"bgwmodel/internal/safefile"
	"bgwmodel/linearizability"
	"bgwmodel/spec"
)

// PostmasterExitFile records how the campaign's postmaster ended
// ([PostmasterExit], JSON), so that `bgw check` judges
// [CheckPostmaster] again.
const PostmasterExitFile = "postmaster-exit.json"

// How the postmaster of a campaign ended ([PostmasterExit.Ended]).
const (
	// EndedStopped: the harness's orderly stop (SIGTERM) ended it; how
	// well is the stop check's business.
	EndedStopped = "stopped"
	// EndedKilled: the harness killed it (the postmaster-death fault).
	EndedKilled = "killed"
	// EndedOnItsOwn: it exited while the campaign ran, and nobody asked
	// it to: a panic, a fatal error, a signal from elsewhere, an error of
	// its own.
	EndedOnItsOwn = "on its own"
)

// PostmasterExit is how a campaign's postmaster ended, as the harness saw
// it.
type PostmasterExit struct {
	Pid int `json:"pid"`
	// Ended is EndedStopped, EndedKilled or EndedOnItsOwn.
	Ended string `json:"ended"`
	// Code is the postmaster's exit code, 128+N if signal N killed it.
	Code int `json:"code"`
	// Cause is the last complaint in the server log that can be the
	// postmaster's (a FATAL line of none of its children, the first line
	// of a Go runtime crash: a panic, a fatal error, a signal), or "".
	Cause string `json:"cause,omitempty"`
	// LogTail is the last lines of the server log.
	LogTail []string `json:"server_log_tail,omitempty"`
}

// Status describes the exit code: "exit code 1", or "killed by signal 9
// (killed)" for 128+N. It does not block.
func (e PostmasterExit) Status() string {
	if e.Code > 128 && e.Code < 128+65 {
		return fmt.Sprintf("killed by signal %d (%v)", e.Code-128, syscall.Signal(e.Code-128))
	}
	return fmt.Sprintf("exit code %d", e.Code)
}

// infraFailure returns the I/O error of the run directory dir that made
// the postmaster exit (a write to its record log failed: the disk is
// full, a file size limit was reached), or nil: such an exit is a failure
// of the machine the campaign ran on, not a violation.
func infraFailure(e PostmasterExit, dir string) error {
	if e.Ended == EndedKilled || (e.Ended == EndedStopped && e.Code == 0) || !ioFailure(e.Cause) {
		return nil
	}
	what := "the run directory " + dir
	if strings.Contains(e.Cause, "record log:") {
		what = "its record log " + filepath.Join(dir, RecordsFile)
	}
	return fmt.Errorf("stress: the postmaster exited (%s) on %w writing %s: %s", e.Status(), errPostmasterIO, what,
		strings.Join(strings.Fields(e.Cause), " "))
}

// errPostmasterIO is wrapped by infraFailure's error.
var errPostmasterIO = errors.New("an I/O error")

// ioErrnos are the errors of a write to a full, limited or broken file
// system.
var ioErrnos = []syscall.Errno{syscall.ENOSPC, syscall.EFBIG, syscall.EDQUOT, syscall.EIO, syscall.EROFS}

// ioFailure reports whether a complaint of the postmaster is an I/O error
// of the files it writes: its record log, or anything failing with a file
// system's errors.
func ioFailure(cause string) bool {
	if !strings.HasPrefix(cause, "FATAL:") {
		return false // a panic or a signal, whatever its message says
	}
	if strings.Contains(cause, "record log:") {
		return true
	}
	for _, e := range ioErrnos {
		if strings.Contains(cause, e.Error()) {
			return true
		}
	}
	return false
}

// postmasterResult judges how the postmaster ended: [CheckPostmaster]
// fails if it ended on its own (an infrastructure failure is not judged:
// see [PostmasterExit.InfrastructureFailure]).
func postmasterResult(e PostmasterExit) CheckResult {
	r := CheckResult{Name: CheckPostmaster, Outcome: Pass}
	switch e.Ended {
	case EndedStopped:
		r.Summary = "ran until the harness stopped it"
	case EndedKilled:
		r.Summary = "ran until the harness killed it (postmaster-death fault)"
	default:
		r.Outcome = Fail
		r.Summary = fmt.Sprintf("the postmaster (pid %d) exited on its own: %s", e.Pid, e.Status())
		var b strings.Builder
		fmt.Fprintf(&b, "the postmaster (pid %d) exited while the campaign ran, neither killed nor stopped by the harness: %s\n", e.Pid, e.Status())
		if e.Cause != "" {
			fmt.Fprintf(&b, "last complaint in the server log: %s\n", e.Cause)
		}
		if len(e.LogTail) > 0 {
			fmt.Fprintf(&b, "last lines of the server log:\n")
			for _, l := range e.LogTail {
				fmt.Fprintf(&b, "  | %s\n", l)
			}
		}
		r.Detail = b.String()
	}
	return r
}

// serverLogTail is how many lines of the server log PostmasterExit keeps.
const serverLogTail = 12

// readServerLog returns the postmaster's last complaint in the server log
// at path and the log's last lines. The log is shared by every process of
// the cluster: a FATAL line of a backend, a worker or the supervisor is
// not the postmaster's, nor is a Go runtime crash (a panic, a fatal error,
// a signal's stack dump) whose stacks show none of the postmaster's code.
func readServerLog(path string) (cause string, tail []string) {
	f, err := safefile.Open(path)
	if err != nil {
		return "", nil
	}
	defer f.Close()
	var crash string // the first line of the crash dump being read
	var ours bool    // its stacks run the postmaster's code
	endCrash := func() {
		if crash != "" && ours {
			cause = crash
		}
		crash, ours = "", false
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if line == "" {
			continue
		}
		switch {
		case crashHeader(line):
			endCrash()
			crash = line
		case crash != "" && postmasterFrame(line):
			ours = true
		case postmasterFatal(line):
			cause = line
		}
		tail = append(tail, line)
		if len(tail) > 4*serverLogTail {
			tail = append(tail[:0], tail[len(tail)-serverLogTail:]...)
		}
	}
	endCrash()
	if len(tail) > serverLogTail {
		tail = tail[len(tail)-serverLogTail:]
	}
	return cause, tail
}

// postmasterFatal reports whether a server log line is a FATAL line of the
// postmaster's own, not one of its children's or the supervisor's.
func postmasterFatal(line string) bool {
	if !strings.HasPrefix(line, "FATAL:  ") {
		return false
	}
	for _, other := range []string{"FATAL:  background worker", "FATAL:  terminating ", "FATAL:  backend:", "FATAL:  supervisor:"} {
		if strings.HasPrefix(line, other) {
			return false
		}
	}
	return true
}

// crashHeader reports whether a server log line starts a Go runtime crash
// dump: "panic: ...", "fatal error: ...", "SIGABRT: abort".
func crashHeader(line string) bool {
	switch {
	case strings.HasPrefix(line, "panic: "), strings.HasPrefix(line, "fatal error: "):
		return true
	case strings.HasPrefix(line, "SIG") && strings.Contains(line, ": "):
		name, _, _ := strings.Cut(line, ":")
		return !strings.Contains(name, " ")
	}
	return false
}

// postmasterFrame reports whether a line of a stack dump is in the
// postmaster's code.
func postmasterFrame(line string) bool {
	return strings.Contains(line, "bgwmodel/impl/postmaster.") || strings.Contains(line, "bgwmodel/impl/pmdriver.") ||
		strings.Contains(line, "bgwmodel/impl/cluster.postmasterMain") ||
		strings.Contains(line, "bgwmodel/impl/cluster.runPostmaster")
}

// deathWait bounds how long an error that may come from the postmaster's
// death (a lost connection, a refused request) waits for the death to be
// seen.
const deathWait = 3 * time.Second

// postmasterDead reports whether the postmaster is known dead: killed by
// the harness, or seen exited on its own. It does not block.
func (c *campaign) postmasterDead() bool { return c.dead.Load() || c.exited.Load() }

// postmasterGone reports whether the postmaster is dead, waiting up to
// deathWait for an exit in progress to be seen: call it on an error that
// the postmaster's death may explain.
func (c *campaign) postmasterGone() bool {
	deadline := time.Now().Add(deathWait)
	for {
		if c.pollPostmaster() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pollPostmaster looks whether the postmaster is still alive and reports
// whether it is dead. The first time it finds the postmaster gone without
// the harness having killed it, it records the death as the harness's
// Died operation (called at the last stamp taken before it was last seen
// alive, returning after it was seen gone), which the checks need as much
// as a killed postmaster's, and notes the violation.
func (c *campaign) pollPostmaster() bool {
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	if c.postmasterDead() {
		return true
	}
	before := c.clock.Stamp()
	if c.postmasterAlive() {
		c.lastAlive = before
		return false
	}
	if c.dead.Load() { // the harness killed it meanwhile
		return true
	}
	c.mu.Lock()
	c.tail.poll() // an error is the final check's to report
	call := deathCall(c.lastAlive, c.tail.recs)
	c.mu.Unlock()
	op := linearizability.Operation{Client: harnessClient, Process: harnessProcess, Input: spec.Input{Kind: spec.OpDied},
		Call: linearizability.Stamp(call), Return: linearizability.Stamp(c.clock.Stamp())}
	c.exited.Store(true)
	c.mu.Lock()
	c.died = &op
	c.mu.Unlock()
	if st, err := c.rec.open(harnessProcess, harnessProcess, harnessClient); err == nil {
		err = st.encode(op)
		if cerr := st.close(); err == nil {
			err = cerr
		}
		if err != nil {
			c.noteErr(err)
		}
	} else {
		c.noteErr(err)
	}
	if cause, _ := readServerLog(c.cl.ServerLogPath()); ioFailure(cause) {
		c.cancel() // an infrastructure failure (see finish): nothing left to run for
	} else {
		c.found(fmt.Sprintf("%s: the postmaster exited on its own", CheckPostmaster))
	}
	return true
}

// deathCall is the Call stamp of the Died operation of a postmaster that
// exited on its own, last seen alive after the stamp lastAlive. Its death,
// as its children see it, is the close of the postmaster-death pipe,
// which it stamps in its record log (RecordDeathPipeClosed) before it
// drains them, alive meanwhile, for up to seconds: the operation is
// called no later than that stamp, or a POSTMASTER_DIED answer given
// meanwhile would look impossible. An earlier Call only widens the
// operation, which is always sound.
func deathCall(lastAlive uint64, recs []postmaster.Record) uint64 {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Kind == postmaster.RecordDeathPipeClosed {
			return min(lastAlive, recs[i].Call)
		}
	}
	return lastAlive
}

// postmasterAlive reports whether the postmaster process is alive (a
// SIGSTOPped one is): not gone, not a zombie, and still the supervisor's
// child (not a reused pid).
func (c *campaign) postmasterAlive() bool {
	st, err := proc.Stat(c.cl.PostmasterPid())
	return err == nil && !st.Exited() && st.Ppid == c.cl.SupervisorPid()
}

// postmasterExit tells how the postmaster ended, once Stop has returned
// stopErr.
func (c *campaign) postmasterExit(stopErr error) PostmasterExit {
	e := PostmasterExit{Pid: c.cl.PostmasterPid(), Ended: EndedStopped}
	var ee *cluster.ExitError
	if errors.As(stopErr, &ee) {
		e.Code = ee.Code
	}
	switch {
	case c.dead.Load():
		e.Ended, e.Code = EndedKilled, 128+int(syscall.SIGKILL)
	case c.exited.Load():
		e.Ended = EndedOnItsOwn
	}
	e.Cause, e.LogTail = readServerLog(c.cl.ServerLogPath())
	if e.Cause == "" && e.Code == cluster.ExitFailure && e.Ended != EndedKilled {
		e.Cause = c.silentIOFailure()
	}
	return e
}

// silentIOFailure explains an exit of the postmaster on an error of its
// own (cluster.ExitFailure) that left no complaint in the server log: if
// the run directory is full, or the record log or the server log is at
// the postmaster's file size limit, its last words had no room either.
// It returns a FATAL line saying so, which ioFailure recognises, or "".
func (c *campaign) silentIOFailure() string {
	const prefix = "FATAL:  (the postmaster's own complaint is not in the server log) "
	if err := probeWrite(c.dir); err != nil {
		return prefix + fmt.Sprintf("the run directory is not writable: %v", err)
	}
	var st syscall.Statfs_t
	if syscall.Statfs(c.dir, &st) == nil && (st.Bavail*uint64(st.Bsize) < 64<<10 || st.Files > 0 && st.Ffree == 0) {
		return prefix + fmt.Sprintf("the run directory's file system is full (%d bytes, %d inodes free): %v",
			st.Bavail*uint64(st.Bsize), st.Ffree, syscall.ENOSPC)
	}
	if c.pmFileLimit > 0 {
		for _, name := range []string{RecordsFile, cluster.ServerLogFile} {
			path := filepath.Join(c.dir, name)
			if fi, err := os.Stat(path); err == nil && fi.Size()+4096 > c.pmFileLimit {
				return prefix + fmt.Sprintf("%s (%d bytes) is at the postmaster's file size limit (%d bytes): %v",
					path, fi.Size(), c.pmFileLimit, syscall.EFBIG)
			}
		}
	}
	return ""
}

// fileSizeLimit returns the soft RLIMIT_FSIZE of process pid, from
// /proc/PID/limits, or 0 if it has none or it cannot be read.
func fileSizeLimit(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max file size"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil { // "unlimited"
				return 0
			}
			return n
		}
	}
	return 0
}

// probeWrite checks that 4 KiB can be written to a new file in dir.
func probeWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, 4096))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// withoutExitError drops the postmaster's *cluster.ExitError from Stop's
// error: [CheckPostmaster] reports an exit on its own.
func withoutExitError(err error) error {
	var ee *cluster.ExitError
	if err == nil || !errors.As(err, &ee) {
		return err
	}
	if err == error(ee) {
		return nil
	}
	var rest []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !errors.As(e, &ee) {
				rest = append(rest, e)
			}
		}
	}
	return errors.Join(rest...)
}

func writePostmasterExit(path string, e PostmasterExit) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err == nil {
		err = os.WriteFile(path, append(b, '\n'), 0o600)
	}
	if err != nil {
		return fmt.Errorf("stress: %w", err)
	}
	return nil
}

// readPostmasterExit reads a run directory's PostmasterExitFile.
func readPostmasterExit(path string) (PostmasterExit, error) {
	data, err := safefile.ReadFile(path)
	if err != nil {
		return PostmasterExit{}, fmt.Errorf("stress: %w", err)
	}
	var e PostmasterExit
	if err := decodeStrict(data, &e); err != nil {
		return PostmasterExit{}, inFile(path, data, err)
	}
	switch e.Ended {
	case EndedStopped, EndedKilled, EndedOnItsOwn:
	default:
		return PostmasterExit{}, &ConfigError{File: path, Line: jsonpos.FieldLine(data, "ended"), Field: "ended",
			Err: fmt.Errorf("want %q, %q or %q, got %q", EndedStopped, EndedKilled, EndedOnItsOwn, e.Ended)}
	}
	if e.Pid <= 0 {
		return PostmasterExit{}, &ConfigError{File: path, Line: jsonpos.FieldLine(data, "pid"), Field: "pid",
			Err: fmt.Errorf("want a pid > 0, got %d", e.Pid)}
	}
	return e, nil
}
