package proptest

import (
	"errors"
	"fmt"

	"pgregory.net/rapid"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
	"bgwmodel/impl/shmem"
)

// ClusterConfig describes the in-process clusters the state-machine
// properties build from the implementation alone.
type ClusterConfig struct {
	// MinSlots and MaxSlots bound max_worker_processes, drawn per test
	// case; zero values mean 1 and 4.
	MinSlots, MaxSlots int
	// Backend is the flaw set of the backend ([bgworker.BackendConfig]).
	Backend flaw.Set
	// Postmaster is the flaw set of the postmaster
	// ([bgworker.PostmasterConfig]).
	Postmaster flaw.Set

	// events, if not nil, counts what the state machines did (the tests
	// check that every action and every kind of stale handle occurs).
	events coverage
	// launchRunning breaks the postmaster of [AgainstSpecProperty]: its
	// launch may pick a worker that is already running, as
	// maybe_start_bgworker would without its "already running?" check
	// (the broken variant launch-running).
	launchRunning bool
}

// coverage counts named events.
type coverage map[string]int

func (c coverage) hit(event string) {
	if c != nil {
		c[event]++
	}
}

func (c ClusterConfig) bounds() (int, int) {
	lo, hi := c.MinSlots, c.MaxSlots
	if lo <= 0 {
		lo = 1
	}
	if hi <= 0 {
		hi = 4
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// The processes of a test cluster.
const (
	// BackendPid is the pid of the test's backend: the one live backend,
	// which registers workers and whose latch the postmaster sets.
	BackendPid int32 = 100
	// GonePid is a pid that names no live backend: a notify pid the
	// postmaster must drop when it adopts the worker.
	GonePid int32 = 555
	// firstWorkerPid is the pid of the first worker process launched.
	firstWorkerPid int32 = 4000
	// testSegment is the segment id of every test cluster.
	testSegment uint64 = 0x5eed
)

// cluster is one in-process cluster built from the implementation only:
// a [shmem.Local] segment initialised by a [bgworker.Postmaster], one
// [bgworker.Backend] with a [bgworker.MutexLock], a [bgworker.LocalLatch]
// and a [bgworker.SignalFunc] that counts signals. The postmaster's
// process management (spawning, reaping) is the test's: it sets rw.Pid
// and rw.Started itself, as the postmaster core would.
type cluster struct {
	cfg     ClusterConfig
	slots   int
	static  int
	mem     *shmem.Local
	pm      *bgworker.Postmaster
	seg     *bgworker.Segment
	be      *bgworker.Backend
	lock    *bgworker.MutexLock
	latch   *bgworker.LocalLatch
	signals int   // SignalPostmaster calls
	nextPid int32 // pid of the next worker launched
	died    bool  // the postmaster died (the latch reports it)
	notes   int   // latch sets delivered to the backend
}

// newCluster draws the cluster's size and number of static workers and
// builds it.
func newCluster(t *rapid.T, cfg ClusterConfig) *cluster {
	lo, hi := cfg.bounds()
	n := rapid.IntRange(lo, hi).Draw(t, "slots")
	static := rapid.OneOf(rapid.Just(0), rapid.Just(0), rapid.IntRange(0, n)).Draw(t, "static")
	c := &cluster{cfg: cfg, slots: n, static: static, nextPid: firstWorkerPid, lock: new(bgworker.MutexLock)}
	pm, err := bgworker.NewPostmaster(bgworker.PostmasterConfig{MaxWorkers: n, Flaws: cfg.Postmaster, SegmentID: testSegment})
	if err != nil {
		t.Fatalf("NewPostmaster: %v", err)
	}
	for i := range static {
		w := bgworker.Worker{
			Name: fmt.Sprintf("static%d", i), Flags: bgworker.ShmemAccess, StartTime: bgworker.PostmasterStart,
			RestartTime: bgworker.DefaultRestartTime, LibraryName: "lib", FunctionName: "main",
		}
		if err := pm.RegisterBackgroundWorker(w); err != nil {
			t.Fatalf("RegisterBackgroundWorker(%q): %v", w.Name, err)
		}
	}
	c.pm = pm
	c.mem = shmem.NewLocal(bgworker.ShmemSize(n))
	c.latch = bgworker.NewLocalLatch()
	if err := c.shmemInit(); err != nil {
		t.Fatalf("%v", err)
	}
	return c
}

// shmemInit runs BackgroundWorkerShmemInit on the cluster's memory (again
// after a crash) and gives the backend the new segment.
func (c *cluster) shmemInit() error {
	seg, err := c.pm.BackgroundWorkerShmemInit(c.mem)
	if err != nil {
		return fmt.Errorf("BackgroundWorkerShmemInit: %w", err)
	}
	c.seg = seg
	c.be = bgworker.NewBackend(seg, bgworker.BackendConfig{
		Lock:       c.lock,
		Postmaster: bgworker.SignalFunc(func() error { c.signals++; return nil }),
		Latch:      c.latch,
		Flaws:      c.cfg.Backend,
	})
	return nil
}

// live is the postmaster's liveBackend: only the test's backend is alive.
func (c *cluster) live(pid int32) bool { return pid == BackendPid }

// deliver sends the SIGUSR1 the postmaster decided on: to the test's
// backend it sets the latch; to anyone else it is a violation (the
// postmaster signals only live backends).
func (c *cluster) deliver(notify int32, what string) error {
	switch notify {
	case 0:
		return nil
	case BackendPid:
		c.latch.Set()
		c.notes++
		return nil
	}
	return fmt.Errorf("%s: postmaster would signal pid %d, which is no live backend", what, notify)
}

// scan is the postmaster's response to SIGUSR1: CheckPostmasterSignal and,
// if the flag was set, BackgroundWorkerStateChange. It returns the slots
// adopted. A rejected slot is an error: backends write only valid workers.
func (c *cluster) scan() (set bool, adopted []int, err error) {
	set, err = c.pm.CheckPostmasterSignal()
	if err != nil || !set {
		return set, nil, err
	}
	sc, err := c.pm.BackgroundWorkerStateChange(c.live)
	if err != nil {
		return true, nil, err
	}
	if len(sc.Rejected) > 0 {
		return true, nil, fmt.Errorf("BackgroundWorkerStateChange rejected slot %d: %v", sc.Rejected[0].Slot, sc.Rejected[0].Err)
	}
	for _, rw := range sc.Adopted {
		if rw.Worker.NotifyPid != 0 && !c.live(rw.Worker.NotifyPid) {
			return true, nil, fmt.Errorf("adopted slot %d keeps notify pid %d of no live backend", rw.Slot, rw.Worker.NotifyPid)
		}
		adopted = append(adopted, rw.Slot)
	}
	return true, adopted, nil
}

// workers returns the postmaster's private list entries for which keep
// returns true.
func (c *cluster) workers(keep func(*bgworker.RegisteredWorker) bool) []*bgworker.RegisteredWorker {
	var out []*bgworker.RegisteredWorker
	for _, rw := range c.pm.Workers() {
		if keep(rw) {
			out = append(out, rw)
		}
	}
	return out
}

func notRunning(rw *bgworker.RegisteredWorker) bool { return rw.Pid == 0 }
func running(rw *bgworker.RegisteredWorker) bool    { return rw.Pid > 0 }

// pick draws one of rws by index; the caller has checked it is not empty.
func pick(t *rapid.T, rws []*bgworker.RegisteredWorker, label string) *bgworker.RegisteredWorker {
	return rws[rapid.IntRange(0, len(rws)-1).Draw(t, label)]
}

// launch starts rw as a new process: rw.Pid and rw.Started are set and
// ReportBackgroundWorkerPID publishes the pid.
func (c *cluster) launch(rw *bgworker.RegisteredWorker) error {
	rw.Pid, rw.Started = c.nextPid, true
	c.nextPid++
	notify, err := c.pm.ReportBackgroundWorkerPID(rw)
	if err != nil {
		return err
	}
	return c.deliver(notify, "launch")
}

// exit reaps rw's process: rw.Pid = 0, reported.
func (c *cluster) exit(rw *bgworker.RegisteredWorker) error {
	rw.Pid = 0
	notify, err := c.pm.ReportBackgroundWorkerPID(rw)
	if err != nil {
		return err
	}
	return c.deliver(notify, "exit")
}

// forget is ForgetBackgroundWorker, then the notification it returns.
func (c *cluster) forget(rw *bgworker.RegisteredWorker) error {
	notify, err := c.pm.ForgetBackgroundWorker(rw)
	if err != nil {
		return err
	}
	return c.deliver(notify, "forget")
}

// reinit is a crash restart: every worker process is gone (rw.Pid = 0) and
// BackgroundWorkerShmemInit rebuilds the same memory from the private
// list, which puts the k listed workers in slots 0..k-1. It returns k.
func (c *cluster) reinit() (int, error) {
	for _, rw := range c.pm.Workers() {
		rw.Pid, rw.Started = 0, false
	}
	k := len(c.pm.Workers())
	if err := c.shmemInit(); err != nil {
		return 0, err
	}
	for i, rw := range c.pm.Workers() {
		if rw.Slot != i {
			return 0, fmt.Errorf("after re-init, listed worker %d %q is in slot %d", i, rw.Worker.Name, rw.Slot)
		}
	}
	return k, nil
}

// die marks the postmaster dead: the backend's latch reports it.
func (c *cluster) die() {
	c.latch.PostmasterDied()
	c.died = true
}

// registerResult classifies what RegisterDynamicBackgroundWorker returned.
type registerResult int

const (
	registerOK registerResult = iota
	registerNoFreeSlot
	registerInvalid
)

// classifyRegister checks that err is nil, ErrNoFreeSlot or an
// *InvalidError and says which.
func classifyRegister(err error) (registerResult, error) {
	var inv *bgworker.InvalidError
	switch {
	case err == nil:
		return registerOK, nil
	case errors.Is(err, bgworker.ErrNoFreeSlot):
		return registerNoFreeSlot, nil
	case errors.As(err, &inv) && errors.Is(err, bgworker.ErrInvalidWorker):
		return registerInvalid, nil
	}
	return 0, fmt.Errorf("unexpected error: %w", err)
}

// registerWorkerGen draws the worker of a register action: usually a valid
// one notifying the test's backend, nobody, or a gone backend; sometimes
// anything [WorkerGen] draws.
func registerWorkerGen() *rapid.Generator[bgworker.Worker] {
	valid := ValidWorkerGen(0, BackendPid, GonePid)
	return rapid.OneOf(valid, valid, valid, WorkerGen())
}

// counted wraps each action so that the events count the actions that ran
// to the end (not skipped).
func (c *cluster) counted(actions map[string]func(*rapid.T)) map[string]func(*rapid.T) {
	if c.cfg.events == nil {
		return actions
	}
	out := make(map[string]func(*rapid.T), len(actions))
	for name, f := range actions {
		if name == "" {
			out[name] = f
			continue
		}
		out[name] = func(t *rapid.T) {
			f(t)
			c.cfg.events.hit("action: " + name)
		}
	}
	return out
}
