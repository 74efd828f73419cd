package postmaster

import (
	"errors"
	"fmt"

	"bgwmodel/impl/bgworker"
)

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
