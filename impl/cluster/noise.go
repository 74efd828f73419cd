package cluster

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/shmem"
)

// MaxNoiseDelay is the longest sleep a [Noise] may ask for.
const MaxNoiseDelay = 100 * time.Millisecond

// EnvNoise carries the cluster's [Noise], as JSON, to the supervisor, the
// postmaster and the backends. Unset means no noise.
const EnvNoise = "BGW_CLUSTER_NOISE"

// The identities from which each process derives its noise stream.
const (
	noisePostmaster = "postmaster"
	noiseBackend    = "backend " // + the backend's id
)

// Noise is race-widening noise, after ConTest and rr's chaos mode: before
// a random subset of its accesses to shared memory and of its acquires and
// releases of BackgroundWorkerLock, a process of the cluster pauses, by
// yielding its processor or by sleeping from microseconds to milliseconds,
// so that a window a few instructions wide (between two reads of one
// slot, say) stays open long enough for another process to act in it.
//
// The postmaster pauses before its accesses, the backends before theirs
// and before their lock operations. Background workers never touch the
// protocol's shared state, so they get none.
//
// The zero value is off, as is any Noise with Probability 0: an off
// cluster pays nothing, not even a call per access.
type Noise struct {
	// Seed seeds the noise. Each process draws from its own stream,
	// derived from Seed and its identity ("postmaster", "backend b3"),
	// never from the time: the same seed makes the same choices in the
	// same process, access by access (the interleaving, which the kernel
	// schedules, still varies).
	Seed uint64 `json:"seed"`
	// Probability is the chance, at each access and lock operation, that
	// the process pauses before it: 0 (off) to 1.
	Probability float64 `json:"probability"`
	// YieldShare is the share of pauses that are yields (sched_yield:
	// the process goes to the back of its run queue) rather than sleeps:
	// 0 to 1.
	YieldShare float64 `json:"yield_share"`
	// MinDelay and MaxDelay bound a sleep, whose length is drawn
	// log-uniformly between them: short sleeps are common and long ones
	// rare, so that windows of every width are opened without slowing
	// the cluster to a crawl. When some pauses are sleeps (Probability >
	// 0 and YieldShare < 1), 0 < MinDelay <= MaxDelay <= [MaxNoiseDelay].
	MinDelay time.Duration `json:"min_delay"`
	MaxDelay time.Duration `json:"max_delay"`
}

// NoiseError reports a [Noise] that [Noise.Validate] refuses: the field,
// named as in JSON, and why.
type NoiseError struct {
	Field string
	Err   error
}

// Error returns "cluster: noise: FIELD: reason".
func (e *NoiseError) Error() string { return "cluster: noise: " + e.Field + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *NoiseError) Unwrap() error { return e.Err }

// Enabled reports whether the noise pauses at all (Probability > 0). It
// does not block.
func (n Noise) Enabled() bool { return n.Probability > 0 }

// Validate checks every field and returns a [*NoiseError] naming the first
// bad one. The zero value is valid. It does not block.
func (n Noise) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &NoiseError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case math.IsNaN(n.Probability) || n.Probability < 0 || n.Probability > 1:
		return bad("probability", "want a probability in 0..1, got %g", n.Probability)
	case math.IsNaN(n.YieldShare) || n.YieldShare < 0 || n.YieldShare > 1:
		return bad("yield_share", "want a share in 0..1, got %g", n.YieldShare)
	case n.MinDelay < 0:
		return bad("min_delay", "want 0 or more, got %v", n.MinDelay)
	case n.MaxDelay < n.MinDelay || n.MaxDelay > MaxNoiseDelay:
		return bad("max_delay", "want min_delay (%v) .. %v, got %v", n.MinDelay, MaxNoiseDelay, n.MaxDelay)
	case n.Enabled() && n.YieldShare < 1 && n.MinDelay == 0:
		return bad("min_delay", "want more than 0 when some pauses are sleeps (yield_share %g < 1)", n.YieldShare)
	}
	return nil
}

// noiseFromEnv reads the noise that [EnvNoise] carries: the zero Noise if
// it is unset.
func noiseFromEnv() (Noise, error) {
	var n Noise
	s := os.Getenv(EnvNoise)
	if s == "" {
		return n, nil
	}
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		return n, fmt.Errorf("cluster: noise: %s: %w", EnvNoise, err)
	}
	return n, n.Validate()
}

// noiseEnv returns the environment entry that carries n, or nil if n is
// off.
func noiseEnv(n Noise) ([]string, error) {
	if !n.Enabled() {
		return nil, nil
	}
	b, err := json.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("cluster: noise: %w", err)
	}
	return []string{EnvNoise + "=" + string(b)}, nil
}

// noiser is one process's noise: its own seeded stream. It is safe for
// concurrent use (a mutex guards the stream; a pause is taken outside
// it). A nil *noiser is off.
type noiser struct {
	cfg             Noise
	logMin, logSpan float64 // ln MinDelay, ln MaxDelay - ln MinDelay

	mu  sync.Mutex
	rng *rand.Rand
}

// newNoiser returns the noise of the process named identity, or nil if n
// is off.
func newNoiser(n Noise, identity string) *noiser {
	if !n.Enabled() {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte(identity))
	z := &noiser{cfg: n, rng: rand.New(rand.NewPCG(n.Seed, h.Sum64()))}
	if n.MinDelay > 0 {
		z.logMin = math.Log(float64(n.MinDelay))
		z.logSpan = math.Log(float64(n.MaxDelay)) - z.logMin
	}
	return z
}

// pauseKind is what the noise does before one access or lock operation.
type pauseKind uint8

const (
	pauseNone  pauseKind = iota // go on at once
	pauseYield                  // sched_yield
	pauseSleep                  // sleep for the delay drawn
)

// decide draws the next choice: whether to pause, how, and for how long
// (a sleep's delay, MinDelay..MaxDelay). It does not block.
func (z *noiser) decide() (pauseKind, time.Duration) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.rng.Float64() >= z.cfg.Probability {
		return pauseNone, 0
	}
	if z.rng.Float64() < z.cfg.YieldShare {
		return pauseYield, 0
	}
	d := time.Duration(math.Exp(z.logMin + z.rng.Float64()*z.logSpan))
	return pauseSleep, min(max(d, z.cfg.MinDelay), z.cfg.MaxDelay)
}

// pause draws a choice and carries it out. It blocks for the sleep drawn,
// if any.
func (z *noiser) pause() {
	switch k, d := z.decide(); k {
	case pauseYield:
		proc.Yield()
	case pauseSleep:
		time.Sleep(d)
	}
}

// access is the [shmem.Observe] hook that pauses before an access.
func (z *noiser) access(shmem.Access) { z.pause() }

// observe returns the hook that calls before and then pauses, or before
// alone if z is off.
func (z *noiser) observe(before func(shmem.Access)) func(shmem.Access) {
	if z == nil {
		return before
	}
	return func(a shmem.Access) {
		before(a)
		z.pause()
	}
}

// lock returns l with a pause before each acquire and release, or l
// itself if z is off.
func (z *noiser) lock(l bgworker.Lock) bgworker.Lock {
	if z == nil {
		return l
	}
	return noiseLock{l, z}
}

// noiseLock is a bgworker.Lock that pauses before each acquire and
// release: a pause before a release holds the lock longer.
type noiseLock struct {
	bgworker.Lock
	z *noiser
}

func (l noiseLock) Acquire(mode bgworker.LockMode) error {
	l.z.pause()
	return l.Lock.Acquire(mode)
}

func (l noiseLock) Release(mode bgworker.LockMode) error {
	l.z.pause()
	return l.Lock.Release(mode)
}
