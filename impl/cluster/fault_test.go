package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/cluster"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
)

// The fault matrix: every fault, injected at a step of every backend
// operation (see cluster.Breakpoint), on a fresh cluster each time. In
// short form (the default) it tries a few steps of each operation, chosen
// by a seed it logs, always including one taken while the backend holds
// BackgroundWorkerLock; with -faults.full it tries every step.
var (
	faultsFull = flag.Bool("faults.full", false, "fault matrix: inject every fault at every step of every operation (minutes)")
	faultsSeed = flag.Uint64("faults.seed", 0, "fault matrix: seed of the steps tried in short form (0: random, logged)")
	faultsPer  = flag.Int("faults.steps", 2, "fault matrix, short form: steps tried per operation and fault")
)

// faultBound bounds every wait of the fault matrix: an operation, a
// process's exit, a registration's launch. Longer is a hang.
const faultBound = 10 * time.Second

// faultKind is a fault of the matrix.
type faultKind string

const (
	// faultKillBackend: SIGKILL the backend at its breakpoint.
	faultKillBackend faultKind = "kill-backend"
	// faultKillPostmaster: SIGKILL the postmaster, then resume the
	// backend.
	faultKillPostmaster faultKind = "kill-postmaster"
	// faultKillWorker: SIGKILL a running worker, then resume the backend.
	faultKillWorker faultKind = "kill-worker"
	// faultFailSpawn: make the next spawns fail, then resume the backend.
	faultFailSpawn faultKind = "fail-spawn"
	// faultStopPostmaster: SIGSTOP the postmaster, resume the backend,
	// SIGCONT the postmaster a while later.
	faultStopPostmaster faultKind = "stop-postmaster"
	// faultStopBackend: leave the backend stopped a while, during which
	// another backend registers a worker (and so waits for the lock if
	// the stopped one holds it), then SIGCONT it.
	faultStopBackend faultKind = "stop-backend"
)

var faultKinds = []faultKind{faultKillBackend, faultKillPostmaster, faultKillWorker,
	faultFailSpawn, faultStopPostmaster, faultStopBackend}

// faultOp is an operation of the matrix, run by the victim backend.
type faultOp struct {
	op cluster.Op
	// prepare readies the victim (registers what the operation needs)
	// and returns the handle the operation takes.
	prepare func(t *testing.T, fx *faultCell) bgworker.Handle
	// run runs the operation.
	run func(ctx context.Context, b *cluster.Backend, h bgworker.Handle) (bgworker.Handle, bgworker.PidStatus, error)
}

// victimWorker ends by itself after ms milliseconds (exit 1, never
// restarted), so that its slot is freed and its registrant notified.
func victimWorker(name string, ms uint64) bgworker.Worker {
	return def(name, "exit1", ms, bgworker.NeverRestart)
}

var faultOps = []faultOp{
	{op: cluster.OpRegister,
		prepare: func(*testing.T, *faultCell) bgworker.Handle { return bgworker.Handle{} },
		run: func(ctx context.Context, b *cluster.Backend, _ bgworker.Handle) (bgworker.Handle, bgworker.PidStatus, error) {
			h, err := b.Register(ctx, victimWorker("victim", 300))
			return h, bgworker.PidStatus{}, err
		}},
	{op: cluster.OpGetPid,
		prepare: func(t *testing.T, fx *faultCell) bgworker.Handle {
			h := fx.register(t, fx.victim, victimWorker("polled", 300))
			pollStatus(t, fx.victim, h, faultBound, func(s bgworker.PidStatus) bool { return s.Status != bgworker.NotYetStarted })
			return h
		},
		run: func(ctx context.Context, b *cluster.Backend, h bgworker.Handle) (bgworker.Handle, bgworker.PidStatus, error) {
			st, err := b.GetPid(ctx, h)
			return bgworker.Handle{}, st, err
		}},
	{op: cluster.OpWaitForStartup,
		// The postmaster is stopped while the worker is registered, so
		// that the wait reads NOT_YET_STARTED and sleeps; it is resumed
		// shortly after the wait is sent.
		prepare: func(t *testing.T, fx *faultCell) bgworker.Handle {
			fx.signal(t, fx.c.PostmasterPid(), syscall.SIGSTOP)
			fx.resumePM = true
			return fx.register(t, fx.victim, victimWorker("awaited", 300))
		},
		run: func(ctx context.Context, b *cluster.Backend, h bgworker.Handle) (bgworker.Handle, bgworker.PidStatus, error) {
			st, err := b.WaitForStartup(ctx, h)
			return bgworker.Handle{}, st, err
		}},
	{op: cluster.OpWaitForShutdown,
		prepare: func(t *testing.T, fx *faultCell) bgworker.Handle {
			return fx.register(t, fx.victim, victimWorker("outlived", 150))
		},
		run: func(ctx context.Context, b *cluster.Backend, h bgworker.Handle) (bgworker.Handle, bgworker.PidStatus, error) {
			st, err := b.WaitForShutdown(ctx, h)
			return bgworker.Handle{}, st, err
		}},
}

// faultCell is one run of the matrix: a cluster, a victim backend running
// the operation, an observer backend, and the handles registered.
type faultCell struct {
	c                *cluster.Cluster
	victim, observer *cluster.Backend
	handles          []bgworker.Handle
	resumePM         bool // the postmaster is stopped until the operation is sent
}

func (fx *faultCell) register(t *testing.T, b *cluster.Backend, w bgworker.Worker) bgworker.Handle {
	t.Helper()
	h, err := b.Register(ctxT(t), w)
	if err != nil {
		t.Fatalf("register %q: %v", w.Name, err)
	}
	fx.handles = append(fx.handles, h)
	return h
}

func (fx *faultCell) signal(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	if err := proc.Kill(pid, sig); err != nil {
		t.Fatalf("kill -%d %d: %v", sig, pid, err)
	}
}

// newFaultCell starts a cluster with a static worker and connects the
// two backends.
func newFaultCell(t *testing.T) *faultCell {
	c := start(t, cluster.Config{MaxWorkers: 4, Static: []bgworker.Worker{def("static", "run", 0, 1)}})
	fx := &faultCell{c: c, victim: connect(t, c), observer: connect(t, c)}
	waitRecords(t, c, "static launch", faultBound, func(recs []postmaster.Record) bool { return launched(recs, 0, 0) != 0 })
	return fx
}

// opSteps measures how many steps each operation takes when nothing
// interferes, on one cluster.
func opSteps(t *testing.T) map[cluster.Op]int {
	steps := map[cluster.Op]int{}
	for _, o := range faultOps {
		t.Run(string(o.op), func(t *testing.T) {
			proctest.Clean(t)
			fx := newFaultCell(t)
			h := o.prepare(t, fx)
			if fx.resumePM {
				time.AfterFunc(30*time.Millisecond, func() { proc.Kill(fx.c.PostmasterPid(), syscall.SIGCONT) })
			}
			if _, _, err := o.run(ctxT(t), fx.victim, h); err != nil {
				t.Fatal(err)
			}
			steps[o.op] = fx.victim.Steps()
			if steps[o.op] == 0 {
				t.Fatalf("%s took no step", o.op)
			}
		})
	}
	return steps
}

// pmFaultKinds are the faults injected while the postmaster is stopped
// at a step of its own.
var pmFaultKinds = []faultKind{faultKillPostmaster, faultStopPostmaster, faultKillBackend, faultKillWorker, faultFailSpawn}

// handleRegistration is what the postmaster handles in a postmaster
// cell: the victim registers a worker that ends by itself, and waits for
// it to start.
func handleRegistration(ctx context.Context, b *cluster.Backend) opResult {
	h, err := b.Register(ctx, victimWorker("handled", 150))
	if err != nil {
		return opResult{err: err}
	}
	st, err := b.WaitForStartup(ctx, h)
	return opResult{h: h, st: st, err: err}
}

// postmasterSteps measures how many accesses to shared memory the
// postmaster makes while it handles a registration, from the backend's
// signal to the worker's exit.
func postmasterSteps(t *testing.T) int {
	fx := newFaultCell(t)
	before, err := fx.c.StopPostmasterAt(0)
	if err != nil {
		t.Fatal(err)
	}
	r := handleRegistration(ctxT(t), fx.victim)
	if r.err != nil {
		t.Fatal(r.err)
	}
	pollStatus(t, fx.victim, r.h, faultBound, func(s bgworker.PidStatus) bool { return s.Status == bgworker.Stopped })
	after, err := fx.c.StopPostmasterAt(0)
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Fatalf("the postmaster made no access (%d, then %d)", before, after)
	}
	return int(after - before)
}

// runPostmasterCell stops the postmaster at its k-th access after the
// victim registers, applies f there, and checks what must hold after it.
func runPostmasterCell(t *testing.T, f faultKind, k int) {
	fx := newFaultCell(t)
	pm := fx.c.PostmasterPid()
	if _, err := fx.c.StopPostmasterAt(k); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), faultBound)
	defer cancel()
	done := make(chan opResult, 1)
	go func() { done <- handleRegistration(ctx, fx.victim) }()
	hit := waitState(pm, proc.StateStopped, 2*time.Second)
	if !hit {
		t.Logf("the postmaster did not reach step %d; fault injected while it runs", k)
	} else if log, err := os.ReadFile(fx.c.ServerLogPath()); err == nil {
		if i := bytes.LastIndex(log, []byte("postmaster: breakpoint: ")); i >= 0 {
			line, _, _ := bytes.Cut(log[i:], []byte("\n"))
			t.Logf("%s", line)
		}
	}
	cont := func() {
		if hit {
			fx.signal(t, pm, syscall.SIGCONT)
		}
	}
	switch f {
	case faultKillPostmaster:
		if err := fx.c.Kill(); err != nil {
			t.Fatal(err)
		}
	case faultStopPostmaster:
		if !hit {
			fx.signal(t, pm, syscall.SIGSTOP)
		}
		time.Sleep(100 * time.Millisecond)
		fx.signal(t, pm, syscall.SIGCONT)
	case faultKillBackend:
		fx.signal(t, fx.victim.Pid(), syscall.SIGKILL)
		cont()
	case faultKillWorker:
		fx.killWorker(t)
		cont()
	case faultFailSpawn:
		// The request waits in the control pipe for the stopped
		// postmaster: it is the next thing it reads.
		failed := make(chan error, 1)
		go func() { failed <- fx.c.FailSpawns(2) }()
		time.Sleep(10 * time.Millisecond)
		cont()
		if err := <-failed; err != nil {
			t.Fatal(err)
		}
	}
	var r opResult
	select {
	case r = <-done:
	case <-time.After(faultBound):
		t.Fatalf("register and wait: no answer within %v after %s", faultBound, f)
	}
	t.Logf("register and wait answered %v %v, %v", r.h, r.st, r.err)
	switch f {
	case faultKillPostmaster:
		checkAllExited(t, fx)
		return
	case faultKillBackend:
	default:
		if r.err != nil || (r.st.Status != bgworker.Started && r.st.Status != bgworker.Stopped) {
			t.Errorf("register and wait after %s: %v, %v", f, r.st, r.err)
		}
	}
	if r.h != (bgworker.Handle{}) {
		fx.handles = append(fx.handles, r.h)
	}
	checkSettled(t, fx)
}

// waitState reports whether pid reaches state within timeout.
func waitState(pid int, state proc.State, timeout time.Duration) bool {
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if st, err := proc.Stat(pid); err == nil && st.State == state {
			return true
		}
	}
	return false
}

// TestFaultMatrix injects each fault at steps of each operation and
// checks what must hold after any fault: the operation answered (no
// hang), every registration the postmaster adopted was launched or
// reported STOPPED, and — checked by proctest.Clean and the cluster's
// Stop — no zombie, no leaked descriptor and no process is left; the
// postmaster's record log also passes the policy validator.
func TestFaultMatrix(t *testing.T) {
	seed := *faultsSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("fault matrix seed %d (rerun with -faults.seed %d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	var steps map[cluster.Op]int
	var pmSteps int
	t.Run("steps", func(t *testing.T) {
		steps = opSteps(t)
		t.Run("postmaster", func(t *testing.T) {
			proctest.Clean(t)
			pmSteps = postmasterSteps(t)
		})
	})
	if t.Failed() {
		return
	}
	t.Logf("steps per operation: %v; of the postmaster's handling of a registration: %d", steps, pmSteps)
	for _, f := range pmFaultKinds {
		for _, k := range chooseSteps(rng, pmSteps, *faultsFull, *faultsPer) {
			t.Run(fmt.Sprintf("postmaster/%s/step-%d", f, k), func(t *testing.T) {
				proctest.Clean(t)
				runPostmasterCell(t, f, k)
			})
		}
	}
	for _, o := range faultOps {
		for _, f := range faultKinds {
			for _, k := range chooseSteps(rng, steps[o.op], *faultsFull, *faultsPer) {
				t.Run(fmt.Sprintf("%s/%s/step-%d", o.op, f, k), func(t *testing.T) {
					proctest.Clean(t)
					runFaultCell(t, o, f, k)
				})
			}
		}
	}
}

// chooseSteps returns the steps to try for an operation of n steps:
// every one, or per of them at random.
func chooseSteps(rng *rand.Rand, n int, full bool, per int) []int {
	all := make([]int, n)
	for i := range all {
		all[i] = i + 1
	}
	if full || per >= n {
		return all
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	out := all[:per]
	slices.Sort(out)
	return out
}

// opResult is what the victim's operation returned.
type opResult struct {
	h   bgworker.Handle
	st  bgworker.PidStatus
	err error
}

func runFaultCell(t *testing.T, o faultOp, f faultKind, k int) {
	fx := newFaultCell(t)
	h := o.prepare(t, fx)
	ctx, cancel := context.WithTimeout(context.Background(), faultBound)
	defer cancel()
	stopped := fx.victim.StopAt(k)
	done := make(chan opResult, 1)
	go func() {
		h, st, err := o.run(ctx, fx.victim, h)
		done <- opResult{h, st, err}
	}()
	if fx.resumePM {
		time.AfterFunc(30*time.Millisecond, func() { proc.Kill(fx.c.PostmasterPid(), syscall.SIGCONT) })
	}
	var bp cluster.Breakpoint
	var hit bool
	select {
	case bp, hit = <-stopped:
	case <-time.After(faultBound):
		t.Fatalf("no breakpoint and no answer within %v", faultBound)
	}
	if hit {
		t.Logf("stopped at %v", bp)
	} else {
		t.Logf("the operation ended before step %d; fault injected after it", k)
	}
	pm, victim := fx.c.PostmasterPid(), fx.victim.Pid()
	resume := func() {
		if hit {
			fx.signal(t, victim, syscall.SIGCONT)
		}
	}
	var observed chan opResult
	switch f {
	case faultKillBackend:
		fx.signal(t, victim, syscall.SIGKILL)
	case faultKillPostmaster:
		if fx.resumePM {
			fx.signal(t, pm, syscall.SIGCONT) // a stopped process dies of SIGKILL all the same; be sure
		}
		if err := fx.c.Kill(); err != nil {
			t.Fatal(err)
		}
		resume()
	case faultKillWorker:
		fx.killWorker(t)
		resume()
	case faultFailSpawn:
		if err := fx.c.FailSpawns(2); err != nil {
			t.Fatal(err)
		}
		resume()
	case faultStopPostmaster:
		fx.signal(t, pm, syscall.SIGSTOP)
		resume()
		time.Sleep(100 * time.Millisecond)
		fx.signal(t, pm, syscall.SIGCONT)
	case faultStopBackend:
		observed = make(chan opResult, 1)
		go func() {
			h, err := fx.observer.Register(ctx, victimWorker("bystander", 100))
			observed <- opResult{h: h, err: err}
		}()
		time.Sleep(100 * time.Millisecond)
		resume()
	}
	var r opResult
	select {
	case r = <-done:
	case <-time.After(faultBound):
		t.Fatalf("%s: no answer within %v after %s", o.op, faultBound, f)
	}
	t.Logf("%s answered %v %v, %v", o.op, r.h, r.st, r.err)
	checkAnswer(t, o.op, f, hit, r)
	if r.err == nil && o.op == cluster.OpRegister {
		fx.handles = append(fx.handles, r.h)
	}
	if observed != nil {
		select {
		case ob := <-observed:
			if ob.err != nil {
				t.Errorf("the other backend's register: %v", ob.err)
			}
			fx.handles = append(fx.handles, ob.h)
		case <-time.After(faultBound):
			t.Fatalf("the other backend's register did not answer within %v", faultBound)
		}
	}
	if f == faultKillPostmaster {
		checkAllExited(t, fx)
		return
	}
	checkSettled(t, fx)
}

// checkAnswer checks the victim's answer: none if it was killed; with the
// postmaster killed, anything but a hang; otherwise a proper answer.
func checkAnswer(t *testing.T, op cluster.Op, f faultKind, hit bool, r opResult) {
	t.Helper()
	switch {
	case f == faultKillBackend && hit:
		if !errors.Is(r.err, cluster.ErrBackendClosed) {
			t.Errorf("killed backend answered %v, %v", r.st, r.err)
		}
	case f == faultKillPostmaster:
		// Any answer, or the backend's FATAL exit, is fine; a wait may
		// only say POSTMASTER_DIED or what it saw before.
	case r.err != nil:
		t.Errorf("%s after %s: %v", op, f, r.err)
	case op == cluster.OpWaitForStartup && r.st.Status != bgworker.Started && r.st.Status != bgworker.Stopped:
		t.Errorf("wait for startup: %v", r.st)
	case op == cluster.OpWaitForShutdown && r.st.Status != bgworker.Stopped:
		t.Errorf("wait for shutdown: %v", r.st)
	}
}

// killWorker kills a running worker with SIGKILL, if there is one.
func (fx *faultCell) killWorker(t *testing.T) {
	t.Helper()
	pid := runningWorker(t, fx.c)
	if pid == 0 {
		t.Logf("no running worker to kill")
		return
	}
	t.Logf("killing worker %d", pid)
	fx.signal(t, pid, syscall.SIGKILL)
}

// runningWorker returns the pid of a worker the record log shows
// launched and not exited, preferring the latest, or 0.
func runningWorker(t *testing.T, c *cluster.Cluster) int {
	recs, err := c.Records()
	if err != nil {
		t.Fatal(err)
	}
	exited := map[int32]bool{}
	for _, r := range filter(recs, postmaster.RecordExited, nil) {
		exited[r.Pid] = true
	}
	launches := filter(recs, postmaster.RecordLaunch, nil)
	for i := len(launches) - 1; i >= 0; i-- {
		pid := int(launches[i].Pid)
		if st, err := proc.Stat(pid); !exited[launches[i].Pid] && err == nil &&
			st.Ppid == c.PostmasterPid() && st.State != proc.StateZombie {
			return pid
		}
	}
	return 0
}

// checkSettled checks, within faultBound, that every handle the test got
// reads STARTED or STOPPED from a live backend, and that every
// registration the postmaster adopted (the test's, and any a killed
// backend left in shared memory) was launched or reported STOPPED.
func checkSettled(t *testing.T, fx *faultCell) {
	t.Helper()
	end := time.Now().Add(faultBound)
	var b *cluster.Backend // the old backends may be gone in a crash restart
	defer func() {
		if b != nil {
			b.Close()
		}
	}()
	for _, h := range fx.handles {
		for {
			if time.Now().After(end) {
				t.Fatalf("handle %+v neither STARTED nor STOPPED within %v", h, faultBound)
			}
			var err error
			if b == nil {
				if b, err = fx.c.Connect(ctxT(t)); err != nil {
					t.Fatalf("connect after the fault: %v", err)
				}
			}
			st, err := b.GetPid(ctxT(t), h)
			if errors.Is(err, cluster.ErrBackendClosed) {
				// A crash restart that began after the connection
				// took this backend too.
				b.Close()
				b = nil
				continue
			}
			if err != nil {
				t.Fatalf("handle %+v: %v", h, err)
			}
			if st.Status == bgworker.Started || st.Status == bgworker.Stopped {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitRecords(t, fx.c, "every adopted registration launched or stopped", faultBound,
		func(recs []postmaster.Record) bool { return len(unresolved(recs)) == 0 })
}

// unresolved returns the adoptions of the record log that no launch,
// forget, rejection or crash re-initialization has resolved yet.
func unresolved(recs []postmaster.Record) []postmaster.Record {
	type key struct {
		epoch uint64
		slot  int
	}
	open := map[key]postmaster.Record{}
	for _, r := range recs {
		k := key{r.Epoch, r.Slot}
		switch r.Kind {
		case postmaster.RecordAdopt:
			open[k] = r
		case postmaster.RecordLaunch, postmaster.RecordForget, postmaster.RecordReject, postmaster.RecordReportStopped:
			delete(open, k)
		case postmaster.RecordReinit, postmaster.RecordShutdown:
			clear(open)
		}
	}
	out := make([]postmaster.Record, 0, len(open))
	for _, r := range open {
		out = append(out, r)
	}
	return out
}

// checkAllExited checks that, the postmaster killed, every process of the
// cluster exits within faultBound.
func checkAllExited(t *testing.T, fx *faultCell) {
	t.Helper()
	recs, _ := fx.c.Records()
	pids := []int{fx.victim.Pid(), fx.observer.Pid()}
	for _, r := range filter(recs, postmaster.RecordLaunch, nil) {
		pids = append(pids, int(r.Pid))
	}
	end := time.Now().Add(faultBound)
	for _, pid := range pids {
		for !proc.Gone(pid) && time.Now().Before(end) {
			time.Sleep(5 * time.Millisecond)
		}
		if !proc.Gone(pid) {
			st, _ := proc.Stat(pid)
			t.Errorf("pid %d still running (%c) %v after the postmaster died", pid, st.State, faultBound)
		}
	}
}

// TestStopAt: a breakpoint stops the backend at exactly the step asked
// for, says where, and the operation completes with the same number of
// steps once resumed (at least as many as the breakpoint's: a later
// register may scan more slots); a breakpoint past the last step is never
// hit.
func TestStopAt(t *testing.T) {
	proctest.Clean(t)
	c := start(t, cluster.Config{MaxWorkers: 8}) // more than registered: never full
	b := connect(t, c)
	if _, err := b.Register(ctxT(t), victimWorker("measured", 0)); err != nil {
		t.Fatal(err)
	}
	n := b.Steps()
	if n < 3 {
		t.Fatalf("register took %d steps", n)
	}
	const never = 1000
	for _, k := range []int{1, 2, n, never} {
		t.Run(fmt.Sprintf("step-%d-of-%d", k, n), func(t *testing.T) {
			stopped := b.StopAt(k)
			done := make(chan error, 1)
			go func() {
				_, err := b.Register(ctxT(t), victimWorker("measured", 0))
				done <- err
			}()
			bp, hit := <-stopped
			if hit != (k != never) {
				t.Fatalf("breakpoint at step %d hit: %v (%v)", k, hit, bp)
			}
			if hit {
				if st, err := proc.Stat(b.Pid()); err != nil || st.State != proc.StateStopped {
					t.Errorf("backend at its breakpoint: %v, %v; want stopped", st, err)
				}
				select {
				case err := <-done:
					t.Fatalf("the operation answered at its breakpoint: %v", err)
				case <-time.After(50 * time.Millisecond):
				}
				want := cluster.Breakpoint{Op: cluster.OpRegister, Step: k}
				if bp.Op != want.Op || bp.Step != want.Step || bp.What == "" {
					t.Errorf("breakpoint %+v, want %+v", bp, want)
				}
				// The first step takes the lock; the last releases it.
				if k == 1 && (bp.Locked || !strings.HasPrefix(bp.What, "acquire BackgroundWorkerLock")) {
					t.Errorf("first step: %v", bp)
				}
				if k == 2 && !bp.Locked {
					t.Errorf("second step, after the acquire: %v", bp)
				}
				if err := proc.Kill(b.Pid(), syscall.SIGCONT); err != nil {
					t.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := b.Steps(); got < k && k != never {
				t.Errorf("resumed register took %d steps, stopped at step %d", got, k)
			}
		})
	}
}
