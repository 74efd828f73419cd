package postmaster

import (
	"errors"
	"fmt"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
)

// childExited handles EventChildExited (CleanupBackgroundWorker).
func (c *Core) childExited(pid int32, exit bgworker.ExitStatus) error {
	rw := c.workerByPid(pid)
	if rw == nil {
		c.note(Record{Kind: RecordIgnored, Slot: -1, Pid: pid, Exit: exit, Detail: "exit of an unknown child"})
		return nil
	}
	d := bgworker.DecideRestart(&rw.Worker, exit, c.flaws)
	r := Record{Kind: RecordExited, Slot: rw.Slot, Pid: pid, Name: rw.Worker.Name, RestartTime: rw.Worker.RestartTime, Flags: rw.Worker.Flags,
		Exit: exit, Decision: d.Action, Delay: d.Delay, Notify: rw.Worker.NotifyPid}
	switch {
	case c.state == PMCrashWait:
		// HandleChildCrash during FatalError: reaped, not reported in
		// shared memory, which is about to be rebuilt.
		rw.Pid = 0
		r.Detail = "reaped during a crash restart"
		c.note(r)
		return c.afterChildGone()
	case d.Action == bgworker.CrashRestart:
		rw.Pid = 0
		rw.Crashed, rw.CrashedAt = true, c.now
		c.note(r)
		return c.crash(fmt.Sprintf("worker %q (pid %d) %v", rw.Worker.Name, pid, exit))
	case c.state == PMShutdown:
		r.Detail = "exited during shutdown: not restarted"
		c.note(r)
		notify, err := c.reportStopped(rw)
		if err != nil {
			return err
		}
		c.notify(notify, rw.Slot, NotifyStopped)
		return c.afterChildGone()
	}
	c.note(r)
	switch d.Action {
	case bgworker.RestartNow:
		rw.Crashed, rw.CrashedAt = false, 0
	case bgworker.RestartAfter:
		rw.Crashed, rw.CrashedAt = true, c.now
	case bgworker.Forget:
		rw.Crashed, rw.CrashedAt = true, c.now
		if c.flaws.Has(flaw.NotifyBeforeFree) {
			// The seed: report pid 0 and notify now; the next
			// maybe_start_bgworker frees the slot.
			notify, err := c.reportStopped(rw)
			if err != nil {
				return err
			}
			c.notify(notify, rw.Slot, NotifyStopped)
			c.meta[rw.Slot].stopNotified = true
			return nil
		}
		// Fixed (PostgreSQL aea5d29836): pid 0, free the slot, then notify.
		if _, err := c.reportStopped(rw); err != nil {
			return err
		}
		if err := c.forget(rw, "exited, never restarted"); err != nil {
			return err
		}
		return c.maybeStartWorkers()
	}
	notify, err := c.reportStopped(rw)
	if err != nil {
		return err
	}
	c.notify(notify, rw.Slot, NotifyStopped)
	return c.maybeStartWorkers()
}

// backendStarted handles EventBackendStarted.
func (c *Core) backendStarted(pid int32) {
	if pid <= 0 || c.backends[pid] {
		c.note(Record{Kind: RecordIgnored, Slot: -1, Pid: pid, Detail: "backend already live or invalid pid"})
		return
	}
	c.backends[pid] = true
	c.note(Record{Kind: RecordBackendStarted, Slot: -1, Pid: pid})
	if c.state == PMCrashWait {
		c.signal(pid, SIGQUIT)
	}
}

// backendExited handles EventBackendExited (CleanupBackend): the backend
// is never notified again (BackgroundWorkerStopNotifications); an exit
// other than 0 or 1 crashes the cluster, as a backend may have corrupted
// shared memory.
func (c *Core) backendExited(pid int32, exit bgworker.ExitStatus) error {
	if !c.backends[pid] {
		c.note(Record{Kind: RecordIgnored, Slot: -1, Pid: pid, Exit: exit, Detail: "exit of an unknown backend"})
		return nil
	}
	delete(c.backends, pid)
	c.pm.BackgroundWorkerStopNotifications(pid)
	c.note(Record{Kind: RecordBackendExited, Slot: -1, Pid: pid, Exit: exit})
	crashed := exit.Signaled || (exit.Code != 0 && exit.Code != 1)
	if crashed && c.state != PMCrashWait {
		return c.crash(fmt.Sprintf("backend (pid %d) %v", pid, exit))
	}
	return c.afterChildGone()
}

// crash begins a crash restart (HandleChildCrash): every child gets
// SIGQUIT, nothing starts, and once every child has exited shared memory
// is rebuilt (PostmasterStateMachine). It is never called during one: a
// child that dies badly then (as SIGQUIT makes backends do) is only
// reaped, its record showing the CrashRestart verdict.
func (c *Core) crash(why string) error {
	c.state = PMCrashWait
	c.note(Record{Kind: RecordCrashRestart, Slot: -1, Detail: why})
	c.act(Action{Kind: ActionKillAll})
	return c.afterChildGone()
}

// allGone reports whether no worker runs and no spawn is outstanding.
func (c *Core) allGone() bool {
	for _, rw := range c.pm.Workers() {
		if rw.Pid != 0 {
			return false
		}
	}
	return c.PendingSpawns() == 0
}

// afterChildGone moves on once the children the current state waits for
// have exited: a crash restart waits for every worker and backend and then
// re-initializes (or exits, after SIGTERM); a shutdown waits for the
// workers and exits.
func (c *Core) afterChildGone() error {
	switch c.state {
	case PMCrashWait:
		if !c.allGone() || len(c.backends) > 0 {
			return nil
		}
		if c.shutdown {
			c.exit()
			return nil
		}
		return c.reinit()
	case PMShutdown:
		if c.allGone() {
			c.exit()
		}
	}
	return nil
}

// reinit rebuilds shared memory after a crash (PostmasterStateMachine's
// reset_shared → BackgroundWorkerShmemInit) from the whole private list,
// as the seed does: every worker, dynamic ones included, is back in a
// slot, not started, generation 0, notify pid 0, in a new epoch; then the
// start states begin again.
func (c *Core) reinit() error {
	for _, rw := range c.pm.Workers() {
		rw.Pid, rw.Started, rw.Crashed, rw.CrashedAt = 0, false, false, 0
	}
	call := c.stamp()
	seg, err := c.pm.BackgroundWorkerShmemInit(c.mem)
	ret := c.stamp()
	if err != nil {
		return fmt.Errorf("postmaster: reinit: %w", err)
	}
	c.seg = seg
	c.epoch++
	clear(c.meta)
	c.record(Record{Kind: RecordReinit, Slot: -1, InUse: c.inUse(),
		Detail: "all server processes terminated; reinitializing"}, call, ret)
	c.state = PMRun
	c.enterPostmasterStart()
	return c.maybeStartWorkers()
}

// shutdownRequested handles EventShutdown (pmdie's SIGTERM): SIGTERM to
// every worker; the postmaster exits when they are gone. During a crash
// restart the children are already dying: the postmaster exits instead of
// re-initializing.
func (c *Core) shutdownRequested() {
	if c.shutdown {
		c.note(Record{Kind: RecordIgnored, Slot: -1, Detail: "already shutting down"})
		return
	}
	c.shutdown = true
	if c.state == PMCrashWait {
		c.note(Record{Kind: RecordShutdown, Slot: -1, Detail: "during a crash restart: exit when every child is gone"})
		return
	}
	c.state = PMShutdown
	c.note(Record{Kind: RecordShutdown, Slot: -1})
	for _, pid := range c.Children() {
		c.signal(pid, SIGTERM)
	}
	_ = c.afterChildGone() // cannot fail in PMShutdown
}

// exit ends the postmaster.
func (c *Core) exit() {
	c.state = PMExited
	c.note(Record{Kind: RecordShutdownDone, Slot: -1})
	c.act(Action{Kind: ActionExit})
}

// pmSignal handles EventPMSignal (sigusr1_handler): if the flag
// PMSIGNAL_BACKGROUND_WORKER_CHANGE was set, adopt what backends registered
// (BackgroundWorkerStateChange), then start what may start.
func (c *Core) pmSignal() error {
	set, err := c.pm.CheckPostmasterSignal()
	if err != nil {
		return fmt.Errorf("postmaster: %w", err)
	}
	if !set {
		return nil
	}
	live := func(pid int32) bool { return c.backends[pid] }
	call := c.stamp()
	sc, err := c.pm.BackgroundWorkerStateChange(live)
	ret := c.stamp()
	if errors.Is(err, bgworker.ErrCorrupt) {
		c.record(Record{Kind: RecordCorrupt, Slot: -1, Detail: err.Error() + "; scan skipped"}, call, ret)
	} else if err != nil {
		return fmt.Errorf("postmaster: %w", err)
	}
	// Log in slot order, as the scan went.
	i, j := 0, 0
	for i < len(sc.Adopted) || j < len(sc.Rejected) {
		if j == len(sc.Rejected) || (i < len(sc.Adopted) && sc.Adopted[i].Slot < sc.Rejected[j].Slot) {
			rw := sc.Adopted[i]
			i++
			c.meta[rw.Slot] = slotMeta{}
			detail := "no notify pid, or dropped"
			if rw.Worker.NotifyPid != 0 {
				detail = "notify pid kept"
			}
			c.record(Record{Kind: RecordAdopt, Slot: rw.Slot, Name: rw.Worker.Name, RestartTime: rw.Worker.RestartTime, Flags: rw.Worker.Flags,
				Notify: rw.Worker.NotifyPid, Detail: detail}, call, ret)
			continue
		}
		rj := sc.Rejected[j]
		j++
		c.record(Record{Kind: RecordReject, Slot: rj.Slot, Notify: rj.Notify, Detail: rj.Err.Error()}, call, ret)
		c.notify(rj.Notify, rj.Slot, NotifyRejected)
	}
	for _, d := range sc.Dropped {
		c.record(Record{Kind: RecordDropNotify, Slot: d.Slot, Pid: d.Pid, Detail: "not a live backend"}, call, ret)
	}
	return c.maybeStartWorkers()
}
