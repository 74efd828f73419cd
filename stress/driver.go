package stress

import (
	"bgwmodel/internal/implspec"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/cluster"
	"bgwmodel/linearizability"
	"bgwmodel/spec"
)

// Bounds on a driver's calls besides its waits.
const (
	opTimeout      = 10 * time.Second
	connectTimeout = 30 * time.Second
	maxOwnHandles  = 16
)

// driver runs one backend's operations: a goroutine of the harness
// driving a backend process, reconnecting a fresh one when it is gone.
type driver struct {
	c       *campaign
	n       int // 1-based
	careful bool
	rng     *rand.Rand

	be  *cluster.Backend
	st  *stream
	own []ownHandle // handles registered on this connection

	noRegisterUntil time.Time // backing off after "no free slot"

	mu  sync.Mutex
	pid int       // the backend's pid, 0 between connections
	cur *waitInfo // the WaitForStartup in flight, if any
}

// ownHandle is a handle registered on the driver's connection.
type ownHandle struct {
	h          bgworker.Handle
	registered linearizability.Stamp // the Register's return
}

// waitInfo is a WaitForStartup in flight.
type waitInfo struct {
	rec      WaitRecord
	start    time.Time
	reported bool // judged while in flight and found left waiting
}

// run drives backends until ctx ends. Its error is an infrastructure
// failure.
func (d *driver) run(ctx context.Context) error {
	defer d.disconnect()
	for ctx.Err() == nil {
		if d.be == nil {
			if err := d.connect(ctx); err != nil {
				if ctx.Err() != nil || d.c.postmasterGone() {
					return nil
				}
				return err
			}
		}
		if err := d.step(ctx); err != nil {
			return err
		}
		if think := d.c.cfg.Workload.Think.D(); think > 0 {
			sleepCtx(ctx, time.Duration(d.rng.Int64N(int64(think)+1)))
		}
	}
	return nil
}

func (d *driver) connect(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	be, err := d.c.cl.Connect(cctx)
	if err != nil {
		return fmt.Errorf("stress: backend %d: %w", d.n, err)
	}
	st, err := d.c.rec.open(be.ID(), fmt.Sprintf("%s pid %d", be.ID(), be.Pid()), 0)
	if err != nil {
		be.Close()
		return err
	}
	d.be, d.st, d.own = be, st, nil
	d.mu.Lock()
	d.pid = be.Pid()
	d.mu.Unlock()
	return nil
}

func (d *driver) disconnect() {
	if d.be != nil {
		d.be.Close()
		d.st.close()
		d.be, d.st, d.own = nil, nil, nil
	}
	d.mu.Lock()
	d.pid = 0
	d.mu.Unlock()
}

// backendPid returns the pid of the driver's backend, or 0.
func (d *driver) backendPid() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pid
}

// step runs one operation of the mix (a Register possibly followed by
// polls or a wait), or one round of a careful client.
func (d *driver) step(ctx context.Context) error {
	if d.careful {
		return d.carefulRound(ctx)
	}
	switch ev := d.c.takeEvent(); {
	case ev == eventFill && d.c.paused.Load():
		select { // a probe wants no registrations now: later
		case d.c.events <- ev:
		default: // another event is pending: drop this one
		}
	case ev == eventFill:
		return d.fill(ctx)
	case ev == eventBackendExit:
		return d.exitBackend(ctx)
	}
	w := &d.c.cfg.Workload
	x := d.rng.Float64() * (w.Register + w.GetPid + w.WaitForStartup)
	switch {
	case d.c.pool.empty() || x < w.Register && time.Now().After(d.noRegisterUntil) && !d.c.paused.Load():
		return d.registerAndFollow(ctx)
	case x < w.Register+w.GetPid || len(d.own) == 0:
		h := d.c.pool.pick(d.rng)
		if len(d.own) > 0 && d.rng.IntN(2) == 0 {
			h = d.own[d.rng.IntN(len(d.own))].h
		}
		_, err := d.getPid(ctx, h)
		return err
	default:
		return d.wait(ctx, d.own[d.rng.IntN(len(d.own))])
	}
}

// registerAndFollow registers a worker and then, perhaps, polls its
// status or waits for it to start.
func (d *driver) registerAndFollow(ctx context.Context) error {
	tmpl, perm := d.c.work.permanent()
	var def bgworker.Worker
	if perm {
		def = tmpl.worker(0)
	} else {
		def = d.c.work.transient(d.rng, d.n)
	}
	oh, result, err := d.register(ctx, def)
	if perm && result != spec.ResultOK {
		d.c.work.putBack(tmpl, result == spec.ResultNoFreeSlot)
	}
	if err == nil && result == spec.ResultNoFreeSlot && d.c.cfg.Workload.Backoff > 0 {
		d.noRegisterUntil = time.Now().Add(time.Duration(d.rng.Int64N(int64(d.c.cfg.Workload.Backoff) + 1)))
	}
	if err != nil || result != spec.ResultOK || d.be == nil {
		return err
	}
	w := &d.c.cfg.Workload
	switch x := d.rng.Float64(); {
	case x < w.PollAfterRegister:
		for range w.Polls {
			sleepCtx(ctx, w.PollInterval.D())
			st, err := d.getPid(ctx, oh.h)
			if err != nil || d.be == nil || st != spec.NotYetStarted {
				return err
			}
		}
	case x < w.PollAfterRegister+w.WaitAfterRegister:
		return d.wait(ctx, oh)
	}
	return nil
}

// carefulRound is one round of a careful client: register a transient
// worker, wait for it to start, then poll it until it has stopped, so
// that the backend never has two live registrations. After "no free
// slot" it backs off, reading a handle of the pool.
func (d *driver) carefulRound(ctx context.Context) error {
	if (time.Now().Before(d.noRegisterUntil) || d.c.paused.Load()) && !d.c.pool.empty() {
		_, err := d.getPid(ctx, d.c.pool.pick(d.rng))
		return err
	}
	oh, result, err := d.register(ctx, d.c.work.transient(d.rng, d.n))
	if err == nil && result == spec.ResultNoFreeSlot {
		d.noRegisterUntil = time.Now().Add(time.Duration(d.rng.Int64N(int64(d.c.cfg.Workload.Backoff) + 1)))
	}
	if err != nil || result != spec.ResultOK || d.be == nil {
		return err
	}
	st, err := d.waitStatus(ctx, oh)
	if err != nil || d.be == nil || st != spec.Started {
		return err
	}
	for ctx.Err() == nil && d.be != nil {
		sleepCtx(ctx, carefulPoll)
		if st, err := d.getPid(ctx, oh.h); err != nil || st == spec.Stopped {
			return err
		}
	}
	return nil
}

// carefulPoll is how often a careful client polls its running worker.
const carefulPoll = 20 * time.Millisecond

// opBound is the bound on a Register or a GetPid: opTimeout, unless a
// test set another.
func (c *campaign) opBound() time.Duration {
	if c.opts.opTimeout > 0 {
		return c.opts.opTimeout
	}
	return opTimeout
}

// opContext bounds one operation.
func opContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// register runs Register(def). The result is only meaningful without an
// error and with a connection left (d.be != nil).
func (d *driver) register(ctx context.Context, def bgworker.Worker) (ownHandle, spec.Result, error) {
	sw := specWorker(def, int32(d.be.Pid()))
	octx, cancel := opContext(ctx, d.c.opBound())
	defer cancel()
	p := d.st.begin(spec.Input{Kind: spec.OpRegister, Worker: sw})
	h, err := d.be.Register(octx, def)
	ret := linearizability.Stamp(d.c.clock.Stamp())
	// Record what the call returned, as it returned it: a nil error is a
	// registration, whatever the handle holds.
	var out spec.Output
	var ie *bgworker.InvalidError
	switch {
	case err == nil || errors.Is(err, bgworker.ErrNotSignalled):
		out = spec.Output{Result: spec.ResultOK, Handle: implspec.Handle(h)}
	case errors.Is(err, bgworker.ErrNoFreeSlot):
		out = spec.Output{Result: spec.ResultNoFreeSlot}
	case errors.As(err, &ie):
		out = spec.Output{Result: spec.ResultInvalid, Invalid: spec.Field(strings.TrimPrefix(string(ie.Field), "bgw_"))}
	default:
		d.noteTimeout(ctx, err)
		return ownHandle{}, 0, d.lost(ctx, p, err)
	}
	if werr := d.st.finish(p, out, ret); werr != nil {
		return ownHandle{}, 0, werr
	}
	d.c.ops.Add(1)
	if out.Result == spec.ResultOK {
		oh := ownHandle{h: h, registered: ret}
		d.own = append(d.own, oh)
		if len(d.own) > maxOwnHandles {
			d.own = d.own[1:]
		}
		d.c.pool.add(h)
		return oh, out.Result, nil
	}
	return ownHandle{}, out.Result, nil
}

// getPid runs GetPid(h) and returns the status (meaningful only without
// an error and with a connection left).
func (d *driver) getPid(ctx context.Context, h bgworker.Handle) (spec.Status, error) {
	octx, cancel := opContext(ctx, d.c.opBound())
	defer cancel()
	p := d.st.begin(spec.Input{Kind: spec.OpGetPid, Handle: implspec.Handle(h)})
	st, err := d.be.GetPid(octx, h)
	ret := linearizability.Stamp(d.c.clock.Stamp())
	if err != nil {
		d.noteTimeout(ctx, err)
		return 0, d.lost(ctx, p, err)
	}
	out, err := specStatus(st)
	if err != nil {
		return 0, d.lost(ctx, p, err)
	}
	d.c.ops.Add(1)
	return out.Status, d.st.finish(p, out, ret)
}

// wait runs WaitForStartup on one of the connection's own handles (the
// backend is its notify pid), bounded by the workload's wait timeout. A
// wait that does not answer is handed to the waiters check.
func (d *driver) wait(ctx context.Context, oh ownHandle) error {
	_, err := d.waitStatus(ctx, oh)
	return err
}

// waitStatus is wait, returning the status (meaningful only without an
// error and with a connection left).
func (d *driver) waitStatus(ctx context.Context, oh ownHandle) (spec.Status, error) {
	octx, cancel := opContext(ctx, d.c.cfg.Workload.WaitTimeout.D())
	defer cancel()
	p := d.st.begin(spec.Input{Kind: spec.OpWaitForStartup, Handle: implspec.Handle(oh.h)})
	wi := &waitInfo{start: time.Now(), rec: WaitRecord{Process: d.st.process, Client: d.st.client,
		Handle: WaitHandle(implspec.Handle(oh.h)), Registered: uint64(oh.registered), Call: uint64(p.op.Call)}}
	d.mu.Lock()
	d.cur = wi
	d.mu.Unlock()
	st, err := d.be.WaitForStartup(octx, oh.h)
	ret := linearizability.Stamp(d.c.clock.Stamp())
	end := time.Now()
	d.mu.Lock()
	d.cur = nil
	reported := wi.reported
	d.mu.Unlock()
	var out spec.Output
	if err == nil {
		out, err = specStatus(st)
	}
	if err == nil {
		d.c.ops.Add(1)
		return out.Status, d.st.finish(p, out, ret)
	}
	if !reported {
		switch {
		case ctx.Err() != nil:
			wi.rec.Outcome = WaitCancelled
			d.c.addWait(wi.rec, end)
		case errors.Is(err, context.DeadlineExceeded):
			wi.rec.Outcome = WaitTimedOut
			d.c.addWait(wi.rec, end)
		case errors.Is(err, cluster.ErrBackendClosed):
			wi.rec.Outcome = WaitLost
			d.c.addWait(wi.rec, end)
		}
	}
	return 0, d.lost(ctx, p, err)
}

// noteTimeout counts an operation that hit its own bound (opTimeout), not
// the campaign's end (ctx).
func (d *driver) noteTimeout(ctx context.Context, err error) {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		d.c.opTimeouts.Add(1)
	}
}

// lost records p as cut short by err, with the cause the recording check
// judges ([CutRecord]); if err broke the connection, the driver will
// connect a fresh backend. ctx is the campaign's.
func (d *driver) lost(ctx context.Context, p *pendingOp, err error) error {
	d.c.noteCut(CutRecord{Process: p.op.Process, Client: p.op.Client, Op: p.op.Input.Kind.String(), Call: uint64(p.op.Call),
		At: d.c.clock.Stamp(), Pid: d.backendPid(), Cause: cutCause(ctx, err, p.op.Input.Kind == spec.OpWaitForStartup),
		Error: err.Error()})
	werr := d.st.cut(p)
	if errors.Is(err, cluster.ErrBackendClosed) || errors.Is(err, context.Canceled) {
		d.disconnect()
	}
	return werr
}

// pendingWait returns the wait in flight that started before t and was
// not reported yet, and marks it reported if report is called.
func (d *driver) pendingWait(before time.Time) (*waitInfo, func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur == nil || d.cur.reported || !d.cur.start.Before(before) {
		return nil, nil
	}
	wi := d.cur
	return wi, func() {
		d.mu.Lock()
		wi.reported = true
		d.mu.Unlock()
	}
}

// specWorker is the worker as the specification sees the registration:
// the cluster fills in the backend's own pid as bgw_notify_pid.
func specWorker(w bgworker.Worker, notify int32) spec.Worker {
	sw := implspec.Worker(w)
	sw.NotifyPid = notify
	return sw
}

// specStatus converts a status as the backend returned it; a status the
// specification does not know, or a pid where its status takes none, is
// an error: an outcome the history cannot represent.
func specStatus(st bgworker.PidStatus) (spec.Output, error) {
	s, ok := implspec.Status(st.Status)
	switch {
	case !ok:
		return spec.Output{}, fmt.Errorf("stress: recording: status %v: not one the specification knows", st.Status)
	case s != spec.Started && st.Pid != 0:
		return spec.Output{}, fmt.Errorf("stress: recording: status %v with pid %d: the specification's %v has no pid", st.Status, st.Pid, s)
	}
	out := spec.Output{Status: s}
	if s == spec.Started {
		out.Pid = spec.Pid(st.Pid)
	}
	return out, nil
}

// sleepCtx sleeps d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
