package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"bgwmodel/impl/postmaster"
)

// ErrNotAccepting: the postmaster refused to start a backend because a
// crash restart or a shutdown is under way.
var ErrNotAccepting = errors.New("cluster: postmaster is not accepting connections")

// control is the harness's end of the postmaster's control pipes: one
// request at a time, each answered by one reply line.
type control struct {
	mu     sync.Mutex
	w      *os.File // requests
	r      *os.File // replies
	rd     *bufio.Reader
	err    error // set once the channel is unusable (closed, or out of step)
	closed bool
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

// readLine reads one reply line by until; ctx cuts it short.
// A failure leaves the channel out of step: it is marked unusable.
func (ct *control) readLine(ctx context.Context, until time.Time) (postmaster.ControlReply, error) {
	var rep postmaster.ControlReply
	ct.r.SetReadDeadline(until)
	stop := context.AfterFunc(ctx, func() { ct.r.SetReadDeadline(time.Now()) })
	defer stop()
	line, err := ct.rd.ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &rep)
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		ct.err = fmt.Errorf("cluster: postmaster control: %w", err)
		return rep, ct.err
	}
	return rep, nil
}

// readReady reads the postmaster's first line.
func (ct *control) readReady(ctx context.Context) (postmaster.ControlReply, error) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	rep, err := ct.readLine(ctx, deadline(ctx, DefaultTimeout))
	if err == nil && !rep.Ready {
		err = fmt.Errorf("%w: first line from the postmaster is not ready: %+v", ErrProtocol, rep)
		ct.err = err
	}
	return rep, err
}

// call sends req and reads its reply. A refusal is an error; CodeNotAccepting
// wraps [ErrNotAccepting].
func (ct *control) call(ctx context.Context, req postmaster.ControlRequest) (postmaster.ControlReply, error) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.err != nil {
		return postmaster.ControlReply{}, ct.err
	}
	b, err := postmaster.AppendLine(nil, req)
	if err != nil {
		return postmaster.ControlReply{}, err
	}
	until := deadline(ctx, DefaultTimeout)
	ct.w.SetWriteDeadline(until)
	if _, err := ct.w.Write(b); err != nil {
		ct.err = fmt.Errorf("cluster: postmaster control: %w", err)
		return postmaster.ControlReply{}, ct.err
	}
	rep, err := ct.readLine(ctx, until)
	if err != nil {
		return rep, err
	}
	if !rep.OK {
		if rep.Code == postmaster.CodeNotAccepting {
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
