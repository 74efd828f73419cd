package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/shmem"
	"bgwmodel/impl/worker"
)

// Exit codes of a backend process.
const (
	// exitBackendOK: the harness closed the connection.
	exitBackendOK = 0
	// exitBackendFatal: FATAL — setup failed, SIGTERM, or the
	// postmaster died.
	exitBackendFatal = 1
	// exitBackendQuit: SIGQUIT (quickdie), at once.
	exitBackendQuit = 2
)

// dialTimeout bounds a backend's connection to the harness.
const dialTimeout = 5 * time.Second

// backendMain is a backend process (PostgresMain for a connection that
// runs the background-worker API): it attaches to the segment, connects
// to the harness, says hello and serves requests until the harness hangs
// up, asks it to exit, or the postmaster dies.
func backendMain(reg *worker.Registry) int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGQUIT)
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR2)
	go func() {
		if s := <-sigs; s == syscall.SIGQUIT {
			os.Exit(exitBackendQuit) // quickdie: no cleanup
		}
		fmt.Fprintln(os.Stderr, "FATAL:  terminating connection due to administrator command")
		os.Exit(exitBackendFatal)
	}()
	b, err := newBackendProcess(reg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FATAL:  backend: %v\n", err)
		return exitBackendFatal
	}
	return b.serve()
}

// backendProcess is the state of a backend process.
type backendProcess struct {
	reg   *worker.Registry
	child *proc.Child
	be    *bgworker.Backend
	latch bgworker.Latch
	steps *stepper // counts the steps of each operation; see Backend.StopAt
	pid   int32
	conn  net.Conn
	enc   *json.Encoder
}

func newBackendProcess(reg *worker.Registry) (*backendProcess, error) {
	child, err := proc.ChildFromEnv()
	if err != nil {
		return nil, err
	}
	noise, err := noiseFromEnv()
	if err != nil {
		return nil, err
	}
	z := newNoiser(noise, noiseBackend+os.Getenv(EnvBackendID))
	steps := &stepper{}
	seg, err := bgworker.Attach(shmem.Observe(child.Region, z.observe(steps.observe)))
	if err != nil {
		return nil, err
	}
	lock, err := proc.NewLock(child.Region.File())
	if err != nil {
		return nil, err
	}
	sig, err := child.Signaller()
	if err != nil {
		return nil, err
	}
	flaws, err := flaw.ParseSet(os.Getenv(EnvFlaws))
	if err != nil {
		return nil, err
	}
	latch := stepLatch{proc.NewLatch(child.Death), steps}
	be := bgworker.NewBackend(seg, bgworker.BackendConfig{Lock: stepLock{z.lock(lock), steps},
		Postmaster: stepSignaller{sig, steps}, Latch: latch, Flaws: flaws})
	conn, err := net.DialTimeout("unix", os.Getenv(EnvSocket), dialTimeout)
	if err != nil {
		return nil, err
	}
	b := &backendProcess{reg: reg, child: child, be: be, latch: latch, steps: steps, pid: int32(os.Getpid()), conn: conn, enc: json.NewEncoder(conn)}
	steps.stop = func(bp Breakpoint) { b.send(response{Stopped: &bp}) }
	var h helloLine
	h.Hello.ID, h.Hello.Pid = os.Getenv(EnvBackendID), os.Getpid()
	if err := b.enc.Encode(h); err != nil {
		conn.Close()
		return nil, err
	}
	return b, nil
}

// serve answers requests one at a time. It returns the exit code.
func (b *backendProcess) serve() int {
	reqs := make(chan []byte)
	go func() {
		defer close(reqs)
		rd := bufio.NewReader(b.conn)
		for {
			line, err := rd.ReadBytes('\n')
			if err != nil {
				return
			}
			reqs <- line
		}
	}()
	dead := b.child.Death.Dead()
	for {
		select {
		case line, ok := <-reqs:
			if !ok {
				return exitBackendOK
			}
			if code, exit := b.handle(line); exit {
				return code
			}
		case <-dead:
			// Answer a request already on its way (a wait sees
			// POSTMASTER_DIED at once), then go.
			select {
			case line, ok := <-reqs:
				if ok {
					b.handle(line)
				}
			case <-time.After(20 * time.Millisecond):
			}
			fmt.Fprintln(os.Stderr, "FATAL:  terminating connection due to unexpected postmaster exit")
			return exitBackendFatal
		}
	}
}

// handle answers one request; exit says the backend must exit with code.
func (b *backendProcess) handle(line []byte) (code int, exit bool) {
	var req request
	var resp response
	if err := json.Unmarshal(line, &req); err != nil {
		resp.Error = encodeError(fmt.Errorf("%w: %v", ErrProtocol, err))
		b.send(resp)
		return 0, false
	}
	if req.StopAt < 0 {
		resp.Error = encodeError(fmt.Errorf("%w: stop_at %d: want a step number from 1, or 0", ErrProtocol, req.StopAt))
		b.send(resp)
		return 0, false
	}
	b.steps.begin(req.Op, req.StopAt)
	defer func() {
		resp.Steps = b.steps.end()
		if !exit {
			b.send(resp)
		}
	}()
	switch req.Op {
	case OpRegister:
		resp = b.register(req)
	case OpGetPid, OpWaitForStartup, OpWaitForShutdown:
		if req.Handle == nil {
			resp.Error = encodeError(fmt.Errorf("%w: %s without a handle", ErrProtocol, req.Op))
			break
		}
		var st bgworker.PidStatus
		var err error
		switch req.Op {
		case OpGetPid:
			st, err = b.be.GetBackgroundWorkerPid(req.Handle.handle())
		case OpWaitForStartup:
			st, err = b.wait(req, b.be.WaitForBackgroundWorkerStartup)
		default:
			st, err = b.wait(req, b.waitForShutdown)
		}
		if err != nil {
			resp.Error = encodeError(err)
			break
		}
		resp.Status, resp.Pid = st.Status.String(), st.Pid
	case OpExit:
		if req.Code < 0 || req.Code > 255 {
			resp.Error = encodeError(fmt.Errorf("%w: exit code %d outside 0..255", ErrProtocol, req.Code))
			break
		}
		b.send(resp)
		return req.Code, true
	default:
		resp.Error = encodeError(fmt.Errorf("%w: unknown op %q", ErrProtocol, req.Op))
	}
	return 0, false
}

// register checks the worker's entry point in the registry (so that a
// worker that could never start is refused now, not at every spawn), then
// registers it.
func (b *backendProcess) register(req request) response {
	var resp response
	if req.Worker == nil {
		resp.Error = encodeError(fmt.Errorf("%w: register without a worker", ErrProtocol))
		return resp
	}
	w := req.Worker.fromWire(b.pid)
	if err := bgworker.ValidateWorker(&w); err != nil {
		resp.Error = encodeError(err)
		return resp
	}
	if err := b.reg.Check(&w); err != nil {
		resp.Error = encodeError(err)
		return resp
	}
	h, err := b.be.RegisterDynamicBackgroundWorker(w)
	if err == nil || errors.Is(err, bgworker.ErrNotSignalled) { // registered, perhaps not signalled
		wh := wireHandle(h)
		resp.Handle = &wh
	}
	resp.Error = encodeError(err)
	return resp
}

// wait runs a wait bounded by the request's timeout.
func (b *backendProcess) wait(req request, wait func(context.Context, bgworker.Handle) (bgworker.PidStatus, error)) (bgworker.PidStatus, error) {
	ctx := context.Background()
	if req.TimeoutMS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMS)*time.Millisecond)
		defer cancel()
	}
	return wait(ctx, req.Handle.handle())
}

// waitForShutdown is WaitForBackgroundWorkerShutdown (PostgreSQL 9.5, not
// in the seed), built as the seed builds WaitForBackgroundWorkerStartup:
// it reads the status and sleeps on the latch, which the postmaster sets
// when it reports the worker stopped or forgets it, until the status is
// STOPPED; POSTMASTER_DIED if the postmaster dies first.
func (b *backendProcess) waitForShutdown(ctx context.Context, h bgworker.Handle) (bgworker.PidStatus, error) {
	for {
		st, err := b.be.GetBackgroundWorkerPid(h)
		if err != nil || st.Status == bgworker.Stopped {
			return st, err
		}
		ev, err := b.latch.Wait(ctx)
		if err != nil {
			return bgworker.PidStatus{}, fmt.Errorf("cluster: wait for shutdown: %w", err)
		}
		if ev&bgworker.WaitPostmasterDeath != 0 {
			return bgworker.PidStatus{Status: bgworker.PostmasterDied}, nil
		}
		b.latch.Reset()
	}
}

// send writes one reply line; a harness that hung up is noticed by the
// reader.
func (b *backendProcess) send(resp response) {
	if err := b.enc.Encode(resp); err != nil {
		fmt.Fprintf(os.Stderr, "backend: reply: %v\n", err)
	}
}
