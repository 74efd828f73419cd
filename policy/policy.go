package policy

import (
	"fmt"
	"time"

	"bgwmodel/impl/postmaster"
	"bgwmodel/internal/implspec"
	"bgwmodel/spec"
)

// Rule names a policy rule.
type Rule string

// The rules; see the package documentation.
const (
	RestartEarly      Rule = "restart-early"
	RestartLate       Rule = "restart-late"
	NeverRestarted    Rule = "never-restart-restarted"
	NotifyBeforeFree  Rule = "notify-before-free"
	ForgottenSilently Rule = "forgotten-silently"
	NotifyStranger    Rule = "notify-stranger"
	LaunchLate        Rule = "launch-late"
	CrashMissed       Rule = "crash-missed"
	CrashUnwarranted  Rule = "crash-unwarranted"
)

// Options bound the rules that speak of lateness.
type Options struct {
	// Slack is how late a due restart or notification may be: scheduling,
	// SIGSTOP of the postmaster and load. Zero means DefaultSlack.
	Slack time.Duration
	// LaunchBound is how long after its adoption a registration may wait
	// to be launched or forgotten (start-state delays included). Zero
	// means DefaultLaunchBound.
	LaunchBound time.Duration
	// End is the postmaster time at which the log is known to be complete
	// (the time of the last event fed to the core). Deadlines up to End
	// are judged even if no record follows them; zero judges only up to
	// the last record.
	End time.Duration
}

// Defaults for [Options].
const (
	DefaultSlack       = 5 * time.Second
	DefaultLaunchBound = 10 * time.Second
)

// Violation is one broken rule, at the record where it shows.
type Violation struct {
	Rule Rule
	// Index is the position in the log of the record where the rule broke
	// (or, for a deadline, the first record past it; len(log) if none).
	Index int
	// Slot is the slot concerned, or -1.
	Slot int
	// Detail explains, citing the records involved.
	Detail string
}

func (v Violation) String() string {
	return fmt.Sprintf("policy: %s at record %d (slot %d): %s", v.Rule, v.Index, v.Slot, v.Detail)
}

// reg is what the validator knows about the registration in one slot.
type reg struct {
	worker spec.Worker
	since  int // index of the record that began it
	notify int32

	// dueFrom is the earliest time a restart may happen; hasDue says a
	// restart is expected (by dueBy, if set).
	hasDue         bool
	dueFrom, dueBy time.Duration
	dueWhy         string
	dueIdx         int
	// forgetting: the spec says this registration must be forgotten next.
	forgetting    bool
	forgettingIdx int
	// toldEarly: the registrant was signalled while the slot was still
	// being forgotten (already a NotifyBeforeFree); it is owed nothing more.
	toldEarly bool
	// launchBy is the adoption deadline (0 once a launch was attempted,
	// and for static workers).
	launchBy time.Duration
}

// expectNotify is a registrant owed SIGUSR1 for a forgotten slot.
type expectNotify struct {
	pid  int32
	slot int
	by   time.Duration
	idx  int
}

type validator struct {
	opts     Options
	log      []postmaster.Record
	regs     map[int]*reg
	live     map[int32]bool
	owed     []expectNotify
	crashDue int  // index of an exit that must be followed by a crash restart, or -1
	crashing bool // a crash restart is under way (until the re-init)
	running  bool
	out      []Violation
}

// Validate checks a postmaster log against every rule and returns the
// violations, in log order. An empty result means the log keeps the
// policy. It does not block.
func Validate(log []postmaster.Record, opts Options) []Violation {
	if opts.Slack <= 0 {
		opts.Slack = DefaultSlack
	}
	if opts.LaunchBound <= 0 {
		opts.LaunchBound = DefaultLaunchBound
	}
	v := &validator{opts: opts, log: log, regs: map[int]*reg{}, live: map[int32]bool{}, crashDue: -1}
	for i, r := range log {
		v.deadlines(i, r.Now)
		v.record(i, r)
	}
	if v.crashDue >= 0 {
		v.fail(CrashMissed, len(log), -1, "exit at record %d is a crash by the spec; the log ends without a crash restart", v.crashDue)
	}
	v.deadlines(len(log), opts.End)
	return v.out
}

func (v *validator) fail(rule Rule, idx, slot int, format string, args ...any) {
	v.out = append(v.out, Violation{Rule: rule, Index: idx, Slot: slot, Detail: fmt.Sprintf(format, args...)})
}

// deadlines reports every expectation whose deadline passed before now.
func (v *validator) deadlines(idx int, now time.Duration) {
	if !v.running {
		return
	}
	for slot, g := range v.regs {
		if g.hasDue && g.dueBy > 0 && now > g.dueBy {
			v.fail(RestartLate, idx, slot, "%s at record %d: due by %v, not spawned by %v", g.dueWhy, g.dueIdx, g.dueBy, now)
			g.hasDue = false
		}
		if g.launchBy > 0 && now > g.launchBy {
			v.fail(LaunchLate, idx, slot, "adopted at record %d: neither launched nor forgotten by %v", g.since, g.launchBy)
			g.launchBy = 0
		}
	}
	kept := v.owed[:0]
	for _, o := range v.owed {
		if now > o.by {
			v.fail(ForgottenSilently, idx, o.slot, "slot forgotten at record %d; registrant %d not signalled by %v", o.idx, o.pid, o.by)
			continue
		}
		kept = append(kept, o)
	}
	v.owed = kept
}

func (v *validator) record(i int, r postmaster.Record) {
	if v.crashDue >= 0 && r.Kind != postmaster.RecordCrashRestart && r.Kind != postmaster.RecordExited {
		v.fail(CrashMissed, i, -1, "exit at record %d is a crash by the spec; no crash restart followed", v.crashDue)
		v.crashDue = -1
	}
	switch r.Kind {
	case postmaster.RecordInit, postmaster.RecordReinit:
		v.regs = map[int]*reg{}
		for _, s := range r.InUse {
			v.regs[s] = &reg{since: i}
		}
		v.owed = nil
		v.running, v.crashing = true, false
	case postmaster.RecordCrashRestart:
		if v.crashDue < 0 && !v.crashWarranted(i) {
			v.fail(CrashUnwarranted, i, -1, "crash restart with no crash before it: %s", r.Detail)
		}
		v.crashDue = -1
		v.running, v.crashing = false, true
		v.owed = nil
		for _, g := range v.regs {
			g.hasDue, g.launchBy, g.forgetting = false, 0, false
		}
	case postmaster.RecordShutdown:
		v.running = false
		v.owed = nil
	case postmaster.RecordBackendStarted:
		v.live[r.Pid] = true
	case postmaster.RecordBackendExited:
		delete(v.live, r.Pid)
		kept := v.owed[:0]
		for _, o := range v.owed {
			if o.pid != r.Pid {
				kept = append(kept, o)
			}
		}
		v.owed = kept
		for _, g := range v.regs {
			if g.notify == r.Pid {
				g.notify = 0
			}
		}
	case postmaster.RecordAdopt:
		// A registrant still owed SIGUSR1 for this slot's previous
		// registration can no longer be told about it: a signal from now
		// on is about the new one.
		kept := v.owed[:0]
		for _, o := range v.owed {
			if o.slot == r.Slot {
				v.fail(ForgottenSilently, i, o.slot, "slot forgotten at record %d and registered again; registrant %d never signalled about the first registration", o.idx, o.pid)
				continue
			}
			kept = append(kept, o)
		}
		v.owed = kept
		g := &reg{worker: implspec.RecordWorker(r), since: i, notify: r.Notify}
		if v.running {
			g.launchBy = r.Now + v.opts.LaunchBound
		}
		v.regs[r.Slot] = g
	case postmaster.RecordSpawn:
		v.spawn(i, r)
	case postmaster.RecordSpawnFailed:
		if v.running {
			g := v.slotReg(r)
			v.after(i, r, g, spec.SpawnFailed(g.worker), "spawn failure")
		}
	case postmaster.RecordExited:
		v.exited(i, r)
	case postmaster.RecordForget, postmaster.RecordReject:
		v.forget(i, r)
	case postmaster.RecordNotify:
		v.notified(i, r)
	}
}

// slotReg returns the registration in r's slot, learning the worker's
// definition from r (static workers have no adoption record).
func (v *validator) slotReg(r postmaster.Record) *reg {
	g := v.regs[r.Slot]
	if g == nil {
		g = &reg{}
		v.regs[r.Slot] = g
	}
	if r.Name != "" {
		g.worker = implspec.RecordWorker(r)
	}
	return g
}

func (v *validator) spawn(i int, r postmaster.Record) {
	g := v.slotReg(r)
	switch {
	case g.forgetting:
		v.fail(NeverRestarted, i, r.Slot, "NEVER_RESTART worker %q must be forgotten (record %d), spawned again", r.Name, g.forgettingIdx)
	case g.hasDue && r.Now < g.dueFrom:
		v.fail(RestartEarly, i, r.Slot, "%s at record %d: restart_time %d s, spawned %v early",
			g.dueWhy, g.dueIdx, r.RestartTime, g.dueFrom-r.Now)
	}
	g.hasDue, g.launchBy = false, 0
}

// after applies a restart decision of the spec to g after record i.
func (v *validator) after(i int, r postmaster.Record, g *reg, d spec.Decision, why string) {
	switch d.Action {
	case spec.RestartNow:
		g.hasDue, g.dueFrom, g.dueBy = true, r.Now, r.Now+v.opts.Slack
	case spec.RestartAfter:
		g.hasDue, g.dueFrom, g.dueBy = true, r.Now+d.Delay, r.Now+d.Delay+v.opts.Slack
	case spec.Forget:
		g.forgetting, g.forgettingIdx = true, i
		return
	case spec.CrashRestart:
		v.crashDue = i
		return
	}
	g.dueWhy, g.dueIdx = why, i
}

func (v *validator) exited(i int, r postmaster.Record) {
	d := spec.Restart(implspec.RecordWorker(r), implspec.Exit(r.Exit))
	if d.Action == spec.CrashRestart && !v.crashing {
		v.crashDue = i // a crash, also during a shutdown
		return
	}
	if !v.running {
		return // reaped during a crash restart or a shutdown: nothing is due
	}
	v.after(i, r, v.slotReg(r), d, r.Exit.String())
}

func (v *validator) forget(i int, r postmaster.Record) {
	g := v.regs[r.Slot]
	delete(v.regs, r.Slot)
	if g == nil || !v.running {
		return
	}
	if g.notify != 0 && v.live[g.notify] && !g.toldEarly {
		v.owed = append(v.owed, expectNotify{pid: g.notify, slot: r.Slot, by: r.Now + v.opts.Slack, idx: i})
	}
}

func (v *validator) notified(i int, r postmaster.Record) {
	if !v.live[r.Notify] {
		v.fail(NotifyStranger, i, r.Slot, "SIGUSR1 to %d, not a live backend", r.Notify)
	}
	if g := v.regs[r.Slot]; g != nil && g.forgetting {
		g.toldEarly = true
		v.fail(NotifyBeforeFree, i, r.Slot, "registrant %d signalled (%v) before the slot of NEVER_RESTART worker %q was freed (exit at record %d)",
			r.Notify, r.Reason, g.worker.Name, g.forgettingIdx)
	}
	kept := v.owed[:0]
	for _, o := range v.owed {
		if !(o.pid == r.Notify && o.slot == r.Slot) {
			kept = append(kept, o)
		}
	}
	v.owed = kept
}

// crashWarranted reports whether the crash restart at i directly follows a
// backend's abnormal exit, the other cause the validator accepts
// (PostgreSQL restarts the cluster when a backend dies by a signal or
// exits with other than 0 or 1).
func (v *validator) crashWarranted(i int) bool {
	if i == 0 {
		return false
	}
	r := v.log[i-1]
	return r.Kind == postmaster.RecordBackendExited && (r.Exit.Signaled || (r.Exit.Code != 0 && r.Exit.Code != 1))
}
