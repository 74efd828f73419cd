package linearizability

import (
	"fmt"

	"github.com/anishathalye/porcupine"

	"bgwmodel/spec"
)

// countKind is what an operation of the count projection does to the
// number of slots in use.
type countKind uint8

const (
	countTake   countKind = iota // Register ResultOK: a free slot is taken (n < nslots before)
	countFull                    // Register ResultNoFreeSlot: every slot is in use
	countFree                    // Forget: a slot in use is freed (n > 0 before)
	countReinit                  // Reinit: exactly len(InUse) slots are in use
)

// countIn is the input of an operation in the count projection.
type countIn struct {
	op    *Operation
	kind  countKind
	reset int // countReinit: the number of slots in use after it
	class int // pool class if cut short (countTake, countFree, or a countReinit per reset value), else -1
	tab   *countTable
}

// countCfg is a configuration of the count projection: how many slots are
// in use, and the cut-short operations that may still take effect.
type countCfg struct {
	n    int
	pool pool
	tab  *countTable // the pool's classes; nil while the pool is empty
}

// countMachine is the no-free-slot check's machine for nslots slots.
type countMachine struct {
	nslots int
}

// countTable lists a projection's pool classes.
type countTable struct {
	classes []countIn
}

func (countMachine) key(in any) string {
	ci := in.(*countIn)
	return fmt.Sprintf("%d/%d", ci.kind, ci.reset)
}

// apply is the effect of kind on n, and whether it is legal.
func (m countMachine) apply(n int, in *countIn) (int, bool) {
	switch in.kind {
	case countTake:
		return n + 1, n < m.nslots
	case countFull:
		return n, n == m.nslots
	case countFree:
		return n - 1, n > 0
	}
	return in.reset, true
}

func (m countMachine) step(c countCfg, input any) []countCfg {
	in := input.(*countIn)
	if in.class >= 0 {
		return []countCfg{{n: c.n, pool: c.pool.add(in.class, 1), tab: in.tab}}
	}
	if c.pool.empty() {
		if n, ok := m.apply(c.n, in); ok {
			return []countCfg{{n: n, pool: c.pool, tab: c.tab}}
		}
		return nil
	}
	var out []countCfg
	for _, x := range spontaneous[countCfg](m, c, c.pool, func(x countCfg) pool { return x.pool }, m.fire) {
		if n, ok := m.apply(x.n, in); ok {
			out = append(out, countCfg{n: n, pool: x.pool, tab: x.tab})
		}
	}
	return out
}

// fire lets one pooled operation of class k take effect on x.
func (m countMachine) fire(x countCfg, k int) []countCfg {
	if n, ok := m.apply(x.n, &x.tab.classes[k]); ok && n != x.n {
		return []countCfg{{n: n, pool: x.pool.add(k, -1), tab: x.tab}}
	}
	return nil
}

func (countMachine) hash(c countCfg) uint64 {
	return uint64(c.n)*0x9e3779b97f4a7c15 ^ c.pool.hash()
}

func (countMachine) equal(a, b countCfg) bool { return a.n == b.n && a.pool.equal(b.pool) }

func (countMachine) dominates(a, b countCfg) bool { return a.n == b.n && a.pool.covers(b.pool) }

// readOnly is true of a known "no free slot" answer: it leaves the count
// as it is, or is illegal.
func (countMachine) readOnly(input any) bool {
	in := input.(*countIn)
	return in.class < 0 && in.kind == countFull
}

func (m countMachine) describeState(c countCfg) string {
	s := fmt.Sprintf("%d of %d slots in use", c.n, m.nslots)
	if !c.pool.empty() {
		s += " +pending{"
		first := true
		for k, n := range c.pool {
			if n == 0 {
				continue
			}
			if !first {
				s += ", "
			}
			first = false
			s += fmt.Sprintf("%d×%s", n, c.tab.classes[k].kindString())
		}
		s += "}"
	}
	return s
}

func (in *countIn) kindString() string {
	switch in.kind {
	case countTake:
		return "take"
	case countFull:
		return "full"
	case countFree:
		return "free"
	}
	return fmt.Sprintf("reset to %d", in.reset)
}

func (countMachine) describeOp(in, out any) string {
	op := in.(*countIn).op
	return spec.Describe(op.Input, op.Output)
}

// countPartition projects a history (in [History.Porcupine]'s form) onto
// the operations that change or read the number of slots in use: Register
// ResultOK (take a slot), ResultNoFreeSlot (every slot in use), Forget
// (free a slot), Reinit (reset), and the unknown Registers, Forgets and
// Reinits that may have done so. The result is in call order.
func countPartition(h History, nslots int) []porcupine.Operation {
	tab := &countTable{}
	keys := map[countKind]map[int]int{}
	var out []porcupine.Operation
	for j := range h {
		op := &h[j]
		if !routeOf(op, nslots).count {
			continue
		}
		ci := &countIn{op: op, class: -1, tab: tab}
		switch op.Input.Kind {
		case spec.OpRegister:
			ci.kind = countTake
			if !op.Output.Unknown && op.Output.Result == spec.ResultNoFreeSlot {
				ci.kind = countFull
			}
		case spec.OpForget:
			ci.kind = countFree
		case spec.OpReinit:
			ci.kind, ci.reset = countReinit, len(op.Input.InUse)
		}
		if op.Output.Unknown {
			if keys[ci.kind] == nil {
				keys[ci.kind] = map[int]int{}
			}
			k, ok := keys[ci.kind][ci.reset]
			if !ok {
				k = len(tab.classes)
				keys[ci.kind][ci.reset] = k
				tab.classes = append(tab.classes, *ci)
			}
			ci.class = k
		}
		out = append(out, porcupine.Operation{ClientId: op.Client, Input: ci,
			Call: op.Call.time(), Return: op.Return.time(), Metadata: op})
	}
	sortByCall(out)
	return out
}

// Count returns the no-free-slot model for a cluster of nslots slots, the
// first static of them holding static workers. Its Partition keeps one
// part: the projection onto the operations that change or read how many
// slots are in use (Register ResultOK and ResultNoFreeSlot, Forget,
// Reinit, and cut-short Registers, Forgets and Reinits). Its state is
// that number: ResultNoFreeSlot is legal iff every slot is in use
// ([spec.State.Full]), a ResultOK needs a free slot and a Forget a slot in
// use. It checks what [PerSlot] cannot: "no free slot" depends on every
// slot at once.
func Count(nslots, static int) porcupine.Model {
	return setModel[countCfg](countMachine{nslots: nslots}, []countCfg{{n: static}},
		func(ops []porcupine.Operation) [][]porcupine.Operation {
			part := countPartition(historyOf(ops), nslots)
			if len(part) == 0 {
				return nil
			}
			return [][]porcupine.Operation{part}
		})
}
