package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	"bgwmodel/impl/worker"
	"bgwmodel/policy"
)

// testLib is the bgw_library_name of the test entry points.
const testLib = "cluster_test"

// envTestDir is a directory the "record" and "crash-once" entries write
// to; tests set it with t.Setenv, and it reaches the workers through the
// environment every process passes on.
const envTestDir = "CLUSTER_TEST_DIR"

// sleepCtx sleeps ms milliseconds or until ctx ends.
func sleepCtx(ctx context.Context, ms uint64) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(ms) * time.Millisecond):
	}
}

// testRegistry is the registry of every process of the test binary.
func testRegistry() *worker.Registry {
	reg := worker.NewRegistry()
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	// exitN sleeps main_arg milliseconds, then exits with N.
	for code := range 3 {
		must(reg.Register(testLib, fmt.Sprintf("exit%d", code), func(ctx context.Context, p *worker.Process) int {
			sleepCtx(ctx, p.MainArg())
			return code
		}))
	}
	// ping sends SIGUSR1 to the pid in main_arg as soon as its entry runs,
	// then exits 1 after 50 ms (the benchmark's worker).
	must(reg.Register(testLib, "ping", func(ctx context.Context, p *worker.Process) int {
		if err := proc.Kill(int(p.MainArg()), syscall.SIGUSR1); err != nil {
			return 3
		}
		sleepCtx(ctx, 50)
		return 1
	}))
	// run runs until it is told to stop (SIGTERM: exit 1).
	must(reg.Register(testLib, "run", func(ctx context.Context, _ *worker.Process) int {
		<-ctx.Done()
		return 0
	}))
	// record appends "PID MAIN_ARG" to $CLUSTER_TEST_DIR/record, then runs.
	must(reg.Register(testLib, "record", func(ctx context.Context, p *worker.Process) int {
		f, err := os.OpenFile(filepath.Join(os.Getenv(envTestDir), "record"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return 3
		}
		fmt.Fprintf(f, "%d %d\n", os.Getpid(), p.MainArg())
		f.Close()
		<-ctx.Done()
		return 0
	}))
	// crash-once exits 2 after 100 ms the first time it runs for a
	// main_arg (a marker file in $CLUSTER_TEST_DIR), and runs afterwards.
	must(reg.Register(testLib, "crash-once", func(ctx context.Context, p *worker.Process) int {
		marker := filepath.Join(os.Getenv(envTestDir), fmt.Sprintf("crashed-%d", p.MainArg()))
		if f, err := os.OpenFile(marker, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
			f.Close()
			sleepCtx(ctx, 100)
			return 2
		}
		<-ctx.Done()
		return 0
	}))
	return reg
}

func TestMain(m *testing.M) {
	if os.Getenv(envNoMain) != "" {
		os.Exit(noMainProgram()) // every process of its cluster too
	}
	cluster.Main(testRegistry())
	proctest.Main(m, proctest.Roles{roleFloor: floorMain, roleHarness: harnessMain})
}

// def returns a test worker definition.
func def(name, fn string, mainArg uint64, restart int32) bgworker.Worker {
	return bgworker.Worker{Name: name, RestartTime: restart, LibraryName: testLib, FunctionName: fn, MainArg: mainArg}
}

// testTimeout bounds every test's waits.
const testTimeout = 20 * time.Second

// start starts a cluster for the test and stops it when the test ends,
// checking that the stop was clean and that the postmaster's record log
// passes the policy validator, with exactly the rules in want broken (none
// for a cluster without flaws). Call proctest.Clean first.
func start(t *testing.T, cfg cluster.Config, want ...policy.Rule) *cluster.Cluster {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.Registry = testRegistry()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := cluster.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		recs, err := c.Records()
		if err != nil {
			t.Errorf("records: %v", err)
		}
		var got []policy.Rule
		for _, v := range policy.Validate(recs, policy.Options{}) {
			if !slices.Contains(got, v.Rule) {
				got = append(got, v.Rule)
			}
			if !slices.Contains(want, v.Rule) {
				t.Errorf("policy: %v", v)
			}
		}
		for _, r := range want {
			if !slices.Contains(got, r) {
				t.Errorf("policy: rule %s not broken, want it caught", r)
			}
		}
		if t.Failed() {
			dumpLogs(t, c)
		}
	})
	return c
}

// dumpLogs prints the record log and the server log.
func dumpLogs(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	recs, err := c.Records()
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %v\n", r)
	}
	t.Logf("records (%v):\n%s", err, b.String())
	if log, err := os.ReadFile(c.ServerLogPath()); err == nil {
		t.Logf("server log:\n%s", log)
	}
}

// ctxT returns a context bounded by testTimeout, cancelled when the test
// ends.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// connect connects a backend, closed when the test ends.
func connect(t *testing.T, c *cluster.Cluster) *cluster.Backend {
	t.Helper()
	b, err := c.Connect(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// waitRecords polls the record log until pred holds for it, and returns
// it; it fails the test after timeout.
func waitRecords(t *testing.T, c *cluster.Cluster, what string, timeout time.Duration, pred func([]postmaster.Record) bool) []postmaster.Record {
	t.Helper()
	end := time.Now().Add(timeout)
	for {
		recs, err := c.Records()
		if err != nil {
			t.Fatal(err)
		}
		if pred(recs) {
			return recs
		}
		if time.Now().After(end) {
			t.Fatalf("no %s within %v", what, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// filter returns the records of kind for which pred (if not nil) holds.
func filter(recs []postmaster.Record, kind postmaster.RecordKind, pred func(postmaster.Record) bool) []postmaster.Record {
	var out []postmaster.Record
	for _, r := range recs {
		if r.Kind == kind && (pred == nil || pred(r)) {
			out = append(out, r)
		}
	}
	return out
}

// inSlot is a filter predicate for one slot.
func inSlot(slot int) func(postmaster.Record) bool {
	return func(r postmaster.Record) bool { return r.Slot == slot }
}

// pollStatus polls GetPid until want holds, and returns the last status.
func pollStatus(t *testing.T, b *cluster.Backend, h bgworker.Handle, timeout time.Duration, want func(bgworker.PidStatus) bool) bgworker.PidStatus {
	t.Helper()
	end := time.Now().Add(timeout)
	for {
		st, err := b.GetPid(ctxT(t), h)
		if err != nil {
			t.Fatal(err)
		}
		if want(st) {
			return st
		}
		if time.Now().After(end) {
			t.Fatalf("handle %+v: status %v after %v", h, st, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
