package explore

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/shmem"
)

// op is a thread's pending step.
type op struct {
	kind     OpKind
	l        *loc
	v, old   uint64 // stored value, CAS new/old, Add delta
	b        string // StoreBytes content
	order    shmem.Order
	fence    shmem.Fence
	lock     LockID
	mode     bgworker.LockMode
	target   ThreadID
	until    time.Duration
	deadline bool // OpWait with a timeout
	spawn    *spawnReq
}

type spawnReq struct {
	name  string
	body  ThreadFunc
	flags ThreadFlag
}

// spawn makes a thread and runs it to its first scheduling point.
func (ex *execution) spawn(parent *Thread, name string, body ThreadFunc, flags ThreadFlag) *Thread {
	t := &Thread{
		ex: ex, id: ThreadID(len(ex.sched.threads)), name: name, flags: flags, parent: -1,
		body: body, wake: make(chan reply),
		sched: threadSched{alive: true, latchSync: ex.sched.nsync, exitSync: ex.sched.nsync + 1},
	}
	ex.sched.nsync += 2
	e := &ex.enc
	e.reset()
	if parent != nil {
		t.parent = parent.id
		e.key(parent.sched.hist)
	}
	e.str(name)
	e.u64(uint64(t.id))
	t.sched.hist = e.sum()
	ex.sched.threads = append(ex.sched.threads, t)
	if ex.setupDone {
		ex.mem.model.addThread(t.id, parent.id)
	}
	go t.main()
	ex.await(t)
	return t
}

// await receives the message of t, the one running thread.
func (ex *execution) await(t *Thread) {
	m := <-ex.sched.ch
	if m.t != t {
		panic(fmt.Sprintf("explore: internal error: message from %s while %s runs", m.t.name, t.name))
	}
	switch m.kind {
	case msgOp:
		t.sched.pending, t.sched.parked = m.op, true
	case msgFail:
		t.sched.failed, t.sched.parked = true, true
		ex.failWith(m.fail)
	case msgDone:
		ex.terminated(t, m)
	}
}

// resume hands r to t and waits until it stops again.
func (ex *execution) resume(t *Thread, r result) {
	t.wake <- reply{r: r}
	ex.await(t)
}

// killThread kills t at its scheduling point and waits for its goroutine
// to unwind.
func (ex *execution) killThread(t *Thread) {
	t.sched.killed = true
	t.sched.parked = false
	t.wake <- reply{kill: true}
	ex.await(t)
}

// terminated records the end of t's goroutine.
func (ex *execution) terminated(t *Thread, m tmsg) {
	t.sched.alive, t.sched.parked = false, false
	switch {
	case t.sched.killed:
		t.sched.state = StateKilled
	case m.panicVal != nil:
		t.sched.state = StatePanicked
		ex.failWith(&Failure{Kind: FailPanic, Thread: t.name,
			Err: fmt.Errorf("panic: %v\n%s", m.panicVal, m.stack)})
	default:
		t.sched.state = StateExited
		if t.self.exiting {
			t.sched.code = t.self.exitCode
		}
	}
	if !ex.over && ex.setupDone {
		ex.ended(t)
	}
}

// ended applies the effects of t's end on the world (for a thread that
// ended during Setup, once Setup has returned).
func (ex *execution) ended(t *Thread) {
	op := OpExit
	if t.sched.state == StateKilled {
		op = OpKilled
	}
	ex.emit(Step{Thread: t.id, Name: t.name, Op: op, Text: fmtStatus(t.status())})
	// The thread's buffered stores (TSO) still flush as separate steps:
	// its end is not atomic with its last access. What it wrote is
	// published to its parent when the parent reaps it.
	if t.flags&Postmaster != 0 {
		ex.sched.pmDied = true
	}
	if t.parent >= 0 {
		if p := ex.sched.threads[t.parent]; p.sched.alive {
			p.sched.reaps = append(p.sched.reaps, t.status())
			p.sched.latchSet = true // SIGCHLD sets the latch
		}
	}
}

func fmtStatus(s ExitStatus) string {
	if s.State == StateExited {
		return fmt.Sprintf("%s code %d", s.Name, s.Code)
	}
	return s.Name + " " + s.State.String()
}

// execOp takes t's pending step and resumes t with its result.
func (ex *execution) execOp(t *Thread) {
	o := t.sched.pending
	t.sched.parked = false
	var r result
	var info string
	var old val
	id, m := t.id, ex.mem.model
	switch o.kind {
	case OpLoad, OpLoadBytes:
		var v val
		v, info = m.load(id, o.l, o.order)
		r.w, r.b = v.w, v.b
	case OpStore:
		info = m.store(id, o.l, val{w: o.v}, o.order)
	case OpStoreBytes:
		info = m.store(id, o.l, val{b: o.b}, o.order)
	case OpSwap:
		old, info = m.rmw(id, o.l, o.order, func(val) (val, bool) { return val{w: o.v}, true })
		r.w = old.w
	case OpCAS:
		old, info = m.rmw(id, o.l, o.order, func(x val) (val, bool) { return val{w: o.v}, x.w == o.old })
		r.w, r.ok = old.w, old.w == o.old
	case OpAdd:
		old, info = m.rmw(id, o.l, o.order, func(x val) (val, bool) { return val{w: x.w + o.v}, true })
		r.w = old.w + o.v
	case OpFence:
		info = m.fence(id, o.fence)
	case OpLock:
		ls := ex.sched.locks[o.lock]
		if o.mode == bgworker.LockExclusive {
			ls.excl = id
		} else {
			ls.shared = append(ls.shared, id)
		}
		m.acquire(id, ls.sync)
	case OpUnlock:
		r.err = ex.unlock(t, o.lock, o.mode)
	case OpWait:
		if t.sched.latchSet {
			r.ev |= bgworker.WaitLatchSet
			m.acquire(id, t.sched.latchSync)
		}
		if ex.sched.pmDied {
			r.ev |= bgworker.WaitPostmasterDeath
		}
		r.timedOut = r.ev == 0
	case OpReset:
		// Clearing a set latch consumes the signals that set it, also one
		// that arrived after the last wait returned: acquire what they
		// published, as PostgreSQL's ResetLatch does with the barrier
		// that pairs with SetLatch's. Otherwise a Wait/Reset/check loop
		// could consume a signal and miss its data.
		if t.sched.latchSet {
			m.acquire(id, t.sched.latchSync)
		}
		t.sched.latchSet = false
	case OpSignal:
		if tg := ex.sched.target(o.target); tg == nil {
			r.err = ErrNoSuchThread
			if o.target < 0 {
				r.err = ErrNoPostmaster
			}
		} else {
			m.release(id, tg.sched.latchSync)
			tg.sched.latchSet = true
		}
	case OpSpawn:
		ex.emitOp(t, &o, &r, old, info)
		c := ex.spawn(t, o.spawn.name, o.spawn.body, o.spawn.flags)
		r.tid = c.id
		ex.finishOp(t, &o, &r)
		return
	case OpKill:
		tg := ex.sched.target(o.target)
		if tg == nil {
			r.err = ErrNoSuchThread
			break
		}
		ex.emitOp(t, &o, &r, old, info)
		ex.killThread(tg)
		if tg == t {
			return
		}
		ex.finishOp(t, &o, &r)
		return
	case OpReap:
		r.exits, t.sched.reaps = t.sched.reaps, nil
		// wait4 returns after the child's exit, which serialises it: its
		// stores are in memory and its view is published.
		for _, c := range r.exits {
			m.drain(c.Thread)
			m.release(c.Thread, ex.sched.threads[c.Thread].sched.exitSync)
			m.acquire(id, ex.sched.threads[c.Thread].sched.exitSync)
		}
	case OpPMDied:
		r.ok = ex.sched.pmDied
	case OpSleep, OpYield:
	}
	ex.emitOp(t, &o, &r, old, info)
	ex.finishOp(t, &o, &r)
}

func (ex *execution) unlock(t *Thread, id LockID, mode bgworker.LockMode) error {
	ls := ex.sched.locks[id]
	if mode == bgworker.LockExclusive {
		if ls.excl != t.id {
			return fmt.Errorf("%w: %s %s", ErrLockNotHeld, ls.name, mode)
		}
		ex.mem.model.release(t.id, ls.sync)
		ls.excl = -1
		return nil
	}
	i := slices.Index(ls.shared, t.id)
	if i < 0 {
		return fmt.Errorf("%w: %s %s", ErrLockNotHeld, ls.name, mode)
	}
	ex.mem.model.release(t.id, ls.sync)
	ls.shared = slices.Delete(ls.shared, i, i+1)
	return nil
}

// finishOp adds the result to t's history and resumes t.
func (ex *execution) finishOp(t *Thread, o *op, r *result) {
	e := &ex.enc
	e.reset()
	e.key(t.sched.hist)
	e.u64(uint64(o.kind))
	e.u64(r.w)
	e.str(r.b)
	e.bool(r.ok)
	e.bool(r.err != nil)
	e.u64(uint64(r.ev))
	e.bool(r.timedOut)
	e.u64(uint64(r.tid))
	for _, x := range r.exits {
		e.u64(uint64(x.Thread))
		e.u64(uint64(x.State))
		e.u64(uint64(int64(x.Code)))
	}
	t.sched.hist = e.sum()
	ex.resume(t, *r)
}

// emitOp makes t's step row, if rows are wanted.
func (ex *execution) emitOp(t *Thread, o *op, r *result, old val, info string) {
	if !ex.out.verbose {
		return
	}
	s := Step{Thread: t.id, Name: t.name, Op: o.kind, Order: o.order, Fence: o.fence, Info: info}
	if o.l != nil {
		s.Off, s.Size, s.Loc = o.l.off, o.l.size, o.l.label()
	}
	switch o.kind {
	case OpLoad:
		s.Value, s.Text = r.w, itoa64(r.w)
	case OpLoadBytes:
		s.Bytes, s.Text = r.b, fmtBytes(r.b)
	case OpStore:
		s.Value, s.Text = o.v, itoa64(o.v)
	case OpStoreBytes:
		s.Bytes, s.Text = o.b, fmtBytes(o.b)
	case OpSwap:
		s.Old, s.Value, s.Text = old.w, o.v, itoa64(old.w)+"→"+itoa64(o.v)
	case OpAdd:
		s.Old, s.Value, s.Text = old.w, r.w, itoa64(old.w)+"→"+itoa64(r.w)
	case OpCAS:
		s.Old, s.Value = old.w, old.w
		if r.ok {
			s.Value, s.Text = o.v, itoa64(old.w)+"→"+itoa64(o.v)
		} else {
			s.Text = itoa64(old.w) + " (≠" + itoa64(o.old) + ", failed)"
		}
	case OpLock, OpUnlock:
		s.Loc, s.Text = ex.sched.locks[o.lock].name, o.mode.String()
		if r.err != nil {
			s.Text += ": " + r.err.Error()
		}
	case OpWait:
		s.Text = fmtEvents2(r.ev, r.timedOut)
		if o.deadline {
			s.Info = "deadline " + o.until.String()
		}
	case OpSignal, OpKill:
		s.Text = ex.sched.fmtTarget(o.target)
		if r.err != nil {
			s.Text += ": " + r.err.Error()
		}
	case OpSleep:
		s.Text = "until " + o.until.String()
	case OpSpawn:
		s.Text = o.spawn.name
		if o.spawn.flags != 0 {
			s.Info = o.spawn.flags.String()
		}
	case OpReap:
		var parts []string
		for _, x := range r.exits {
			parts = append(parts, fmtStatus(x))
		}
		s.Text = strings.Join(parts, ", ")
	case OpPMDied:
		s.Text = fmt.Sprint(r.ok)
	}
	ex.emit(s)
}

func fmtEvents2(ev bgworker.WaitEvents, timedOut bool) string {
	var parts []string
	if ev&bgworker.WaitLatchSet != 0 {
		parts = append(parts, "latch-set")
	}
	if ev&bgworker.WaitPostmasterDeath != 0 {
		parts = append(parts, "postmaster-death")
	}
	if timedOut {
		parts = append(parts, "timeout")
	}
	return strings.Join(parts, "|")
}

func itoa64(x uint64) string { return fmt.Sprint(x) }
