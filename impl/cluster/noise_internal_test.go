package cluster

import (
	"errors"
	"math"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/shmem"
)

// testNoise is a noise that pauses often, with both kinds of pause.
var testNoise = Noise{Seed: 42, Probability: 0.3, YieldShare: 0.4, MinDelay: 5 * time.Microsecond, MaxDelay: 3 * time.Millisecond}

// choice is one decision of a noiser.
type choice struct {
	kind  pauseKind
	delay time.Duration
}

// draws returns the next n choices of z.
func draws(z *noiser, n int) []choice {
	out := make([]choice, n)
	for i := range out {
		out[i].kind, out[i].delay = z.decide()
	}
	return out
}

func TestNoiseValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     Noise
		field string // "" for valid
	}{
		{"zero", Noise{}, ""},
		{"test noise", testNoise, ""},
		{"yields only", Noise{Probability: 1, YieldShare: 1}, ""},
		{"off with delays", Noise{MinDelay: time.Millisecond, MaxDelay: time.Millisecond}, ""},
		{"probability NaN", Noise{Probability: math.NaN()}, "probability"},
		{"probability negative", Noise{Probability: -0.1}, "probability"},
		{"probability above 1", Noise{Probability: 1.5}, "probability"},
		{"yield share above 1", Noise{Probability: 0.1, YieldShare: 2}, "yield_share"},
		{"min delay negative", Noise{MinDelay: -time.Microsecond}, "min_delay"},
		{"max below min", Noise{MinDelay: time.Millisecond, MaxDelay: time.Microsecond}, "max_delay"},
		{"max too long", Noise{MinDelay: time.Millisecond, MaxDelay: time.Second}, "max_delay"},
		{"sleeps without min", Noise{Probability: 0.1, YieldShare: 0.5, MaxDelay: time.Millisecond}, "min_delay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.n.Validate()
			var ne *NoiseError
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("Validate: %v; want nil", err)
			case tc.field != "" && (!errors.As(err, &ne) || ne.Field != tc.field):
				t.Errorf("Validate: %v; want a *NoiseError on %s", err, tc.field)
			}
		})
	}
}

// TestNoiseSeeded: a process's choices depend on the seed and its
// identity only.
func TestNoiseSeeded(t *testing.T) {
	const n = 2000
	a, b := draws(newNoiser(testNoise, "backend b1"), n), draws(newNoiser(testNoise, "backend b1"), n)
	other := draws(newNoiser(testNoise, "backend b2"), n)
	reseeded := testNoise
	reseeded.Seed++
	again := draws(newNoiser(reseeded, "backend b1"), n)
	for _, tc := range []struct {
		name string
		got  []choice
		same bool
	}{{"same seed and identity", b, true}, {"another identity", other, false}, {"another seed", again, false}} {
		t.Run(tc.name, func(t *testing.T) {
			equal := true
			for i := range a {
				equal = equal && a[i] == tc.got[i]
			}
			if equal != tc.same {
				t.Errorf("choices equal: %v, want %v", equal, tc.same)
			}
		})
	}
}

// TestNoiseOff: probability 0 never pauses, and costs no hook at all.
func TestNoiseOff(t *testing.T) {
	off := testNoise
	off.Probability = 0
	if z := newNoiser(off, "postmaster"); z != nil {
		t.Fatalf("newNoiser with probability 0 = %v, want nil (off)", z)
	}
	var nilz *noiser
	var l bgworker.Lock = &bgworker.MutexLock{}
	if got := nilz.lock(l); got != l {
		t.Errorf("an off noise wraps the lock: %T", got)
	}
	calls := 0
	nilz.observe(func(shmem.Access) { calls++ })(shmem.Access{})
	if calls != 1 {
		t.Errorf("an off noise's hook called the step %d times, want 1", calls)
	}
	// A noiser built with probability 0 all the same never pauses.
	z := &noiser{cfg: off, rng: newNoiser(testNoise, "x").rng}
	for range 10000 {
		if k, d := z.decide(); k != pauseNone || d != 0 {
			t.Fatalf("probability 0: decided %v for %v", k, d)
		}
	}
}

// TestNoiseBounded: sleeps stay within MinDelay..MaxDelay; yield_share
// 0 and 1 give only sleeps and only yields.
func TestNoiseBounded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		share float64
		want  map[pauseKind]bool
	}{
		{"mixed", 0.4, map[pauseKind]bool{pauseNone: true, pauseYield: true, pauseSleep: true}},
		{"sleeps only", 0, map[pauseKind]bool{pauseNone: true, pauseSleep: true}},
		{"yields only", 1, map[pauseKind]bool{pauseNone: true, pauseYield: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := testNoise
			n.YieldShare = tc.share
			z := newNoiser(n, "backend b7")
			seen := map[pauseKind]bool{}
			for range 20000 {
				k, d := z.decide()
				seen[k] = true
				if k == pauseSleep && (d < n.MinDelay || d > n.MaxDelay) {
					t.Fatalf("slept %v, outside %v..%v", d, n.MinDelay, n.MaxDelay)
				}
				if k != pauseSleep && d != 0 {
					t.Fatalf("%v with a delay %v", k, d)
				}
			}
			for k := range seen {
				if !tc.want[k] {
					t.Errorf("decided %v; want only %v", k, tc.want)
				}
			}
			if len(seen) != len(tc.want) {
				t.Errorf("decided %v; want all of %v", seen, tc.want)
			}
		})
	}
}

// TestNoiseNoAlloc: an access the noise lets through allocates nothing.
func TestNoiseNoAlloc(t *testing.T) {
	n := testNoise
	n.Probability = 1e-12 // on, but never pausing in practice
	hook := newNoiser(n, "postmaster").observe(func(shmem.Access) {})
	if allocs := testing.AllocsPerRun(1000, func() { hook(shmem.Access{Method: "Load32"}) }); allocs != 0 {
		t.Errorf("%v allocations per access, want 0", allocs)
	}
}

// TestNoiseEnv: the noise reaches a process through EnvNoise intact; a
// bad value is refused.
func TestNoiseEnv(t *testing.T) {
	env, err := noiseEnv(testNoise)
	if err != nil || len(env) != 1 {
		t.Fatalf("noiseEnv = %q, %v", env, err)
	}
	t.Setenv(EnvNoise, env[0][len(EnvNoise)+1:])
	if got, err := noiseFromEnv(); err != nil || got != testNoise {
		t.Errorf("noiseFromEnv = %+v, %v; want %+v", got, err, testNoise)
	}
	t.Setenv(EnvNoise, `{"probability": 7}`)
	var ne *NoiseError
	if _, err := noiseFromEnv(); !errors.As(err, &ne) || ne.Field != "probability" {
		t.Errorf("noiseFromEnv of a bad noise: %v", err)
	}
	if env, err := noiseEnv(Noise{}); env != nil || err != nil {
		t.Errorf("noiseEnv(off) = %q, %v; want nothing", env, err)
	}
}

// BenchmarkNoiseDecide is the cost of the noise on an access it lets
// through: the draw alone.
func BenchmarkNoiseDecide(b *testing.B) {
	n := testNoise
	n.Probability = 1e-12
	z := newNoiser(n, "postmaster")
	for b.Loop() {
		z.decide()
	}
}
