package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"bgwmodel/impl/pmdriver"
	"bgwmodel/impl/proc"
)

// ErrNotAccepting: the postmaster refused to start a backend because a
// crash restart or a shutdown is under way.
var ErrNotAccepting = errors.New("cluster: postmaster is not accepting connections")

// control is the harness's end of the postmaster's control pipes: one
// request at a time, each answered by one reply line, in order.
//
// A call that gives up waiting for its reply (its context ends, or its
// bound passes) fails alone: its reply may still come, so the channel
// owes one more line, which the next call reads and drops before its own
// reply. A reply cut short mid-line counts the same, since the rest of the
// line, up to its newline, is still to come. So replies are never matched
// to the wrong call. Only what leaves the channel out of step for good
// (end-of-file, an unreadable line, a request written in part) marks it
// unusable.
type control struct {
	mu      sync.Mutex
	w       *os.File // requests
	r       *os.File // replies
	rd      *bufio.Reader
	pid     int         // the postmaster's, from its ready line; for errors
	owed    int         // reply lines still to come for calls that gave up
	err     error       // set once the channel is unusable (closed, or out of step)
	closing atomic.Bool // close has begun: a read cut short is not a stall
	closed  bool
}

// open makes both pipes and returns the postmaster's ends, which the
// caller passes on and closes.
func (ct *control) open() (reqR, repW *os.File, err error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: control pipe: %w", err)
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, nil, fmt.Errorf("cluster: control pipe: %w", err)
	}
	ct.w, ct.r, ct.rd = reqW, repR, bufio.NewReader(repR)
	return reqR, repW, nil
}

// readLine reads one line by until; ctx cuts it short. A line cut short
// is consumed as far as it was read. It returns only once ctx's watcher
// can no longer move the read deadline, so that it never cuts short the
// next call's read.
func (ct *control) readLine(ctx context.Context, until time.Time) ([]byte, error) {
	ct.r.SetReadDeadline(until)
	if ct.closing.Load() { // close came first, and its deadline was just overwritten
		ct.r.SetReadDeadline(time.Now())
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		ct.r.SetReadDeadline(time.Now())
		close(fired)
	})
	defer func() {
		if !stop() {
			<-fired
		}
	}()
	return ct.rd.ReadBytes('\n')
}

// readFailed turns a failed read of the reply to what (an op, or the
// ready line) into the call's error. A read that timed out or was
// cancelled leaves the channel usable (the caller counts the line owed);
// anything else marks it unusable.
func (ct *control) readFailed(ctx context.Context, what string, bound time.Duration, err error) error {
	switch {
	case ct.closing.Load():
		return errStopped
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("cluster: control: %s: %w", what, ctx.Err())
	case ctx.Err() != nil:
		return &stallError{pid: ct.pid, what: what, bound: bound, err: ctx.Err(), state: describeState(ct.pid)}
	case errors.Is(err, os.ErrDeadlineExceeded):
		if _, ok := ctx.Deadline(); ok { // ctx's own, a moment before ctx says so
			err = context.DeadlineExceeded
		}
		return &stallError{pid: ct.pid, what: what, bound: bound, err: err, state: describeState(ct.pid)}
	case errors.Is(err, io.EOF):
		err = fmt.Errorf("cluster: control: %s: %s hung up: %w", what, ct.postmaster(), err)
	default:
		err = fmt.Errorf("cluster: control: %s: %w", what, err)
	}
	ct.err = err
	return err
}

// postmaster names the postmaster in errors, with its pid once known.
func (ct *control) postmaster() string {
	if ct.pid == 0 {
		return "the postmaster"
	}
	return fmt.Sprintf("the postmaster (pid %d)", ct.pid)
}

// readReady reads the postmaster's first line.
func (ct *control) readReady(ctx context.Context) (pmdriver.ControlReply, error) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	var rep pmdriver.ControlReply
	start, until := time.Now(), deadline(ctx, DefaultTimeout)
	const what = "its ready line"
	line, err := ct.readLine(ctx, until)
	if err != nil {
		err = ct.readFailed(ctx, what, until.Sub(start), err)
		ct.err = err // nothing else can follow a start that failed
		return rep, err
	}
	if err := json.Unmarshal(line, &rep); err != nil {
		ct.err = fmt.Errorf("cluster: control: %s: %w", what, err)
		return rep, ct.err
	}
	if !rep.Ready {
		ct.err = fmt.Errorf("%w: first line from the postmaster is not ready: %+v", ErrProtocol, rep)
		return rep, ct.err
	}
	ct.pid = rep.Pid
	return rep, nil
}

// call sends req and reads its reply, after dropping the replies owed to
// calls that gave up. A refusal is an error; CodeNotAccepting wraps
// [ErrNotAccepting]. A call that gives up waiting (ctx ends, or the bound)
// fails alone: see [control].
func (ct *control) call(ctx context.Context, req pmdriver.ControlRequest) (pmdriver.ControlReply, error) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	var rep pmdriver.ControlReply
	if ct.err != nil {
		return rep, ct.err
	}
	b, err := pmdriver.AppendLine(nil, req)
	if err != nil {
		return rep, err
	}
	if err := ctx.Err(); err != nil { // nothing sent, nothing owed
		return rep, fmt.Errorf("cluster: control: %s: %w", req.Op, err)
	}
	start, until := time.Now(), deadline(ctx, DefaultTimeout)
	ct.w.SetWriteDeadline(until)
	if n, err := ct.w.Write(b); err != nil {
		if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) && !ct.closing.Load() {
			// Nothing sent (a pipe write this short is all or nothing).
			return rep, &stallError{pid: ct.pid, what: string(req.Op) + " (sending it)", bound: until.Sub(start),
				err: err, state: describeState(ct.pid)}
		}
		ct.err = fmt.Errorf("cluster: control: %s: %w", req.Op, err)
		return rep, ct.err
	}
	for owe := ct.owed + 1; owe > 0; owe-- {
		line, err := ct.readLine(ctx, until)
		if err != nil {
			ct.owed = owe // this line's rest, and the lines after it
			return rep, ct.readFailed(ctx, string(req.Op), until.Sub(start), err)
		}
		if owe > 1 {
			continue // the reply to a call that gave up
		}
		if err := json.Unmarshal(line, &rep); err != nil {
			ct.err = fmt.Errorf("cluster: control: %s: %w", req.Op, err)
			return rep, ct.err
		}
	}
	ct.owed = 0
	if !rep.OK {
		if rep.Code == pmdriver.CodeNotAccepting {
			return rep, fmt.Errorf("%w: %s", ErrNotAccepting, rep.Error)
		}
		return rep, fmt.Errorf("cluster: postmaster refused %s: %s: %s", req.Op, rep.Code, rep.Error)
	}
	return rep, nil
}

// close closes the harness's ends; the postmaster reads end-of-file, which
// it takes as a shutdown request.
// A call in progress is cut short. The files are set once, by open,
// before any concurrent use.
func (ct *control) close() {
	if ct.w == nil {
		return
	}
	ct.closing.Store(true)
	ct.r.SetReadDeadline(time.Now())
	ct.w.SetWriteDeadline(time.Now())
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if !ct.closed {
		ct.w.Close()
		ct.r.Close()
		ct.closed = true
	}
	ct.err = errStopped
}

// stallError reports that the postmaster did not answer a control
// request within the call's bound, and what /proc says of it at that
// moment (stopped, say). The call alone fails; see [control].
type stallError struct {
	pid   int // 0 before the ready line
	what  string
	bound time.Duration
	err   error // context.DeadlineExceeded, or os.ErrDeadlineExceeded
	state string
}

// Error returns "cluster: control: the postmaster (pid N) did not answer
// OP within D: it is stopped (state T)".
func (e *stallError) Error() string {
	who := "the postmaster"
	if e.pid != 0 {
		who = fmt.Sprintf("the postmaster (pid %d)", e.pid)
	}
	msg := fmt.Sprintf("cluster: control: %s did not answer %s within %v", who, e.what, e.bound.Round(time.Millisecond))
	if e.state != "" {
		msg += ": " + e.state
	}
	return msg
}

// Unwrap returns the deadline that passed.
func (e *stallError) Unwrap() error { return e.err }

// stateWords says what each process state means.
var stateWords = map[proc.State]string{
	proc.StateRunning:  "it is running",
	proc.StateSleeping: "it is sleeping",
	proc.StateDisk:     "it is in an uninterruptible sleep",
	proc.StateStopped:  "it is stopped",
	proc.StateTraced:   "it is stopped by a tracer",
	proc.StateZombie:   "it has exited",
	proc.StateDead:     "it has exited",
}

// describeState says what state pid is in, for a stallError.
func describeState(pid int) string {
	if pid == 0 {
		return ""
	}
	st, err := proc.Stat(pid)
	if err != nil {
		return "it has exited"
	}
	w, ok := stateWords[st.State]
	if !ok {
		w = "its state is unknown"
	}
	return fmt.Sprintf("%s (state %c)", w, st.State)
}
