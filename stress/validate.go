package stress

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
)

// Validate checks every field and returns a [*ConfigError] naming the
// first bad one. It does not block.
func (c *Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case c.Duration <= 0 || c.Duration.D() > 24*time.Hour:
		return bad("duration", "want more than 0 and at most 24h, got %v", c.Duration)
	case c.Backends < 1 || c.Backends > 64:
		return bad("backends", "want 1..64, got %d", c.Backends)
	case c.Careful < 0 || c.Careful > c.Backends:
		return related(bad("careful", "want 0..backends (%d), got %d", c.Backends, c.Careful), "backends")
	case c.Slots < 1 || c.Slots > bgworker.MaxWorkerProcesses:
		return bad("slots", "want 1..%d, got %d", bgworker.MaxWorkerProcesses, c.Slots)
	case c.ConsistentDelay < 0 || c.ConsistentDelay.D() > time.Minute:
		return bad("consistent_delay", "want 0..1m, got %v", c.ConsistentDelay)
	case c.RecoveryDelay < 0 || c.RecoveryDelay.D() > time.Minute:
		return bad("recovery_delay", "want 0..1m, got %v", c.RecoveryDelay)
	case len(c.Static) > c.Slots:
		return bad("static_workers", "%d static workers for %d slots", len(c.Static), c.Slots)
	}
	if _, err := flaw.ParseSet(c.Flaw); err != nil {
		return bad("flaw", "%v", err)
	}
	if err := c.Workload.validate(); err != nil {
		return err
	}
	for i := range c.Static {
		if err := c.Static[i].validate(fmt.Sprintf("static_workers[%d]", i), true); err != nil {
			return err
		}
	}
	for i := range c.Permanent {
		if err := c.Permanent[i].validate(fmt.Sprintf("permanent_workers[%d]", i), false); err != nil {
			return err
		}
	}
	if err := c.Transient.validate(); err != nil {
		return err
	}
	if err := c.Faults.validate(); err != nil {
		return err
	}
	if err := c.Noise.validate(); err != nil {
		return err
	}
	return c.Check.validate(c.Faults.StopPostmaster.Max.D())
}

func (w *Workload) validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: "workload." + field, Err: fmt.Errorf(format, args...)}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"register", w.Register}, {"get_pid", w.GetPid}, {"wait_for_startup", w.WaitForStartup}} {
		if err := weight(f.v); err != nil {
			return bad(f.name, "%v", err)
		}
	}
	if w.Register+w.GetPid+w.WaitForStartup <= 0 {
		return bad("register", "the operation weights add up to 0")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"poll_after_register", w.PollAfterRegister}, {"wait_after_register", w.WaitAfterRegister}, {"invalid_rate", w.InvalidRate}} {
		if err := probability(f.v); err != nil {
			return bad(f.name, "%v", err)
		}
	}
	switch {
	case w.PollAfterRegister+w.WaitAfterRegister > 1:
		return bad("wait_after_register", "poll_after_register + wait_after_register is %g, more than 1", w.PollAfterRegister+w.WaitAfterRegister)
	case w.Polls < 0 || w.Polls > 1000:
		return bad("polls", "want 0..1000, got %d", w.Polls)
	case w.PollInterval < 0 || w.PollInterval.D() > time.Second:
		return bad("poll_interval", "want 0..1s, got %v", w.PollInterval)
	case w.Backoff < 0 || w.Backoff.D() > 10*time.Second:
		return bad("backoff", "want 0..10s, got %v", w.Backoff)
	case w.Think < 0 || w.Think.D() > 10*time.Second:
		return bad("think", "want 0..10s, got %v", w.Think)
	case w.WaitTimeout.D() < 100*time.Millisecond || w.WaitTimeout.D() > 10*time.Minute:
		return bad("wait_timeout", "want 100ms..10m, got %v", w.WaitTimeout)
	case w.FillEvery < 0 || w.FillEvery.D() > time.Hour:
		return bad("fill_every", "want 0 (off)..1h, got %v", w.FillEvery)
	case w.BackendExitEvery < 0 || w.BackendExitEvery.D() > time.Hour:
		return bad("backend_exit_every", "want 0 (off)..1h, got %v", w.BackendExitEvery)
	}
	return nil
}

func weight(v float64) error {
	if math.IsNaN(v) || v < 0 || v > 1e6 {
		return fmt.Errorf("want a weight in 0..1e6, got %g", v)
	}
	return nil
}

func probability(v float64) error {
	if math.IsNaN(v) || v < 0 || v > 1 {
		return fmt.Errorf("want a probability in 0..1, got %g", v)
	}
	return nil
}

// startTimes maps the configuration's names to start times.
var startTimes = map[string]bgworker.StartTime{
	"PostmasterStart": bgworker.PostmasterStart, "ConsistentState": bgworker.ConsistentState,
	"RecoveryFinished": bgworker.RecoveryFinished,
}

func (w *WorkerSpec) validate(field string, static bool) error {
	bad := func(f, format string, args ...any) error {
		return &ConfigError{Field: field + "." + f, Err: fmt.Errorf(format, args...)}
	}
	if !w.Behaviour.valid() {
		return bad("behaviour", "unknown behaviour %q (known: %s)", w.Behaviour, behaviourNames())
	}
	if _, ok := startTimes[w.StartTime]; !ok {
		return bad("start_time", "unknown start time %q (known: PostmasterStart, ConsistentState, RecoveryFinished)", w.StartTime)
	}
	if w.Sleep < 0 || w.Sleep.D() > MaxRun {
		return bad("sleep", "want 0..%v, got %v", MaxRun, w.Sleep)
	}
	if w.Behaviour == Exit2 && w.ShmemAccess {
		return bad("behaviour", "exit2 with shmem_access would restart the cluster for ever (only transient workers may do it, once)")
	}
	if !static && w.RestartTime == bgworker.NeverRestart && w.Behaviour != Exit0 && w.Behaviour != RunForever {
		return bad("restart_time", "a permanent worker must keep its slot: restart_time >= 0, or behaviour exit0 or run")
	}
	def := w.worker(0)
	if err := bgworker.ValidateWorker(&def); err != nil {
		var ie *bgworker.InvalidError
		if errors.As(err, &ie) {
			return bad(strings.TrimPrefix(string(ie.Field), "bgw_"), "%s", ie.Reason)
		}
		return bad("name", "%v", err)
	}
	return nil
}

func behaviourNames() string {
	names := make([]string, len(behaviours))
	for i, b := range behaviours {
		names[i] = string(b)
	}
	return strings.Join(names, ", ")
}

func (t *TransientSpec) validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: "transient_workers." + field, Err: fmt.Errorf(format, args...)}
	}
	sum := 0.0
	for _, b := range sortedKeys(t.Behaviours) {
		if !b.valid() || b == Exit0 || b == RunForever {
			return bad("behaviours."+string(b), "want one of exit1, exit2, flaky (a transient worker must end to free its slot)")
		}
		if err := weight(t.Behaviours[b]); err != nil {
			return bad("behaviours."+string(b), "%v", err)
		}
		sum += t.Behaviours[b]
	}
	if sum <= 0 {
		return bad("behaviours", "the weights add up to 0")
	}
	sum = 0
	for _, s := range sortedKeys(t.StartTimes) {
		if _, ok := startTimes[s]; !ok {
			return bad("start_times."+s, "unknown start time (known: PostmasterStart, ConsistentState, RecoveryFinished)")
		}
		if err := weight(t.StartTimes[s]); err != nil {
			return bad("start_times."+s, "%v", err)
		}
		sum += t.StartTimes[s]
	}
	switch {
	case sum <= 0:
		return bad("start_times", "the weights add up to 0")
	case t.SleepMin < 0 || t.SleepMin > t.SleepMax || t.SleepMax.D() > MaxRun:
		return bad("sleep_max", "want 0 <= sleep_min (%v) <= sleep_max (%v) <= %v", t.SleepMin, t.SleepMax, MaxRun)
	}
	if err := probability(t.ShmemRate); err != nil {
		return bad("shmem_rate", "%v", err)
	}
	if err := probability(t.DatabaseRate); err != nil {
		return bad("database_rate", "%v", err)
	}
	return nil
}

func (f *Faults) validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: "faults." + field, Err: fmt.Errorf(format, args...)}
	}
	for _, p := range []struct {
		name string
		d    Duration
	}{{"start", f.Start}, {"kill_worker.every", f.KillWorker.Every}, {"kill_backend.every", f.KillBackend.Every},
		{"fail_spawns.every", f.FailSpawns.Every}, {"stop_postmaster.every", f.StopPostmaster.Every}} {
		if p.d < 0 || p.d.D() > time.Hour {
			return bad(p.name, "want 0 (off) .. 1h, got %v", p.d)
		}
		if p.d > 0 && p.d.D() < 10*time.Millisecond {
			return bad(p.name, "want 0 (off) or at least 10ms, got %v", p.d)
		}
	}
	s := f.StopPostmaster
	switch {
	case f.FailSpawns.Every > 0 && (f.FailSpawns.Max < 1 || f.FailSpawns.Max > 100):
		return bad("fail_spawns.max", "want 1..100, got %d", f.FailSpawns.Max)
	case s.Every > 0 && (s.Min <= 0 || s.Min > s.Max || s.Max.D() > 10*time.Second):
		return related(bad("stop_postmaster.max", "want 0 < min (%v) <= max (%v) <= 10s", s.Min, s.Max), "faults.stop_postmaster.min")
	case s.FailSpawns < 0 || s.FailSpawns > 100:
		return bad("stop_postmaster.fail_spawns", "want 0..100, got %d", s.FailSpawns)
	case s.Quiet < 0 || s.Quiet.D() > 10*time.Second:
		return bad("stop_postmaster.quiet", "want 0..10s, got %v", s.Quiet)
	case math.IsNaN(f.PostmasterDeath.At) || f.PostmasterDeath.At <= 0 || f.PostmasterDeath.At > 1:
		return bad("postmaster_death.at", "want a fraction of the duration in (0, 1], got %g", f.PostmasterDeath.At)
	}
	return nil
}

// maxStopField is the field the check's bounds are compared with.
const maxStopField = "faults.stop_postmaster.max"

// related notes that err's rule compares its field with fields too, so
// that a file giving only one of those is pointed at its line.
func related(err error, fields ...string) error {
	if ce, ok := err.(*ConfigError); ok {
		ce.related = append(ce.related, fields...)
	}
	return err
}

func (c *CheckConfig) validate(maxStop time.Duration) error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: "check." + field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case c.Timeout.D() < time.Second || c.Timeout.D() > 24*time.Hour:
		return bad("timeout", "want 1s..24h, got %v", c.Timeout)
	case c.Slack < 0 || (c.Slack > 0 && c.Slack.D() <= maxStop):
		return related(bad("slack", "want 0 (automatic) or more than the longest SIGSTOP (%s, %v), got %v", maxStopField, maxStop, c.Slack), maxStopField)
	case c.LaunchBound < 0:
		return bad("launch_bound", "want >= 0 (0: the validator's default), got %v", c.LaunchBound)
	case c.WaitGrace.D() <= maxStop:
		return related(bad("wait_grace", "want more than the longest SIGSTOP (%s, %v), got %v", maxStopField, maxStop, c.WaitGrace), maxStopField)
	case c.Interval.D() < 10*time.Millisecond || c.Interval.D() > time.Minute:
		return bad("interval", "want 10ms..1m, got %v", c.Interval)
	case c.LinInterval < 0 || c.LinInterval.D() > time.Hour:
		return bad("lin_interval", "want 0 (off) .. 1h, got %v", c.LinInterval)
	case c.MemoryBudget < -1 || (c.MemoryBudget > 0 && c.MemoryBudget < 1<<20):
		return bad("memory_budget", "want bytes, at least 1 MiB (1048576), or 0 (the default, 2 GiB) or -1 (none), got %d", c.MemoryBudget)
	}
	return validWaive(c.Waive)
}

// validWaive checks a list of kinds to waive: each known, none twice.
func validWaive(kinds []CoverKind) error {
	for i, k := range kinds {
		if !slices.Contains(CoverKinds(), k) {
			return &ConfigError{Field: "check.waive", Err: fmt.Errorf("unknown kind %q (known: %s)", k, coverKindNames())}
		}
		if slices.Contains(kinds[:i], k) {
			return &ConfigError{Field: "check.waive", Err: fmt.Errorf("kind %q listed twice", k)}
		}
	}
	return nil
}

// coverKindNames lists the kinds, comma-separated.
func coverKindNames() string {
	var names []string
	for _, k := range CoverKinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}
