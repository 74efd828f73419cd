package postmaster

import (
	"fmt"
	"slices"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
)

// start handles EventStart: BackgroundWorkerShmemInit, PostmasterStart,
// and the first maybe_start_bgworker.
func (c *Core) start() error {
	call := c.stamp()
	seg, err := c.pm.BackgroundWorkerShmemInit(c.mem)
	ret := c.stamp()
	if err != nil {
		return fmt.Errorf("postmaster: start: %w", err)
	}
	c.seg = seg
	c.record(Record{Kind: RecordInit, Slot: -1, InUse: c.inUse()}, call, ret)
	c.state = PMRun
	c.enterPostmasterStart()
	return c.maybeStartWorkers()
}

// enterPostmasterStart begins the start states again: PostmasterStart now,
// the others after the configured delays.
func (c *Core) enterPostmasterStart() {
	c.phaseStart = c.now
	c.reached = bgworker.PostmasterStart
	c.note(Record{Kind: RecordStateReached, Slot: -1, State: c.reached})
	c.advanceStates()
}

// stateTime is when start state s is reached in the current phase.
func (c *Core) stateTime(s bgworker.StartTime) time.Duration {
	t := c.phaseStart
	if s >= bgworker.ConsistentState {
		t += c.cfg.ConsistentDelay
	}
	if s >= bgworker.RecoveryFinished {
		t += c.cfg.RecoveryDelay
	}
	return t
}

// advanceStates moves to every start state whose time has come (the pmState
// changes of PostmasterStateMachine that bgworker_should_start_now reads).
func (c *Core) advanceStates() {
	for c.reached < bgworker.RecoveryFinished && c.now >= c.stateTime(c.reached+1) {
		c.reached++
		c.note(Record{Kind: RecordStateReached, Slot: -1, State: c.reached})
	}
}

// maybeStartWorkers is maybe_start_bgworker: every registered worker that
// is not running and not being spawned is forgotten (crashed and
// NeverRestart), left to wait (crashed, restart_time not yet passed; start
// state not reached), or spawned. Unlike the seed, which starts one worker
// per call and loops through ServerLoop, it asks for every spawn at once.
// It does nothing unless the postmaster is running (FatalError or
// shutdown).
func (c *Core) maybeStartWorkers() error {
	if c.state != PMRun {
		return nil
	}
	// ForgetBackgroundWorker changes the list: walk a copy.
	for _, rw := range slices.Clone(c.pm.Workers()) {
		if rw.Pid != 0 || c.meta[rw.Slot].token != 0 {
			continue
		}
		if rw.Crashed {
			if rw.Worker.RestartTime == bgworker.NeverRestart {
				if err := c.forget(rw, "crashed, never restarted"); err != nil {
					return err
				}
				continue
			}
			if !bgworker.ReadyToRestart(rw.Worker.RestartTime, rw.CrashedAt, c.now, c.flaws) {
				continue
			}
		}
		if rw.Worker.StartTime <= c.reached {
			c.spawn(rw)
		}
	}
	return nil
}

// spawn asks the driver for a process (do_start_bgworker's fork). As the
// seed does before forking, it clears the crash time.
func (c *Core) spawn(rw *bgworker.RegisteredWorker) {
	c.nextToken++
	c.meta[rw.Slot].token = c.nextToken
	rw.Crashed, rw.CrashedAt = false, 0
	c.note(Record{Kind: RecordSpawn, Slot: rw.Slot, Name: rw.Worker.Name, RestartTime: rw.Worker.RestartTime, Flags: rw.Worker.Flags})
	c.act(Action{Kind: ActionSpawn, Slot: rw.Slot, Worker: rw.Worker, Token: c.nextToken})
}

// spawnResult handles EventSpawnResult: the rest of do_start_bgworker.
func (c *Core) spawnResult(ev Event) error {
	slot := -1
	if ev.SpawnToken != 0 {
		slot = slices.IndexFunc(c.meta, func(m slotMeta) bool { return m.token == ev.SpawnToken })
	}
	var rw *bgworker.RegisteredWorker
	if slot >= 0 {
		rw = c.pm.FindRegisteredWorkerBySlotNumber(slot)
	}
	if rw == nil {
		c.note(Record{Kind: RecordIgnored, Slot: -1, Pid: ev.Pid,
			Detail: fmt.Sprintf("spawn result for unknown token %d", ev.SpawnToken)})
		return nil
	}
	c.meta[slot].token = 0
	if ev.SpawnErr != "" || ev.Pid <= 0 {
		return c.spawnFailed(rw, ev)
	}
	rw.Pid = ev.Pid
	switch c.state {
	case PMCrashWait:
		c.note(Record{Kind: RecordLateSpawn, Slot: rw.Slot, Pid: rw.Pid, Name: rw.Worker.Name,
			Detail: "started during a crash restart: sent SIGQUIT"})
		c.signal(rw.Pid, SIGQUIT)
		return nil
	case PMShutdown:
		if err := c.launch(rw); err != nil {
			return err
		}
		c.signal(rw.Pid, SIGTERM)
		return nil
	}
	return c.launch(rw)
}

// spawnFailed handles a spawn that failed.
func (c *Core) spawnFailed(rw *bgworker.RegisteredWorker, ev Event) error {
	why := ev.SpawnErr
	if why == "" {
		why = fmt.Sprintf("driver reported pid %d", ev.Pid)
	}
	r := Record{Kind: RecordSpawnFailed, Slot: rw.Slot, Name: rw.Worker.Name, RestartTime: rw.Worker.RestartTime, Flags: rw.Worker.Flags,
		Notify: rw.Worker.NotifyPid, Detail: why}
	if c.flaws.Has(flaw.SpawnFailureAsStart) {
		// The seed: the child slot assigned before the fork is never
		// released and rw_crashed_at stays 0, so the next
		// maybe_start_bgworker tries again at once.
		c.leaked++
		if c.state == PMRun {
			r.Detail += "; retried at once, child slot leaked (spawn-failure-as-start)"
		}
		c.note(r)
		return c.afterChildGone()
	}
	if c.state != PMRun {
		r.Detail += "; not retried (" + c.state.String() + ")"
		c.note(r)
		return c.afterChildGone()
	}
	// Fixed (PostgreSQL 4fe04244b5): as if it had crashed now.
	d := bgworker.DecideSpawnFailure(&rw.Worker, c.flaws)
	r.Decision, r.Delay = d.Action, d.Delay
	c.note(r)
	rw.Crashed, rw.CrashedAt = true, c.now
	if d.Action == bgworker.Forget {
		return c.forget(rw, "spawn failed, never restarted")
	}
	return nil
}

// launch is do_start_bgworker's parent branch: rw runs as rw.Pid;
// ReportBackgroundWorkerPID publishes it and the registrant is told.
func (c *Core) launch(rw *bgworker.RegisteredWorker) error {
	rw.Started = true
	call := c.stamp()
	notify, err := c.pm.ReportBackgroundWorkerPID(rw)
	ret := c.stamp()
	if err != nil {
		return fmt.Errorf("postmaster: launch: %w", err)
	}
	c.record(Record{Kind: RecordLaunch, Slot: rw.Slot, Pid: rw.Pid, Name: rw.Worker.Name,
		RestartTime: rw.Worker.RestartTime, Flags: rw.Worker.Flags, Notify: notify}, call, ret)
	c.notify(notify, rw.Slot, NotifyLaunched)
	return nil
}

// reportStopped writes pid 0 for rw (ReportBackgroundWorkerPID after
// CleanupBackgroundWorker cleared rw_pid) and returns its registrant.
func (c *Core) reportStopped(rw *bgworker.RegisteredWorker) (int32, error) {
	rw.Pid = 0
	call := c.stamp()
	notify, err := c.pm.ReportBackgroundWorkerPID(rw)
	ret := c.stamp()
	if err != nil {
		return 0, fmt.Errorf("postmaster: report stopped: %w", err)
	}
	c.record(Record{Kind: RecordReportStopped, Slot: rw.Slot, Name: rw.Worker.Name, RestartTime: rw.Worker.RestartTime,
		Flags: rw.Worker.Flags, Notify: notify}, call, ret)
	return notify, nil
}

// forget frees rw's slot (ForgetBackgroundWorker) and then tells its
// registrant (the 2017 fix, 28724fd90d): the registrant that wakes finds
// the slot free. With flaw silent-forget a worker that never started is
// forgotten without a word; with flaw notify-before-free the registrant was
// told when the worker stopped, and the free itself is silent, as in the
// seed.
func (c *Core) forget(rw *bgworker.RegisteredWorker, why string) error {
	slot := rw.Slot
	silent := ""
	switch {
	case c.meta[slot].stopNotified:
		silent = "; registrant notified at exit, before the free (notify-before-free)"
	case c.flaws.Has(flaw.SilentForget) && !rw.Started:
		silent = "; never started, registrant not notified (silent-forget)"
	}
	call := c.stamp()
	notify, err := c.pm.ForgetBackgroundWorker(rw)
	ret := c.stamp()
	if err != nil {
		return fmt.Errorf("postmaster: forget: %w", err)
	}
	c.meta[slot] = slotMeta{}
	c.record(Record{Kind: RecordForget, Slot: slot, Name: rw.Worker.Name, RestartTime: rw.Worker.RestartTime, Flags: rw.Worker.Flags,
		Notify: notify, Detail: why + silent}, call, ret)
	if silent == "" {
		c.notify(notify, slot, NotifyForgotten)
	}
	return nil
}

// notify sends SIGUSR1 to a registrant (the kill of
// ReportBackgroundWorkerPID), if there is one.
func (c *Core) notify(pid int32, slot int, why NotifyReason) {
	if pid == 0 {
		return
	}
	c.note(Record{Kind: RecordNotify, Slot: slot, Notify: pid, Reason: why})
	c.signal(pid, SIGUSR1)
}

// nextWake is the earliest time a tick would make progress. A worker that
// could start or be forgotten now (after a step that deferred the scan:
// flaws notify-before-free and spawn-failure-as-start, or a spawn failure
// with restart_time 0) makes it now.
func (c *Core) nextWake() (time.Duration, bool) {
	if c.state != PMRun {
		return 0, false
	}
	var best time.Duration
	ok := false
	consider := func(t time.Duration) {
		if t < c.now {
			t = c.now
		}
		if !ok || t < best {
			best, ok = t, true
		}
	}
	if c.reached < bgworker.RecoveryFinished {
		consider(c.stateTime(c.reached + 1))
	}
	for _, rw := range c.pm.Workers() {
		if rw.Pid != 0 || c.meta[rw.Slot].token != 0 {
			continue
		}
		switch {
		case rw.Crashed && rw.Worker.RestartTime == bgworker.NeverRestart:
			consider(c.now)
		case rw.Crashed:
			t := rw.CrashedAt + bgworker.RestartDelay(rw.Worker.RestartTime, c.flaws)
			if t < rw.CrashedAt { // cannot happen within MaxRestartTime; be safe
				t = rw.CrashedAt
			}
			consider(max(t, c.stateTime(rw.Worker.StartTime)))
		default:
			consider(c.stateTime(rw.Worker.StartTime))
		}
	}
	return best, ok
}

// emitWake asks for a tick at the next wake time unless an earlier or equal
// one is pending.
func (c *Core) emitWake() {
	t, ok := c.nextWake()
	if !ok || (c.wakeSet && c.wakeAt <= t) {
		return
	}
	c.wakeSet, c.wakeAt = true, t
	c.act(Action{Kind: ActionWakeAt, At: t})
}
