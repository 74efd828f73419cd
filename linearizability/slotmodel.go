package linearizability

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"

	"bgwmodel/spec"
)

// slotPart is one partition of the per-slot check: slot i's one-slot view
// of the state, with the classes of cut-short operations its pool counts.
type slotPart struct {
	slot    int // the slot, or outOfRange for the operations naming none
	init    slotCfg
	classes []spec.Input // translated inputs, one per pool class
	keys    map[string]int
	missing []int // outOfRange: the slots named that do not exist, in order of appearance
	nslots  int   // outOfRange: how many slots there are
}

// slotIn is the input of an operation in a per-slot partition: the
// operation as recorded, and how it reads in the one-slot view.
type slotIn struct {
	part  *slotPart
	op    *Operation
	view  int // the view's index of the slot the operation names: 0 for the partition's slot, else -1
	class int // pool class if cut short, else -1
}

// viewInUse is a Reinit's list in the view of a slot it keeps in use.
var viewInUse = []int{0}

// io returns the operation's input and output in the one-slot view: slot
// i of the full state is slot 0, any other slot is -1 (no such slot), and
// a Reinit keeps slot 0 in use iff it keeps slot i.
func (in *slotIn) io() (spec.Input, spec.Output) {
	v, o := in.op.Input, in.op.Output
	switch v.Kind {
	case spec.OpRegister:
		if o.Result == spec.ResultOK {
			o.Handle.Slot = in.view
		}
		if o.Unknown {
			v.Worker = canonicalWorker
		}
	case spec.OpGetPid, spec.OpWaitForStartup:
		v.Handle.Slot = in.view
	case spec.OpLaunch, spec.OpExit, spec.OpForget:
		v.Slot = in.view
	case spec.OpReinit:
		v.InUse = nil
		if in.view == 0 {
			v.InUse = viewInUse
		}
	}
	return v, o
}

// slotCfg is a configuration of a per-slot partition: the one-slot state
// and the cut-short operations that may still take effect. fresh marks
// the initial configuration of [PerSlot]'s porcupine model, before the
// first operation says which slot the partition is.
type slotCfg struct {
	s     spec.State
	pool  pool
	part  *slotPart // the partition, for descriptions; nil when fresh
	fresh bool
}

// slotMachine is the per-slot check's machine.
type slotMachine struct{}

func (slotMachine) key(in any) string { return viewKey(in.(*slotIn).io()) }

// viewKey is the sweep's key of a known operation in a one-slot view:
// its translated input and output, all that spec.Step reads (the worker
// of a Register in a slot partition is always valid, so it is left out).
func viewKey(in spec.Input, out spec.Output) string {
	b := make([]byte, 0, 48)
	b = strconv.AppendInt(b, int64(in.Kind), 10)
	switch in.Kind {
	case spec.OpRegister:
		b = append(b, 'r')
		b = strconv.AppendInt(b, int64(out.Result), 10)
		b = appendHandle(b, out.Handle)
	case spec.OpGetPid, spec.OpWaitForStartup:
		b = appendHandle(b, in.Handle)
		b = append(b, 's')
		b = strconv.AppendInt(b, int64(out.Status), 10)
		b = append(b, 'p')
		b = strconv.AppendInt(b, int64(out.Pid), 10)
	case spec.OpLaunch, spec.OpExit, spec.OpForget:
		b = append(b, 's')
		b = strconv.AppendInt(b, int64(in.Slot), 10)
		b = append(b, 'p')
		b = strconv.AppendInt(b, int64(in.Pid), 10)
	case spec.OpReinit:
		for _, i := range in.InUse {
			b = append(b, 'u')
			b = strconv.AppendInt(b, int64(i), 10)
		}
	}
	return string(b)
}

func appendHandle(b []byte, h spec.Handle) []byte {
	b = append(b, 'h')
	b = strconv.AppendInt(b, int64(h.Slot), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, h.Generation, 10)
	b = append(b, '/')
	return strconv.AppendUint(b, h.Epoch, 10)
}

func (m slotMachine) step(c slotCfg, input any) []slotCfg {
	in := input.(*slotIn)
	if c.fresh {
		c = in.part.init
	}
	if in.class >= 0 {
		return []slotCfg{{s: c.s, pool: c.pool.add(in.class, 1), part: c.part}}
	}
	var out []slotCfg
	v, o := in.io()
	if c.pool.empty() {
		for _, s := range spec.Step(c.s, v, o) {
			out = append(out, slotCfg{s: s, part: c.part})
		}
		return out
	}
	for _, x := range spontaneous[slotCfg](m, c, c.pool, func(x slotCfg) pool { return x.pool }, in.part.fire) {
		for _, s := range spec.Step(x.s, v, o) {
			out = append(out, slotCfg{s: s, pool: x.pool, part: x.part})
		}
	}
	return out
}

// fire lets one pooled operation of class k take effect on x.
func (p *slotPart) fire(x slotCfg, k int) []slotCfg {
	var out []slotCfg
	for _, s := range spec.Step(x.s, p.classes[k], spec.Output{Unknown: true}) {
		if !s.Equal(x.s) {
			out = append(out, slotCfg{s: s, pool: x.pool.add(k, -1), part: p})
		}
	}
	return out
}

func (slotMachine) hash(c slotCfg) uint64 {
	if c.fresh {
		return 1
	}
	return c.s.Hash() ^ c.pool.hash()
}

func (slotMachine) equal(a, b slotCfg) bool {
	return a.fresh == b.fresh && a.s.Equal(b.s) && a.pool.equal(b.pool)
}

func (slotMachine) dominates(a, b slotCfg) bool {
	return a.fresh == b.fresh && a.s.Equal(b.s) && a.pool.covers(b.pool)
}

// readOnly is true of a known GetPid or WaitForStartup: [spec.Step]
// returns the state unchanged or nothing.
func (slotMachine) readOnly(input any) bool {
	in := input.(*slotIn)
	k := in.op.Input.Kind
	return in.class < 0 && (k == spec.OpGetPid || k == spec.OpWaitForStartup)
}

func (slotMachine) describeState(c slotCfg) string {
	if c.fresh {
		return "initial"
	}
	return describeView(c.s, c.part.slot, c.pool, c.part.classes)
}

func (slotMachine) describeOp(in, out any) string {
	op := in.(*slotIn).op
	return spec.Describe(op.Input, op.Output)
}

// describeView describes a one-slot state as slot i ("e0 alive s3:in-use
// g1 pid=-1"), with the pool of cut-short operations if any.
func describeView(s spec.State, i int, p pool, classes []spec.Input) string {
	var b strings.Builder
	fmt.Fprintf(&b, "e%d ", s.Epoch)
	if s.Alive {
		b.WriteString("alive")
	} else {
		b.WriteString("dead")
	}
	for _, sl := range s.Slots {
		if i >= 0 {
			fmt.Fprintf(&b, " s%d:%v", i, sl)
		} else {
			fmt.Fprintf(&b, " %v", sl)
		}
	}
	if !p.empty() {
		b.WriteString(" +pending{")
		first := true
		for k, n := range p {
			if n == 0 {
				continue
			}
			if !first {
				b.WriteString(", ")
			}
			first = false
			if k < len(classes) {
				fmt.Fprintf(&b, "%d×%s", n, classKey(classes[k]))
			} else {
				fmt.Fprintf(&b, "%d×class%d", n, k)
			}
		}
		b.WriteString("}")
	}
	return b.String()
}

// slotPartitions splits a history into the per-slot check's partitions,
// one per slot with operations, and one more for the operations whose
// handle names no slot (see [outOfRange]) if any, each a list of
// porcupine operations in call order whose Input is a *slotIn and
// Metadata the *Operation. It returns the partitions' descriptions too.
func slotPartitions(h History, nslots, static int) ([][]porcupine.Operation, []*slotPart) {
	n := max(nslots, 1)
	none := n // the partition of operations naming no slot
	routes := make([]route, len(h))
	counts := make([]int, n+1)
	global := 0
	for j := range h {
		routes[j] = routeOf(&h[j], nslots)
		r := routes[j]
		switch {
		case r.global:
			global++
		case r.slot >= 0:
			counts[r.slot]++
		case r.slot == outOfRange:
			counts[none]++
		}
	}
	parts := make([]*slotPart, n+1)
	byPart := make([][]porcupine.Operation, n+1)
	for i := range n + 1 {
		if counts[i] == 0 {
			continue
		}
		init := spec.Init(1, 0)
		if i < static {
			init = spec.Init(1, 1)
		}
		parts[i] = &slotPart{slot: i, keys: map[string]int{}}
		if i == none {
			parts[i].slot, parts[i].nslots = outOfRange, nslots
		}
		parts[i].init = slotCfg{s: init, part: parts[i]}
		byPart[i] = make([]porcupine.Operation, 0, counts[i]+global)
	}
	for j := range h {
		r, op := routes[j], &h[j]
		for i := range n + 1 {
			if parts[i] == nil || !r.inSlot(i) && !(i == none && r.slot == outOfRange) {
				continue
			}
			si := &slotIn{part: parts[i], op: op, view: -1, class: -1}
			if i == none {
				parts[i].noteMissing(op)
			} else {
				si.view = viewIndex(op, i)
			}
			if op.Output.Unknown {
				v, _ := si.io()
				si.class = parts[i].class(v)
			}
			byPart[i] = append(byPart[i], porcupine.Operation{ClientId: op.Client, Input: si,
				Call: op.Call.time(), Return: op.Return.time(), Metadata: op})
		}
	}
	var outParts [][]porcupine.Operation
	var outMeta []*slotPart
	for i := range n + 1 {
		if parts[i] != nil {
			sortByCall(byPart[i])
			outParts = append(outParts, byPart[i])
			outMeta = append(outMeta, parts[i])
		}
	}
	return outParts, outMeta
}

// viewIndex is the index in slot i's view of the slot op names (or, for a
// Reinit, of a slot it keeps in use): 0 if slot i, -1 otherwise.
func viewIndex(op *Operation, i int) int {
	s := -1
	switch op.Input.Kind {
	case spec.OpRegister:
		s = op.Output.Handle.Slot
	case spec.OpGetPid, spec.OpWaitForStartup:
		s = op.Input.Handle.Slot
	case spec.OpLaunch, spec.OpExit, spec.OpForget:
		s = op.Input.Slot
	case spec.OpReinit:
		for _, k := range op.Input.InUse {
			if k == i {
				s = i
			}
		}
	}
	if s == i {
		return 0
	}
	return -1
}

// historyOf converts porcupine operations in [History.Porcupine]'s form
// back to a History.
func historyOf(ops []porcupine.Operation) History {
	h := make(History, len(ops))
	for j, op := range ops {
		process, _ := op.Metadata.(string)
		ret := Stamp(op.Return)
		if op.Return == math.MaxInt64 {
			ret = Infinity
		}
		h[j] = Operation{Client: op.ClientId, Process: process, Input: op.Input.(spec.Input),
			Output: op.Output.(spec.Output), Call: Stamp(op.Call), Return: ret}
	}
	return h
}

// PerSlot returns the per-slot model for a cluster of nslots slots, the
// first static of them holding static workers. Its Partition splits a
// history in [History.Porcupine]'s form by slot: each part holds one
// slot's operations (a Register ResultOK, GetPid and WaitForStartup by
// their handle's slot; Launch, Exit and Forget by their slot), every
// Reinit and Died, and every Register whose output is unknown (it may
// have taken any slot). Operations whose legality does not depend on the
// state (see [Validity]) and Register ResultNoFreeSlot (see [Count]) are
// left out. Each part's state is the one-slot restriction of [spec.State]
// plus the cut-short operations that may still take effect, and every
// step is [spec.Step] on that one-slot state.
//
// A history linearizable under [Exact] is linearizable in every part, so
// a part without a linearization is a violation; the converse does not
// hold, which is why the no-free-slot and validity checks exist and why
// [Exact] remains for small histories (docs/checking.md).
func PerSlot(nslots, static int) porcupine.Model {
	return setModel[slotCfg](slotMachine{}, []slotCfg{{fresh: true}},
		func(ops []porcupine.Operation) [][]porcupine.Operation {
			parts, _ := slotPartitions(historyOf(ops), nslots, static)
			return parts
		})
}
