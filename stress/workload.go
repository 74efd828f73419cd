package stress

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"bgwmodel/impl/bgworker"
)

// invalidRestartTime is the restart_time of the registrations meant to be
// refused by the sanity check (above bgworker.MaxRestartTime).
const invalidRestartTime int32 = 90_000_000

// exit2Margin is how long after its first exit is due a transient Exit2
// worker stops exiting 2.
const exit2Margin = 100 * time.Millisecond

// workload chooses the workers the backends register.
type workload struct {
	cfg *Config

	mu     sync.Mutex
	queue  []WorkerSpec // permanent workers still to register
	budget int          // permanent registrations still allowed
	named  int          // transient workers named so far
}

func newWorkload(cfg *Config) *workload {
	return &workload{cfg: cfg, queue: append([]WorkerSpec(nil), cfg.Permanent...), budget: permanentBudget(cfg)}
}

// permanentBudget is how many permanent workers the backends register:
// at most half the dynamic slots, so that transient workers keep freeing
// and taking the others.
func permanentBudget(cfg *Config) int {
	return min(len(cfg.Permanent), max(0, (cfg.Slots-len(cfg.Static))/2))
}

// permanent returns the next permanent worker to register, if any.
func (w *workload) permanent() (WorkerSpec, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.budget == 0 || len(w.queue) == 0 {
		return WorkerSpec{}, false
	}
	s := w.queue[0]
	w.queue = w.queue[1:]
	w.budget--
	return s, true
}

// putBack hands back a permanent worker whose Register did not succeed:
// if retry (no free slot: it surely took none) it is registered again
// later; otherwise (cut short: it may hold a slot) it is dropped.
func (w *workload) putBack(s WorkerSpec, retry bool) {
	if !retry {
		return // cut short or refused: it may hold a slot; do not register it twice
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.queue = append([]WorkerSpec{s}, w.queue...)
	w.budget++
}

// transient returns a transient worker for backend n: NEVER_RESTART, a
// behaviour that ends, and random running time, flags and start time;
// or, rarely, a definition the sanity check refuses.
func (w *workload) transient(rng *rand.Rand, n int) bgworker.Worker {
	t := &w.cfg.Transient
	w.mu.Lock()
	w.named++
	k := w.named
	w.mu.Unlock()
	s := WorkerSpec{
		Name:        fmt.Sprintf("t%d-b%d", k, n),
		Behaviour:   pickWeighted(rng, t.Behaviours),
		RestartTime: bgworker.NeverRestart,
		StartTime:   pickWeighted(rng, t.StartTimes),
		ShmemAccess: rng.Float64() < t.ShmemRate,
	}
	s.Sleep = Duration(t.SleepMin.D() + time.Duration(rng.Int64N(int64(t.SleepMax.D()-t.SleepMin.D())+1)))
	if rng.Float64() < t.DatabaseRate {
		s.ShmemAccess, s.DatabaseConnection = true, true
		if s.StartTime == "PostmasterStart" {
			s.StartTime = "ConsistentState"
		}
	}
	def := s.worker(0)
	if s.Behaviour == Exit2 {
		// Exit 2 on the first run only (see Exit2): a little after the
		// first exit is due.
		def.MainArg = MainArg(s.Sleep.D(), time.Now().Add(s.Sleep.D()+exit2Margin))
	}
	if rng.Float64() < w.cfg.Workload.InvalidRate {
		def.RestartTime = invalidRestartTime
	}
	return def
}

// pickWeighted picks a key with probability proportional to its weight,
// walking the keys in sorted order (deterministic for a seed).
func pickWeighted[K ~string](rng *rand.Rand, weights map[K]float64) K {
	keys := sortedKeys(weights)
	sum := 0.0
	for _, k := range keys {
		sum += weights[k]
	}
	x := rng.Float64() * sum
	for _, k := range keys {
		if x < weights[k] {
			return k
		}
		x -= weights[k]
	}
	return keys[len(keys)-1]
}

// handlePool holds recent handles of every backend, for GetPid from
// anywhere (including handles from before a crash restart).
type handlePool struct {
	mu   sync.Mutex
	ring []bgworker.Handle
	next int
}

const poolSize = 64

func (p *handlePool) add(h bgworker.Handle) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ring) < poolSize {
		p.ring = append(p.ring, h)
		return
	}
	p.ring[p.next] = h
	p.next = (p.next + 1) % poolSize
}

func (p *handlePool) empty() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ring) == 0
}

// pick returns a random handle; the pool must not be empty.
func (p *handlePool) pick(rng *rand.Rand) bgworker.Handle {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ring[rng.IntN(len(p.ring))]
}
