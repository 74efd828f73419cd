package postmaster

import (
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
