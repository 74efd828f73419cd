package postmaster

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
