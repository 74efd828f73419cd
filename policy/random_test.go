package policy_test

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/postmaster"
	"bgwmodel/policy"
)

// The fixed core never breaks the policy, whatever happens to it: random
// registrations, exits (including crashes), spawn failures, backend exits
// and time jumps, with a driver that honours every action.
func TestFixedCoreKeepsPolicy(t *testing.T) {
	runs := 300
	if testing.Short() {
		runs = 60
	}
	kinds := map[postmaster.RecordKind]int{}
	for seed := range runs {
		d := randomRun(t, uint64(seed))
		if vs := policy.Validate(d.log, policy.Options{End: d.end}); len(vs) != 0 {
			t.Fatalf("seed %d: fixed core breaks the policy: %v\nlog:\n%s", seed, vs, dump(d.log))
		}
		for _, r := range d.log {
			kinds[r.Kind]++
		}
	}
	// Not vacuous: the runs reach what the rules are about.
	for _, k := range []postmaster.RecordKind{postmaster.RecordExited, postmaster.RecordSpawnFailed,
		postmaster.RecordForget, postmaster.RecordNotify, postmaster.RecordCrashRestart, postmaster.RecordReinit} {
		if kinds[k] == 0 {
			t.Errorf("no %v record in %d random runs", k, runs)
		}
	}
}

func randomRun(t *testing.T, seed uint64) *driver {
	d := newDriver(t, 3, 0)
	rng := rand.New(rand.NewPCG(seed, 7))
	now := time.Duration(0)
	backend := int32(backendPid)
	for step := 0; step < 60; step++ {
		switch rng.IntN(6) {
		case 0, 1:
			w := bgworker.Worker{Name: "w", Flags: bgworker.Flags(rng.IntN(2)), StartTime: bgworker.StartTime(rng.IntN(3)),
				RestartTime: []int32{bgworker.NeverRestart, 0, 1, 5}[rng.IntN(4)], LibraryName: "l", FunctionName: "f",
				NotifyPid: backend}
			if rng.IntN(3) == 0 {
				d.failNext = 1
			}
			if _, err := d.be.RegisterDynamicBackgroundWorker(w); err == nil {
				d.feed(postmaster.Event{Kind: postmaster.EventPMSignal, Now: now})
			}
		case 2:
			if pids := d.livePids(); len(pids) > 0 {
				d.exit(now, pids[rng.IntN(len(pids))], []int{0, 1, 1, 2}[rng.IntN(4)])
			}
		case 3, 4:
			now += time.Duration(rng.IntN(3000)) * time.Millisecond
			d.tick(now)
		case 5:
			if rng.IntN(4) == 0 {
				d.feed(postmaster.Event{Kind: postmaster.EventBackendExited, Now: now, Pid: backend})
				backend++
				d.feed(postmaster.Event{Kind: postmaster.EventBackendStarted, Now: now, Pid: backend})
			}
		}
		d.killAll(now, &backend)
	}
	return d
}

func (d *driver) livePids() []int32 {
	var pids []int32
	for p := range d.live {
		pids = append(pids, p)
	}
	sort.Slice(pids, func(i, j int) bool { return pids[i] < pids[j] })
	return pids
}

// killAll carries out a crash restart the core asked for: every worker and
// the backend die, then a new backend connects.
func (d *driver) killAll(now time.Duration, backend *int32) {
	if d.core.PMState() != postmaster.PMCrashWait {
		return
	}
	for _, p := range d.livePids() {
		d.exit(now, p, 0)
	}
	d.feed(postmaster.Event{Kind: postmaster.EventBackendExited, Now: now, Pid: *backend, Exit: bgworker.ExitStatus{Signaled: true}})
	*backend++
	d.feed(postmaster.Event{Kind: postmaster.EventBackendStarted, Now: now, Pid: *backend})
}
