package protocol

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"bgwmodel/explore"
	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/shmem"
	"bgwmodel/linearizability"
	"bgwmodel/spec"
)

// The checks of every execution, run at its normal end in this order (the
// cheap ones first). Invariants 4 (first half) and 6, and the policy, are
// checked as the run goes, by the postmaster driver; hangs are the
// explorer's.
var endChecks = []struct {
	name  string
	check func(c *cluster, e *explore.End) error
}{
	{"leak", (*cluster).checkLeak},
	{"invariant 2", (*cluster).checkStartedPid},
	{"invariant 3", (*cluster).checkGenerations},
	{"invariant 4", (*cluster).checkPrivateInUse},
	{"invariant 5", (*cluster).checkAdopted},
	{"invariant 1 (linearizability)", (*cluster).checkLinearizable},
}

// ErrCheck is wrapped by every error an end check returns.
var ErrCheck = errors.New("check failed")

// check runs the end checks.
func (c *cluster) check(e *explore.End) error {
	for _, ch := range endChecks {
		if err := ch.check(c, e); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrCheck, ch.name, err)
		}
	}
	return nil
}

// checkLeak: a failed spawn leaves no bookkeeping behind (the seed's
// spawn-failure-as-start leaks the child slot it assigned before fork).
func (c *cluster) checkLeak(*explore.End) error {
	if c.core != nil && c.core.LeakedChildSlots() > 0 {
		return fmt.Errorf("%d child slot(s) leaked by failed spawns", c.core.LeakedChildSlots())
	}
	return nil
}

// checkStartedPid is invariant 2: a handle never reports the status of a
// worker registered under another generation or epoch — a STARTED pid is
// the pid launched for the very registration the handle names.
func (c *cluster) checkStartedPid(*explore.End) error {
	launched := map[int32]string{} // pid → worker name
	for _, r := range c.recs {
		if r.Kind == postmaster.RecordLaunch {
			launched[r.Pid] = r.Name
		}
	}
	issued := map[spec.Handle]string{} // handle → worker name
	for _, reg := range c.regs {
		op := c.hist[reg.op]
		if !op.Output.Unknown && op.Output.Result == spec.ResultOK {
			issued[op.Output.Handle] = reg.worker.Name
		}
	}
	for _, op := range c.hist {
		k := op.Input.Kind
		if op.Output.Unknown || (k != spec.OpGetPid && k != spec.OpWaitForStartup) || op.Output.Status != spec.Started {
			continue
		}
		want, got := issued[op.Input.Handle], launched[int32(op.Output.Pid)]
		if want == "" || want != got {
			return fmt.Errorf("%s: handle %v (worker %q) reported STARTED with pid %d, the pid of worker %q",
				op.Process, op.Input.Handle, want, op.Output.Pid, got)
		}
	}
	return nil
}

// checkGenerations is invariant 3: per slot, between re-inits, the
// generations of the handles issued only grow.
func (c *cluster) checkGenerations(*explore.End) error {
	type key struct {
		epoch uint64
		slot  int
	}
	byRet := map[key][]linearizability.Operation{}
	for _, reg := range c.regs {
		op := c.hist[reg.op]
		if !op.Output.Unknown && op.Output.Result == spec.ResultOK {
			h := op.Output.Handle
			byRet[key{h.Epoch, h.Slot}] = append(byRet[key{h.Epoch, h.Slot}], op)
		}
	}
	for k, ops := range byRet {
		sort.Slice(ops, func(i, j int) bool { return ops[i].Return < ops[j].Return })
		for i := 1; i < len(ops); i++ {
			if ops[i].Output.Handle.Generation <= ops[i-1].Output.Handle.Generation {
				return fmt.Errorf("slot %d in epoch %d: generation %d issued after %d", k.slot, k.epoch,
					ops[i].Output.Handle.Generation, ops[i-1].Output.Handle.Generation)
			}
		}
	}
	return nil
}

// checkPrivateInUse is invariant 4's second half: at the end, every
// worker of the postmaster's private list holds an in-use slot.
func (c *cluster) checkPrivateInUse(e *explore.End) error {
	if c.core == nil || c.pmDead {
		return nil
	}
	mem := e.Mem()
	for _, rw := range c.core.Workers() {
		off, ok := slotField(rw.Slot, "in_use")
		if !ok {
			return fmt.Errorf("worker %q in slot %d: no such slot", rw.Worker.Name, rw.Slot)
		}
		v, err := mem.Load32(off, shmem.Relaxed)
		if err != nil {
			return err
		}
		if v == 0 {
			return fmt.Errorf("worker %q is in the private list but slot %d is free", rw.Worker.Name, rw.Slot)
		}
	}
	return nil
}

// checkAdopted is invariant 5 (every registration is taken up): with a
// live postmaster, at the end every registration of the current epoch has
// been adopted, and what was adopted is what was registered (a rejected
// or different definition means the postmaster read a stale block).
func (c *cluster) checkAdopted(*explore.End) error {
	if c.core == nil || c.pmDead {
		return nil
	}
	epoch := c.core.Epoch()
	var lastReinit linearizability.Stamp
	for _, r := range c.recs {
		if r.Kind == postmaster.RecordReinit {
			lastReinit = linearizability.Stamp(r.Return)
		}
	}
	registered := map[int][]registration{}
	for _, reg := range c.regs {
		op := c.hist[reg.op]
		switch {
		case op.Output.Unknown && op.Call > lastReinit:
			return nil // a registration cut short: which slot it took is unknown
		case op.Output.Unknown || op.Output.Result != spec.ResultOK || op.Output.Handle.Epoch != epoch:
			continue
		}
		registered[op.Output.Handle.Slot] = append(registered[op.Output.Handle.Slot], reg)
	}
	adopted := map[int][]string{}
	for _, r := range c.recs {
		if r.Epoch != epoch {
			continue
		}
		switch r.Kind {
		case postmaster.RecordAdopt:
			adopted[r.Slot] = append(adopted[r.Slot], r.Name)
		case postmaster.RecordReject:
			adopted[r.Slot] = append(adopted[r.Slot], "(rejected: "+r.Detail+")")
		}
	}
	for slot := 0; slot < c.scn.Slots; slot++ {
		regs := registered[slot]
		sort.Slice(regs, func(i, j int) bool {
			return c.hist[regs[i].op].Output.Handle.Generation < c.hist[regs[j].op].Output.Handle.Generation
		})
		got := adopted[slot]
		for i, reg := range regs {
			if i >= len(got) {
				return fmt.Errorf("%s registered %q in slot %d (generation %d), never adopted: the postmaster missed the registration",
					reg.backend, reg.worker.Name, slot, c.hist[reg.op].Output.Handle.Generation)
			}
			if got[i] != reg.worker.Name {
				return fmt.Errorf("%s registered %q in slot %d, the postmaster adopted %q: it read a stale or partial definition",
					reg.backend, reg.worker.Name, slot, got[i])
			}
		}
		if len(got) > len(regs) {
			return fmt.Errorf("slot %d: adopted %q, which no backend registered", slot, got[len(regs)])
		}
	}
	return nil
}

// linTimeout bounds one linearizability check; histories here are tiny.
const linTimeout = 20 * time.Second

// checkLinearizable is invariant 1: the backends' outputs, with the
// postmaster's operations, are linearizable against the specification
// (exact check, no partitioning).
func (c *cluster) checkLinearizable(*explore.End) error {
	rep := linearizability.Check(c.hist, linearizability.Options{
		Slots: c.scn.Slots, Static: len(c.scn.Static), Mode: linearizability.ModeExact, Timeout: linTimeout,
	})
	if rep.Ok() {
		return nil
	}
	var b strings.Builder
	if v := rep.Violation(); v != nil {
		b.WriteString("not linearizable: " + strings.TrimSpace(v.Detail))
	} else {
		b.WriteString("no verdict: " + strings.TrimSpace(rep.String()))
	}
	b.WriteString("\nhistory:")
	h := append(linearizability.History(nil), c.hist...)
	h.SortByCall()
	for _, op := range h {
		b.WriteString("\n  " + op.String())
	}
	return errors.New(b.String())
}

var _ = bgworker.InvalidPid
