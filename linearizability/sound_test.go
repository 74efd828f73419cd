package linearizability

import (
	"math/rand"
	"testing"
	"time"

	"bgwmodel/spec"
)

// perturb changes one operation of h at random, in a way that may or may
// not keep it linearizable.
func perturb(h History, rng *rand.Rand, nslots int) History {
	out := append(History(nil), h...)
	i := rng.Intn(len(out))
	op := &out[i]
	if op.Output.Unknown {
		return out
	}
	switch op.Input.Kind {
	case spec.OpRegister:
		switch rng.Intn(4) {
		case 0:
			op.Output = spec.Output{Result: spec.ResultNoFreeSlot}
		case 1:
			op.Output = spec.Output{Handle: hd(rng.Intn(nslots), uint64(rng.Intn(4)), op.Output.Handle.Epoch)}
		case 2:
			op.Output.Handle.Generation++
		default:
			if isLast(out, i) {
				op.Output, op.Return = spec.Output{Unknown: true}, Infinity
			}
		}
	case spec.OpGetPid, spec.OpWaitForStartup:
		op.Output.Status = spec.Status(rng.Intn(4))
		op.Output.Pid = 0
		if op.Output.Status == spec.Started {
			op.Output.Pid = spec.Pid(1000 + rng.Intn(8))
		}
	case spec.OpLaunch, spec.OpExit, spec.OpForget:
		op.Input.Slot = rng.Intn(nslots)
	case spec.OpReinit:
		op.Input.InUse = []int{rng.Intn(nslots)}
	}
	if rng.Intn(3) == 0 { // and move it in time
		d := Stamp(rng.Intn(6))
		if op.Call > d {
			op.Call -= d
		}
	}
	return out
}

// isLast reports whether op i is its client's last operation.
func isLast(h History, i int) bool {
	for j := range h {
		if h[j].Client == h[i].Client && h[j].Call > h[i].Call {
			return false
		}
	}
	return true
}

// TestPartitionedSound checks the partitioned checks against the exact one
// on many small random histories, legal and not: a partitioned violation
// must be an exact violation (soundness), a legal history must pass every
// check, and the window size must not change the verdict.
func TestPartitionedSound(t *testing.T) {
	iterations := 600
	if testing.Short() {
		iterations = 150
	}
	rng := rand.New(rand.NewSource(1))
	var stats [3][3]int // [exact][partitioned]
	for it := range iterations {
		nslots := 1 + rng.Intn(3)
		h := Generate(int64(it), 20+rng.Intn(40), nslots, 1+rng.Intn(7))
		for range rng.Intn(3) {
			h = perturb(h, rng, nslots)
		}
		if h.Validate() != nil {
			continue
		}
		opts := Options{Slots: nslots, Timeout: 20 * time.Second}
		opts.Mode = ModeExact
		exact := Check(h, opts).Result()
		opts.Mode = ModePartitioned
		part := Check(h, opts).Result()
		opts.Window = 1
		tiny := Check(h, opts).Result()
		stats[exact][part]++
		if part != tiny {
			t.Errorf("iteration %d: window 1 gives %v, default window %v", it, tiny, part)
		}
		if exact == Unknown || part == Unknown {
			t.Errorf("iteration %d: undecided: exact %v, partitioned %v", it, exact, part)
			continue
		}
		if part == Violation && exact != Violation {
			t.Errorf("iteration %d: partitioned violation, exact %v: unsound\n%v", it, exact, Check(h, opts))
		}
	}
	t.Logf("exact ok: partitioned ok %d, violation %d; exact violation: partitioned ok %d, violation %d",
		stats[Ok][Ok], stats[Ok][Violation], stats[Violation][Ok], stats[Violation][Violation])
	if stats[Violation][Violation] == 0 || stats[Ok][Ok] == 0 {
		t.Error("the random histories do not exercise both outcomes")
	}
}
