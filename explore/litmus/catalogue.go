package litmus

import (
	"strings"

	"bgwmodel/impl/shmem"
)

// ann is how a litmus thread orders its accesses: a barrier between them,
// or orders on the accesses themselves.
type ann uint8

const (
	po     ann = iota // nothing: relaxed accesses in program order
	wb                // pg_write_barrier between the accesses
	rb                // pg_read_barrier between the accesses
	fsc               // pg_memory_barrier between the accesses
	rel               // release stores
	acq               // acquire loads
	relacq            // release stores and acquire loads
)

func (a ann) String() string {
	return [...]string{"po", "wb", "rb", "fsc", "rel", "acq", "relacq"}[a]
}

// between issues the barrier a stands for, if any.
func (a ann) between(m shmem.Memory) {
	switch a {
	case wb:
		m.Fence(shmem.WriteBarrier)
	case rb:
		m.Fence(shmem.ReadBarrier)
	case fsc:
		m.Fence(shmem.FullBarrier)
	}
}

// so is the order of the thread's stores.
func (a ann) so() shmem.Order {
	if a == rel || a == relacq {
		return shmem.Release
	}
	return shmem.Relaxed
}

// lo is the order of the thread's loads.
func (a ann) lo() shmem.Order {
	if a == acq || a == relacq {
		return shmem.Acquire
	}
	return shmem.Relaxed
}

// prog shows the barrier in a program listing.
func (a ann) prog() string {
	switch a {
	case wb, rb, fsc:
		return a.String() + "; "
	}
	return ""
}

func (a ann) st() string {
	if a.so() == shmem.Release {
		return "W.rel "
	}
	return "W "
}

func (a ann) ld() string {
	if a.lo() == shmem.Acquire {
		return "R.acq "
	}
	return "R "
}

// st and ld are the litmus threads' accesses; the offsets are always valid,
// so an error is an explorer bug.
func st(m shmem.Memory, off shmem.Offset, v uint32, o shmem.Order) {
	if err := m.Store32(off, v, o); err != nil {
		panic(err)
	}
}

func ld(m shmem.Memory, off shmem.Offset, o shmem.Order) uint32 {
	v, err := m.Load32(off, o)
	if err != nil {
		panic(err)
	}
	return v
}

// name is FAMILY, or FAMILY+a+b… unless every annotation is po.
func name(family string, as ...ann) string {
	plain := true
	parts := []string{family}
	for _, a := range as {
		plain = plain && a == po
		parts = append(parts, a.String())
	}
	if plain {
		return family
	}
	return strings.Join(parts, "+")
}

func mp(a0, a1 ann) Test {
	return Test{
		Name: name("MP", a0, a1), Family: "MP", Cond: "1:r0=1 ∧ 1:r1=0",
		Prog: "P0: " + a0.st() + "x=1; " + a0.prog() + a0.st() + "y=1 ‖ P1: " + a1.ld() + "y; " + a1.prog() + a1.ld() + "x",
		Threads: []Thread{
			func(m shmem.Memory, r *Regs) {
				st(m, X, 1, a0.so())
				a0.between(m)
				st(m, Y, 1, a0.so())
			},
			func(m shmem.Memory, r *Regs) {
				r[0] = ld(m, Y, a1.lo())
				a1.between(m)
				r[1] = ld(m, X, a1.lo())
			},
		},
		Exists: func(o *Outcome) bool { return o.R(1, 0) == 1 && o.R(1, 1) == 0 },
	}
}

func sb(a0, a1 ann) Test {
	thread := func(a ann, mine, other shmem.Offset) Thread {
		return func(m shmem.Memory, r *Regs) {
			st(m, mine, 1, a.so())
			a.between(m)
			r[0] = ld(m, other, a.lo())
		}
	}
	return Test{
		Name: name("SB", a0, a1), Family: "SB", Cond: "0:r0=0 ∧ 1:r0=0",
		Prog:    "P0: " + a0.st() + "x=1; " + a0.prog() + a0.ld() + "y ‖ P1: " + a1.st() + "y=1; " + a1.prog() + a1.ld() + "x",
		Threads: []Thread{thread(a0, X, Y), thread(a1, Y, X)},
		Exists:  func(o *Outcome) bool { return o.R(0, 0) == 0 && o.R(1, 0) == 0 },
	}
}

func lb(a0, a1 ann) Test {
	thread := func(a ann, from, to shmem.Offset) Thread {
		return func(m shmem.Memory, r *Regs) {
			r[0] = ld(m, from, a.lo())
			a.between(m)
			st(m, to, 1, a.so())
		}
	}
	return Test{
		Name: name("LB", a0, a1), Family: "LB", Cond: "0:r0=1 ∧ 1:r0=1",
		Prog:    "P0: " + a0.ld() + "x; " + a0.prog() + a0.st() + "y=1 ‖ P1: " + a1.ld() + "y; " + a1.prog() + a1.st() + "x=1",
		Threads: []Thread{thread(a0, X, Y), thread(a1, Y, X)},
		Exists:  func(o *Outcome) bool { return o.R(0, 0) == 1 && o.R(1, 0) == 1 },
	}
}

func twoPlusTwoW(a0, a1 ann) Test {
	thread := func(a ann, first, second shmem.Offset) Thread {
		return func(m shmem.Memory, r *Regs) {
			st(m, first, 1, a.so())
			a.between(m)
			st(m, second, 2, a.so())
		}
	}
	return Test{
		Name: name("2+2W", a0, a1), Family: "2+2W", Cond: "x=1 ∧ y=1",
		Prog:    "P0: " + a0.st() + "x=1; " + a0.prog() + a0.st() + "y=2 ‖ P1: " + a1.st() + "y=1; " + a1.prog() + a1.st() + "x=2",
		Threads: []Thread{thread(a0, X, Y), thread(a1, Y, X)},
		Exists:  func(o *Outcome) bool { return o.M(X) == 1 && o.M(Y) == 1 },
	}
}

func iriw(a2, a3 ann) Test {
	writer := func(off shmem.Offset) Thread {
		return func(m shmem.Memory, r *Regs) { st(m, off, 1, shmem.Relaxed) }
	}
	reader := func(a ann, first, second shmem.Offset) Thread {
		return func(m shmem.Memory, r *Regs) {
			r[0] = ld(m, first, a.lo())
			a.between(m)
			r[1] = ld(m, second, a.lo())
		}
	}
	return Test{
		Name: name("IRIW", a2, a3), Family: "IRIW", Cond: "2:r0=1 ∧ 2:r1=0 ∧ 3:r0=1 ∧ 3:r1=0",
		Prog: "P0: W x=1 ‖ P1: W y=1 ‖ P2: " + a2.ld() + "x; " + a2.prog() + a2.ld() + "y ‖ P3: " +
			a3.ld() + "y; " + a3.prog() + a3.ld() + "x",
		Threads: []Thread{writer(X), writer(Y), reader(a2, X, Y), reader(a3, Y, X)},
		Exists: func(o *Outcome) bool {
			return o.R(2, 0) == 1 && o.R(2, 1) == 0 && o.R(3, 0) == 1 && o.R(3, 1) == 0
		},
	}
}

func wrc(a1, a2 ann) Test {
	return Test{
		Name: name("WRC", a1, a2), Family: "WRC", Cond: "1:r0=1 ∧ 2:r0=1 ∧ 2:r1=0",
		Prog: "P0: W x=1 ‖ P1: " + a1.ld() + "x; " + a1.prog() + a1.st() + "y=1 ‖ P2: " +
			a2.ld() + "y; " + a2.prog() + a2.ld() + "x",
		Threads: []Thread{
			func(m shmem.Memory, r *Regs) { st(m, X, 1, shmem.Relaxed) },
			func(m shmem.Memory, r *Regs) {
				r[0] = ld(m, X, a1.lo())
				a1.between(m)
				st(m, Y, 1, a1.so())
			},
			func(m shmem.Memory, r *Regs) {
				r[0] = ld(m, Y, a2.lo())
				a2.between(m)
				r[1] = ld(m, X, a2.lo())
			},
		},
		Exists: func(o *Outcome) bool { return o.R(1, 0) == 1 && o.R(2, 0) == 1 && o.R(2, 1) == 0 },
	}
}

func sTest(a0, a1 ann) Test {
	return Test{
		Name: name("S", a0, a1), Family: "S", Cond: "1:r0=1 ∧ x=2",
		Prog: "P0: " + a0.st() + "x=2; " + a0.prog() + a0.st() + "y=1 ‖ P1: " + a1.ld() + "y; " + a1.prog() + a1.st() + "x=1",
		Threads: []Thread{
			func(m shmem.Memory, r *Regs) {
				st(m, X, 2, a0.so())
				a0.between(m)
				st(m, Y, 1, a0.so())
			},
			func(m shmem.Memory, r *Regs) {
				r[0] = ld(m, Y, a1.lo())
				a1.between(m)
				st(m, X, 1, a1.so())
			},
		},
		Exists: func(o *Outcome) bool { return o.R(1, 0) == 1 && o.M(X) == 2 },
	}
}

func rTest(a0, a1 ann) Test {
	return Test{
		Name: name("R", a0, a1), Family: "R", Cond: "y=2 ∧ 1:r0=0",
		Prog: "P0: " + a0.st() + "x=1; " + a0.prog() + a0.st() + "y=1 ‖ P1: " + a1.st() + "y=2; " + a1.prog() + a1.ld() + "x",
		Threads: []Thread{
			func(m shmem.Memory, r *Regs) {
				st(m, X, 1, a0.so())
				a0.between(m)
				st(m, Y, 1, a0.so())
			},
			func(m shmem.Memory, r *Regs) {
				st(m, Y, 2, a1.so())
				a1.between(m)
				r[0] = ld(m, X, a1.lo())
			},
		},
		Exists: func(o *Outcome) bool { return o.M(Y) == 2 && o.R(1, 0) == 0 },
	}
}

// coherence is the four single-location tests and CoRR2 (two writers,
// two readers who must agree on the order of the writes).
func coherence() []Test {
	w := func(v uint32) Thread {
		return func(m shmem.Memory, r *Regs) { st(m, X, v, shmem.Relaxed) }
	}
	rr := func(m shmem.Memory, r *Regs) {
		r[0] = ld(m, X, shmem.Relaxed)
		r[1] = ld(m, X, shmem.Relaxed)
	}
	return []Test{{
		Name: "CoRR", Family: "Co", Prog: "P0: W x=1 ‖ P1: R x; R x", Cond: "1:r0=1 ∧ 1:r1=0",
		Threads: []Thread{w(1), rr},
		Exists:  func(o *Outcome) bool { return o.R(1, 0) == 1 && o.R(1, 1) == 0 },
	}, {
		Name: "CoWR", Family: "Co", Prog: "P0: W x=1; R x ‖ P1: W x=2", Cond: "0:r0=2 ∧ x=1",
		Threads: []Thread{func(m shmem.Memory, r *Regs) {
			st(m, X, 1, shmem.Relaxed)
			r[0] = ld(m, X, shmem.Relaxed)
		}, w(2)},
		Exists: func(o *Outcome) bool { return o.R(0, 0) == 2 && o.M(X) == 1 },
	}, {
		Name: "CoRW", Family: "Co", Prog: "P0: R x; W x=1 ‖ P1: W x=2", Cond: "0:r0=2 ∧ x=2",
		Threads: []Thread{func(m shmem.Memory, r *Regs) {
			r[0] = ld(m, X, shmem.Relaxed)
			st(m, X, 1, shmem.Relaxed)
		}, w(2)},
		Exists: func(o *Outcome) bool { return o.R(0, 0) == 2 && o.M(X) == 2 },
	}, {
		Name: "CoWW", Family: "Co", Prog: "P0: W x=1; W x=2", Cond: "x=1",
		Threads: []Thread{func(m shmem.Memory, r *Regs) {
			st(m, X, 1, shmem.Relaxed)
			st(m, X, 2, shmem.Relaxed)
		}},
		Exists: func(o *Outcome) bool { return o.M(X) == 1 },
	}, {
		Name: "CoRR2", Family: "Co", Prog: "P0: W x=1 ‖ P1: W x=2 ‖ P2: R x; R x ‖ P3: R x; R x",
		Cond:    "2:r0=1 ∧ 2:r1=2 ∧ 3:r0=2 ∧ 3:r1=1",
		Threads: []Thread{w(1), w(2), rr, rr},
		Exists: func(o *Outcome) bool {
			return o.R(2, 0) == 1 && o.R(2, 1) == 2 && o.R(3, 0) == 2 && o.R(3, 1) == 1
		},
	}}
}

// Tests returns every litmus test, by family.
func Tests() []Test {
	ts := []Test{
		mp(po, po), mp(wb, po), mp(po, rb), mp(wb, rb), mp(rel, po), mp(po, acq), mp(rel, acq),
		mp(wb, acq), mp(rel, rb), mp(fsc, fsc),
		sb(po, po), sb(wb, wb), sb(rb, rb), sb(relacq, relacq), sb(fsc, po), sb(fsc, fsc),
		lb(po, po), lb(wb, wb), lb(rb, rb), lb(relacq, relacq), lb(fsc, fsc),
		twoPlusTwoW(po, po), twoPlusTwoW(wb, wb), twoPlusTwoW(rel, rel), twoPlusTwoW(fsc, fsc),
		iriw(po, po), iriw(acq, acq), iriw(rb, rb), iriw(fsc, fsc),
		wrc(po, po), wrc(wb, rb), wrc(rel, acq), wrc(po, acq), wrc(rel, po), wrc(fsc, fsc),
		sTest(po, po), sTest(wb, po), sTest(po, rb), sTest(wb, rb), sTest(rel, acq), sTest(fsc, fsc),
		rTest(po, po), rTest(po, fsc), rTest(wb, fsc), rTest(relacq, relacq), rTest(fsc, fsc),
	}
	return append(ts, coherence()...)
}

// Lookup returns the test of [Tests] called name.
func Lookup(name string) (Test, bool) {
	for _, lt := range Tests() {
		if lt.Name == name {
			return lt, true
		}
	}
	return Test{}, false
}
