package linearizability

import (
	"errors"
	"math"
	"slices"
	"sort"

	"github.com/anishathalye/porcupine"
)

// errTimeout and errTooConcurrent end a sweep without a verdict, as
// errMemory does.
var (
	errTimeout       = errors.New("linearizability: timed out")
	errTooConcurrent = errors.New("linearizability: more than 255 kinds of operations, or 255 of one kind, in flight at once in one partition")
)

// sortByCall sorts porcupine operations by call time, keeping the order of
// equal times.
func sortByCall(ops []porcupine.Operation) {
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
}

// config is a configuration of the sweep: the machine's configuration and,
// for each class of pending operations (a slot of the sweep's class
// table), how many of them are already linearized: byte k of lin, a
// missing byte meaning 0.
type config[C any] struct {
	c   C
	lin string
}

func (e config[C]) count(k int) int {
	if k < len(e.lin) {
		return int(e.lin[k])
	}
	return 0
}

// with returns e's lin with class k's count changed by d.
func (e config[C]) with(k, d int) string {
	n := max(len(e.lin), k+1)
	b := make([]byte, n)
	copy(b, e.lin)
	b[k] = byte(int(b[k]) + d)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	return string(b[:n])
}

// pendClass is a class of interchangeable pending operations: the same
// key, so the same effect and legality in every configuration, and all
// called before any configuration linearized one of them (see
// [sweeper.touched]), so any of them may stand at the point where one is
// linearized.
type pendClass struct {
	key   string
	khash uint64 // strhash(key), for the step memo
	rep   int    // an operation of the class, for its input
	n     int    // how many are in flight
	read  bool   // the machine's readOnly: see [sweeper.saturate]
}

// sweeper computes, event by event, every configuration reachable by a
// linearization of the operations seen so far (the "just in time"
// algorithm of Lowe, 2017): a call adds an operation to the pending
// table; a return keeps only the configurations in which that operation
// has been linearized, linearizing pending operations in every possible
// order to get there. Pending operations with the same key (the machine
// guarantees they are interchangeable) are counted, not told apart, so
// ten identical registrations in flight make eleven configurations, not
// 1024. Configurations are deduplicated and dominated ones pruned; a
// pending read legal in a configuration is linearized there at once (see
// [sweeper.saturate]), and steps are remembered (see [stepMemo]).
// Cut-short operations never return: at their call they join the pool of
// every configuration, from which they may take effect before any later
// operation (see [spontaneous]).
//
// Just after any return, the configurations are every way the partition
// may be at that point, each with what it has linearized of the
// operations in flight; where they are few, the history splits there (a
// cut): porcupine can check the operations before and the operations
// after separately, the later ones from those configurations. At a
// quiescent point (no operation in flight) this is the classic split, but
// a cut needs none: a slot where operations overlap without end still
// splits into windows of a few hundred operations, so porcupine's memory,
// which grows with the square of a window, stays small.
type sweeper[C any] struct {
	m       machine[C]
	ops     []porcupine.Operation
	cur     []config[C]
	classes []pendClass    // slots; n == 0 marks a free slot
	slotOf  map[string]int // key -> the slot new operations of that key join
	pending int
	seen    map[uint64][]config[C]
	memo    stepMemo[C]
}

// sweepResult is how a sweep ended.
type sweepResult[C any] struct {
	failed int       // index of the operation whose return no linearization allows, or -1
	fail   window[C] // a window ending just after that return
	err    error     // errTimeout, errMemory, errTooConcurrent, or nil
	called int       // operations called when the sweep stopped
}

// maxPendingClasses bounds the class table (lin strings hold a byte per
// class and a count up to 255 per byte).
const maxPendingClasses = 255

// checkEvery is how many events the sweep handles between two looks at
// its limits.
const checkEvery = 1024

// recentCuts is how many of the latest candidate cuts the sweep keeps, to
// start a failure window a little before the failing operation.
const recentCuts = 32

// sweep runs the sweep over ops (sorted by call) from the configurations
// init, handing each window of at least minWindow operations to emit in
// order (the last one may be shorter). A window ends at a cut: just after
// a return, where the configurations are at most [maxCutConfigs] (at a
// quiescent point, or where the operations in flight leave few ways to
// get there). It stops early if emit returns false, when lim says so, or
// at the first operation whose return no linearization allows.
func sweep[C any](m machine[C], ops []porcupine.Operation, init []C, minWindow int,
	lim *limits, emit func(window[C]) bool) sweepResult[C] {
	s := &sweeper[C]{m: m, ops: ops, seen: map[uint64][]config[C]{}, slotOf: map[string]int{}}
	s.memo.init(m)
	for _, c := range init {
		s.cur = append(s.cur, config[C]{c: c})
	}
	rets := make([]int32, 0, len(ops))
	for j := range ops {
		if ops[j].Return != math.MaxInt64 {
			rets = append(rets, int32(j))
		}
	}
	sort.Slice(rets, func(a, b int) bool {
		x, y := &ops[rets[a]], &ops[rets[b]]
		if x.Return != y.Return {
			return x.Return < y.Return
		}
		return rets[a] < rets[b]
	})
	classOf := make([]uint8, len(ops))
	pos := make([]int32, len(ops)) // index in flight of each operation in flight
	var flight []int32             // the operations called, not returned, not cut short
	from := cutPoint[C]{idx: 0, start: slices.Clone(s.cur)}
	// The latest candidate cuts, for a failure window with some context.
	recent := []cutPoint[C]{from}
	ci, ri := 0, 0
	for events := 0; ci < len(ops) || ri < len(rets); events++ {
		if events%checkEvery == 0 {
			if err := lim.err(); err != nil {
				return sweepResult[C]{failed: -1, err: err, called: ci}
			}
		}
		if ci < len(ops) && (ri == len(rets) || ops[ci].Call <= ops[rets[ri]].Return) {
			j := ci
			ci++
			if ops[j].Return == math.MaxInt64 {
				for k := range s.cur {
					s.cur[k].c = m.step(s.cur[k].c, ops[j].Input)[0]
				}
				continue
			}
			k, ok := s.call(j)
			if !ok {
				return sweepResult[C]{failed: -1, err: errTooConcurrent, called: ci}
			}
			classOf[j] = uint8(k)
			pos[j] = int32(len(flight))
			flight = append(flight, int32(j))
			continue
		}
		j := int(rets[ri])
		ri++
		k := int(classOf[j])
		s.closure(k)
		if len(s.cur) == 0 {
			q := recent[0]
			for r := len(recent) - 1; r >= 0; r-- {
				if recent[r].idx <= j-failContext {
					q = recent[r]
					break
				}
			}
			var open []int32
			for _, f := range flight {
				if int(f) != j {
					open = append(open, f)
				}
			}
			return sweepResult[C]{failed: j, fail: window[C]{lo: q.idx, hi: ci, from: q, open: open}, called: ci}
		}
		s.ret(k)
		last := flight[len(flight)-1]
		flight[pos[j]], pos[last] = last, pos[j]
		flight = flight[:len(flight)-1]
		if len(s.cur) > maxCutConfigs {
			continue
		}
		far := ci-from.idx >= minWindow
		if !far && ci-recent[len(recent)-1].idx < failContext {
			continue
		}
		// A cut: every configuration reachable here is known, with what it
		// has linearized of the operations in flight.
		here := cutPoint[C]{idx: ci, start: slices.Clone(s.cur), pend: make([]inFlight, len(flight))}
		for i, f := range flight {
			here.pend[i] = inFlight{idx: f, class: classOf[f]}
		}
		slices.SortFunc(here.pend, func(a, b inFlight) int { return int(a.idx - b.idx) })
		if len(recent) == recentCuts {
			recent = append(recent[:0], recent[1:]...)
		}
		recent = append(recent, here)
		if far {
			if !emit(window[C]{lo: from.idx, hi: ci, from: from, open: idxOf(here.pend)}) {
				return sweepResult[C]{failed: -1, called: ci}
			}
			from = here
		}
	}
	if from.idx < len(ops) || len(from.pend) > 0 {
		emit(window[C]{lo: from.idx, hi: len(ops), from: from})
	}
	return sweepResult[C]{failed: -1, called: ci}
}

// idxOf returns the operations of pend.
func idxOf(pend []inFlight) []int32 {
	out := make([]int32, len(pend))
	for i, p := range pend {
		out[i] = p.idx
	}
	return out
}

// failContext is how many operations before the failing one a failure
// window holds, if a cut allows: enough for porcupine's view to show how
// the partition got there.
const failContext = 16

// call adds operation j to the pending table and returns its class slot;
// false if the table is full.
func (s *sweeper[C]) call(j int) (int, bool) {
	key := s.m.key(s.ops[j].Input)
	s.pending++
	if k, ok := s.slotOf[key]; ok && !s.touched(k) {
		if s.classes[k].n == 255 {
			return 0, false
		}
		s.classes[k].n++
		return k, true
	}
	k := 0
	for k < len(s.classes) && s.classes[k].n > 0 {
		k++
	}
	if k == maxPendingClasses {
		return 0, false
	}
	if k == len(s.classes) {
		s.classes = append(s.classes, pendClass{})
	}
	s.classes[k] = pendClass{key: key, khash: strhash(key), rep: j, n: 1, read: s.m.readOnly(s.ops[j].Input)}
	s.slotOf[key] = k
	return k, true
}

// ret removes one returned operation of class slot k: the configurations
// count one linearized operation less of it (closure made sure there was
// one).
func (s *sweeper[C]) ret(k int) {
	s.pending--
	for i := range s.cur {
		if s.cur[i].count(k) > 0 {
			s.cur[i].lin = s.cur[i].with(k, -1)
		}
	}
	if s.classes[k].n--; s.classes[k].n == 0 && s.slotOf[s.classes[k].key] == k {
		delete(s.slotOf, s.classes[k].key)
	}
}

// touched reports whether some configuration has linearized an operation
// of class slot k. A new operation must not join such a class: the class
// counts operations that are interchangeable at every linearization point
// it records, and one called after that point could not have taken effect
// there (taking it for the linearized one would pass histories with no
// linearization). It opens a class slot of its own instead.
func (s *sweeper[C]) touched(k int) bool {
	for i := range s.cur {
		if s.cur[i].count(k) > 0 {
			return true
		}
	}
	return false
}

// closure replaces the configurations by those in which an operation of
// class slot k is linearized, linearizing any pending operations before
// it in any order.
func (s *sweeper[C]) closure(k int) {
	if len(s.seen) > 256 {
		s.seen = map[uint64][]config[C]{}
	} else {
		clear(s.seen)
	}
	var stack, next []config[C]
	for _, e := range s.cur {
		if e = s.saturate(e); s.add(e) {
			stack = append(stack, e)
		}
	}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if e.count(k) > 0 {
			next = append(next, e)
			continue
		}
		for p := range s.classes {
			if e.count(p) >= s.classes[p].n {
				continue
			}
			out, _ := s.step(e.c, p)
			for _, c := range out {
				f := s.saturate(config[C]{c, e.with(p, 1)})
				if s.add(f) {
					stack = append(stack, f)
				}
			}
		}
	}
	s.cur = s.prune(next)
}

// saturate returns e with every pending read-only operation that is
// legal in e's configuration linearized: the class counts of those raised
// to the number in flight. The result dominates e, so the sweep need not
// keep e. Any way to go on from e linearizes such an operation r at some
// later point, from some configuration x that e's configuration c has
// become; r leaves x as it is, or as its pooled cut-short operations may
// leave it, which the step after r may do anyway. Leaving r out there and
// taking it at c instead (where it is legal, all the operations before
// it having been called before r returned and returned after r was
// called) gives a way to go on from the result with the same effects.
// Without it the sweep would carry every subset of the reads in flight,
// 2^n configurations for n reads, each stepped by every other operation.
func (s *sweeper[C]) saturate(e config[C]) config[C] {
	for p := range s.classes {
		cl := &s.classes[p]
		if !cl.read || e.count(p) >= cl.n {
			continue
		}
		if _, idle := s.step(e.c, p); idle {
			e.lin = e.with(p, cl.n-e.count(p))
		}
	}
	return e
}

// add records e as seen and reports whether it is new.
func (s *sweeper[C]) add(e config[C]) bool {
	h := s.m.hash(e.c) ^ strhash(e.lin)
	for _, f := range s.seen[h] {
		if f.lin == e.lin && s.m.equal(f.c, e.c) {
			return false
		}
	}
	s.seen[h] = append(s.seen[h], e)
	return true
}

func strhash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
