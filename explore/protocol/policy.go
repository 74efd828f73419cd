package protocol

import (
	"fmt"
	"strings"

	"bgwmodel/impl/postmaster"
	"bgwmodel/internal/implspec"
	"bgwmodel/policy"
	"bgwmodel/spec"
)

// policyCheck runs the postmaster policy validator (package policy) over
// the log so far, after every step of the core, so that a broken rule
// ends the execution where it shows: restart-early and
// never-restart-restarted (how restart-overflow and
// spawn-failure-as-start show), notify-before-free, forgotten-silently,
// notify-stranger, launch-late, crash-missed and crash-unwarranted. The
// deadlines of the rules that speak of lateness are judged up to the
// postmaster's current virtual time.
type policyCheck struct {
	c *cluster
	// forgetting is, per slot, whether the spec's restart rule says the
	// worker that last stopped there is gone for good (NEVER_RESTART and
	// crashed, or its spawn failed): a notification about it tells its
	// registrant that the slot is free.
	forgetting map[int]bool
}

// check validates the log up to now.
func (p *policyCheck) check(now postmaster.Event) error {
	vs := policy.Validate(p.c.recs, policy.Options{End: now.Now})
	if len(vs) == 0 {
		return nil
	}
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s at %v", v, p.c.recs[min(v.Index, len(p.c.recs)-1)].Now)
	}
	return fmt.Errorf("%s", b.String())
}

// note follows the records that say whether a slot's worker is gone.
func (p *policyCheck) note(r postmaster.Record) {
	if p.forgetting == nil {
		p.forgetting = map[int]bool{}
	}
	switch r.Kind {
	case postmaster.RecordExited:
		d := spec.Restart(implspec.RecordWorker(r), implspec.Exit(r.Exit))
		p.forgetting[r.Slot] = d.Action == spec.Forget
	case postmaster.RecordSpawnFailed:
		p.forgetting[r.Slot] = r.RestartTime == spec.NeverRestart
	case postmaster.RecordAdopt, postmaster.RecordSpawn:
		p.forgetting[r.Slot] = false
	case postmaster.RecordReinit:
		clear(p.forgetting)
	}
}

// gone reports whether notification n tells its registrant that its
// worker is gone for good, so that its slot must be free: forgotten,
// rejected, or stopped for good.
func (p *policyCheck) gone(n postmaster.Record) bool {
	switch n.Reason {
	case postmaster.NotifyForgotten, postmaster.NotifyRejected:
		return true
	case postmaster.NotifyStopped:
		return p.forgetting[n.Slot]
	}
	return false
}
