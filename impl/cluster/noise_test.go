package cluster_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/cluster"
	"bgwmodel/impl/proc/proctest"
)

// TestNoiseLifecycle: a cluster with heavy noise in the postmaster and the
// backends still registers, starts, reports and stops its workers, and
// its record log passes the policy validator; both processes got the
// noise.
func TestNoiseLifecycle(t *testing.T) {
	proctest.Clean(t)
	t.Setenv(envTestDir, t.TempDir())
	noise := cluster.Noise{Seed: 7, Probability: 0.5, YieldShare: 0.5, MinDelay: 10 * time.Microsecond, MaxDelay: time.Millisecond}
	c := start(t, cluster.Config{MaxWorkers: 2, Noise: noise})
	b := connect(t, c)
	for _, pid := range []int{c.PostmasterPid(), b.Pid()} {
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(env, []byte(cluster.EnvNoise+"=")) {
			t.Errorf("process %d has no %s", pid, cluster.EnvNoise)
		}
	}
	for i := range 3 {
		h, err := b.Register(ctxT(t), def(fmt.Sprint("w", i), "exit1", 20, bgworker.NeverRestart))
		if err != nil {
			t.Fatal(err)
		}
		if st, err := b.WaitForStartup(ctxT(t), h); err != nil || (st.Status != bgworker.Started && st.Status != bgworker.Stopped) {
			t.Fatalf("WaitForStartup = %v, %v; want STARTED or STOPPED", st, err)
		}
		pollStatus(t, b, h, 10*time.Second, func(st bgworker.PidStatus) bool { return st.Status == bgworker.Stopped })
	}
}

// TestNoiseRefused: Start refuses a bad noise before starting anything.
func TestNoiseRefused(t *testing.T) {
	proctest.Clean(t)
	dir := t.TempDir()
	_, err := cluster.Start(ctxT(t), cluster.Config{Dir: dir, Noise: cluster.Noise{Probability: 0.1, MaxDelay: time.Millisecond}})
	var ne *cluster.NoiseError
	if !errors.As(err, &ne) || ne.Field != "min_delay" {
		t.Errorf("Start: %v; want a *NoiseError on min_delay", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Start left %d files in Dir", len(entries))
	}
}
