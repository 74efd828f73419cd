package pmdriver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/shmem"
	"bgwmodel/impl/shmem/memfd"
	"bgwmodel/impl/worker"
)

// RoleBackend is the default [proc.EnvRole] of the backend processes the
// OS loop starts ([RunConfig.BackendRole]).
const RoleBackend = "backend"

// DefaultDrainTimeout is how long [Run] waits, once the postmaster exits,
// for its backends to notice its death and exit before it kills them.
const DefaultDrainTimeout = 5 * time.Second

// RunConfig configures [Run]: the core's [postmaster.Config] and the OS resources the
// loop drives.
type RunConfig struct {
	// Config is the core's configuration. Stamp, if set, is called from
	// the loop's goroutine only.
	postmaster.Config
	// Segment is the shared memory for the core, of at least
	// bgworker.ShmemSize(MaxWorkers) bytes. Every child gets its memfd at
	// proc.FDShmem. Run does not close it.
	Segment *memfd.Region
	// Log receives the records, one JSON line each ([postmaster.AppendRecordLine]),
	// each with one write, all of a step's records before its first
	// action is performed. Nil: records are dropped. Run does not close it.
	Log *os.File
	// Control carries [ControlRequest] lines; end-of-file (the harness is
	// gone) is a shutdown request. Nil: no control channel. Run takes
	// ownership and closes it when it returns. It should be pollable (a
	// pipe made by os.Pipe or opened with proc.OpenInherited), so that
	// the close stops the goroutine reading it.
	Control *os.File
	// Replies receives the ready line and a [ControlReply] per request.
	// Run does not close it.
	Replies *os.File
	// ChildFiles are passed to every child after the segment and the
	// postmaster-death pipe, at proc.FDExtra on (a logical clock region,
	// say). Run does not close them.
	ChildFiles []*os.File
	// ChildEnv is added to every child's environment.
	ChildEnv []string
	// BackendRole is the role of backend processes; "" means
	// [RoleBackend].
	BackendRole string
	// BackendEnv, if set, returns environment entries for the backend
	// named id (how it finds the harness, say).
	BackendEnv func(id string) []string
	// Stderr receives the loop's own complaints (a failed kill, an
	// unknown child); nil means os.Stderr. Children inherit the process's
	// standard files, not this.
	Stderr io.Writer
	// DrainTimeout bounds the wait for backends after the postmaster's
	// exit; 0 means [DefaultDrainTimeout].
	DrainTimeout time.Duration
	// BeforeAccess, if set, is called before each of the core's accesses
	// to shared memory, on the loop's goroutine, once the breakpoint
	// (OpStopAt) has counted it: the cluster's race-widening noise. It
	// may block, which delays the access.
	BeforeAccess func(shmem.Access)
}

// Run is the postmaster's OS loop (PostmasterMain and ServerLoop): one
// goroutine owns a [postmaster.Core] built from rc.Config and feeds it events —
// SIGUSR1 (EventPMSignal), SIGTERM or SIGINT (EventShutdown), SIGCHLD
// (proc.Reap, then EventChildExited or EventBackendExited), its
// [postmaster.ActionWakeAt] timer (EventTick), control requests — timed by a monotonic
// clock started at the call. It performs the core's actions: ActionSpawn
// re-executes the binary as a worker.Role process with worker.Environ, the
// segment and the postmaster-death pipe, answered at once with
// EventSpawnResult; ActionSignal is proc.Kill; ActionKillAll sends SIGQUIT
// to every child not yet reaped; ActionExit ends the loop.
//
// After ActionExit it closes the postmaster-death pipe, waits up to
// DrainTimeout for the backends (which exit when they see the death),
// kills and reaps any left, and returns nil. If ctx ends, or the core or
// the record log fails, it writes "FATAL:  " and the error to Stderr,
// then sends SIGQUIT to every child, closes the pipe, reaps them likewise
// and returns the error. The complaint comes first so that it precedes
// anything the dying children write to a log they share, and survives a
// log that fills up with it.
//
// Run changes process-wide signal handling and reaps every child of the
// process: it is for the postmaster process only, and at most one Run may
// be active in a process. It blocks until the postmaster exits.
func Run(ctx context.Context, rc RunConfig) (err error) {
	if rc.Segment == nil {
		return fmt.Errorf("%w: no segment", postmaster.ErrConfig)
	}
	l := &loop{rc: rc, start: time.Now(), workers: map[int]bool{}, backends: map[int]bool{}}
	if l.rc.BackendRole == "" {
		l.rc.BackendRole = RoleBackend
	}
	if l.rc.Stderr == nil {
		l.rc.Stderr = os.Stderr
	}
	if l.rc.DrainTimeout <= 0 {
		l.rc.DrainTimeout = DefaultDrainTimeout
	}
	// Subscribe before the first child exists: no SIGCHLD or SIGUSR1 is
	// missed.
	chld := proc.NotifyChildExit()
	defer chld.Stop()
	usr1 := proc.Notify(syscall.SIGUSR1)
	defer usr1.Stop()
	term := proc.Notify(syscall.SIGTERM, syscall.SIGINT)
	defer term.Stop()

	var reqs <-chan []byte
	if rc.Control != nil {
		c := make(chan []byte)
		reqs = c
		done := make(chan struct{})
		go readLines(rc.Control, c, done)
		defer func() {
			rc.Control.Close()
			close(done)
		}()
	}
	if l.core, err = postmaster.New(rc.Config, shmem.Observe(rc.Segment, l.observe)); err != nil {
		return err
	}
	if l.death, err = proc.NewDeathPipe(); err != nil {
		return err
	}
	l.timer = time.NewTimer(time.Hour)
	l.timer.Stop()
	defer l.timer.Stop()
	defer func() {
		if err != nil {
			fmt.Fprintf(l.rc.Stderr, "FATAL:  %v\n", err)
			l.emergency()
		}
	}()

	if err := l.step(postmaster.Event{Kind: postmaster.EventStart}); err != nil {
		return err
	}
	l.reply(ControlReply{Ready: true, OK: true, Pid: os.Getpid(), SegmentID: rc.SegmentID, MaxWorkers: rc.MaxWorkers})
	for !l.exited {
		var err error
		select {
		case <-chld.C():
			err = l.reap()
		case <-usr1.C():
			err = l.step(postmaster.Event{Kind: postmaster.EventPMSignal})
		case <-term.C():
			err = l.step(postmaster.Event{Kind: postmaster.EventShutdown})
		case <-l.timer.C:
			l.wakeSet = false
			err = l.step(postmaster.Event{Kind: postmaster.EventTick})
		case line, ok := <-reqs:
			if !ok {
				reqs = nil
				err = l.step(postmaster.Event{Kind: postmaster.EventShutdown})
				break
			}
			err = l.request(line)
		case <-ctx.Done():
			err = fmt.Errorf("postmaster: %w", ctx.Err())
		}
		if err != nil {
			return err
		}
	}
	l.closeDeath()
	l.drain(l.rc.DrainTimeout)
	return nil
}

// readLines sends each line of f on c until f ends or fails (then closes
// c) or done is closed.
func readLines(f *os.File, c chan<- []byte, done <-chan struct{}) {
	defer close(c)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		select {
		case c <- line:
		case <-done:
			return
		}
	}
}

// loop is Run's state, owned by its goroutine.
type loop struct {
	rc    RunConfig
	core  *postmaster.Core
	start time.Time
	death *proc.DeathPipe

	workers  map[int]bool // worker pids spawned and not yet reaped
	backends map[int]bool // backend pids spawned and not yet reaped
	failNext int          // worker spawns still to fail (OpFailSpawns)
	stopIn   int          // shared-memory accesses until the breakpoint (OpStopAt); 0: none
	accesses uint64       // shared-memory accesses so far

	timer   *time.Timer
	wakeSet bool
	wakeAt  time.Duration

	exited bool
	buf    []byte
}

// now is the monotonic clock since Run started.
func (l *loop) now() time.Duration { return time.Since(l.start) }

// step feeds ev to the core (stamped with the clock), logs its records and
// performs its actions in order. A spawn's result is fed back at once,
// before the next action.
func (l *loop) step(ev postmaster.Event) error {
	if l.exited {
		return nil
	}
	ev.Now = l.now()
	if err := l.core.Step(ev); err != nil {
		return err
	}
	rd := l.core.Ready()
	if err := l.logRecords(rd.Records); err != nil {
		return err
	}
	for _, a := range rd.Actions {
		if err := l.perform(a); err != nil {
			return err
		}
	}
	return nil
}

// logRecords writes each record with a single write.
func (l *loop) logRecords(recs []postmaster.Record) error {
	if l.rc.Log == nil {
		return nil
	}
	for _, r := range recs {
		var err error
		if l.buf, err = postmaster.AppendRecordLine(l.buf[:0], r); err != nil {
			return err
		}
		if _, err := l.rc.Log.Write(l.buf); err != nil {
			return fmt.Errorf("postmaster: record log: %w", err)
		}
	}
	return nil
}

// perform carries out one action.
func (l *loop) perform(a postmaster.Action) error {
	switch a.Kind {
	case postmaster.ActionSpawn:
		ev := postmaster.Event{Kind: postmaster.EventSpawnResult, SpawnToken: a.Token}
		if pid, err := l.spawnWorker(a); err != nil {
			ev.SpawnErr = err.Error()
		} else {
			ev.Pid = int32(pid)
		}
		return l.step(ev)
	case postmaster.ActionSignal:
		l.signal(int(a.Pid), a.Signal)
	case postmaster.ActionWakeAt:
		if !l.wakeSet || a.At < l.wakeAt {
			l.wakeSet, l.wakeAt = true, a.At
			l.timer.Reset(max(a.At-l.now(), 0))
		}
	case postmaster.ActionKillAll:
		l.killAll(syscall.SIGQUIT)
	case postmaster.ActionExit:
		l.exited = true
	}
	return nil
}

// spawnWorker starts a worker process for a (do_start_bgworker's fork),
// or fails it on purpose (OpFailSpawns).
func (l *loop) spawnWorker(a postmaster.Action) (int, error) {
	if l.failNext > 0 {
		l.failNext--
		return 0, errors.New("injected spawn failure")
	}
	env, err := worker.Environ(a.Worker)
	if err != nil {
		return 0, err
	}
	pid, err := (&proc.Command{Role: worker.Role, Env: append(env, l.rc.ChildEnv...), Files: l.childFiles()}).Start()
	if err != nil {
		return 0, err
	}
	l.workers[pid] = true
	return pid, nil
}

// childFiles are fds 3, 4, 5... of every child.
func (l *loop) childFiles() []*os.File {
	return append([]*os.File{l.rc.Segment.File(), l.death.ReadEnd()}, l.rc.ChildFiles...)
}

var osSignals = map[postmaster.Signal]syscall.Signal{postmaster.SIGUSR1: syscall.SIGUSR1, postmaster.SIGTERM: syscall.SIGTERM, postmaster.SIGQUIT: syscall.SIGQUIT}

// signal sends sig to pid; a process already gone is not an error.
func (l *loop) signal(pid int, sig postmaster.Signal) {
	s, ok := osSignals[sig]
	if !ok {
		fmt.Fprintf(l.rc.Stderr, "postmaster: unknown signal %v for pid %d\n", sig, pid)
		return
	}
	if err := proc.Kill(pid, s); err != nil && !errors.Is(err, syscall.ESRCH) {
		fmt.Fprintf(l.rc.Stderr, "postmaster: %v\n", err)
	}
}

// killAll signals every child not yet reaped, and its process group.
func (l *loop) killAll(sig syscall.Signal) {
	var pids []int
	for pid := range l.workers {
		pids = append(pids, pid)
	}
	for pid := range l.backends {
		pids = append(pids, pid)
	}
	if err := proc.KillAll(pids, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		fmt.Fprintf(l.rc.Stderr, "postmaster: %v\n", err)
	}
}

// reap reaps every ended child and reports it to the core.
func (l *loop) reap() error {
	exits, err := proc.Reap()
	for _, e := range exits {
		var serr error
		switch {
		case l.workers[e.Pid]:
			delete(l.workers, e.Pid)
			serr = l.step(postmaster.Event{Kind: postmaster.EventChildExited, Pid: int32(e.Pid), Exit: e.Status})
		case l.backends[e.Pid]:
			delete(l.backends, e.Pid)
			serr = l.step(postmaster.Event{Kind: postmaster.EventBackendExited, Pid: int32(e.Pid), Exit: e.Status})
		default:
			fmt.Fprintf(l.rc.Stderr, "postmaster: reaped unknown child %v\n", e)
		}
		if serr != nil {
			return serr
		}
	}
	if err != nil {
		return fmt.Errorf("postmaster: %w", err)
	}
	return nil
}

// request handles one control line.
func (l *loop) request(line []byte) error {
	req, err := parseRequest(line)
	if err != nil {
		l.reply(ControlReply{Code: CodeBadRequest, Error: err.Error()})
		return nil
	}
	switch req.Op {
	case OpStartBackend:
		return l.startBackend(req.ID)
	case OpFailSpawns:
		l.failNext += req.N
		l.reply(ControlReply{OK: true})
	case OpShutdown:
		l.reply(ControlReply{OK: true})
		return l.step(postmaster.Event{Kind: postmaster.EventShutdown})
	case OpStopAt:
		l.stopIn = req.N
		l.reply(ControlReply{OK: true, Accesses: l.accesses})
	}
	return nil
}

// observe counts the core's accesses to shared memory down to the armed
// breakpoint (OpStopAt), and stops the process there; then it calls
// BeforeAccess. The core runs on the loop's goroutine only, as do
// requests, so stopIn needs no lock.
func (l *loop) observe(a shmem.Access) {
	l.accesses++
	if l.rc.BeforeAccess != nil {
		defer l.rc.BeforeAccess(a)
	}
	if l.stopIn == 0 {
		return
	}
	if l.stopIn--; l.stopIn == 0 {
		fmt.Fprintf(l.rc.Stderr, "postmaster: breakpoint: stopped before %s\n", bgworker.DescribeAccess(a))
		if err := proc.StopSelf(); err != nil {
			fmt.Fprintf(l.rc.Stderr, "postmaster: breakpoint: %v\n", err)
		}
	}
}

// startBackend starts backend id (BackendStartup) and tells the core
// before anything else can happen: the backend is live before it can
// register a worker.
func (l *loop) startBackend(id string) error {
	if st := l.core.PMState(); st != postmaster.PMRun {
		l.reply(ControlReply{Code: CodeNotAccepting, Error: fmt.Sprintf("postmaster is not accepting connections (%v)", st)})
		return nil
	}
	env := append([]string(nil), l.rc.ChildEnv...)
	if l.rc.BackendEnv != nil {
		env = append(env, l.rc.BackendEnv(id)...)
	}
	pid, err := (&proc.Command{Role: l.rc.BackendRole, Env: env, Files: l.childFiles()}).Start()
	if err != nil {
		l.reply(ControlReply{Code: CodeSpawnFailed, Error: err.Error()})
		return nil
	}
	l.backends[pid] = true
	if err := l.step(postmaster.Event{Kind: postmaster.EventBackendStarted, Pid: int32(pid)}); err != nil {
		return err
	}
	l.reply(ControlReply{OK: true, Pid: pid})
	return nil
}

// reply writes one reply line; a harness that is gone is not an error
// (its end-of-file on Control shuts the postmaster down).
func (l *loop) reply(r ControlReply) {
	if l.rc.Replies == nil {
		return
	}
	b, err := AppendLine(nil, r)
	if err == nil {
		_, err = l.rc.Replies.Write(b)
	}
	if err != nil && !errors.Is(err, syscall.EPIPE) {
		fmt.Fprintf(l.rc.Stderr, "postmaster: reply: %v\n", err)
	}
}

// closeDeath closes the postmaster-death pipe: every child sees the
// postmaster as dead from now on. It first logs RecordDeathPipeClosed,
// stamped before the close: a checker must be able to place the death
// before any child's POSTMASTER_DIED, and the process lives on while it
// drains its children, so its exit comes too late for that. A failure to
// log it is not reported here: the loop is ending on its own error or
// after the core's last record, and a checker without the record only
// places the death less precisely, never wrongly.
func (l *loop) closeDeath() {
	if l.death == nil {
		return
	}
	if l.rc.Config.Stamp != nil {
		s := l.rc.Config.Stamp()
		_ = l.logRecords([]postmaster.Record{{Kind: postmaster.RecordDeathPipeClosed, Now: time.Since(l.start), Call: s, Return: s, Slot: -1}})
	}
	l.death.Close()
	l.death = nil
}

// emergency ends every child after a failure: SIGQUIT, death pipe, drain.
func (l *loop) emergency() {
	l.killAll(syscall.SIGQUIT)
	l.closeDeath()
	l.drain(l.rc.DrainTimeout)
}

// drain reaps children until none is left or timeout passes, then kills
// the rest with SIGKILL and reaps them.
func (l *loop) drain(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for len(l.workers)+len(l.backends) > 0 {
		exits, _ := proc.Reap()
		for _, e := range exits {
			delete(l.workers, e.Pid)
			delete(l.backends, e.Pid)
		}
		if len(l.workers)+len(l.backends) == 0 {
			return
		}
		if time.Now().After(deadline) {
			l.killAll(syscall.SIGKILL)
			for pid := range l.workers {
				proc.WaitPid(pid)
			}
			for pid := range l.backends {
				proc.WaitPid(pid)
			}
			fmt.Fprintf(l.rc.Stderr, "postmaster: killed %d children still running after %v\n",
				len(l.workers)+len(l.backends), timeout)
			clear(l.workers)
			clear(l.backends)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
