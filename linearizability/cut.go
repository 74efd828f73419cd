package linearizability

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// maxCutConfigs is the most configurations the sweep carries across a cut:
// a window starts from every one of them, so a cut is made only where the
// set is this small (at a quiescent point it is rarely more than a few).
const maxCutConfigs = 16

// inFlight is an operation called before a cut and still in flight there,
// with its class slot in the lin counts of the configurations at the cut.
type inFlight struct {
	idx   int32
	class uint8
}

// cutPoint is a point between two events of the sweep, just after a
// return: ops[:idx] have been called, the operations of pend are in flight
// (the others called have returned or were cut short), and start holds
// every configuration reachable there, each saying how many of the
// operations in flight of each class it has linearized.
type cutPoint[C any] struct {
	idx   int
	start []config[C]
	pend  []inFlight
}

// window is a run of a partition between two cuts: the operations
// ops[lo:hi] called between them, the operations from.pend called before
// the first and still in flight there, and the configurations from.start
// at the first cut. open lists the operations still in flight at the
// second cut: they may or may not take effect within the window. A window
// between two quiescent points has neither pend nor open.
type window[C any] struct {
	lo, hi int
	from   cutPoint[C]
	open   []int32
}

// size is the number of operations porcupine checks for w.
func (w window[C]) size() int { return len(w.from.pend) + w.hi - w.lo }

// winIn is the input of an operation in a window's porcupine model: the
// partition's input, the class slot of an operation in flight at the
// window's start (or -1), and whether it is still in flight at its end.
type winIn struct {
	in       any
	class    int
	optional bool
}

// windowOps returns the porcupine operations of w: those in flight at its
// start, then ops[w.lo:w.hi], each with a *winIn input.
func windowOps[C any](ops []porcupine.Operation, w window[C]) []porcupine.Operation {
	open := make(map[int32]bool, len(w.open))
	for _, j := range w.open {
		open[j] = true
	}
	out := make([]porcupine.Operation, 0, w.size())
	add := func(j int, class int) {
		op := ops[j]
		op.Input = &winIn{in: op.Input, class: class, optional: open[int32(j)]}
		out = append(out, op)
	}
	for _, p := range w.from.pend {
		add(int(p.idx), int(p.class))
	}
	for j := w.lo; j < w.hi; j++ {
		add(j, -1)
	}
	return out
}

// windowMachine is the machine porcupine checks a window with: the
// partition's machine m, with configurations that carry the sweep's lin
// counts of the operations in flight at the window's start.
//
// An operation in flight at the start of class k, in a configuration that
// has linearized n > 0 of its class before the cut, is one of those: it
// steps to the same configuration with n-1 (the class's operations are
// interchangeable, and all were called before any was linearized, so any
// of them may stand at that point). Otherwise it takes effect as m says.
// An operation still in flight at the window's end need not take effect
// within it: it steps to its configuration unchanged too.
//
// So porcupine finds a linearization of a window exactly when the sweep
// reaches its end with a configuration: the two engines decide the same
// question, and must agree.
type windowMachine[C any] struct {
	m machine[C]
}

func (w windowMachine[C]) step(c config[C], input any) []config[C] {
	in := input.(*winIn)
	if in.class >= 0 && c.count(in.class) > 0 {
		return []config[C]{{c: c.c, lin: c.with(in.class, -1)}}
	}
	var out []config[C]
	if in.optional {
		out = append(out, c)
	}
	for _, d := range w.m.step(c.c, in.in) {
		out = append(out, config[C]{c: d, lin: c.lin})
	}
	return out
}

func (w windowMachine[C]) key(in any) string { return w.m.key(in.(*winIn).in) }

func (w windowMachine[C]) hash(c config[C]) uint64 { return w.m.hash(c.c) ^ strhash(c.lin) }

func (w windowMachine[C]) equal(a, b config[C]) bool { return a.lin == b.lin && w.m.equal(a.c, b.c) }

func (w windowMachine[C]) dominates(a, b config[C]) bool {
	return a.lin == b.lin && w.m.dominates(a.c, b.c)
}

// readOnly is false: an operation in flight at the window's start
// changes the lin counts. No sweep runs on a window machine.
func (w windowMachine[C]) readOnly(any) bool { return false }

func (w windowMachine[C]) describeState(c config[C]) string {
	s := w.m.describeState(c.c)
	if n := linearizedEarly(c.lin); n > 0 {
		s += fmt.Sprintf(" (+%d in flight at the window's start, already linearized)", n)
	}
	return s
}

func (w windowMachine[C]) describeOp(in, out any) string { return w.m.describeOp(in.(*winIn).in, out) }

// linearizedEarly is the number of operations a lin string counts.
func linearizedEarly(lin string) int {
	n := 0
	for i := 0; i < len(lin); i++ {
		n += int(lin[i])
	}
	return n
}

// windowModel returns porcupine's model of w, for the operations
// [windowOps] returns.
func windowModel[C any](m machine[C], w window[C]) porcupine.Model {
	return setModel[config[C]](windowMachine[C]{m}, w.from.start, nil)
}
