package protocol

import (
	"context"
	"fmt"
	"time"

	"bgwmodel/explore"
	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/shmem"
	"bgwmodel/internal/implspec"
	"bgwmodel/linearizability"
	"bgwmodel/spec"
)

// pmDriver is the simulated OS loop around the real postmaster core: it
// feeds the core events (start, SIGUSR1, child exits, spawn results,
// ticks) and performs its actions with the explorer's spawn, signal and
// kill, exactly as the real driver does with fork, kill and wait4.
type pmDriver struct {
	c        *cluster
	t        *explore.Thread
	core     *postmaster.Core
	wakeSet  bool
	wakeAt   time.Duration
	exited   bool
	notifies []postmaster.Record // RecordNotify not yet matched with their signal
	attempts map[string]int      // spawn attempts per worker name
	starts   map[string]int      // successful spawns per worker name
	reinits  int

	// mem is the postmaster's view of shared memory, for the mutant
	// relaunch-running's store; relaunch says that mutant is on, pending
	// holds the launch it repeats after the step, and relaunched that it
	// has been done (once per execution).
	mem        shmem.Memory
	relaunch   bool
	pending    []postmaster.Record
	relaunched bool
}

// postmasterMain is the postmaster thread.
func (c *cluster) postmasterMain(t *explore.Thread) {
	d := &pmDriver{c: c, t: t, attempts: map[string]int{}, starts: map[string]int{},
		mem: c.wrap(t.Mem(), rolePostmaster), relaunch: roleEdits(c.v.Mutants, rolePostmaster).relaunch}
	core, err := postmaster.New(postmaster.Config{
		MaxWorkers: c.scn.Slots, Static: c.scn.Static, Flaws: c.v.Flaws,
		SegmentID: segmentID, Stamp: c.stamp,
	}, d.mem)
	if err != nil {
		t.Failf("postmaster.New: %v", err)
	}
	if len(c.scn.Static) > 0 {
		c.cover("RegisterBackgroundWorker")
	}
	d.core, c.core = core, core
	// However the postmaster ends (exit or kill -9), its death is an
	// operation of the history; records of a step cut short by a kill are
	// drained first (the shared accesses they stand for did happen).
	defer func() {
		d.records(core.Ready().Records)
		s := c.stamp()
		c.pmOp(spec.Input{Kind: spec.OpDied}, s, s)
		c.pmDead = true
	}()
	d.step(postmaster.Event{Kind: postmaster.EventStart})
	for _, b := range c.scn.Backends {
		d.startBackend(b)
	}
	for !d.exited {
		var ev bgworker.WaitEvents
		if d.wakeSet {
			ev, _ = t.WaitUntil(d.wakeAt)
		} else {
			var err error
			if ev, err = t.Latch().Wait(context.Background()); err != nil {
				t.Failf("postmaster latch: %v", err)
			}
		}
		latch := ev&bgworker.WaitLatchSet != 0
		if latch {
			t.Latch().Reset()
		}
		for _, x := range t.Reap() {
			d.reaped(x)
			if d.exited {
				return
			}
		}
		if latch {
			d.step(postmaster.Event{Kind: postmaster.EventPMSignal})
		}
		if d.wakeSet && t.Now() >= d.wakeAt && !d.exited {
			d.wakeSet = false
			d.step(postmaster.Event{Kind: postmaster.EventTick})
		}
	}
}

// step feeds one event to the core and performs what it asks for.
func (d *pmDriver) step(ev postmaster.Event) {
	if d.exited {
		return
	}
	ev.Now = d.t.Now()
	if err := d.core.Step(ev); err != nil {
		d.t.Failf("postmaster core: %v: %v", ev, err)
	}
	if err := d.c.checkPrivateList(d.core); err != nil {
		d.t.Failf("invariant 4 after %v: %v", ev, err)
	}
	rd := d.core.Ready()
	d.records(rd.Records)
	if len(rd.Records) > 0 {
		if err := d.c.policy.check(ev); err != nil {
			d.t.Failf("%v", err)
		}
	}
	for _, a := range rd.Actions {
		d.perform(a)
	}
	pending := d.pending
	d.pending = nil
	for _, r := range pending {
		d.relaunchWorker(r, ev)
	}
	if d.reinits == 1 && len(d.c.scn.AfterCrash) > 0 {
		d.reinits++ // start them once
		for _, b := range d.c.scn.AfterCrash {
			d.startBackend(b)
		}
	}
}

// records logs the core's records: the history's postmaster operations,
// what the policy check follows, and coverage.
func (d *pmDriver) records(recs []postmaster.Record) {
	c := d.c
	for _, r := range recs {
		c.recs = append(c.recs, r)
		if in, ok := implspec.Op(r); ok {
			c.pmOp(in, r.Call, r.Return)
		}
		switch r.Kind {
		case postmaster.RecordReinit:
			d.reinits++
		case postmaster.RecordLaunch:
			if d.relaunch && !d.relaunched && !d.exited {
				d.relaunched = true
				d.pending = append(d.pending, r)
			}
		case postmaster.RecordForget:
			c.cover("ForgetBackgroundWorker")
		case postmaster.RecordBackendExited:
			c.cover("BackgroundWorkerStopNotifications")
		case postmaster.RecordNotify:
			d.notifies = append(d.notifies, r)
		}
		c.policy.note(r)
	}
}

// perform carries out one action of the core.
func (d *pmDriver) perform(a postmaster.Action) {
	c, t := d.c, d.t
	switch a.Kind {
	case postmaster.ActionSpawn:
		d.spawnWorker(a)
	case postmaster.ActionSignal:
		tid := tidOf(a.Pid)
		ch := c.children[tid]
		switch a.Signal {
		case postmaster.SIGUSR1:
			var n postmaster.Record
			if len(d.notifies) > 0 {
				n, d.notifies = d.notifies[0], d.notifies[1:]
			}
			// Invariant 6: SIGUSR1 goes only to live backends of this
			// postmaster (a zombie not yet reaped counts as live, as for
			// kill(2)).
			if ch == nil || !ch.backend || ch.reaped {
				t.Failf("invariant 6: SIGUSR1 to pid %d, not a live backend of this postmaster", a.Pid)
			}
			s := linearizability.Stamp(c.stamp())
			_ = t.Signal(tid) // the backend may have exited: ESRCH
			c.signals[tid] = append(c.signals[tid], sigEntry{stamp: s, slot: n.Slot, gone: c.policy.gone(n)})
		case postmaster.SIGTERM, postmaster.SIGQUIT:
			if ch == nil || ch.reaped {
				return
			}
			ch.sigterm = a.Signal == postmaster.SIGTERM
			_ = t.Kill(tid)
		}
	case postmaster.ActionWakeAt:
		if !d.wakeSet || a.At < d.wakeAt {
			d.wakeSet, d.wakeAt = true, a.At
		}
	case postmaster.ActionKillAll:
		for _, tid := range c.order {
			if !c.children[tid].reaped {
				_ = t.Kill(tid)
			}
		}
	case postmaster.ActionExit:
		d.exited = true
	}
}

// spawnWorker performs an ActionSpawn: fork the worker (or fail, if the
// scenario says so) and answer with EventSpawnResult.
func (d *pmDriver) spawnWorker(a postmaster.Action) {
	c, t := d.c, d.t
	name := a.Worker.Name
	d.attempts[name]++
	if c.scn.SpawnFails != nil && c.scn.SpawnFails(name, d.attempts[name]) {
		d.step(postmaster.Event{Kind: postmaster.EventSpawnResult, SpawnToken: a.Token, SpawnErr: "fork failed (injected)"})
		return
	}
	d.starts[name]++
	act := Stay
	if c.scn.Behave != nil {
		act = c.scn.Behave(name, d.core.Epoch(), d.starts[name])
	}
	tid := t.Spawn(name, workerBody(act), explore.Daemon)
	c.addChild(tid, &child{name: name})
	d.step(postmaster.Event{Kind: postmaster.EventSpawnResult, SpawnToken: a.Token, Pid: pidOf(tid)})
}

// relaunchWorker is the mutant relaunch-running: once the step that
// launched the worker of record r is done, the postmaster starts that
// worker a second time while it runs, as maybe_start_bgworker would
// without its "already running?" check (rw_pid != 0), and does what
// ReportBackgroundWorkerPID does: it publishes the new child's pid in the
// slot and signals the registrant. The real core does not know the
// second child (its exit is an unknown child's); the records and the
// history's Launch stand for what the postmaster did.
func (d *pmDriver) relaunchWorker(r postmaster.Record, ev postmaster.Event) {
	c, t := d.c, d.t
	off, ok := slotField(r.Slot, "pid")
	if !ok {
		t.Failf("relaunch-running: slot %d has no pid field", r.Slot)
		return
	}
	tid := t.Spawn(r.Name, workerBody(Stay), explore.Daemon)
	c.addChild(tid, &child{name: r.Name})
	call := c.stamp()
	if err := d.mem.Store32(off, uint32(pidOf(tid)), shmem.Relaxed); err != nil {
		t.Failf("relaunch-running: %v", err)
	}
	again := r
	again.Pid, again.Call, again.Return = pidOf(tid), call, c.stamp()
	again.Detail = "launched again while running (mutant relaunch-running)"
	d.records([]postmaster.Record{again})
	if r.Notify != 0 {
		s := c.stamp()
		d.records([]postmaster.Record{{Kind: postmaster.RecordNotify, Slot: r.Slot, Notify: r.Notify,
			Reason: postmaster.NotifyLaunched, Now: r.Now, Epoch: r.Epoch, Call: s, Return: s}})
		d.perform(postmaster.Action{Kind: postmaster.ActionSignal, Pid: r.Notify, Signal: postmaster.SIGUSR1})
	}
	if err := c.policy.check(ev); err != nil {
		t.Failf("%v", err)
	}
}

// workerBody is a worker process doing act.
func workerBody(act WorkerAction) explore.ThreadFunc {
	return func(t *explore.Thread) {
		if !act.Stay {
			t.Exit(act.Exit)
		}
		for {
			ev, err := t.Latch().Wait(context.Background())
			if err != nil || ev&bgworker.WaitPostmasterDeath != 0 {
				t.Exit(1) // the postmaster died: proc_exit(1)
			}
			t.Latch().Reset()
		}
	}
}

// startBackend forks a backend (BackendStartup) and tells the core.
func (d *pmDriver) startBackend(spec BackendSpec) {
	c, t := d.c, d.t
	sync := linearizability.Stamp(c.stamp())
	lock := c.locks[min(int(d.core.Epoch()), len(c.locks)-1)]
	tid := t.Spawn(spec.Name, c.backendMain(spec, sync, lock), 0)
	c.addChild(tid, &child{name: spec.Name, backend: true})
	d.step(postmaster.Event{Kind: postmaster.EventBackendStarted, Pid: pidOf(tid)})
}

// reaped reports a child's exit to the core.
func (d *pmDriver) reaped(x explore.ExitStatus) {
	ch := d.c.children[x.Thread]
	if ch == nil {
		d.t.Failf("reaped thread %d (%s), not a child of the postmaster", x.Thread, x.Name)
		return
	}
	ch.reaped = true
	exit := bgworker.ExitStatus{Code: x.Code}
	switch {
	case x.State == explore.StateKilled && ch.sigterm:
		exit = bgworker.ExitStatus{Code: 1} // bgworker_die: FATAL, exit 1
	case x.State != explore.StateExited:
		exit = bgworker.ExitStatus{Signaled: true}
	}
	kind := postmaster.EventChildExited
	if ch.backend {
		kind = postmaster.EventBackendExited
	}
	d.step(postmaster.Event{Kind: kind, Pid: pidOf(x.Thread), Exit: exit})
}

// checkPrivateList is invariant 4's first half, after every core step: the
// private list holds at most one worker per slot.
func (c *cluster) checkPrivateList(core *postmaster.Core) error {
	seen := map[int]string{}
	for _, rw := range core.Workers() {
		if prev, ok := seen[rw.Slot]; ok {
			return fmt.Errorf("the private list holds %q and %q in slot %d", prev, rw.Worker.Name, rw.Slot)
		}
		seen[rw.Slot] = rw.Worker.Name
	}
	return nil
}
