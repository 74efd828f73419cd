package linearizability

import (
	"fmt"
	"math/rand"

	"bgwmodel/spec"
)

// Mutation names a change that makes a linearizable history certainly not
// linearizable, for negative tests. Each is chosen so that no other
// operation of the history can excuse it.
type Mutation uint8

// The mutations of [Mutate].
const (
	// MutateStatus: a GetPid that read STARTED, called after both the
	// Register that issued its handle and the Launch that started the
	// worker returned, in that order, now reads NOT_YET_STARTED: once
	// launched, a generation never reads NOT_YET_STARTED again.
	MutateStatus Mutation = iota
	// MutatePid: a GetPid that read STARTED reports a pid that no Launch
	// ever set.
	MutatePid
	// MutateReuseGeneration: a Register's handle repeats the generation of
	// an earlier registration of the same slot in the same epoch that
	// returned before it was called: generations only grow.
	MutateReuseGeneration
	// MutateSkipGeneration: a Register's handle skips a generation. Only
	// for histories without cut-short Registers, which could explain a
	// skipped generation.
	MutateSkipGeneration
	// MutateWaitNotYetStarted: a WaitForStartup returns NOT_YET_STARTED,
	// which it never does.
	MutateWaitNotYetStarted
)

// Mutations lists every [Mutation].
var Mutations = []Mutation{MutateStatus, MutatePid, MutateReuseGeneration, MutateSkipGeneration, MutateWaitNotYetStarted}

// String returns the mutation's name, such as "status".
func (m Mutation) String() string {
	switch m {
	case MutateStatus:
		return "status"
	case MutatePid:
		return "pid"
	case MutateReuseGeneration:
		return "reuse-generation"
	case MutateSkipGeneration:
		return "skip-generation"
	case MutateWaitNotYetStarted:
		return "wait-not-yet-started"
	}
	return fmt.Sprintf("Mutation(%d)", uint8(m))
}

// Mutate returns a copy of h with one operation changed by m, chosen at
// random (by seed) among those m applies to, and the index of the changed
// operation; ok is false if m applies to none. h is not changed.
func Mutate(h History, m Mutation, seed int64) (mutated History, index int, ok bool) {
	cands := candidates(h, m)
	if len(cands) == 0 {
		return nil, -1, false
	}
	i := cands[rand.New(rand.NewSource(seed)).Intn(len(cands))]
	out := make(History, len(h))
	copy(out, h)
	op := &out[i]
	switch m {
	case MutateStatus:
		op.Output = spec.Output{Status: spec.NotYetStarted}
	case MutatePid:
		maxPid := spec.Pid(0)
		for _, o := range h {
			if o.Input.Kind == spec.OpLaunch {
				maxPid = max(maxPid, o.Input.Pid)
			}
			if !o.Output.Unknown && o.Output.Status == spec.Started {
				maxPid = max(maxPid, o.Output.Pid)
			}
		}
		op.Output.Pid = maxPid + 1
	case MutateReuseGeneration:
		op.Output.Handle.Generation--
	case MutateSkipGeneration:
		op.Output.Handle.Generation++
	case MutateWaitNotYetStarted:
		op.Output = spec.Output{Status: spec.NotYetStarted}
	}
	return out, i, true
}

func isRegisterOK(op *Operation) bool {
	return op.Input.Kind == spec.OpRegister && !op.Output.Unknown && op.Output.Result == spec.ResultOK
}

// candidates lists the operations m applies to.
func candidates(h History, m Mutation) []int {
	var out []int
	switch m {
	case MutateStatus:
		issued := map[spec.Handle]Stamp{} // handle -> return of its Register
		for _, op := range h {
			if isRegisterOK(&op) {
				issued[op.Output.Handle] = op.Return
			}
		}
		type launch struct {
			slot       int
			call, ret  Stamp
			registered bool
		}
		launches := map[spec.Pid]launch{}
		for _, op := range h {
			if op.Input.Kind == spec.OpLaunch && !op.Output.Unknown {
				launches[op.Input.Pid] = launch{slot: op.Input.Slot, call: op.Call, ret: op.Return}
			}
		}
		for i, op := range h {
			if op.Input.Kind != spec.OpGetPid || op.Output.Unknown || op.Output.Status != spec.Started {
				continue
			}
			l, ok := launches[op.Output.Pid]
			regRet, issuedOK := issued[op.Input.Handle]
			if ok && issuedOK && l.slot == op.Input.Handle.Slot && regRet < l.call && l.ret < op.Call {
				out = append(out, i)
			}
		}
	case MutatePid:
		for i, op := range h {
			if op.Input.Kind == spec.OpGetPid && !op.Output.Unknown && op.Output.Status == spec.Started {
				out = append(out, i)
			}
		}
	case MutateReuseGeneration:
		type key struct {
			slot  int
			gen   uint64
			epoch uint64
		}
		returned := map[key]Stamp{}
		for _, op := range h {
			if isRegisterOK(&op) {
				hd := op.Output.Handle
				returned[key{hd.Slot, hd.Generation, hd.Epoch}] = op.Return
			}
		}
		for i, op := range h {
			if !isRegisterOK(&op) || op.Output.Handle.Generation < 2 {
				continue
			}
			hd := op.Output.Handle
			if ret, ok := returned[key{hd.Slot, hd.Generation - 1, hd.Epoch}]; ok && ret < op.Call {
				out = append(out, i)
			}
		}
	case MutateSkipGeneration:
		for _, op := range h {
			if op.Input.Kind == spec.OpRegister && op.Output.Unknown {
				return nil
			}
		}
		for i, op := range h {
			if isRegisterOK(&op) {
				out = append(out, i)
			}
		}
	case MutateWaitNotYetStarted:
		for i, op := range h {
			if op.Input.Kind == spec.OpWaitForStartup && !op.Output.Unknown {
				out = append(out, i)
			}
		}
	}
	return out
}
