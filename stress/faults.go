package stress

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"time"

	"bgwmodel/impl/proc"
	"bgwmodel/spec"
)

// FaultKind names a fault.
type FaultKind string

// The faults, as named by the -faults flag.
const (
	FaultKillWorker      FaultKind = "kill-worker"
	FaultKillBackend     FaultKind = "kill-backend"
	FaultFailSpawns      FaultKind = "fail-spawns"
	FaultStopPostmaster  FaultKind = "stop-postmaster"
	FaultPostmasterDeath FaultKind = "postmaster-death"
)

// FaultKinds lists every fault, in a stable order.
func FaultKinds() []FaultKind {
	return []FaultKind{FaultKillWorker, FaultKillBackend, FaultFailSpawns, FaultStopPostmaster, FaultPostmasterDeath}
}

// SetFaults keeps only the faults in list (comma-separated names of
// [FaultKinds]; "none" alone for none, "default" alone to keep the
// configuration's): the others are turned off, and postmaster-death is
// turned on if listed. An empty list, an empty or repeated name, an
// unknown fault, and "none" or "default" beside other names are errors
// naming what is wrong.
func (c *Config) SetFaults(list string) error {
	switch strings.TrimSpace(list) {
	case "default":
		return nil
	case "":
		return errors.New(`stress: an empty fault list: want faults separated by commas, "none" or "default"`)
	}
	on := map[FaultKind]bool{}
	names := strings.Split(list, ",")
	for _, name := range names {
		k := FaultKind(strings.TrimSpace(name))
		switch {
		case k == "none" || k == "default":
			if len(names) > 1 {
				return fmt.Errorf("stress: %q stands alone: it cannot be listed with other faults", k)
			}
		case k == "":
			return fmt.Errorf("stress: an empty fault name in %q", list)
		case on[k]:
			return fmt.Errorf("stress: fault %q listed twice", k)
		case !slices.Contains(FaultKinds(), k):
			known := make([]string, 0, len(FaultKinds()))
			for _, k := range FaultKinds() {
				known = append(known, string(k))
			}
			return fmt.Errorf("stress: unknown fault %q (known: %s; or none or default alone)", k, strings.Join(known, ", "))
		default:
			on[k] = true
		}
	}
	f := &c.Faults
	def := DefaultConfig().Faults
	keep := func(k FaultKind, every *Duration, dflt Duration) {
		switch {
		case !on[k]:
			*every = 0
		case *every == 0:
			*every = dflt
		}
	}
	keep(FaultKillWorker, &f.KillWorker.Every, def.KillWorker.Every)
	keep(FaultKillBackend, &f.KillBackend.Every, def.KillBackend.Every)
	keep(FaultFailSpawns, &f.FailSpawns.Every, def.FailSpawns.Every)
	keep(FaultStopPostmaster, &f.StopPostmaster.Every, def.StopPostmaster.Every)
	f.PostmasterDeath.Enabled = on[FaultPostmasterDeath]
	return nil
}

// FaultList returns the faults the configuration turns on, as SetFaults
// takes them ("none" if none). It does not block.
func (c Config) FaultList() string {
	f := &c.Faults
	var on []string
	for _, x := range []struct {
		k  FaultKind
		on bool
	}{{FaultKillWorker, f.KillWorker.Every > 0}, {FaultKillBackend, f.KillBackend.Every > 0},
		{FaultFailSpawns, f.FailSpawns.Every > 0}, {FaultStopPostmaster, f.StopPostmaster.Every > 0},
		{FaultPostmasterDeath, f.PostmasterDeath.Enabled}} {
		if x.on {
			on = append(on, string(x.k))
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, ",")
}

// fault is one scheduled fault.
type fault struct {
	at   time.Duration
	kind FaultKind
}

// schedule returns the faults of a campaign, in time order, from the
// seed: each kind fires about every Every (uniformly within ±50%).
func schedule(cfg *Config, rng *rand.Rand) []fault {
	var out []fault
	f := &cfg.Faults
	dur := cfg.Duration.D()
	for _, p := range []struct {
		kind  FaultKind
		every time.Duration
	}{{FaultKillWorker, f.KillWorker.Every.D()}, {FaultKillBackend, f.KillBackend.Every.D()},
		{FaultFailSpawns, f.FailSpawns.Every.D()}, {FaultStopPostmaster, f.StopPostmaster.Every.D()}} {
		if p.every <= 0 {
			continue
		}
		jitter := func() time.Duration { return p.every/2 + time.Duration(rng.Int64N(int64(p.every)+1)) }
		for t := f.Start.D() + jitter(); t < dur; t += jitter() {
			out = append(out, fault{t, p.kind})
		}
	}
	if f.PostmasterDeath.Enabled {
		out = append(out, fault{time.Duration(f.PostmasterDeath.At * float64(dur)), FaultPostmasterDeath})
	}
	slices.SortStableFunc(out, func(a, b fault) int { return int(a.at - b.at) })
	return out
}

// FaultEvent is one fault as injected, for the run directory's
// faults.jsonl.
type FaultEvent struct {
	// At is the time since the campaign began.
	At time.Duration `json:"at_ns"`
	// Stamp is a clock reading taken just before the fault.
	Stamp uint64    `json:"stamp"`
	Kind  FaultKind `json:"kind"`
	// Pid is the process a kill fault chose, 0 for the other faults.
	Pid int `json:"pid,omitempty"`
	// Detail says what was done ("pid 4242 (worker \"t3-b1\", slot 4)"),
	// or why nothing was ("no running worker").
	Detail string `json:"detail"`
	// Done is false for a fault that found nothing to act on.
	Done bool `json:"done"`
}

// injectFaults runs the schedule until ctx ends or the postmaster dies.
// Its error is an infrastructure failure.
func (c *campaign) injectFaults(ctx context.Context, sched []fault, rng *rand.Rand) error {
	for _, f := range sched {
		sleepCtx(ctx, time.Until(c.start.Add(f.at)))
		if ctx.Err() != nil || c.postmasterDead() {
			return nil
		}
		ev := FaultEvent{At: time.Since(c.start), Stamp: c.clock.Stamp(), Kind: f.kind}
		var err error
		switch f.kind {
		case FaultKillWorker:
			ev.Detail, ev.Pid, ev.Done = c.killWorker(rng)
		case FaultKillBackend:
			ev.Detail, ev.Pid, ev.Done = c.killBackend(rng)
		case FaultFailSpawns:
			n := 1 + rng.IntN(c.cfg.Faults.FailSpawns.Max)
			ev.Detail, ev.Done = fmt.Sprintf("next %d spawns fail", n), true
			err = c.cl.FailSpawns(n)
		case FaultStopPostmaster:
			s := c.cfg.Faults.StopPostmaster
			d := s.Min.D() + time.Duration(rng.Int64N(int64(s.Max.D()-s.Min.D())+1))
			ev.Detail, ev.Done = fmt.Sprintf("SIGSTOP for %v", d), true
			probe := s.Probe && c.probe.idle()
			if probe {
				c.paused.Store(true)
				if err = c.probe.prepare(ctx); err != nil {
					c.paused.Store(false)
					break
				}
				sleepCtx(ctx, s.Quiet.D())
			}
			if s.FailSpawns > 0 {
				n := 1 + rng.IntN(s.FailSpawns)
				ev.Detail += fmt.Sprintf(", after arming %d spawn failures", n)
				if err = c.cl.FailSpawns(n); err != nil {
					c.paused.Store(false)
					break
				}
			}
			var started func() string
			if probe {
				started = func() string { return c.probe.start(ctx) }
			}
			var what string
			what, err = c.stopPostmaster(d, started)
			c.paused.Store(false)
			if what != "" {
				ev.Detail += "; probe: " + what
			}
		case FaultPostmasterDeath:
			var what string
			what, err = c.killPostmaster(ctx)
			ev.Detail, ev.Done = "kill -9 of the postmaster"+what, true
		}
		c.noteFault(ev)
		if err != nil && c.postmasterGone() {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("stress: fault %s: %w", f.kind, err)
		}
	}
	return nil
}

// killWorker kills a running worker, chosen among those the record log
// shows running, after checking that the pid is still the postmaster's
// child.
func (c *campaign) killWorker(rng *rand.Rand) (string, int, bool) {
	c.mu.Lock()
	if err := c.tail.poll(); err != nil {
		c.mu.Unlock()
		return "record log: " + err.Error(), 0, false
	}
	pids := make([]int32, 0, len(c.tail.workers))
	for pid := range c.tail.workers {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	var pid int32
	var info workerInfo
	if len(pids) > 0 {
		pid = pids[rng.IntN(len(pids))]
		info = c.tail.workers[pid]
	}
	c.mu.Unlock()
	if pid == 0 {
		return "no running worker", 0, false
	}
	what := fmt.Sprintf("worker pid %d (%q, slot %d, shmem %v)", pid, info.name, info.slot, info.shmem)
	if err := c.killChild(int(pid)); err != nil {
		return what + ": " + err.Error(), int(pid), false
	}
	return what, int(pid), true
}

// killBackend kills one of the drivers' backends.
func (c *campaign) killBackend(rng *rand.Rand) (string, int, bool) {
	var pids []int
	for _, d := range c.drivers {
		if pid := d.backendPid(); pid > 0 {
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 {
		return "no backend connected", 0, false
	}
	pid := pids[rng.IntN(len(pids))]
	what := fmt.Sprintf("backend pid %d", pid)
	if err := c.killChild(pid); err != nil {
		return what + ": " + err.Error(), pid, false
	}
	return what, pid, true
}

// killChild sends SIGKILL to pid if it is a live child of the postmaster
// (a pid read from the log may have been reaped and reused meanwhile).
func (c *campaign) killChild(pid int) error {
	st, err := proc.Stat(pid)
	switch {
	case err != nil:
		return errors.New("gone")
	case st.Ppid != c.cl.PostmasterPid():
		return fmt.Errorf("not a child of the postmaster (ppid %d)", st.Ppid)
	case st.State == proc.StateZombie:
		return errors.New("already exited")
	}
	return proc.Kill(pid, syscall.SIGKILL)
}

// stopPostmaster stops the postmaster for d, running during (if not nil)
// while it is stopped; it always sends SIGCONT.
func (c *campaign) stopPostmaster(d time.Duration, during func() string) (string, error) {
	pm := c.cl.PostmasterPid()
	if err := proc.Kill(pm, syscall.SIGSTOP); err != nil {
		return "", err
	}
	c.stopped.Store(true)
	t := time.Now()
	var what string
	if during != nil {
		what = during()
	}
	time.Sleep(d - time.Since(t))
	c.stopped.Store(false)
	return what, proc.Kill(pm, syscall.SIGCONT)
}

// killPostmaster kills the postmaster and records its death as the
// harness's Died operation: called before the kill, returning once the
// postmaster is seen dead (a zombie, or gone). It kills it while a
// backend waits for a worker that cannot have started: the postmaster is
// stopped first, the probe registers a worker (which a stopped postmaster
// cannot adopt) and waits for it, so that one wait must answer
// POSTMASTER_DIED. Without the probe's backend, it waits up to a second
// for any wait in flight.
func (c *campaign) killPostmaster(ctx context.Context) (what string, err error) {
	st, err := c.rec.open(harnessProcess, harnessProcess, harnessClient)
	if err != nil {
		return "", err
	}
	defer st.close()
	pm := c.cl.PostmasterPid()
	for deadline := time.Now().Add(3 * time.Second); !c.probe.idle() && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(10 * time.Millisecond) // a stop's probe, waiting or polling
	}
	if !c.probe.idle() { // its backend is in use: prepare must not touch it
		what = "; the probe was busy"
	} else if what, err = c.stopForDeath(ctx, pm); err != nil {
		return what, err
	}
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline) && !c.waiting(); {
		time.Sleep(time.Millisecond)
	}
	c.dead.Store(true) // from now on, a backend or a connection lost is expected
	p := st.begin(spec.Input{Kind: spec.OpDied})
	if err := c.cl.Kill(); err != nil {
		return what, err
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if proc.Gone(pm) {
			break
		}
		if time.Now().After(deadline) {
			return what, fmt.Errorf("postmaster %d still alive 5s after SIGKILL", pm)
		}
		time.Sleep(time.Millisecond)
	}
	op, err := st.end(p, spec.Output{})
	if err != nil {
		return what, err
	}
	c.mu.Lock()
	c.died = &op
	c.mu.Unlock()
	return what, nil
}

// deathTries bounds how often stopForDeath stops the postmaster to find
// a free slot for the probe.
const deathTries = 20

// stopForDeath stops the postmaster with the probe waiting for a worker
// it registered meanwhile, which the stopped postmaster cannot adopt. The
// drivers stop registering, so that slots free up. While the probe finds
// no free slot or has no backend (a crash restart ended it), the
// postmaster is continued for a quiet spell (the probe connects a fresh
// backend) and stopped again, deathTries times at most. It returns with
// the postmaster stopped, the probe waiting if it could; the probe must
// be idle.
func (c *campaign) stopForDeath(ctx context.Context, pm int) (what string, err error) {
	c.paused.Store(true)
	defer c.paused.Store(false)
	quiet := max(c.cfg.Faults.StopPostmaster.Quiet.D(), 50*time.Millisecond)
	for try := 1; try <= deathTries && ctx.Err() == nil; try++ {
		sleepCtx(ctx, quiet)
		if err := c.probe.prepare(ctx); err != nil || c.probe.d.be == nil {
			what = fmt.Sprintf("; try %d: the probe has no backend (%v)", try, err)
			continue
		}
		if err := proc.Kill(pm, syscall.SIGSTOP); err != nil {
			return what, err
		}
		c.stopped.Store(true)
		what = fmt.Sprintf("; stopped, try %d, probe: %s", try, c.probe.start(ctx))
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline) && !c.probe.d.waiting() && !c.probe.idle(); {
			time.Sleep(time.Millisecond)
		}
		if c.probe.d.waiting() {
			return what, nil
		}
		c.stopped.Store(false)
		if err := proc.Kill(pm, syscall.SIGCONT); err != nil {
			return what, err
		}
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline) && !c.probe.idle(); {
			time.Sleep(time.Millisecond) // the probe's registration, cut short, is done
		}
	}
	if err := proc.Kill(pm, syscall.SIGSTOP); err != nil {
		return what, err
	}
	c.stopped.Store(true)
	return what, nil
}

// waiting reports whether the driver has a wait in flight.
func (d *driver) waiting() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cur != nil
}

// waiting reports whether a driver (or the probe) has a wait in flight.
func (c *campaign) waiting() bool {
	return slices.ContainsFunc(append(c.drivers[:len(c.drivers):len(c.drivers)], c.probe.d), (*driver).waiting)
}
