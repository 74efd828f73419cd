package postmaster

import (
	"fmt"
)

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
