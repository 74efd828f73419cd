package postmaster

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
	"bgwmodel/impl/shmem"
)

// PMState is the postmaster's own state, a reduction of PostgreSQL's
// pmState and FatalError/Shutdown flags to what the worker protocol needs.
type PMState uint8

// The postmaster states.
const (
	// PMInit: created, not started (before PostmasterMain's
	// reset_shared).
	PMInit PMState = iota
	// PMRun: running; workers start as their start state allows.
	PMRun
	// PMCrashWait: a crash restart is under way (FatalError): every child
	// got SIGQUIT and the core waits for all of them to exit before it
	// rebuilds shared memory (PostmasterStateMachine, PM_NO_CHILDREN).
	PMCrashWait
	// PMShutdown: SIGTERM received; waiting for the workers to exit.
	PMShutdown
	// PMExited: the postmaster has exited ([ActionExit]).
	PMExited
)

// String returns the state's name, such as "crash-wait".
func (s PMState) String() string {
	switch s {
	case PMInit:
		return "init"
	case PMRun:
		return "run"
	case PMCrashWait:
		return "crash-wait"
	case PMShutdown:
		return "shutdown"
	case PMExited:
		return "exited"
	}
	return fmt.Sprintf("PMState(%d)", uint8(s))
}

// Errors from [New] and [Core.Step]. An event refused with one of them
// changes nothing.
var (
	// ErrConfig: the configuration is unusable.
	ErrConfig = errors.New("postmaster: bad configuration")
	// ErrNotStarted: an event other than EventStart before EventStart.
	ErrNotStarted = errors.New("postmaster: not started")
	// ErrAlreadyStarted: a second EventStart.
	ErrAlreadyStarted = errors.New("postmaster: already started")
	// ErrExited: an event after ActionExit.
	ErrExited = errors.New("postmaster: exited")
	// ErrUnknownEvent: an event of no known kind.
	ErrUnknownEvent = errors.New("postmaster: unknown event kind")
)

// slotMeta is the core's bookkeeping for the worker in one slot, beyond
// what [bgworker.RegisteredWorker] holds.
type slotMeta struct {
	// token is the outstanding spawn's token, or 0.
	token uint64
	// stopNotified: with flaw notify-before-free, the worker's exit was
	// reported and notified already; the scan forgets it silently.
	stopNotified bool
}

// Core is the postmaster's pure core: [Core.Step] applies one event,
// [Core.Ready] drains the actions and records it produced. It makes no
// syscalls, starts no goroutines, reads no clock and never blocks; all its
// state is in the value, and every shared access goes through package
// bgworker over the [shmem.Memory] given to [New]. It is not safe for
// concurrent use: the postmaster is one thread.
type Core struct {
	cfg   Config
	flaws flaw.Set
	mem   shmem.Memory
	pm    *bgworker.Postmaster
	seg   *bgworker.Segment

	state    PMState
	shutdown bool // SIGTERM seen (PMShutdown, or PMCrashWait then exit)
	now      time.Duration
	epoch    uint64

	phaseStart time.Duration      // when PostmasterStart was last reached
	reached    bgworker.StartTime // the start state reached

	meta      []slotMeta // by slot
	nextToken uint64
	backends  map[int32]bool // live regular backends
	leaked    int

	wakeSet bool // a WakeAt is pending at wakeAt
	wakeAt  time.Duration

	out Ready
}

// New returns a core over mem, which must hold at least
// [bgworker.ShmemSize](cfg.MaxWorkers) bytes. It registers the static
// workers (RegisterBackgroundWorker); an error names the index of the
// worker refused and wraps the bgworker error ([bgworker.ErrInvalidWorker],
// [bgworker.ErrTooManyWorkers]). It does not touch mem: shared memory is
// set up at [EventStart].
func New(cfg Config, mem shmem.Memory) (*Core, error) {
	if mem == nil {
		return nil, fmt.Errorf("%w: no shared memory", ErrConfig)
	}
	if cfg.ConsistentDelay < 0 || cfg.RecoveryDelay < 0 {
		return nil, fmt.Errorf("%w: negative start delay (%v, %v)", ErrConfig, cfg.ConsistentDelay, cfg.RecoveryDelay)
	}
	pm, err := bgworker.NewPostmaster(bgworker.PostmasterConfig{
		MaxWorkers: cfg.MaxWorkers, Flaws: cfg.Flaws, SegmentID: cfg.SegmentID,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if need := bgworker.ShmemSize(cfg.MaxWorkers); mem.Size() < need {
		return nil, fmt.Errorf("%w: shared memory of %d bytes, need %d", ErrConfig, mem.Size(), need)
	}
	for i, w := range cfg.Static {
		if err := pm.RegisterBackgroundWorker(w); err != nil {
			return nil, fmt.Errorf("postmaster: static worker %d (%q): %w", i, w.Name, err)
		}
	}
	cfg.Static = slices.Clone(cfg.Static)
	return &Core{
		cfg:      cfg,
		flaws:    cfg.Flaws,
		mem:      mem,
		pm:       pm,
		meta:     make([]slotMeta, cfg.MaxWorkers),
		backends: make(map[int32]bool),
	}, nil
}

// Step applies one event. It returns an error only for an event the core
// refuses ([ErrNotStarted], [ErrAlreadyStarted], [ErrExited],
// [ErrUnknownEvent]) or for a shared-memory access that failed (which a
// memory of the size New checked cannot produce); events naming unknown
// processes are logged ([RecordIgnored]), and corrupt shared memory is
// logged and survived. It never blocks.
func (c *Core) Step(ev Event) error {
	switch {
	case ev.Kind < EventStart || ev.Kind > EventShutdown:
		return fmt.Errorf("%w: %d", ErrUnknownEvent, uint8(ev.Kind))
	case c.state == PMExited:
		return fmt.Errorf("%w: %v", ErrExited, ev)
	case c.state == PMInit && ev.Kind != EventStart:
		return fmt.Errorf("%w: %v", ErrNotStarted, ev)
	case c.state != PMInit && ev.Kind == EventStart:
		return ErrAlreadyStarted
	}
	if ev.Now > c.now {
		c.now = ev.Now
	}
	if c.state == PMRun {
		c.advanceStates()
	}
	var err error
	switch ev.Kind {
	case EventStart:
		err = c.start()
	case EventTick:
		if c.wakeSet && c.now >= c.wakeAt {
			c.wakeSet = false
		}
		err = c.maybeStartWorkers()
	case EventPMSignal:
		err = c.pmSignal()
	case EventChildExited:
		err = c.childExited(ev.Pid, ev.Exit)
	case EventSpawnResult:
		err = c.spawnResult(ev)
	case EventBackendStarted:
		c.backendStarted(ev.Pid)
	case EventBackendExited:
		err = c.backendExited(ev.Pid, ev.Exit)
	case EventShutdown:
		c.shutdownRequested()
	}
	c.emitWake()
	return err
}

// Ready drains and returns the actions to perform and the records to log
// since the last call, in the order they were produced. The driver performs
// the actions in order.
func (c *Core) Ready() Ready {
	r := c.out
	c.out = Ready{}
	return r
}

// PMState returns the postmaster's state.
func (c *Core) PMState() PMState { return c.state }

// ShuttingDown reports whether SIGTERM has been received.
func (c *Core) ShuttingDown() bool { return c.shutdown }

// StartState returns the start state reached (what
// bgworker_should_start_now compares a worker's bgw_start_time with), and
// false before EventStart or when no worker may start (crash restart,
// shutdown).
func (c *Core) StartState() (bgworker.StartTime, bool) {
	return c.reached, c.state == PMRun
}

// Now returns the latest time the core has seen.
func (c *Core) Now() time.Duration { return c.now }

// Epoch returns the number of crash re-initializations so far.
func (c *Core) Epoch() uint64 { return c.epoch }

// Segment returns the shared segment set up at EventStart, or nil.
func (c *Core) Segment() *bgworker.Segment { return c.seg }

// LiveBackends returns the live regular backends, sorted: the pids the
// core accepts as notify pids.
func (c *Core) LiveBackends() []int32 { return slices.Sorted(maps.Keys(c.backends)) }

// Children returns the pids of the running worker processes, in the order
// of the private worker list.
func (c *Core) Children() []int32 {
	var pids []int32
	for _, rw := range c.pm.Workers() {
		if rw.Pid != 0 {
			pids = append(pids, rw.Pid)
		}
	}
	return pids
}

// PendingSpawns returns the number of spawns not answered yet.
func (c *Core) PendingSpawns() int {
	n := 0
	for _, m := range c.meta {
		if m.token != 0 {
			n++
		}
	}
	return n
}

// Workers returns a copy of the private worker list
// (BackgroundWorkerList).
func (c *Core) Workers() []bgworker.RegisteredWorker {
	out := make([]bgworker.RegisteredWorker, 0, len(c.pm.Workers()))
	for _, rw := range c.pm.Workers() {
		out = append(out, *rw)
	}
	return out
}

// LeakedChildSlots returns the number of child slots leaked by failed
// spawns: always 0 unless flaw spawn-failure-as-start is set, which
// reproduces the seed's do_start_bgworker keeping the PMChildSlot it
// assigned before a fork that failed.
func (c *Core) LeakedChildSlots() int { return c.leaked }

// NextWake returns the earliest time at which a tick would make progress
// (a start state to reach, a restart due, a deferred forget or retry), and
// false if there is none.
func (c *Core) NextWake() (time.Duration, bool) { return c.nextWake() }

// stamp reads the logical clock, or 0 without one.
func (c *Core) stamp() uint64 {
	if c.cfg.Stamp == nil {
		return 0
	}
	return c.cfg.Stamp()
}

// record logs r, stamped with call and ret.
func (c *Core) record(r Record, call, ret uint64) {
	r.Now, r.Epoch, r.Call, r.Return = c.now, c.epoch, call, ret
	c.out.Records = append(c.out.Records, r)
}

// note logs r, which touches no shared memory, stamped now.
func (c *Core) note(r Record) {
	call := c.stamp()
	c.record(r, call, c.stamp())
}

// act queues an action for the driver.
func (c *Core) act(a Action) { c.out.Actions = append(c.out.Actions, a) }

func (c *Core) signal(pid int32, sig Signal) {
	c.act(Action{Kind: ActionSignal, Pid: pid, Signal: sig})
}

// workerByPid finds the running worker pid (the loop of
// CleanupBackgroundWorker).
func (c *Core) workerByPid(pid int32) *bgworker.RegisteredWorker {
	if pid <= 0 {
		return nil
	}
	for _, rw := range c.pm.Workers() {
		if rw.Pid == pid {
			return rw
		}
	}
	return nil
}

// inUse lists the slots of the private list, for Init and Reinit records.
func (c *Core) inUse() []int {
	slots := make([]int, 0, len(c.pm.Workers()))
	for _, rw := range c.pm.Workers() {
		slots = append(slots, rw.Slot)
	}
	return slots
}
