package bgworker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
	"bgwmodel/impl/shmem"
)

// cluster is one in-process segment with a postmaster and a backend.
type cluster struct {
	pm      *bgworker.Postmaster
	mem     shmem.Memory
	seg     *bgworker.Segment
	be      *bgworker.Backend
	latch   *bgworker.LocalLatch
	signals int
}

func newCluster(t testing.TB, slots int, beFlaws, pmFlaws flaw.Set, static ...bgworker.Worker) *cluster {
	t.Helper()
	c := &cluster{mem: shmem.NewLocal(bgworker.ShmemSize(slots)), latch: bgworker.NewLocalLatch()}
	var err error
	c.pm, err = bgworker.NewPostmaster(bgworker.PostmasterConfig{MaxWorkers: slots, SegmentID: 99, Flaws: pmFlaws})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range static {
		if err := c.pm.RegisterBackgroundWorker(w); err != nil {
			t.Fatal(err)
		}
	}
	if c.seg, err = c.pm.BackgroundWorkerShmemInit(c.mem); err != nil {
		t.Fatal(err)
	}
	c.be = bgworker.NewBackend(c.seg, bgworker.BackendConfig{
		Lock:       new(bgworker.MutexLock),
		Postmaster: bgworker.SignalFunc(func() error { c.signals++; return nil }),
		Latch:      c.latch,
		Flaws:      beFlaws,
	})
	return c
}

func worker(name string, restart int32) bgworker.Worker {
	return bgworker.Worker{Name: name, Flags: bgworker.ShmemAccess, StartTime: bgworker.ConsistentState,
		RestartTime: restart, LibraryName: "lib", FunctionName: "fn", NotifyPid: 7}
}

// adopt runs the postmaster's signal handling and returns what it adopted.
func (c *cluster) adopt(t *testing.T) []*bgworker.RegisteredWorker {
	t.Helper()
	set, err := c.pm.CheckPostmasterSignal()
	if err != nil || !set {
		t.Fatalf("CheckPostmasterSignal = %v, %v", set, err)
	}
	sc, err := c.pm.BackgroundWorkerStateChange(func(pid int32) bool { return pid == 7 })
	if err != nil {
		t.Fatal(err)
	}
	return sc.Adopted
}

func (c *cluster) status(t *testing.T, h bgworker.Handle) bgworker.PidStatus {
	t.Helper()
	st, err := c.be.GetBackgroundWorkerPid(h)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestLifecycle(t *testing.T) {
	c := newCluster(t, 2, 0, 0)
	h, err := c.be.RegisterDynamicBackgroundWorker(worker("a", 5))
	if err != nil {
		t.Fatal(err)
	}
	if c.signals != 1 {
		t.Fatalf("postmaster signalled %d times", c.signals)
	}
	rws := c.adopt(t)
	if len(rws) != 1 || rws[0].Slot != h.Slot || rws[0].Worker.NotifyPid != 7 {
		t.Fatalf("adopted %+v", rws)
	}
	rw := rws[0]
	steps := []struct {
		name string
		do   func() error
		want bgworker.PidStatus
	}{
		{"registered", func() error { return nil }, bgworker.PidStatus{Status: bgworker.NotYetStarted}},
		{"launched", func() error { rw.Pid = 31; _, err := c.pm.ReportBackgroundWorkerPID(rw); return err },
			bgworker.PidStatus{Status: bgworker.Started, Pid: 31}},
		{"exited", func() error { rw.Pid = 0; _, err := c.pm.ReportBackgroundWorkerPID(rw); return err },
			bgworker.PidStatus{Status: bgworker.Stopped}},
		{"relaunched", func() error { rw.Pid = 32; _, err := c.pm.ReportBackgroundWorkerPID(rw); return err },
			bgworker.PidStatus{Status: bgworker.Started, Pid: 32}},
		{"forgotten", func() error {
			n, err := c.pm.ForgetBackgroundWorker(rw)
			if n != 7 {
				t.Errorf("forget returned notify %d", n)
			}
			return err
		}, bgworker.PidStatus{Status: bgworker.Stopped}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := c.status(t, h); got != s.want {
			t.Fatalf("%s: status %+v, want %+v", s.name, got, s.want)
		}
	}
	// The slot is free again and its generation moves on.
	h2, err := c.be.RegisterDynamicBackgroundWorker(worker("b", 5))
	if err != nil || h2.Slot != h.Slot || h2.Generation != h.Generation+1 {
		t.Fatalf("re-register: %+v %v", h2, err)
	}
	if got := c.status(t, h); got.Status != bgworker.Stopped {
		t.Fatalf("stale handle reads %v", got)
	}
}

// A worker forgotten before it started: the fixed GetBackgroundWorkerPid
// says STOPPED, the seed's (no-inuse-check) says NOT_YET_STARTED.
func TestForgottenBeforeStart(t *testing.T) {
	for _, c := range []struct {
		name  string
		flaws flaw.Set
		want  bgworker.Status
	}{
		{"fixed", 0, bgworker.Stopped},
		{"no-inuse-check", flaw.Of(flaw.NoInuseCheck), bgworker.NotYetStarted},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := newCluster(t, 1, c.flaws, 0)
			h, err := cl.be.RegisterDynamicBackgroundWorker(worker("a", bgworker.NeverRestart))
			if err != nil {
				t.Fatal(err)
			}
			rw := cl.adopt(t)[0]
			if _, err := cl.pm.ForgetBackgroundWorker(rw); err != nil {
				t.Fatal(err)
			}
			if got := cl.status(t, h); got.Status != c.want {
				t.Fatalf("status %v, want %v", got.Status, c.want)
			}
		})
	}
}

func TestRegisterErrors(t *testing.T) {
	c := newCluster(t, 1, 0, 0)
	if _, err := c.be.RegisterDynamicBackgroundWorker(worker("a", 1)); err != nil {
		t.Fatal(err)
	}
	long := worker("x", 1)
	long.LibraryName = string(make([]byte, 64))
	cases := []struct {
		name  string
		w     bgworker.Worker
		want  error
		field bgworker.Field
	}{
		{"full", worker("b", 1), bgworker.ErrNoFreeSlot, ""},
		{"restart -2", worker("c", -2), bgworker.ErrInvalidWorker, bgworker.FieldRestartTime},
		{"long library", long, bgworker.ErrInvalidWorker, bgworker.FieldLibraryName},
		{"non-ascii name", worker("caf\xc3\xa9", 1), bgworker.ErrInvalidWorker, bgworker.FieldName},
		{"empty name", worker("", 1), bgworker.ErrInvalidWorker, bgworker.FieldName},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.be.RegisterDynamicBackgroundWorker(tc.w)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			var ie *bgworker.InvalidError
			if tc.field != "" && (!errors.As(err, &ie) || ie.Field != tc.field) {
				t.Fatalf("err %v does not name %s", err, tc.field)
			}
		})
	}
}

func TestHandleErrors(t *testing.T) {
	c := newCluster(t, 2, 0, 0)
	h, err := c.be.RegisterDynamicBackgroundWorker(worker("a", 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		h    bgworker.Handle
		want error
	}{
		{"foreign", bgworker.Handle{Segment: h.Segment + 1, Slot: 0, Generation: 1}, bgworker.ErrForeignHandle},
		{"slot too big", bgworker.Handle{Segment: h.Segment, Slot: 2, Generation: 1}, bgworker.ErrBadHandle},
		{"slot negative", bgworker.Handle{Segment: h.Segment, Slot: -1, Generation: 1}, bgworker.ErrBadHandle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.be.GetBackgroundWorkerPid(tc.h); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

// After a crash re-init, static workers are back in the first slots with
// generation 0 and every old handle reads STOPPED.
func TestReinit(t *testing.T) {
	static := worker("static", 10)
	static.NotifyPid = 0
	c := newCluster(t, 3, 0, 0, static)
	h, err := c.be.RegisterDynamicBackgroundWorker(worker("dyn", 10))
	if err != nil || h.Slot != 1 {
		t.Fatalf("register: %+v %v", h, err)
	}
	c.adopt(t)
	if _, err := c.pm.BackgroundWorkerShmemInit(c.mem); err != nil {
		t.Fatal(err)
	}
	if got := c.status(t, h); got.Status != bgworker.Stopped {
		t.Fatalf("pre-crash handle reads %v", got)
	}
	for i, rw := range c.pm.Workers() {
		if rw.Slot != i || rw.Worker.NotifyPid != 0 {
			t.Fatalf("worker %d after re-init: slot %d notify %d", i, rw.Slot, rw.Worker.NotifyPid)
		}
	}
	// The dynamic worker is kept (it is in the private list) and both
	// slots are in use: the next registration takes slot 2, generation 1.
	h2, err := c.be.RegisterDynamicBackgroundWorker(worker("new", 10))
	if err != nil || h2.Slot != 2 || h2.Generation != 1 || h2.Epoch != h.Epoch+1 {
		t.Fatalf("after re-init: %+v %v", h2, err)
	}
}

// The postmaster trusts nothing: a corrupt total_slots stops the scan, and
// garbage in a slot is rejected and the slot handed back.
func TestStateChangeParanoia(t *testing.T) {
	c := newCluster(t, 2, 0, 0)
	if _, err := c.be.RegisterDynamicBackgroundWorker(worker("a", 1)); err != nil {
		t.Fatal(err)
	}
	// Corrupt the worker block of slot 0: a restart time of -7.
	const slot0Restart = 64 + 16 + 200
	if err := c.mem.Store32(slot0Restart, uint32(0xfffffff9), shmem.Relaxed); err != nil {
		t.Fatal(err)
	}
	if err := c.mem.Store32(8, 1000, shmem.Relaxed); err != nil { // total_slots
		t.Fatal(err)
	}
	if _, err := c.pm.BackgroundWorkerStateChange(nil); !errors.Is(err, bgworker.ErrCorrupt) {
		t.Fatalf("corrupt total_slots: %v", err)
	}
	if err := c.mem.Store32(8, 2, shmem.Relaxed); err != nil {
		t.Fatal(err)
	}
	sc, err := c.pm.BackgroundWorkerStateChange(func(int32) bool { return true })
	if err != nil || len(sc.Adopted) != 0 || len(sc.Rejected) != 1 || sc.Rejected[0].Notify != 7 {
		t.Fatalf("state change: %+v %v", sc, err)
	}
	if _, err := c.be.RegisterDynamicBackgroundWorker(worker("b", 1)); err != nil {
		t.Fatalf("rejected slot not freed: %v", err)
	}
}

func TestNotifyPidDroppedForStrangers(t *testing.T) {
	c := newCluster(t, 1, 0, 0)
	if _, err := c.be.RegisterDynamicBackgroundWorker(worker("a", 1)); err != nil {
		t.Fatal(err)
	}
	c.pm.CheckPostmasterSignal()
	sc, err := c.pm.BackgroundWorkerStateChange(func(pid int32) bool { return false })
	if err != nil || sc.Adopted[0].Worker.NotifyPid != 0 {
		t.Fatalf("stranger's pid kept: %+v %v", sc, err)
	}
	if want := []bgworker.DroppedNotify{{Slot: 0, Pid: 7}}; len(sc.Dropped) != 1 || sc.Dropped[0] != want[0] {
		t.Fatalf("dropped %+v, want %+v", sc.Dropped, want)
	}
	c.pm.BackgroundWorkerStopNotifications(0)
}

func TestStopNotifications(t *testing.T) {
	c := newCluster(t, 1, 0, 0)
	c.be.RegisterDynamicBackgroundWorker(worker("a", 1))
	rw := c.adopt(t)[0]
	c.pm.BackgroundWorkerStopNotifications(7)
	rw.Pid = 5
	if n, _ := c.pm.ReportBackgroundWorkerPID(rw); n != 0 {
		t.Fatalf("exited backend still notified: %d", n)
	}
}

func TestWaitForStartup(t *testing.T) {
	c := newCluster(t, 1, 0, 0)
	h, _ := c.be.RegisterDynamicBackgroundWorker(worker("a", 1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.be.WaitForBackgroundWorkerStartup(ctx, h); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait with nobody launching: %v", err)
	}
	c.latch.PostmasterDied()
	st, err := c.be.WaitForBackgroundWorkerStartup(context.Background(), h)
	if err != nil || st.Status != bgworker.PostmasterDied {
		t.Fatalf("wait after postmaster death: %+v %v", st, err)
	}
}

func TestAttach(t *testing.T) {
	c := newCluster(t, 2, 0, 0)
	seg, err := bgworker.Attach(c.mem)
	if err != nil || seg.Slots() != 2 || seg.ID() != 99 {
		t.Fatalf("Attach: %v", err)
	}
	for _, tc := range []struct {
		name string
		mem  shmem.Memory
	}{
		{"zero", shmem.NewLocal(bgworker.ShmemSize(2))},
		{"tiny", shmem.NewLocal(4)},
		{"too many slots", func() shmem.Memory {
			m := shmem.NewLocal(bgworker.ShmemSize(2))
			b := make([]byte, bgworker.ShmemSize(2))
			c.mem.LoadBytes(0, b)
			m.StoreBytes(0, b)
			m.Store32(8, 3, shmem.Relaxed)
			return m
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := bgworker.Attach(tc.mem); !errors.Is(err, bgworker.ErrBadSegment) {
				t.Fatalf("Attach: %v", err)
			}
		})
	}
}

func TestStaticRegistration(t *testing.T) {
	pm, _ := bgworker.NewPostmaster(bgworker.PostmasterConfig{MaxWorkers: 1})
	w := worker("s", 1)
	if err := pm.RegisterBackgroundWorker(w); !errors.Is(err, bgworker.ErrInvalidWorker) {
		t.Fatalf("static with notify pid: %v", err)
	}
	w.NotifyPid = 0
	if err := pm.RegisterBackgroundWorker(w); err != nil {
		t.Fatal(err)
	}
	if err := pm.RegisterBackgroundWorker(w); !errors.Is(err, bgworker.ErrTooManyWorkers) {
		t.Fatalf("over max: %v", err)
	}
	if _, err := bgworker.NewPostmaster(bgworker.PostmasterConfig{MaxWorkers: 0}); err == nil {
		t.Fatal("max_worker_processes 0 accepted")
	}
}

func TestRestartDelay(t *testing.T) {
	overflow := flaw.Of(flaw.RestartOverflow)
	for _, tc := range []struct {
		secs  int32
		flaws flaw.Set
		want  time.Duration
	}{
		{0, 0, 0},
		{60, 0, time.Minute},
		{2_147_483, 0, 2_147_483 * time.Second},
		{2_147_484, 0, 2_147_484 * time.Second},
		{2_147_483, overflow, 2_147_483 * time.Second},
		{2_147_484, overflow, 0},
		{4_294_968, overflow, 704 * time.Millisecond},
		{86_400_000, 0, 86_400_000 * time.Second},
	} {
		if got := bgworker.RestartDelay(tc.secs, tc.flaws); got != tc.want {
			t.Errorf("RestartDelay(%d, %v) = %v, want %v", tc.secs, tc.flaws, got, tc.want)
		}
	}
}

func TestReadyToRestartExtremes(t *testing.T) {
	const maxD, minD = time.Duration(1<<63 - 1), time.Duration(-1 << 63)
	for _, tc := range []struct {
		name           string
		secs           int32
		crashedAt, now time.Duration
		want           bool
	}{
		{"exact", 60, 0, time.Minute, true},
		{"1ns early", 60, 0, time.Minute - 1, false},
		{"difference overflows", 60, -1, maxD, true},
		{"difference overflows from min", 60, minD, 0, true},
		{"clock before crash", 0, time.Second, 0, false},
		{"underflow", 0, maxD, minD, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bgworker.ReadyToRestart(tc.secs, tc.crashedAt, tc.now, 0); got != tc.want {
				t.Fatalf("ReadyToRestart(%d, %v, %v) = %v", tc.secs, tc.crashedAt, tc.now, got)
			}
		})
	}
}

// TestRegisterNotSignalled: a registration whose postmaster signal fails
// returns the valid handle with an error wrapping ErrNotSignalled, and the
// postmaster adopts the slot at its next signal.
func TestRegisterNotSignalled(t *testing.T) {
	c := newCluster(t, 2, 0, 0)
	sigErr := errors.New("kill: no such process")
	c.be = bgworker.NewBackend(c.seg, bgworker.BackendConfig{Lock: new(bgworker.MutexLock),
		Postmaster: bgworker.SignalFunc(func() error { return sigErr }), Latch: c.latch})
	h, err := c.be.RegisterDynamicBackgroundWorker(worker("a", 5))
	if !errors.Is(err, bgworker.ErrNotSignalled) || !errors.Is(err, sigErr) {
		t.Fatalf("error %v, want ErrNotSignalled wrapping the signal's error", err)
	}
	if got := c.status(t, h); got.Status != bgworker.NotYetStarted {
		t.Fatalf("the handle returned reads %v, want NOT_YET_STARTED", got)
	}
	if rws := c.adopt(t); len(rws) != 1 || rws[0].Slot != h.Slot {
		t.Fatalf("adopted %+v, want slot %d", rws, h.Slot)
	}
}
