package linearizability

import (
	"strings"

	"github.com/anishathalye/porcupine"
)

// machine is a projected specification: configurations C and a step
// function over porcupine operations whose Input a model's Partition
// produced. It is shared by the sweep (which computes the configurations
// reachable at quiescent points) and by porcupine (through [setModel]),
// so both engines check the same projection.
type machine[C any] interface {
	// step returns every configuration that can follow c when the
	// operation with this (partition-produced) input takes effect, or
	// none if it cannot. It never changes c.
	step(c C, in any) []C
	// key returns a string equal for two operations exactly when they
	// have the same effect and legality in every configuration (the sweep
	// counts pending operations with equal keys instead of telling them
	// apart).
	key(in any) string
	hash(c C) uint64
	equal(a, b C) bool
	// dominates reports whether a can do everything b can: same state and
	// at least b's pool of cut-short operations.
	dominates(a, b C) bool
	// readOnly reports whether an operation with this input only reads:
	// in every configuration c, each configuration step returns is one c
	// may become by letting pooled cut-short operations take effect (see
	// [spontaneous]; c itself when the operation is legal in c), so the
	// operation has no effect of its own. False is always safe.
	readOnly(in any) bool
	describeState(c C) string
	describeOp(in, out any) string
}

// pool counts the cut-short operations of each class that may still take
// effect: index k is class k of the machine's partition. A nil or short
// pool holds zeros. Pools are values: add returns a new one.
type pool []uint32

func (p pool) get(k int) uint32 {
	if k < len(p) {
		return p[k]
	}
	return 0
}

func (p pool) empty() bool {
	for _, n := range p {
		if n != 0 {
			return false
		}
	}
	return true
}

// add returns p with class k changed by d.
func (p pool) add(k int, d int) pool {
	n := len(p)
	if k >= n {
		n = k + 1
	}
	q := make(pool, n)
	copy(q, p)
	q[k] = uint32(int(q[k]) + d)
	return q
}

func (p pool) equal(q pool) bool {
	for k := range max(len(p), len(q)) {
		if p.get(k) != q.get(k) {
			return false
		}
	}
	return true
}

// covers reports whether p holds at least q's operations of every class.
func (p pool) covers(q pool) bool {
	for k := range q {
		if p.get(k) < q[k] {
			return false
		}
	}
	return true
}

func (p pool) hash() uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for k, n := range p {
		if n != 0 {
			h ^= (uint64(k+1)<<32 | uint64(n)) * 0xbf58476d1ce4e5b9
			h = h<<13 | h>>51
		}
	}
	return h
}

// spontaneous returns c and every configuration reachable from it by
// letting pooled cut-short operations take effect, each at most once,
// in any order: fire(x, k) returns the configurations after one operation
// of class k takes an effect that changes x's state (with the pool
// decremented). Firing without effect is never needed: keeping the
// operation pooled dominates it.
func spontaneous[C any](m machine[C], c C, p pool, poolOf func(C) pool, fire func(C, int) []C) []C {
	if p.empty() {
		return []C{c}
	}
	out := []C{c}
	for i := 0; i < len(out); i++ {
		x := out[i]
		xp := poolOf(x)
		for k := range xp {
			if xp[k] == 0 {
				continue
			}
		next:
			for _, y := range fire(x, k) {
				for _, z := range out {
					if m.equal(y, z) {
						continue next
					}
				}
				out = append(out, y)
			}
		}
	}
	return out
}

// prune removes from cs every configuration another one dominates, and
// duplicates. It keeps the first of equal configurations.
func prune[C any](m machine[C], cs []C) []C {
	if len(cs) < 2 || len(cs) > 64 {
		return cs
	}
	out := cs[:0:0]
outer:
	for i, c := range cs {
		for j, d := range cs {
			if i != j && m.dominates(d, c) && (!m.dominates(c, d) || j < i) {
				continue outer
			}
		}
		out = append(out, c)
	}
	return out
}

// setModel turns a machine into a deterministic porcupine model whose
// state is the set of configurations the machine may be in (a power-set
// construction, like porcupine's NondeterministicModel, but pruning
// dominated configurations). init is the initial set.
func setModel[C any](m machine[C], init []C, partition func([]porcupine.Operation) [][]porcupine.Operation) porcupine.Model {
	step := func(state, input, output any) (bool, any) {
		var next []C
		for _, c := range state.([]C) {
		add:
			for _, d := range m.step(c, input) {
				for _, e := range next {
					if m.equal(d, e) {
						continue add
					}
				}
				next = append(next, d)
			}
		}
		next = prune(m, next)
		return len(next) > 0, next
	}
	return porcupine.Model{
		Partition: partition,
		Init: func() any {
			return prune(m, append([]C(nil), init...))
		},
		Step: step,
		Equal: func(a, b any) bool {
			x, y := a.([]C), b.([]C)
			if len(x) != len(y) {
				return false
			}
		outer:
			for _, c := range x {
				for _, d := range y {
					if m.equal(c, d) {
						continue outer
					}
				}
				return false
			}
			return true
		},
		Hash: func(state any) uint64 {
			var h uint64
			for _, c := range state.([]C) {
				h ^= m.hash(c)
			}
			return h
		},
		DescribeOperation: m.describeOp,
		DescribeState: func(state any) string {
			cs := state.([]C)
			parts := make([]string, len(cs))
			for i, c := range cs {
				parts[i] = m.describeState(c)
			}
			if len(parts) == 1 {
				return parts[0]
			}
			return "one of {" + strings.Join(parts, " | ") + "}"
		},
		DescribeOperationMetadata: describeMetadata,
	}
}

// describeMetadata shows an operation's process in the visualization.
// A model of this package gets either the process name (from
// [History.Porcupine]) or the *Operation (from a partition Check built).
func describeMetadata(md any) string {
	switch md := md.(type) {
	case string:
		return md
	case *Operation:
		return md.Process
	}
	return ""
}
