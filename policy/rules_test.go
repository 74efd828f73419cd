package policy_test

import (
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	pm "bgwmodel/impl/postmaster"
	"bgwmodel/policy"
)

// Hand-written logs, each breaking one rule, and its legal twin.
func TestRules(t *testing.T) {
	s := time.Second
	start := []pm.Record{
		{Kind: pm.RecordInit, Slot: -1},
		{Kind: pm.RecordBackendStarted, Slot: -1, Pid: 500},
		{Kind: pm.RecordAdopt, Slot: 0, Name: "w", RestartTime: 5, Flags: bgworker.ShmemAccess, Notify: 500},
	}
	withStart := func(rs ...pm.Record) []pm.Record { return append(append([]pm.Record{}, start...), rs...) }
	spawn := pm.Record{Kind: pm.RecordSpawn, Slot: 0, Name: "w", RestartTime: 5, Flags: bgworker.ShmemAccess}
	exited := func(now time.Duration, code int) pm.Record {
		return pm.Record{Kind: pm.RecordExited, Now: now, Slot: 0, Name: "w", RestartTime: 5, Flags: bgworker.ShmemAccess,
			Exit: bgworker.ExitStatus{Code: code}}
	}
	at := func(r pm.Record, now time.Duration) pm.Record { r.Now = now; return r }
	cases := []struct {
		name string
		log  []pm.Record
		end  time.Duration
		want policy.Rule // "" for a legal log
	}{
		{"restart on time", withStart(spawn, exited(s, 1), at(spawn, 6*s)), 0, ""},
		{"restart early", withStart(spawn, exited(s, 1), at(spawn, 5*s)), 0, policy.RestartEarly},
		{"restart late", withStart(spawn, exited(s, 1), at(spawn, 13*s)), 0, policy.RestartLate},
		{"exit 0 never restarted", withStart(spawn, exited(s, 0)), 20 * s, policy.RestartLate},
		{"exit 0 restarted", withStart(spawn, exited(s, 0), at(spawn, s)), 20 * s, ""},
		{"notify a stranger", withStart(spawn, pm.Record{Kind: pm.RecordNotify, Slot: 0, Notify: 77}), 0, policy.NotifyStranger},
		{"notify after backend exit", withStart(spawn, pm.Record{Kind: pm.RecordBackendExited, Slot: -1, Pid: 500},
			pm.Record{Kind: pm.RecordNotify, Slot: 0, Notify: 500}), 0, policy.NotifyStranger},
		{"never launched", withStart(), 20 * s, policy.LaunchLate},
		{"crash missed", withStart(spawn, exited(s, 2), at(spawn, s)), 0, policy.CrashMissed},
		{"crash missed at end", withStart(spawn, exited(s, 2)), 0, policy.CrashMissed},
		{"crash restart", withStart(spawn, exited(s, 2), pm.Record{Kind: pm.RecordCrashRestart, Now: s, Slot: -1}), 0, ""},
		{"crash unwarranted", withStart(spawn, exited(s, 1), pm.Record{Kind: pm.RecordCrashRestart, Now: s, Slot: -1}), 0, policy.CrashUnwarranted},
		{"backend crash", withStart(pm.Record{Kind: pm.RecordBackendExited, Slot: -1, Pid: 500, Exit: bgworker.ExitStatus{Signaled: true}},
			pm.Record{Kind: pm.RecordCrashRestart, Slot: -1}), 0, ""},
		{"never-restart spawned again", []pm.Record{start[0], start[1],
			{Kind: pm.RecordAdopt, Slot: 0, Name: "n", RestartTime: bgworker.NeverRestart, Notify: 500},
			{Kind: pm.RecordSpawn, Slot: 0, Name: "n", RestartTime: bgworker.NeverRestart},
			{Kind: pm.RecordExited, Now: s, Slot: 0, Name: "n", RestartTime: bgworker.NeverRestart, Exit: bgworker.ExitStatus{Code: 1}},
			{Kind: pm.RecordSpawn, Now: 2 * s, Slot: 0, Name: "n", RestartTime: bgworker.NeverRestart}}, 0, policy.NeverRestarted},
		{"forgotten silently, slot reused", []pm.Record{start[0], start[1],
			{Kind: pm.RecordAdopt, Slot: 0, Name: "n", RestartTime: bgworker.NeverRestart, Notify: 500},
			{Kind: pm.RecordSpawn, Slot: 0, Name: "n", RestartTime: bgworker.NeverRestart},
			{Kind: pm.RecordSpawnFailed, Slot: 0, Name: "n", RestartTime: bgworker.NeverRestart},
			{Kind: pm.RecordForget, Slot: 0, Name: "n"},
			{Kind: pm.RecordAdopt, Slot: 0, Name: "m", RestartTime: 1, Notify: 500},
			{Kind: pm.RecordSpawn, Slot: 0, Name: "m", RestartTime: 1},
			{Kind: pm.RecordLaunch, Slot: 0, Name: "m", Pid: 9},
			{Kind: pm.RecordNotify, Slot: 0, Notify: 500}}, 0, policy.ForgottenSilently},
		{"never-restart forgotten and told", []pm.Record{start[0], start[1],
			{Kind: pm.RecordAdopt, Slot: 0, Name: "n", RestartTime: bgworker.NeverRestart, Notify: 500},
			{Kind: pm.RecordSpawn, Slot: 0, Name: "n", RestartTime: bgworker.NeverRestart},
			{Kind: pm.RecordExited, Now: s, Slot: 0, Name: "n", RestartTime: bgworker.NeverRestart, Exit: bgworker.ExitStatus{Code: 1}},
			{Kind: pm.RecordForget, Now: s, Slot: 0, Name: "n"},
			{Kind: pm.RecordNotify, Now: s, Slot: 0, Notify: 500}}, 20 * s, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs := policy.Validate(c.log, policy.Options{End: c.end})
			if c.want == "" {
				if len(vs) != 0 {
					t.Fatalf("legal log flagged: %v", vs)
				}
				return
			}
			for _, v := range vs {
				if v.Rule == c.want {
					return
				}
			}
			t.Fatalf("want %s, got %v", c.want, vs)
		})
	}
}
