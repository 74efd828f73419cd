package stress

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"bgwmodel/impl/bgworker"
)

// varyStream is the PCG stream of the seed that [Config.Resolve] draws
// from: apart from the drivers' (1..) and the faults' (0).
const varyStream = 1 << 40

// restartChoices are the restart times Vary.RestartTimes draws from, in
// seconds; a static worker may also be NEVER_RESTART, so that it is
// forgotten once it exits and its slot, the first, goes to dynamic
// workers (the head of the postmaster's private list is forgotten too).
var (
	restartChoices       = []int32{0, 1, 3}
	staticRestartChoices = []int32{bgworker.NeverRestart, 0, 1, 3}
)

// Resolve returns the configuration a campaign of this seed runs: what
// [Config.Vary] names drawn from the seed, and Vary cleared, so that the
// result resolves to itself. The same seed gives the same result. The
// seed must be set (non-zero). It does not block.
//
// The static workers are none, one or several (static workers take the
// first slots, as BackgroundWorkerShmemInit assigns them; the coverage
// check then requires a dynamic worker in every other slot, the last one
// included). Scarce slots leave about as many dynamic slots as backends,
// so registrations meet "no free slot" often; plentiful ones about three
// times as many.
func (c Config) Resolve() Config {
	v := c.Vary
	c.Vary = Vary{}
	if v == (Vary{}) {
		return c
	}
	rng := rand.New(rand.NewPCG(uint64(c.Seed), varyStream))
	if v.Static && len(c.Static) > 0 {
		tmpl := c.Static[0]
		switch n := rng.IntN(3); n {
		case 0:
			c.Static = nil
		case 1:
			c.Static = []WorkerSpec{tmpl}
		default:
			c.Static = nil
			for i := range 2 + rng.IntN(2) {
				s := tmpl
				s.Name = fmt.Sprintf("%s-%d", tmpl.Name, i+1)
				c.Static = append(c.Static, s)
			}
		}
	}
	if v.Slots {
		fixed := len(c.Static) + min(len(c.Permanent), c.Backends)
		if rng.IntN(2) == 0 {
			c.Slots = fixed + c.Backends + rng.IntN(2) // scarce
		} else {
			c.Slots = fixed + 3*c.Backends + rng.IntN(c.Backends+1) // plentiful
		}
		c.Slots = min(c.Slots, bgworker.MaxWorkerProcesses)
	}
	if v.RestartTimes {
		c.Static, c.Permanent = slices.Clone(c.Static), slices.Clone(c.Permanent)
		for _, v := range []struct {
			list    []WorkerSpec
			choices []int32
		}{{c.Static, staticRestartChoices}, {c.Permanent, restartChoices}} {
			for i := range v.list {
				if rt := v.list[i].RestartTime; rt >= 0 && rt <= 60 {
					v.list[i].RestartTime = v.choices[rng.IntN(len(v.choices))]
				}
			}
		}
	}
	return c
}
