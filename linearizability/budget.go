package linearizability

import (
	"context"
	"errors"
	"fmt"
	"runtime/metrics"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
)

// DefaultMemoryBudget is the heap a check may grow by when
// [Options.MemoryBudget] is 0.
const DefaultMemoryBudget int64 = 2 << 30

// errMemory ends a sweep without a verdict: the memory budget ran out.
var errMemory = errors.New("linearizability: memory budget exceeded")

// memSampleEvery is how often the memory watcher reads the heap's size. At
// the rates porcupine allocates (about a gigabyte a second at worst), a
// check overshoots its budget by a few megabytes at most.
const memSampleEvery = 2 * time.Millisecond

// heapMetric is the runtime metric the watcher reads: the bytes of heap
// objects, live ones and those dead but not yet swept. It is what the heap
// occupies, so a budget on it bounds the process's heap, not only what the
// last collection found alive.
const heapMetric = "/memory/classes/heap/objects:bytes"

// memWatch is a goroutine that samples the heap and marks the budget
// exceeded, for good, once the heap's objects exceed by more than budget
// bytes the smallest heap seen since the watch began. That baseline is at
// most the heap when the check started, less any garbage of earlier work
// the collector has freed since (which the check could otherwise grow
// into unseen).
type memWatch struct {
	budget int64
	base   uint64
	over   atomic.Bool
	stop   chan struct{}
	done   chan struct{}
}

// watchMemory starts watching the heap against budget bytes.
func watchMemory(budget int64) *memWatch {
	w := &memWatch{budget: budget, stop: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(sample)
	w.base = sample[0].Value.Uint64()
	go func() {
		defer close(w.done)
		tick := time.NewTicker(memSampleEvery)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			heap := sample[0].Value.Uint64()
			w.base = min(w.base, heap)
			if int64(heap-w.base) > w.budget {
				w.over.Store(true)
				return
			}
		}
	}()
	return w
}

// close stops the watcher.
func (w *memWatch) close() {
	close(w.stop)
	<-w.done
}

// limits are what may stop a check before its verdict: a deadline (zero
// for none) and a memory watch (nil for none).
type limits struct {
	deadline time.Time
	mem      *memWatch
}

// err returns errMemory once the memory budget is exceeded, errTimeout once
// the deadline has passed, or nil.
func (l *limits) err() error {
	switch {
	case l.mem != nil && l.mem.over.Load():
		return errMemory
	case !l.deadline.IsZero() && time.Now().After(l.deadline):
		return errTimeout
	}
	return nil
}

// left returns the time left before the deadline, 0 for none, or a
// negative duration once it has passed.
func (l *limits) left() time.Duration { return remaining(l.deadline) }

// guard returns model with a Step that refuses every step once the memory
// budget is exceeded: porcupine then backs out of its search at once and
// returns, and the caller, seeing l.err, takes no verdict from it.
func (l *limits) guard(model porcupine.Model) porcupine.Model {
	if l.mem == nil {
		return model
	}
	over := &l.mem.over
	if step := model.Step; step != nil {
		model.Step = func(state, input, output any) (bool, any) {
			if over.Load() {
				return false, nil
			}
			return step(state, input, output)
		}
	}
	if step := model.StepContext; step != nil { // porcupine calls this one if set
		model.StepContext = func(ctx context.Context, state, input, output any) (bool, any) {
			if over.Load() {
				return false, nil
			}
			return step(ctx, state, input, output)
		}
	}
	return model
}

// stopped describes why a check stopped without a verdict (err is
// errMemory or errTimeout) and when, such as "after 12 of 40 operations
// in slot 3".
func (l *limits) stopped(err error, when string) string {
	if err == errMemory {
		return fmt.Sprintf("memory budget of %s exceeded %s (an exceeded budget is never a pass)",
			formatBytes(l.mem.budget), when)
	}
	return fmt.Sprintf("timed out %s (a timeout is never a pass)", when)
}

// formatBytes writes n in the largest binary unit that divides it, or in
// MiB to one decimal.
func formatBytes(n int64) string {
	const kib = 1 << 10
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= kib && n%kib == 0:
		return fmt.Sprintf("%d KiB", n/kib)
	}
	return fmt.Sprintf("%d bytes", n)
}
