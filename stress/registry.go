package stress

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"bgwmodel/impl/worker"
)

// Library is the bgw_library_name of every worker a campaign registers.
const Library = "bgw_stress"

// Behaviour is what a campaign's worker process does once started: its
// bgw_function_name in [Library]. Its bgw_main_arg packs how long it runs
// and, for Exit2, a deadline (see [MainArg]).
type Behaviour string

// The behaviours.
const (
	// Exit0 sleeps main_arg milliseconds, then exits 0: the postmaster
	// restarts it at once, whatever its restart_time (even NEVER_RESTART).
	Exit0 Behaviour = "exit0"
	// Exit1 sleeps main_arg milliseconds, then exits 1: a crash of the
	// worker alone (restarted after restart_time, or forgotten if
	// NEVER_RESTART).
	Exit1 Behaviour = "exit1"
	// Exit2 sleeps, then exits 2 if the deadline in its main_arg has not
	// passed (or there is none), 1 otherwise. An exit 2 is a crash of the
	// whole cluster if the worker has SHMEM_ACCESS, which brings every
	// registered worker back: the deadline keeps such a worker from
	// restarting the cluster for ever. Without SHMEM_ACCESS it is a crash
	// of the worker alone, like Exit1.
	Exit2 Behaviour = "exit2"
	// Flaky sleeps main_arg milliseconds, then exits 0 or 1 at random.
	Flaky Behaviour = "flaky"
	// RunForever runs until it is told to stop (SIGTERM: exit 1) or killed.
	RunForever Behaviour = "run"
)

// behaviours lists every Behaviour, in a stable order.
var behaviours = []Behaviour{Exit0, Exit1, Exit2, Flaky, RunForever}

// valid reports whether b is a known behaviour.
func (b Behaviour) valid() bool {
	for _, k := range behaviours {
		if b == k {
			return true
		}
	}
	return false
}

// Registry returns the worker registry of a campaign: the entry points of
// every [Behaviour] under [Library]. The harness and every process of its
// cluster must use the same registry: a program that runs campaigns calls
// cluster.Main(stress.Registry()) first in main (or TestMain), so that
// its re-executed children (postmaster, backends, workers) find the
// entries. It does not block.
func Registry() *worker.Registry {
	reg := worker.NewRegistry()
	exit := func(code int) worker.Entry {
		return func(ctx context.Context, p *worker.Process) int {
			run, _ := SplitMainArg(p.MainArg())
			if !sleep(ctx, run) {
				return 1 // told to stop first: the FATAL exit
			}
			return code
		}
	}
	entries := map[Behaviour]worker.Entry{
		Exit0: exit(0),
		Exit1: exit(1),
		Exit2: func(ctx context.Context, p *worker.Process) int {
			run, deadline := SplitMainArg(p.MainArg())
			if !sleep(ctx, run) {
				return 1
			}
			if !deadline.IsZero() && time.Now().After(deadline) {
				return 1
			}
			return 2
		},
		Flaky: func(ctx context.Context, p *worker.Process) int {
			run, _ := SplitMainArg(p.MainArg())
			if !sleep(ctx, run) {
				return 1
			}
			return rand.IntN(2)
		},
		RunForever: func(ctx context.Context, _ *worker.Process) int {
			<-ctx.Done()
			return 1
		},
	}
	for _, b := range behaviours {
		if err := reg.Register(Library, string(b), entries[b]); err != nil {
			panic(fmt.Sprintf("stress: registry: %v", err)) // static names: cannot fail
		}
	}
	return reg
}

// MaxRun is the longest running time a main_arg can carry.
const MaxRun = 0xffff * time.Millisecond

// MainArg packs a worker's running time (whole milliseconds, at most
// [MaxRun]) and an optional deadline (zero for none; Unix milliseconds)
// into its bgw_main_arg: the running time in the low 16 bits, the
// deadline above. It does not block.
func MainArg(run time.Duration, deadline time.Time) uint64 {
	ms := uint64(min(max(run, 0), MaxRun) / time.Millisecond)
	var d uint64
	if !deadline.IsZero() {
		d = uint64(deadline.UnixMilli())
	}
	return d<<16 | ms
}

// SplitMainArg unpacks what [MainArg] packs. It does not block.
func SplitMainArg(arg uint64) (time.Duration, time.Time) {
	run := time.Duration(arg&0xffff) * time.Millisecond
	var deadline time.Time
	if d := arg >> 16; d != 0 {
		deadline = time.UnixMilli(int64(d))
	}
	return run, deadline
}

// sleep waits d; it reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
