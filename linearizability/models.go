package linearizability

import (
	"github.com/anishathalye/porcupine"

	"bgwmodel/spec"
)

// Exact returns the exact model of a cluster of nslots slots, the first
// static of them holding static workers: no partitioning, the state is a
// [spec.State] from [spec.Init], and every step is [spec.Step], which may
// return several states (Register may take any free slot; an unknown
// output may or may not have taken effect). It is built with porcupine's
// NondeterministicModel, so porcupine's state is the set of states the
// cluster may be in. It reads histories in [History.Porcupine]'s form.
//
// Exact decides linearizability against the specification itself, but
// porcupine's memory grows with the square of the history's length: use
// it for histories of a few thousand operations.
func Exact(nslots, static int) porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Init: func() []any { return []any{spec.Init(nslots, static)} },
		Step: func(state, input, output any) []any {
			next := spec.Step(state.(spec.State), input.(spec.Input), output.(spec.Output))
			out := make([]any, len(next))
			for i, s := range next {
				out[i] = s
			}
			return out
		},
		Equal:                     func(a, b any) bool { return a.(spec.State).Equal(b.(spec.State)) },
		Hash:                      func(s any) uint64 { return s.(spec.State).Hash() },
		DescribeOperation:         describeSpecOp,
		DescribeState:             func(s any) string { return s.(spec.State).String() },
		DescribeOperationMetadata: describeMetadata,
	}
	return nm.ToModel()
}

func describeSpecOp(in, out any) string {
	return spec.Describe(in.(spec.Input), out.(spec.Output))
}

// Validity returns the model of the validity check for a cluster of
// nslots slots, the first static of them holding static workers. Its
// Partition keeps the operations whose legality [spec.Step] decides from
// the input and output alone, whatever the state, each in a part of its
// own: a known Register of a worker [spec.Validate] rejects (legal only as
// ResultInvalid naming the same field), a ResultInvalid for a valid
// worker (never legal), a ResultOK, Launch, Exit or Forget naming a slot
// that does not exist, and a Reinit whose list is not of distinct,
// existing slots. The state is [spec.Init]'s and each step is
// [spec.Step].
func Validity(nslots, static int) porcupine.Model {
	return porcupine.Model{
		Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
			var parts [][]porcupine.Operation
			for _, op := range validityOps(historyOf(ops), nslots) {
				parts = append(parts, []porcupine.Operation{op})
			}
			return parts
		},
		Init: func() any { return spec.Init(nslots, static) },
		Step: func(state, input, output any) (bool, any) {
			next := spec.Step(state.(spec.State), input.(spec.Input), output.(spec.Output))
			if len(next) == 0 {
				return false, nil
			}
			return true, next[0]
		},
		Equal:                     func(a, b any) bool { return a.(spec.State).Equal(b.(spec.State)) },
		Hash:                      func(s any) uint64 { return s.(spec.State).Hash() },
		DescribeOperation:         describeSpecOp,
		DescribeState:             func(s any) string { return s.(spec.State).String() },
		DescribeOperationMetadata: describeMetadata,
	}
}

// validityOps returns the operations of the validity check, in
// [History.Porcupine]'s form.
func validityOps(h History, nslots int) []porcupine.Operation {
	var out []porcupine.Operation
	for j := range h {
		if routeOf(&h[j], nslots).validity {
			out = append(out, h[j].porcupine())
		}
	}
	return out
}
