package postmaster

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
	"bgwmodel/impl/shmem"
)

func TestNew(t *testing.T) {
	good := wk("ok", bgworker.ShmemAccess, bgworker.PostmasterStart, 5)
	tests := []struct {
		name    string
		cfg     Config
		memSize int
		want    error
		wantMsg string
	}{
		{name: "ok", cfg: Config{MaxWorkers: 2, Static: []bgworker.Worker{good}}},
		{name: "invalid static names its index", cfg: Config{MaxWorkers: 2, Static: []bgworker.Worker{good,
			wk("db", bgworker.BackendDatabaseConnection, bgworker.ConsistentState, 5)}},
			want: bgworker.ErrInvalidWorker, wantMsg: `postmaster: static worker 1 ("db")`},
		{name: "static with notify pid", cfg: Config{MaxWorkers: 2, Static: []bgworker.Worker{withNotify(good, 7)}},
			want: bgworker.ErrInvalidWorker, wantMsg: "static worker 0"},
		{name: "too many", cfg: Config{MaxWorkers: 1, Static: []bgworker.Worker{good, good}},
			want: bgworker.ErrTooManyWorkers, wantMsg: "static worker 1"},
		{name: "max workers 0", cfg: Config{MaxWorkers: 0}, want: ErrConfig},
		{name: "negative delay", cfg: Config{MaxWorkers: 1, RecoveryDelay: -1}, want: ErrConfig},
		{name: "memory too small", cfg: Config{MaxWorkers: 2}, memSize: bgworker.ShmemSize(1), want: ErrConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			size := tc.memSize
			if size == 0 {
				size = bgworker.ShmemSize(max(tc.cfg.MaxWorkers, 1))
			}
			mem := shmem.NewLocal(size)
			c, err := New(tc.cfg, mem)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (c != nil) {
				t.Fatalf("New: %v, want %v", err, tc.want)
			}
			if tc.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), tc.wantMsg)) {
				t.Errorf("error %q does not say %q", err, tc.wantMsg)
			}
			if c == nil {
				return
			}
			// New does not touch memory.
			if v, _ := mem.Load32(0, shmem.Relaxed); v != 0 {
				t.Errorf("New wrote shared memory")
			}
		})
	}
}

func TestStepRefuses(t *testing.T) {
	d := newDriver(t, Config{MaxWorkers: 1})
	for _, tc := range []struct {
		name string
		ev   Event
		want error
	}{
		{"tick before start", Event{Kind: EventTick}, ErrNotStarted},
		{"unknown kind", Event{Kind: 99}, ErrUnknownEvent},
		{"zero kind", Event{}, ErrUnknownEvent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := d.c.Step(tc.ev); !errors.Is(err, tc.want) {
				t.Fatalf("Step: %v, want %v", err, tc.want)
			}
		})
	}
	d.start()
	if err := d.c.Step(Event{Kind: EventStart}); !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("second start: %v", err)
	}
}

func TestStaticWorkersStartAtTheirStartState(t *testing.T) {
	statics := []bgworker.Worker{
		wk("ps", 0, bgworker.PostmasterStart, 5),
		wk("cs", bgworker.ShmemAccess, bgworker.ConsistentState, 5),
		wk("rf", bgworker.ShmemAccess|bgworker.BackendDatabaseConnection, bgworker.RecoveryFinished, 5),
	}
	type step struct {
		at   time.Duration
		want []string // spawned since the previous step
	}
	tests := []struct {
		name                string
		consistent, recover time.Duration
		steps               []step
	}{
		{"delays", 10 * time.Second, 5 * time.Second, []step{
			{0, []string{"ps"}}, {10*time.Second - 1, nil}, {10 * time.Second, []string{"cs"}},
			{15*time.Second - 1, nil}, {15 * time.Second, []string{"rf"}}, {time.Hour, nil}}},
		{"no delays", 0, 0, []step{{0, []string{"ps", "cs", "rf"}}, {time.Hour, nil}}},
		{"recovery at once after consistent", time.Second, 0, []step{
			{0, []string{"ps"}}, {time.Second, []string{"cs", "rf"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, Config{MaxWorkers: 4, Static: statics, ConsistentDelay: tc.consistent, RecoveryDelay: tc.recover})
			d.start()
			init := d.recsOf(0, RecordInit)
			if len(init) != 1 || !slices.Equal(init[0].InUse, []int{0, 1, 2}) {
				t.Fatalf("init records %v", init)
			}
			mark := 0
			for _, s := range tc.steps {
				d.runUntil(s.at)
				if got := d.spawned(mark); !slices.Equal(got, s.want) {
					t.Fatalf("at %v spawned %v, want %v; records:\n%s", s.at, got, s.want, d.dump(0))
				}
				mark = len(d.acts)
			}
			if got := len(d.c.Children()); got != 3 {
				t.Errorf("children %d, want 3", got)
			}
			var states []bgworker.StartTime
			for _, r := range d.recsOf(0, RecordStateReached) {
				states = append(states, r.State)
			}
			if !slices.Equal(states, []bgworker.StartTime{0, 1, 2}) {
				t.Errorf("states reached %v", states)
			}
			if _, ok := d.c.NextWake(); ok {
				t.Errorf("a wake is pending with everything running")
			}
		})
	}
}

func TestDynamicRegistration(t *testing.T) {
	d := newDriver(t, Config{MaxWorkers: 2, ConsistentDelay: time.Second, RecoveryDelay: time.Second})
	d.start()
	be := d.startBackend(100)
	mark, amark := len(d.recs), len(d.acts)
	h := d.register(be, withNotify(wk("dyn", bgworker.ShmemAccess, bgworker.ConsistentState, 5), 100))
	if st := d.status(be, h); st.Status != bgworker.NotYetStarted {
		t.Fatalf("before ConsistentState: %v", st)
	}
	if got := d.kinds(mark); !slices.Equal(got, []RecordKind{RecordAdopt}) {
		t.Fatalf("records %v", got)
	}
	if a := d.recsOf(mark, RecordAdopt)[0]; a.Slot != h.Slot || a.Notify != 100 || a.Name != "dyn" {
		t.Fatalf("adopt record %v", a)
	}

	var statusAtNotify bgworker.PidStatus
	d.onSignal = func(a Action) {
		if a.Signal == SIGUSR1 && a.Pid == 100 {
			statusAtNotify = d.status(be, h)
		}
	}
	d.runUntil(time.Second)
	want := []RecordKind{RecordStateReached, RecordSpawn, RecordLaunch, RecordNotify}
	if got := d.kinds(mark, RecordAdopt); !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v:\n%s", got, want, d.dump(mark))
	}
	pid := d.pidOf("dyn")
	launch := d.recsOf(mark, RecordLaunch)[0]
	if launch.Pid != pid || launch.Slot != h.Slot || launch.Notify != 100 || launch.Call == 0 || launch.Call >= launch.Return {
		t.Errorf("launch record %v", launch)
	}
	if n := d.recsOf(mark, RecordNotify)[0]; n.Notify != 100 || n.Reason != NotifyLaunched || n.Call <= launch.Return {
		t.Errorf("notify record %v after %v", n, launch)
	}
	if sigs := d.actsOf(amark, ActionSignal); len(sigs) != 1 || sigs[0].Pid != 100 || sigs[0].Signal != SIGUSR1 {
		t.Errorf("signals %v", sigs)
	}
	if statusAtNotify != (bgworker.PidStatus{Status: bgworker.Started, Pid: pid}) {
		t.Errorf("status when notified %v, want STARTED %d", statusAtNotify, pid)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if st, err := be.WaitForBackgroundWorkerStartup(ctx, h); err != nil || st.Status != bgworker.Started || st.Pid != pid {
		t.Errorf("WaitForBackgroundWorkerStartup: %v %v", st, err)
	}
	if got := d.c.LiveBackends(); !slices.Equal(got, []int32{100}) {
		t.Errorf("live backends %v", got)
	}
	// Stamps grow along the log.
	var last uint64
	for _, r := range d.recs {
		if r.Call <= last || r.Return < r.Call {
			t.Fatalf("stamps out of order at %v", r)
		}
		last = r.Return
	}
}

func TestRestartPolicy(t *testing.T) {
	const t0 = 3 * time.Second
	tests := []struct {
		name    string
		flags   bgworker.Flags
		restart int32
		flaws   flaw.Set
		exit    bgworker.ExitStatus
		want    bgworker.RestartAction
		after   time.Duration // restart this long after the exit (0: in the same step)
	}{
		{"exit 0 restarts at once", bgworker.ShmemAccess, 60, 0, exit0, bgworker.RestartNow, 0},
		{"exit 0 of a never-restart worker restarts at once", 0, bgworker.NeverRestart, 0, exit0, bgworker.RestartNow, 0},
		{"exit 1 waits restart_time", bgworker.ShmemAccess, 5, 0, exit1, bgworker.RestartAfter, 5 * time.Second},
		{"exit 1 with restart_time 0", bgworker.ShmemAccess, 0, 0, exit1, bgworker.RestartAfter, 0},
		{"exit 2 of a non-shmem worker is no crash", 0, 7, 0, exit2, bgworker.RestartAfter, 7 * time.Second},
		{"signal death of a non-shmem worker is no crash", 0, 7, 0, signaled, bgworker.RestartAfter, 7 * time.Second},
		{"2,147,484 s exact", bgworker.ShmemAccess, 2_147_484, 0, exit1, bgworker.RestartAfter, 2_147_484 * time.Second},
		{"2,147,484 s with restart-overflow restarts at once", bgworker.ShmemAccess, 2_147_484, flaw.Of(flaw.RestartOverflow),
			exit1, bgworker.RestartAfter, 0},
		{"86,400,000 s exact", 0, bgworker.MaxRestartTime, 0, exit1, bgworker.RestartAfter,
			time.Duration(bgworker.MaxRestartTime) * time.Second},
		{"4,294,968 s with restart-overflow wraps to 704 ms", 0, 4_294_968, flaw.Of(flaw.RestartOverflow), exit1,
			bgworker.RestartAfter, 704 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, Config{MaxWorkers: 2, Flaws: tc.flaws})
			d.start()
			be := d.startBackend(100)
			h := d.register(be, withNotify(wk("w", tc.flags, bgworker.PostmasterStart, tc.restart), 100))
			pid := d.pidOf("w")
			d.now = t0
			mark, amark := len(d.recs), len(d.acts)
			d.exitChild(pid, tc.exit)
			ex := d.recsOf(mark, RecordExited)
			if len(ex) != 1 || ex[0].Decision != tc.want || ex[0].Pid != pid || ex[0].Exit != tc.exit {
				t.Fatalf("exited records %v", ex)
			}
			if rs := d.recsOf(mark, RecordReportStopped); len(rs) != 1 || rs[0].Slot != h.Slot {
				t.Fatalf("report-stopped records %v", rs)
			}
			if n := d.recsOf(mark, RecordNotify); len(n) < 1 || n[0].Reason != NotifyStopped {
				t.Fatalf("notify records %v", n)
			}
			if tc.after > 0 {
				if st := d.status(be, h); st.Status != bgworker.Stopped {
					t.Errorf("status after exit %v, want STOPPED", st)
				}
				if got := d.spawned(amark); len(got) != 0 {
					t.Fatalf("spawned at once: %v", got)
				}
				if w := d.actsOf(amark, ActionWakeAt); len(w) != 1 || w[0].At != t0+tc.after {
					t.Fatalf("wake-ups %v, want %v", w, t0+tc.after)
				}
				d.runUntil(t0 + tc.after - time.Nanosecond)
				if got := d.spawned(amark); len(got) != 0 {
					t.Fatalf("spawned %v before restart_time", got)
				}
				d.runUntil(t0 + tc.after)
			}
			if got := d.spawned(amark); !slices.Equal(got, []string{"w"}) {
				t.Fatalf("spawned %v, want [w]:\n%s", got, d.dump(mark))
			}
			sp := d.recsOf(mark, RecordSpawn)[0]
			if sp.Now != t0+tc.after {
				t.Errorf("spawned at %v, want %v", sp.Now, t0+tc.after)
			}
			if st := d.status(be, h); st.Status != bgworker.Started || st.Pid != d.pidOf("w") {
				t.Errorf("status after restart %v", st)
			}
			if d.c.PMState() != PMRun || len(d.actsOf(0, ActionKillAll)) != 0 {
				t.Errorf("crash restart: state %v", d.c.PMState())
			}
		})
	}
}
