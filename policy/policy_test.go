package policy_test

import (
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/shmem"
	"bgwmodel/policy"
)

const backendPid = 500

// driver runs the real postmaster core with a fake OS: spawns get pids at
// once unless failNext says otherwise, and every record is kept.
type driver struct {
	t        *testing.T
	core     *postmaster.Core
	be       *bgworker.Backend
	log      []postmaster.Record
	nextPid  int32
	failNext int
	live     map[int32]bool // running worker pids
	end      time.Duration  // the last time fed
}

func newDriver(t *testing.T, slots int, flaws flaw.Set) *driver {
	t.Helper()
	mem := shmem.NewLocal(bgworker.ShmemSize(slots))
	core, err := postmaster.New(postmaster.Config{MaxWorkers: slots, Flaws: flaws, SegmentID: 1}, mem)
	if err != nil {
		t.Fatal(err)
	}
	d := &driver{t: t, core: core, nextPid: 1000, live: map[int32]bool{}}
	d.feed(postmaster.Event{Kind: postmaster.EventStart})
	d.feed(postmaster.Event{Kind: postmaster.EventBackendStarted, Pid: backendPid})
	d.be = bgworker.NewBackend(core.Segment(), bgworker.BackendConfig{
		Lock:       new(bgworker.MutexLock),
		Postmaster: bgworker.SignalFunc(func() error { return nil }),
		Latch:      bgworker.NewLocalLatch(),
		Flaws:      flaws,
	})
	return d
}

func (d *driver) feed(ev postmaster.Event) {
	d.t.Helper()
	if err := d.core.Step(ev); err != nil {
		d.t.Fatal(err)
	}
	rd := d.core.Ready()
	d.log = append(d.log, rd.Records...)
	for _, a := range rd.Actions {
		if a.Kind != postmaster.ActionSpawn {
			continue
		}
		res := postmaster.Event{Kind: postmaster.EventSpawnResult, Now: ev.Now, SpawnToken: a.Token}
		if d.failNext > 0 {
			d.failNext--
			res.SpawnErr = "injected"
		} else {
			d.nextPid++
			res.Pid = d.nextPid
			d.live[d.nextPid] = true
		}
		d.feed(res)
	}
}

// register registers a dynamic worker at now and lets the postmaster
// adopt it.
func (d *driver) register(now time.Duration, restart int32) {
	d.t.Helper()
	w := bgworker.Worker{Name: "w", Flags: bgworker.ShmemAccess, StartTime: bgworker.PostmasterStart,
		RestartTime: restart, LibraryName: "lib", FunctionName: "fn", NotifyPid: backendPid}
	if _, err := d.be.RegisterDynamicBackgroundWorker(w); err != nil {
		d.t.Fatal(err)
	}
	d.feed(postmaster.Event{Kind: postmaster.EventPMSignal, Now: now})
}

func (d *driver) exit(now time.Duration, pid int32, code int) {
	delete(d.live, pid)
	d.feed(postmaster.Event{Kind: postmaster.EventChildExited, Now: now, Pid: pid, Exit: bgworker.ExitStatus{Code: code}})
}

// tick advances the clock to now, waking the core at every time it asked
// for on the way, as a real timer would.
func (d *driver) tick(now time.Duration) {
	for {
		at, ok := d.core.NextWake()
		if !ok || at > now {
			break
		}
		d.feed(postmaster.Event{Kind: postmaster.EventTick, Now: at})
	}
	d.feed(postmaster.Event{Kind: postmaster.EventTick, Now: now})
	d.end = now
}

// Each postmaster flaw is caught by the rule meant for it, and the fixed
// core's log of the same scenario keeps every rule.
func TestFlawsCaught(t *testing.T) {
	sec := time.Second
	scenarios := []struct {
		name string
		flaw flaw.Flaw
		rule policy.Rule
		run  func(d *driver)
	}{
		{"restart-overflow", flaw.RestartOverflow, policy.RestartEarly, func(d *driver) {
			d.register(0, 2_147_484)
			d.exit(sec, 1001, 1)
			d.tick(2 * sec)
			d.tick(20 * sec)
		}},
		{"spawn-failure-as-start", flaw.SpawnFailureAsStart, policy.RestartEarly, func(d *driver) {
			d.failNext = 1
			d.register(0, 5)
			d.tick(sec)
			d.tick(20 * sec)
		}},
		{"notify-before-free", flaw.NotifyBeforeFree, policy.NotifyBeforeFree, func(d *driver) {
			d.register(0, bgworker.NeverRestart)
			d.exit(sec, 1001, 1)
			d.tick(2 * sec)
			d.tick(20 * sec)
		}},
		{"silent-forget", flaw.SilentForget, policy.ForgottenSilently, func(d *driver) {
			d.failNext = 1
			d.register(0, bgworker.NeverRestart)
			d.tick(sec)
			d.tick(20 * sec)
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			fixed := newDriver(t, 1, 0)
			sc.run(fixed)
			if vs := policy.Validate(fixed.log, policy.Options{End: fixed.end}); len(vs) != 0 {
				t.Fatalf("fixed core breaks the policy: %v\nlog:\n%s", vs, dump(fixed.log))
			}
			flawed := newDriver(t, 1, flaw.Of(sc.flaw))
			sc.run(flawed)
			vs := policy.Validate(flawed.log, policy.Options{End: flawed.end})
			found := false
			for _, v := range vs {
				found = found || v.Rule == sc.rule
			}
			if !found {
				t.Fatalf("flaw %v not caught as %s: %v\nlog:\n%s", sc.flaw, sc.rule, vs, dump(flawed.log))
			}
			t.Logf("caught: %v", vs[0])
		})
	}
}

func dump(log []postmaster.Record) string {
	s := ""
	for i, r := range log {
		s += "  " + itoa(i) + " " + r.String() + "\n"
	}
	return s
}

func itoa(i int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		if i /= 10; i == 0 {
			return string(b)
		}
	}
}
