package stress

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/proc"
	"bgwmodel/linearizability"
	"bgwmodel/policy"
)

// monitor follows the record log while the campaign runs: it checks the
// policy, the waiters and (every check.lin_interval) the linearizability
// of the history so far, and reports progress. Its error is an
// infrastructure failure.
func (c *campaign) monitor(ctx context.Context) error {
	every := c.opts.ProgressEvery
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	interval := c.cfg.Check.Interval.D()
	tick := time.NewTicker(min(every, interval))
	defer tick.Stop()
	var lastCheck, lastLin, lastProgress time.Time
	lastLin = time.Now()
	for {
		select {
		case <-ctx.Done():
			c.report()
			return nil
		case <-tick.C:
		}
		now := time.Now()
		if now.Sub(lastCheck) >= interval {
			lastCheck = now
			c.mu.Lock()
			err := c.tail.poll()
			recs := c.tail.recs
			c.mu.Unlock()
			if err != nil {
				return err
			}
			lin := c.cfg.Check.LinInterval > 0 && now.Sub(lastLin) >= c.cfg.Check.LinInterval.D()
			if lin {
				lastLin = now
			}
			c.liveChecks(recs, lin)
		}
		if now.Sub(lastProgress) >= every {
			lastProgress = now
			c.report()
		}
	}
}

// report calls the progress callback.
func (c *campaign) report() {
	if c.opts.Progress == nil {
		return
	}
	c.mu.Lock()
	p := Progress{Elapsed: time.Since(c.start), Ops: int(c.ops.Load()),
		Processes: len(c.tail.workers) + len(c.tail.backends), Restarts: c.tail.restarts, Violation: c.firstViolation}
	for _, f := range c.faults {
		if f.Done {
			p.Faults++
		}
	}
	c.mu.Unlock()
	c.opts.Progress(p)
}

// found notes a violation found while running; the first one marks the
// run directory as holding a violation ([KeepFile]), so that nothing
// deletes it, and may end the campaign.
func (c *campaign) found(what string) {
	c.mu.Lock()
	first := c.firstViolation == ""
	if first {
		c.firstViolation, c.detectedAfter = what, time.Since(c.start)
	}
	c.mu.Unlock()
	if !first {
		return
	}
	c.violated.Store(true)
	note := fmt.Sprintf("a violation found after %v: %s\n", c.detectedAfter.Round(time.Millisecond), what)
	if err := os.WriteFile(filepath.Join(c.dir, KeepFile), []byte(note), 0o600); err != nil {
		c.errMu.Lock()
		c.afterErrs = append(c.afterErrs, fmt.Errorf("stress: %w", err))
		c.errMu.Unlock()
	}
	if c.cfg.Check.StopOnViolation {
		c.cancel()
	}
}

// liveChecks checks what can be checked on the log so far.
func (c *campaign) liveChecks(recs []postmaster.Record, lin bool) {
	if vs := policy.Validate(recs, c.policyOptions(0)); len(vs) > 0 {
		c.found(fmt.Sprintf("policy: %s", vs[0].Rule))
		return
	}
	grace := c.cfg.Check.WaitGrace.D()
	now := time.Now()
	mid := c.stamps.at(now.Add(-grace))
	c.mu.Lock()
	died := c.died
	c.mu.Unlock()
	for _, d := range append(c.drivers[:len(c.drivers):len(c.drivers)], c.probe.d) {
		wi, report := d.pendingWait(now.Add(-grace))
		if wi == nil {
			continue
		}
		w := wi.rec
		w.Mid, w.Outcome = mid, WaitPending
		if f, bad := judgeWait(w, recs, died); bad {
			report()
			c.mu.Lock()
			c.waits = append(c.waits, w)
			c.mu.Unlock()
			c.found(f.String())
			return
		}
	}
	c.mu.Lock()
	waits := c.waits[c.judged:]
	c.judged = len(c.waits)
	c.mu.Unlock()
	if fs := JudgeWaits(waits, recs, died); len(fs) > 0 {
		c.found(fs[0].String())
		return
	}
	if lin && died == nil && len(recs) > 0 {
		c.checkSnapshot(recs)
	}
}

// checkSnapshot checks the linearizability of the history so far (see
// recorder.snapshot).
func (c *campaign) checkSnapshot(recs []postmaster.Record) {
	var cut uint64
	for _, r := range recs {
		cut = max(cut, r.Return)
	}
	pmh, static, err := PostmasterHistory(recs)
	if err != nil {
		return // the final check reports it
	}
	h := append(c.rec.snapshot(linearizability.Stamp(cut)), pmh...)
	h.SortByCall()
	rep := linearizability.Check(h, linearizability.Options{Slots: c.cfg.Slots, Static: static,
		Mode: linearizability.ModeAuto, Timeout: min(30*time.Second, c.cfg.Check.Timeout.D()),
		MemoryBudget: c.cfg.Check.MemoryBudget})
	if v := rep.Violation(); v != nil {
		// Keep the snapshot: the check of the whole history, windowed
		// otherwise, need not find the same violation again, and the
		// evidence must not depend on it (see CheckLive).
		if err := writeHistory(filepath.Join(c.dir, LiveViolationFile), h); err != nil {
			c.noteErr(err)
		}
		c.found(fmt.Sprintf("linearizability: %s check in %s", v.Check, v.Where))
	}
}

// policyOptions are the validator's options for the campaign; end is
// policy.Options.End.
func (c *campaign) policyOptions(end time.Duration) policy.Options {
	return policyOptions(&c.cfg, end)
}

func policyOptions(cfg *Config, end time.Duration) policy.Options {
	return policy.Options{Slack: cfg.slack(), LaunchBound: cfg.Check.LaunchBound.D(), End: end}
}

// leftovers returns the processes of the cluster still alive after Stop:
// any pid the run saw (postmaster, supervisor, backends, workers) that is
// still running this program's binary.
func (c *campaign) leftovers() []int {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	recs, _, _ := readRecords(c.cl.RecordsPath())
	pids := map[int]bool{c.cl.PostmasterPid(): true, c.cl.SupervisorPid(): true}
	for _, r := range recs {
		if r.Pid > 1 {
			pids[int(r.Pid)] = true
		}
	}
	var left []int
	for pid := range pids {
		if proc.Gone(pid) {
			continue
		}
		if target, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe"); err == nil && target == exe {
			left = append(left, pid)
		}
	}
	return left
}
