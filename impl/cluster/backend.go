package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
)

// waitGrace is how much longer the harness waits for a backend's answer to
// a wait than the backend itself waits.
const waitGrace = 2 * time.Second

// ErrBackendClosed: the Backend was closed, or its connection broke (the
// backend process is gone, or a request was cut short and the connection
// is out of step).
var ErrBackendClosed = errors.New("cluster: backend connection closed")

// Backend is the harness's handle on one backend process: each method
// sends one request over the backend's connection and returns its answer.
// The backend runs the seed's backend functions itself, in its own
// process, against the shared segment. Errors it reports keep their
// identity: errors.Is works with bgworker.ErrNoFreeSlot,
// bgworker.ErrInvalidWorker (errors.As with *bgworker.InvalidError),
// worker.ErrUnknownEntry, and the others of [ErrorCode]. Requests are
// served one at a time; a Backend is safe for concurrent use (calls queue).
type Backend struct {
	c   *Cluster
	id  string
	pid int

	mu    sync.Mutex
	conn  *net.UnixConn
	rd    *bufio.Reader
	err   error // set once the connection is unusable
	steps int   // steps of the last operation answered
	// stopAt and stopped are the breakpoint armed for the next call
	// (see StopAt).
	stopAt  int
	stopped chan Breakpoint
}

// Pid returns the backend process's pid. It does not block.
func (b *Backend) Pid() int { return b.pid }

// ID returns the name the harness gave the backend. It does not block.
func (b *Backend) ID() string { return b.id }

// Register registers w from this backend (RegisterDynamicBackgroundWorker)
// and returns its handle. w.NotifyPid 0 means this backend: it is told
// when the worker starts and stops, which [Backend.WaitForStartup] needs;
// any other pid is sent as it is (the postmaster drops a pid that names
// no live backend). The backend refuses a worker whose entry point is not
// in its registry (worker.ErrUnknownEntry) or that fails the sanity check
// (bgworker.ErrInvalidWorker); bgworker.ErrNoFreeSlot means every slot is
// in use. If the slot was taken but the postmaster could not be
// signalled, both the handle and an error wrapping
// bgworker.ErrNotSignalled are returned. The handle is returned as the backend gave it, whatever its
// fields hold: a nil error means registered. It blocks until the backend
// answers or ctx ends (DefaultTimeout without a deadline).
func (b *Backend) Register(ctx context.Context, w bgworker.Worker) (bgworker.Handle, error) {
	resp, err := b.call(ctx, request{Op: OpRegister, Worker: toWire(w)}, 0)
	if err != nil {
		return bgworker.Handle{}, err
	}
	err = decodeError(b.pid, resp.Error)
	if resp.Handle == nil {
		if err == nil {
			return bgworker.Handle{}, fmt.Errorf("%w: register answered with neither a handle nor an error", ErrProtocol)
		}
		return bgworker.Handle{}, err
	}
	if err != nil {
		err = fmt.Errorf("%w: %w", bgworker.ErrNotSignalled, err)
	}
	return resp.Handle.handle(), err
}

// GetPid reports the status of the worker h names (GetBackgroundWorkerPid):
// STARTED with its pid, NOT_YET_STARTED, or STOPPED. It blocks until the
// backend answers or ctx ends (DefaultTimeout without a deadline).
func (b *Backend) GetPid(ctx context.Context, h bgworker.Handle) (bgworker.PidStatus, error) {
	return b.status(ctx, request{Op: OpGetPid, Handle: (*wireHandle)(&h)}, 0)
}

// WaitForStartup waits, in the backend, until the worker h names has
// started or stopped (WaitForBackgroundWorkerStartup): STARTED with its
// pid, STOPPED, or POSTMASTER_DIED. The backend sleeps on its latch,
// which the postmaster sets when it reports the worker's pid, so the
// worker must have been registered with this backend as its notify pid.
// The backend waits until ctx's deadline (DefaultTimeout without one) and
// then reports an error that wraps context.DeadlineExceeded. It blocks
// until the backend answers.
func (b *Backend) WaitForStartup(ctx context.Context, h bgworker.Handle) (bgworker.PidStatus, error) {
	until := deadline(ctx, DefaultTimeout)
	ms := max(time.Until(until).Milliseconds(), 1)
	return b.status(ctx, request{Op: OpWaitForStartup, Handle: (*wireHandle)(&h), TimeoutMS: ms}, waitGrace)
}

// WaitForShutdown waits, in the backend, until the worker h names has
// stopped (WaitForBackgroundWorkerShutdown, added in PostgreSQL 9.5;
// bgwmodel builds it from GetBackgroundWorkerPid and the latch, as the
// seed builds WaitForBackgroundWorkerStartup): STOPPED, or
// POSTMASTER_DIED. Like WaitForStartup it relies on this backend being
// the worker's notify pid, and it is bounded in the same way. It blocks
// until the backend answers.
func (b *Backend) WaitForShutdown(ctx context.Context, h bgworker.Handle) (bgworker.PidStatus, error) {
	until := deadline(ctx, DefaultTimeout)
	ms := max(time.Until(until).Milliseconds(), 1)
	return b.status(ctx, request{Op: OpWaitForShutdown, Handle: (*wireHandle)(&h), TimeoutMS: ms}, waitGrace)
}

// Exit asks the backend to exit with code (0..255) and waits for its
// acknowledgement; the connection is closed afterwards. Codes 0 and 1 are
// ordinary exits; any other makes the postmaster restart the cluster
// after a crash, as a backend dying with a bad status does in PostgreSQL.
// It blocks until the backend answers or ctx ends.
func (b *Backend) Exit(ctx context.Context, code int) error {
	resp, err := b.call(ctx, request{Op: OpExit, Code: code}, 0)
	if err == nil {
		err = decodeError(b.pid, resp.Error)
	}
	if err == nil {
		b.Close()
	}
	return err
}

// StopAt arms a breakpoint for the backend's next operation (a call of
// Register, GetPid, WaitForStartup or WaitForShutdown): the backend
// process stops itself with SIGSTOP just before step n (n >= 1) of it,
// where a step is one access to shared memory, one acquire or release of
// BackgroundWorkerLock, one signal to the postmaster or one sleep on the
// latch (see [Breakpoint]). It is for fault injection: once stopped, the
// process can be killed at exactly that point, or left stopped for a
// while (holding the lock, perhaps) and sent SIGCONT.
//
// The returned channel receives the breakpoint once the process is seen
// stopped, and is then closed; it is closed without a value if the
// operation ends before step n or the call fails. The call itself blocks
// meanwhile, bounded by its context as always: the caller must resume or
// kill the process before that. StopAt blocks while a call is in flight.
// n <= 0 disarms.
func (b *Backend) StopAt(n int) <-chan Breakpoint {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped != nil {
		close(b.stopped)
	}
	b.stopAt, b.stopped = max(n, 0), make(chan Breakpoint, 1)
	if n <= 0 {
		close(b.stopped)
		b.stopped = nil
	}
	return b.stopped
}

// Steps returns the number of steps (see [Breakpoint]) the backend's last
// answered operation took, 0 before any. It blocks while a call is in
// flight.
func (b *Backend) Steps() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.steps
}

// Close closes the connection; the backend process exits (code 0) when it
// sees it closed. It does not block.
func (b *Backend) Close() error {
	b.conn.SetDeadline(time.Now()) // cut a call in progress short
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = ErrBackendClosed
		b.conn.Close()
	}
	b.c.mu.Lock()
	delete(b.c.backends, b)
	b.c.mu.Unlock()
	return nil
}

// status sends a request answered by a status.
func (b *Backend) status(ctx context.Context, req request, grace time.Duration) (bgworker.PidStatus, error) {
	resp, err := b.call(ctx, req, grace)
	if err != nil {
		return bgworker.PidStatus{}, err
	}
	if resp.Error != nil {
		return bgworker.PidStatus{}, decodeError(b.pid, resp.Error)
	}
	st, err := parseStatus(resp.Status)
	if err != nil {
		return bgworker.PidStatus{}, err
	}
	return bgworker.PidStatus{Status: st, Pid: resp.Pid}, nil
}

// call sends one request and reads its reply, by ctx's deadline (or
// DefaultTimeout) plus grace. A failure other than an error reply leaves
// the connection unusable.
func (b *Backend) call(ctx context.Context, req request, grace time.Duration) (response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var resp response
	stopped := b.stopped // the breakpoint armed is for this call only
	req.StopAt, b.stopAt, b.stopped = b.stopAt, 0, nil
	if stopped != nil {
		defer close(stopped)
	}
	if b.err != nil {
		return resp, fmt.Errorf("cluster: backend %d: %w", b.pid, b.err)
	}
	line, err := json.Marshal(req)
	if err != nil {
		return resp, fmt.Errorf("cluster: backend %d: %w", b.pid, err)
	}
	b.conn.SetDeadline(deadline(ctx, DefaultTimeout).Add(grace))
	stop := context.AfterFunc(ctx, func() { b.conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err = b.conn.Write(append(line, '\n')); err == nil {
		err = b.read(ctx, &resp, stopped)
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		b.err = fmt.Errorf("%w: %w", ErrBackendClosed, err)
		b.conn.Close()
		return resp, fmt.Errorf("cluster: backend %d: %s: %w", b.pid, req.Op, b.err)
	}
	b.steps = resp.Steps
	return resp, nil
}

// read reads the reply to a request into resp. A line saying that the
// backend stops at its breakpoint comes first if it does: read waits
// until the process is seen stopped and hands the breakpoint to stopped
// before reading on.
func (b *Backend) read(ctx context.Context, resp *response, stopped chan<- Breakpoint) error {
	for {
		line, err := b.rd.ReadBytes('\n')
		if err != nil {
			return err
		}
		*resp = response{}
		if err := json.Unmarshal(line, resp); err != nil {
			return err
		}
		if resp.Stopped == nil {
			return nil
		}
		if stopped == nil {
			return fmt.Errorf("%w: a breakpoint that was not armed", ErrProtocol)
		}
		if err := waitStopped(ctx, b.pid); err != nil {
			return err
		}
		stopped <- *resp.Stopped
	}
}

// waitStopped polls pid's state until it is stopped (T), bounded by ctx
// and DefaultTimeout.
func waitStopped(ctx context.Context, pid int) error {
	until := deadline(ctx, DefaultTimeout)
	for {
		st, err := proc.Stat(pid)
		if err != nil {
			return fmt.Errorf("cluster: backend %d: %w", pid, err)
		}
		switch {
		case st.State == proc.StateStopped:
			return nil
		case st.Exited():
			return fmt.Errorf("cluster: backend %d exited at its breakpoint", pid)
		}
		if time.Now().After(until) {
			return fmt.Errorf("cluster: backend %d not stopped at its breakpoint: %w", pid, context.DeadlineExceeded)
		}
		time.Sleep(time.Millisecond)
	}
}
