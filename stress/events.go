package stress

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"bgwmodel/impl/cluster"
	"bgwmodel/spec"
)

// eventsStream is the PCG stream of the seed the workload's events are
// drawn from (see workloadEvents).
const eventsStream = varyStream + 1

// workloadEvent is something a bulk driver is asked to do at its next
// step, besides its mix of operations.
type workloadEvent uint8

const (
	// eventFill: register transient workers until "no free slot".
	eventFill workloadEvent = iota + 1
	// eventBackendExit: the backend exits normally, a fresh one replaces
	// it.
	eventBackendExit
)

// workloadEvents asks the bulk drivers for fills and backend exits, each
// about every its period (Workload.FillEvery, BackendExitEvery, jittered
// as the faults are, from the faults' start), until ctx ends. Each
// request is taken by one driver.
func (c *campaign) workloadEvents(ctx context.Context) {
	w := &c.cfg.Workload
	rng := rand.New(rand.NewPCG(uint64(c.cfg.Seed), eventsStream))
	type due struct {
		at time.Duration
		ev workloadEvent
	}
	var plan []due
	for _, p := range []struct {
		ev    workloadEvent
		every time.Duration
	}{{eventFill, w.FillEvery.D()}, {eventBackendExit, w.BackendExitEvery.D()}} {
		if p.every <= 0 {
			continue
		}
		for t := c.cfg.Faults.Start.D() + p.every/2 + time.Duration(rng.Int64N(int64(p.every)+1)); t < c.cfg.Duration.D(); t += p.every/2 + time.Duration(rng.Int64N(int64(p.every)+1)) {
			plan = append(plan, due{t, p.ev})
		}
	}
	slices.SortStableFunc(plan, func(a, b due) int { return int(a.at - b.at) })
	for _, d := range plan {
		sleepCtx(ctx, time.Until(c.start.Add(d.at)))
		if ctx.Err() != nil {
			return
		}
		select {
		case c.events <- d.ev:
		case <-ctx.Done():
			return
		}
	}
}

// takeEvent returns a workload event asked for, if any, for a bulk
// driver to do now.
func (c *campaign) takeEvent() workloadEvent {
	select {
	case ev := <-c.events:
		return ev
	default:
		return 0
	}
}

// fill registers transient workers until the answer is "no free slot"
// (or the connection is gone), at most slots + 1 times.
func (d *driver) fill(ctx context.Context) error {
	for range d.c.cfg.Slots + 1 {
		_, result, err := d.register(ctx, d.c.work.transient(d.rng, d.n))
		if err != nil || d.be == nil || result == spec.ResultNoFreeSlot || ctx.Err() != nil {
			return err
		}
	}
	return nil
}

// exitBackend has the backend exit normally, code 0 or 1 (both ordinary
// exits: no crash restart), with its registrations alive; the driver
// connects a fresh backend at its next step.
func (d *driver) exitBackend(ctx context.Context) error {
	octx, cancel := opContext(ctx, opTimeout)
	defer cancel()
	err := d.be.Exit(octx, d.rng.IntN(2))
	d.disconnect()
	if err == nil || ctx.Err() != nil || errors.Is(err, cluster.ErrBackendClosed) {
		return nil // done, or the backend went first (a kill, a crash restart)
	}
	return err
}
