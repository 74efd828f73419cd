package stress

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/cluster"
	"bgwmodel/impl/flaw"
	"bgwmodel/impl/shmem/memfd"
	"bgwmodel/linearizability"
)

// ErrWeakFlaw is returned by [Run] for a flaw that only a weak memory
// model shows: x86 stress cannot catch it; `bgw explore` can.
var ErrWeakFlaw = errors.New("stress: flaw shows only under a weak memory model")

// Options configure [Run] besides the configuration.
type Options struct {
	// Dir is the run directory: created if needed, it receives the
	// histories, the record log, the server log and the verdicts (see
	// the package documentation).
	Dir string
	// ReproDir is where the run directory will end up, for the repro
	// command; "" means Dir.
	ReproDir string
	// RemoveIfOrphaned has the cluster's supervisor remove Dir if the
	// harness dies before the campaign ends (a kill -9), unless Dir holds
	// [KeepFile] by then, that is unless a violation was found
	// (cluster.Config.RemoveDirIfOrphaned).
	RemoveIfOrphaned bool
	// Progress, if set, is called about every ProgressEvery (default
	// 250ms) from a goroutine of Run.
	Progress      func(Progress)
	ProgressEvery time.Duration

	// started, if set, is called with the campaign once its cluster has
	// started (tests: to kill the postmaster behind the harness's back).
	started func(*campaign)
	// opTimeout, if set, bounds each Register and GetPid instead of
	// opTimeout (tests: to have every outcome cut short).
	opTimeout time.Duration
}

// Progress is a campaign's state while it runs.
type Progress struct {
	Elapsed time.Duration
	// Ops is the number of backend operations recorded.
	Ops int
	// Processes is the number of backends and workers running, as the
	// record log shows.
	Processes int
	// Restarts is the number of crash restarts of the cluster.
	Restarts int
	// Faults is the number of faults injected.
	Faults int
	// Violation describes the first violation found while running, or is
	// "".
	Violation string
}

// Result is what a campaign did and found.
type Result struct {
	// Config is the configuration run, with its seed.
	Config Config
	// Dir is the run directory.
	Dir     string
	Elapsed time.Duration
	// Ops is the number of backend operations recorded; Records the
	// length of the postmaster's record log.
	Ops, Records int
	// Restarts is the number of crash restarts; Launches of workers
	// started.
	Restarts, Launches int
	// Faults counts the faults injected, by kind.
	Faults map[FaultKind]int
	// FirstViolation describes the first violation found while the
	// campaign ran ("" if none), found DetectedAfter from the start; if
	// the configuration says so, it ended the campaign early.
	FirstViolation string
	DetectedAfter  time.Duration
	// Timeouts counts what ran out of time: operations, waits, checks.
	Timeouts Timeouts
	// Postmaster is how the postmaster ended.
	Postmaster PostmasterExit
	// AfterViolation lists the errors that stopping the campaign caused
	// after its first violation was found: not failures of the run.
	AfterViolation []string
	// Interrupted says the campaign was cut short by Run's context (an
	// interrupt): it ended early, in order, and was checked as far as it
	// ran. A campaign cut short is no pass, whatever its verdict.
	Interrupted bool
	// Verdict is the verdict of every check on the whole run. It is nil
	// only in the Result Run returns with an error after a violation was
	// found (see Run).
	Verdict *Verdict
}

// Outcome is the campaign's outcome: Fail if a check failed, or if a
// violation was found while the campaign ran (even if the checks at its
// end, on the whole history, do not find it again, or the run could not
// finish); otherwise Undecided for a campaign cut short (an interrupt is
// no pass); otherwise the verdict's.
func (r *Result) Outcome() Outcome {
	switch {
	case r.FirstViolation != "": // found while running: the verdict, whatever the checks at the end say
		return Fail
	case r.Verdict == nil:
		return Undecided
	case r.Verdict.Outcome() == Fail:
		return Fail
	case r.Interrupted:
		return Undecided
	}
	return r.Verdict.Outcome()
}

// campaign is the state of a running campaign.
type campaign struct {
	cfg     Config
	opts    Options
	dir     string
	cl      *cluster.Cluster
	clock   *cluster.Clock
	rec     *recorder
	work    *workload
	pool    handlePool
	drivers []*driver
	start   time.Time
	stamps  stampLog
	cancel  context.CancelFunc
	ops     atomic.Int64
	stopped atomic.Bool // the postmaster is SIGSTOPped
	paused  atomic.Bool // the drivers must not register (a probe is under way)
	probe   *prober
	events  chan workloadEvent // see workloadEvents
	dead    atomic.Bool        // the postmaster is being (or was) killed
	exited  atomic.Bool        // the postmaster exited on its own (see pollPostmaster)

	pollMu    sync.Mutex
	lastAlive uint64 // a stamp taken before the postmaster was last seen alive

	opTimeouts  atomic.Int64 // operations cut short by their own bound
	pmFileLimit int64        // the postmaster's RLIMIT_FSIZE, 0 if none

	errMu    sync.Mutex
	firstErr error // the first infrastructure failure
	// violated is set once a violation is found: from then on the
	// violation is the verdict, and errors the stop causes are not
	// infrastructure failures (they go to afterErrs).
	violated  atomic.Bool
	afterErrs []error

	mu             sync.Mutex
	tail           *tailer
	waits          []WaitRecord
	judged         int
	faults         []FaultEvent
	cuts           []CutRecord
	died           *linearizability.Operation
	firstViolation string
	detectedAfter  time.Duration
}

// Run runs a campaign (see the package documentation): it starts a
// cluster, drives cfg.Backends backends and injects faults for
// cfg.Duration (or until the first violation, if
// cfg.Check.StopOnViolation, or until ctx ends: an interrupt), stops the
// cluster, seals the run directory ([SealRunDir]) and checks the whole
// run. The verdict is in the Result; a campaign cut short by ctx says so
// ([Result.Interrupted]). The error reports an infrastructure failure
// (the cluster could not start, a file could not be written), after which
// the run directory holds no verdict, except that a violation, once
// found, is the verdict: errors after it are not failures of the run, and
// if the run cannot finish after one, Run returns both a Result with
// FirstViolation (and no Verdict) and the error. The directory of a run
// that found a violation holds [KeepFile]. The program must have called
// cluster.Main([Registry]()) first. It blocks until the campaign is over.
func Run(ctx context.Context, cfg Config, opts Options) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, f := range cfg.Flaws().Flaws() {
		if e, _ := f.Entry(); e.Weak {
			return nil, fmt.Errorf("%w: %s (%s); run `bgw explore -flaw %s -model view` instead",
				ErrWeakFlaw, f, e.Shows, f)
		}
	}
	if cfg.Seed == 0 {
		cfg.Seed = NewSeed()
	}
	cfg = cfg.Resolve()
	if opts.Dir == "" {
		return nil, errors.New("stress: no run directory")
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("stress: %w", err)
	}
	if err := writeConfig(filepath.Join(opts.Dir, CampaignFile), &cfg); err != nil {
		return nil, err
	}
	region, err := memfd.Create("bgw-stress-clock", 64)
	if err != nil {
		return nil, fmt.Errorf("stress: clock: %w", err)
	}
	defer region.Close()
	clock, err := cluster.NewClock(region, 0)
	if err != nil {
		return nil, err
	}
	rec, err := newRecorder(filepath.Join(opts.Dir, HistoryDir), clock)
	if err != nil {
		return nil, err
	}
	c := &campaign{cfg: cfg, opts: opts, dir: opts.Dir, clock: clock, rec: rec, work: newWorkload(&cfg),
		events: make(chan workloadEvent, 1)}
	var static []bgworker.Worker
	for i := range cfg.Static {
		static = append(static, cfg.Static[i].worker(0))
	}
	c.lastAlive = clock.Stamp()
	sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
	c.cl, err = cluster.Start(sctx, cluster.Config{MaxWorkers: cfg.Slots, Static: static,
		ConsistentDelay: cfg.ConsistentDelay.D(), RecoveryDelay: cfg.RecoveryDelay.D(), Flaws: cfg.Flaws(),
		Dir: opts.Dir, RemoveDirIfOrphaned: opts.RemoveIfOrphaned, Registry: Registry(), Clock: region, Noise: cfg.Noise.Cluster(cfg.Seed)})
	scancel()
	if err != nil {
		return nil, fmt.Errorf("stress: %w", err)
	}
	c.tail = newTailer(c.cl.RecordsPath())
	c.pmFileLimit = fileSizeLimit(c.cl.PostmasterPid())
	if opts.started != nil {
		opts.started(c)
	}
	res, err := c.run(ctx)
	if err != nil && c.violated.Load() && isIOError(err) && strings.HasPrefix(c.firstViolation, string(CheckPostmaster)) {
		// The postmaster's own exit, with the run directory's file system
		// failing: the same I/O failure explains it, and the run has no
		// verdict (see infraFailure). The mark is withdrawn.
		os.Remove(filepath.Join(c.dir, KeepFile))
		return nil, err
	}
	if err != nil && c.violated.Load() {
		c.mu.Lock()
		res = &Result{Config: c.cfg, Dir: c.dir, Elapsed: time.Since(c.start), Ops: int(c.ops.Load()),
			FirstViolation: c.firstViolation, DetectedAfter: c.detectedAfter, Interrupted: ctx.Err() != nil}
		c.mu.Unlock()
		return res, fmt.Errorf("stress: a violation was found, but the run could not finish: %w", err)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// NewSeed returns a random non-zero seed. It does not block.
func NewSeed() int64 {
	for {
		if s := rand.Int64N(1 << 31); s != 0 {
			return s
		}
	}
}

// run drives the cluster, stops it, and checks the run.
func (c *campaign) run(parent context.Context) (*Result, error) {
	seed := uint64(c.cfg.Seed)
	ctx, cancel := context.WithCancel(parent)
	c.cancel = cancel
	defer cancel()
	c.start = time.Now()
	var wg sync.WaitGroup
	fail := c.noteErr
	stampsDone, stampsExited := make(chan struct{}), make(chan struct{})
	go func() { defer close(stampsExited); c.stamps.run(c.clock, stampsDone) }()
	defer func() { close(stampsDone); <-stampsExited }() // before the clock is unmapped
	for i := range c.cfg.Backends {
		d := &driver{c: c, n: i + 1, careful: i < c.cfg.Careful, rng: rand.New(rand.NewPCG(seed, uint64(i+1)))}
		c.drivers = append(c.drivers, d)
	}
	for _, d := range c.drivers {
		wg.Add(1)
		go func() { defer wg.Done(); fail(d.run(ctx)) }()
	}
	c.probe = &prober{d: &driver{c: c, n: c.cfg.Backends + 1, careful: true,
		rng: rand.New(rand.NewPCG(seed, uint64(c.cfg.Backends+1)))}}
	if c.cfg.Faults.StopPostmaster.Every > 0 && c.cfg.Faults.StopPostmaster.Probe {
		if err := c.probe.d.connect(ctx); err != nil && ctx.Err() == nil {
			cancel()
			c.cl.Stop(context.Background())
			return nil, err
		} // cut short by the campaign's end: the campaign ends at once
	}
	frng := rand.New(rand.NewPCG(seed, 0))
	sched := schedule(&c.cfg, frng)
	wg.Add(3)
	go func() { defer wg.Done(); fail(c.injectFaults(ctx, sched, frng)) }()
	go func() { defer wg.Done(); fail(c.monitor(ctx)) }()
	go func() { defer wg.Done(); c.workloadEvents(ctx) }()

	// End at the duration, or (grace after) the postmaster's death.
	end := time.NewTimer(c.cfg.Duration.D())
	deathTick := time.NewTicker(20 * time.Millisecond)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-end.C:
			done = true
		case <-deathTick.C:
			if c.pollPostmaster() {
				deathTick.Stop()
				time.AfterFunc(c.cfg.Check.WaitGrace.D()+time.Second, cancel)
			}
		}
	}
	end.Stop()
	deathTick.Stop()
	cancel()
	wg.Wait()
	fail(c.probe.wait())
	elapsed := time.Since(c.start)
	c.errMu.Lock()
	firstErr := c.firstErr
	c.errMu.Unlock()
	if firstErr != nil {
		c.cl.Stop(context.Background())
		return nil, firstErr
	}
	return c.finish(elapsed, parent.Err() != nil)
}

// finish stops the cluster, writes what the histories lack, seals the
// run directory, and checks the run; interrupted says the campaign was
// cut short.
func (c *campaign) finish(elapsed time.Duration, interrupted bool) (*Result, error) {
	c.pollPostmaster() // an exit just before the stop is not the stop's
	c.errMu.Lock()
	err := c.firstErr
	c.errMu.Unlock()
	if err != nil {
		c.cl.Stop(context.Background())
		return nil, err
	}
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	stopErr := c.cl.Stop(sctx)
	scancel()
	left := c.leftovers()
	exit := c.postmasterExit(stopErr)
	if err := infraFailure(exit, c.dir); err != nil {
		return nil, err
	}
	if exit.Ended == EndedOnItsOwn {
		stopErr = withoutExitError(stopErr) // postmaster-survives reports it
	}
	if err := writePostmasterExit(filepath.Join(c.dir, PostmasterExitFile), exit); err != nil {
		return nil, err
	}
	recs, _, err := readRecords(c.cl.RecordsPath())
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	waits, faults, cuts := c.waits, c.faults, c.cuts
	c.mu.Unlock()
	if err := writeWaits(filepath.Join(c.dir, WaitsFile), waits); err != nil {
		return nil, err
	}
	if err := writeJSONLines(filepath.Join(c.dir, FaultsFile), faults); err != nil {
		return nil, err
	}
	if err := writeJSONLines(filepath.Join(c.dir, CutsFile), cuts); err != nil {
		return nil, err
	}
	res := &Result{Config: c.cfg, Dir: c.dir, Elapsed: elapsed, Ops: int(c.ops.Load()), Records: len(recs),
		Faults: map[FaultKind]int{}, FirstViolation: c.firstViolation, DetectedAfter: c.detectedAfter, Postmaster: exit,
		Interrupted: interrupted}
	for _, f := range faults {
		if f.Done {
			res.Faults[f.Kind]++
		}
	}
	c.mu.Lock()
	res.Restarts, res.Launches = c.tail.restarts, c.tail.launches
	c.mu.Unlock()
	c.errMu.Lock()
	for _, err := range c.afterErrs {
		res.AfterViolation = append(res.AfterViolation, err.Error())
	}
	c.errMu.Unlock()
	stop := stopVerdict(stopErr, left)
	if err := writeStopCheck(filepath.Join(c.dir, StopFile), stop, ranFor{elapsed, interrupted}); err != nil {
		return nil, err
	}
	if err := SealRunDir(c.dir); err != nil {
		return nil, err
	}
	v, err := CheckDir(c.dir, CheckOptions{Timeout: c.cfg.Check.Timeout.D()})
	if err != nil {
		return nil, err
	}
	res.Verdict = v
	res.Timeouts = countTimeouts(int(c.opTimeouts.Load()), waits, v)
	repro := c.opts.ReproDir
	if repro == "" {
		repro = c.dir
	}
	if err := writeReports(c.dir, repro, res); err != nil {
		return nil, err
	}
	return res, nil
}

// addWait hands a wait that ended without an answer to the waiters
// check: its Mid is the stamp taken the grace before it ended.
func (c *campaign) addWait(w WaitRecord, end time.Time) {
	w.Mid = c.stamps.at(end.Add(-c.cfg.Check.WaitGrace.D()))
	c.mu.Lock()
	c.waits = append(c.waits, w)
	c.mu.Unlock()
}

// noteCut keeps the record of an operation cut short.
func (c *campaign) noteCut(r CutRecord) {
	c.mu.Lock()
	c.cuts = append(c.cuts, r)
	c.mu.Unlock()
}

func (c *campaign) noteFault(ev FaultEvent) {
	c.mu.Lock()
	c.faults = append(c.faults, ev)
	c.mu.Unlock()
}

// noteErr notes an infrastructure failure (nil: none) and ends the
// campaign; the first one is Run's error. Once a violation is found, an
// error is what stopping the campaign caused (a call cut short, a
// connection closed): it is kept apart and fails nothing.
func (c *campaign) noteErr(err error) {
	if err == nil {
		return
	}
	c.errMu.Lock()
	switch {
	case c.violated.Load() && !isIOError(err):
		c.afterErrs = append(c.afterErrs, err)
	case c.firstErr == nil:
		c.firstErr = err
	}
	c.errMu.Unlock()
	c.cancel()
}

// isIOError reports whether err is a failure of the file system the run
// directory is on (full, limited, read-only, broken): an infrastructure
// failure whenever it comes, which stopping the campaign does not cause.
func isIOError(err error) bool {
	return errors.Is(err, errPostmasterIO) || slices.ContainsFunc(ioErrnos, func(e syscall.Errno) bool { return errors.Is(err, e) })
}

// stampLog remembers clock readings taken every few milliseconds, so that
// the stamp of a past moment can be looked up.
type stampLog struct {
	mu     sync.Mutex
	times  []time.Time
	stamps []uint64
}

const stampEvery = 10 * time.Millisecond

func (l *stampLog) run(clock *cluster.Clock, done <-chan struct{}) {
	t := time.NewTicker(stampEvery)
	defer t.Stop()
	for {
		l.mu.Lock()
		l.times = append(l.times, time.Now())
		l.stamps = append(l.stamps, clock.Stamp())
		l.mu.Unlock()
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

// at returns the last reading taken at or before t, or 0.
func (l *stampLog) at(t time.Time) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	lo, hi := 0, len(l.times) // first index after t
	for lo < hi {
		m := (lo + hi) / 2
		if l.times[m].After(t) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == 0 {
		return 0
	}
	return l.stamps[lo-1]
}

// weakFlaws lists the flaws stress cannot show.
func weakFlaws() []flaw.Flaw {
	var out []flaw.Flaw
	for _, e := range flaw.Catalogue() {
		if e.Weak {
			out = append(out, e.Flaw)
		}
	}
	return out
}
