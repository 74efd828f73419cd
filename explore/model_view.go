package explore

import (
	"strings"

	"bgwmodel/impl/shmem"
)

// viewModel is the promise-free fragment of the promising semantics (Kang,
// Hur, Lahav, Vafeiadis, Dreyer, "A Promising Semantics for
// Relaxed-Memory Concurrency", POPL 2017) for release/acquire, relaxed
// accesses and fences.
//
// Memory is, per location, a list of messages in modification order (mo);
// a message's timestamp is its position in that list. Each message carries
// a view (per location, a message: "what its writer had seen"). Each thread
// has a current view cur, an acquire view acq (cur plus the views of every
// message read, for a later acquire fence) and a release view rel(x) per
// location (what a relaxed store to x carries: the thread's view at its
// last release fence or release store to x). A global view S orders SC
// fences.
//
// Timestamps are dense: a store may take any free timestamp above the
// thread's view of its location, so it is inserted after any message not
// older than that view, unless the next message is an RMW that read that
// message (an RMW's interval is adjacent to the one it read: there is no
// room between them). Views point at messages and compare by position, so
// inserting a message keeps every view's meaning.
type viewModel struct {
	ch      chooser
	verbose bool
	locs    []*vloc // by loc.idx
	lref    []*loc
	threads []*vthread
	syncs   []view
	sc      view // the global SC-fence view S
	slots   []int
}

// vloc is one location's messages in modification order; msgs[0] is the
// initial message.
type vloc struct {
	msgs   []*vmsg
	nextID int
}

// vmsg is one message: a value written at a timestamp (its position pos in
// mo) with its message view.
type vmsg struct {
	v        val
	pos      int
	id       int // creation number in its location, 0 for the initial message
	view     view
	attached bool // written by an RMW right after the message it read
}

// view maps a location (by loc.idx) to a message of that location; a nil
// entry or one past the end is the location's initial message. Views are
// immutable once made: every operation builds a new one.
type view []*vmsg

// at is the timestamp (mo position) of the view's message for location i.
func (v view) at(i int) int {
	if i < len(v) && v[i] != nil {
		return v[i].pos
	}
	return 0
}

// join is the pointwise maximum of a and b.
func join(a, b view) view {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	var out view
	for i, m := range b {
		if m != nil && m.pos > a.at(i) {
			if out == nil {
				out = make(view, max(len(a), len(b)))
				copy(out, a)
			}
			out[i] = m
		}
	}
	if out == nil {
		return a
	}
	return out
}

// with is a ⊔ [i ↦ m].
func with(a view, i int, m *vmsg) view {
	if m.pos <= a.at(i) {
		return a
	}
	out := make(view, max(len(a), i+1))
	copy(out, a)
	out[i] = m
	return out
}

// vthread is one thread's views.
type vthread struct {
	cur, acq view
	relBase  view   // rel(x) for every x, set by release fences
	relLoc   []view // per location, what release stores/relaxed stores add
}

// rel is the thread's release view for location i.
func (th *vthread) rel(i int) view {
	if i < len(th.relLoc) {
		return join(th.relBase, th.relLoc[i])
	}
	return th.relBase
}

func (th *vthread) setRelLoc(i int, v view) {
	for i >= len(th.relLoc) {
		th.relLoc = append(th.relLoc, nil)
	}
	th.relLoc[i] = v
}

func (m *viewModel) addThread(t ThreadID, parent ThreadID) {
	th := &vthread{}
	if parent >= 0 {
		p := m.threads[parent]
		th.cur, th.acq = p.cur, p.cur
	}
	for int(t) >= len(m.threads) {
		m.threads = append(m.threads, nil)
	}
	m.threads[t] = th
}

func (m *viewModel) addLoc(l *loc) {
	m.locs = append(m.locs, &vloc{msgs: []*vmsg{{v: l.init}}, nextID: 1})
	m.lref = append(m.lref, l)
}

func (m *viewModel) load(t ThreadID, l *loc, o shmem.Order) (val, string) {
	th, ml := m.threads[t], m.locs[l.idx]
	last := len(ml.msgs) - 1
	k := m.ch.pick(ChooseRead, last-th.cur.at(l.idx)+1)
	msg := ml.msgs[last-k]
	m.read(th, l.idx, msg, acquires(o))
	return msg.v, m.msgInfo("read", l, msg)
}

// read is a thread's view update for reading msg at location i.
func (m *viewModel) read(th *vthread, i int, msg *vmsg, acq bool) {
	th.cur = with(th.cur, i, msg)
	if acq {
		th.cur = join(th.cur, msg.view)
	}
	th.acq = join(with(th.acq, i, msg), msg.view)
}

func (m *viewModel) store(t ThreadID, l *loc, v val, o shmem.Order) string {
	th, ml := m.threads[t], m.locs[l.idx]
	last := len(ml.msgs) - 1
	m.slots = m.slots[:0]
	for p := last; p >= th.cur.at(l.idx); p-- {
		if p == last || !ml.msgs[p+1].attached {
			m.slots = append(m.slots, p)
		}
	}
	k := m.ch.pick(ChooseWrite, len(m.slots))
	msg := m.insert(l, m.slots[k]+1, v, false)
	m.write(th, l.idx, msg, releases(o), nil)
	return m.msgInfo("wrote", l, msg)
}

// insert makes a message of l at mo position at.
func (m *viewModel) insert(l *loc, at int, v val, attached bool) *vmsg {
	ml := m.locs[l.idx]
	msg := &vmsg{v: v, pos: at, id: ml.nextID, attached: attached}
	ml.nextID++
	ml.msgs = append(ml.msgs, nil)
	copy(ml.msgs[at+1:], ml.msgs[at:])
	ml.msgs[at] = msg
	for _, x := range ml.msgs[at+1:] {
		x.pos++
	}
	return msg
}

// write is a thread's view update for writing msg at location i, and sets
// msg's view. readView is the view of the message an RMW read (release
// sequences continue through RMWs).
func (m *viewModel) write(th *vthread, i int, msg *vmsg, rel bool, readView view) {
	th.cur = with(th.cur, i, msg)
	th.acq = with(th.acq, i, msg)
	if rel {
		th.setRelLoc(i, th.cur)
		msg.view = join(th.cur, readView)
		return
	}
	var r view
	if i < len(th.relLoc) {
		r = th.relLoc[i]
	}
	r = with(r, i, msg)
	th.setRelLoc(i, r)
	msg.view = join(join(th.relBase, r), readView)
}

// rmw reads any message not older than the thread's view whose successor
// slot is free (no RMW has read it yet) and writes right after it, so the
// pair is atomic: nothing can ever be placed between them.
func (m *viewModel) rmw(t ThreadID, l *loc, o shmem.Order, f func(val) (val, bool)) (val, string) {
	th, ml := m.threads[t], m.locs[l.idx]
	last := len(ml.msgs) - 1
	type cand struct {
		p  int
		nv val
		w  bool
	}
	var cands []cand
	for p := last; p >= th.cur.at(l.idx); p-- {
		nv, w := f(ml.msgs[p].v)
		if w && p < last && ml.msgs[p+1].attached {
			continue
		}
		cands = append(cands, cand{p, nv, w})
	}
	c := cands[m.ch.pick(ChooseRead, len(cands))]
	rd := ml.msgs[c.p]
	if !c.w {
		m.read(th, l.idx, rd, acquires(loadPart(o)))
		return rd.v, m.msgInfo("read", l, rd)
	}
	m.read(th, l.idx, rd, acquires(o))
	nm := m.insert(l, c.p+1, c.nv, true)
	m.write(th, l.idx, nm, releases(o), rd.view)
	if !m.verbose {
		return rd.v, ""
	}
	return rd.v, m.msgInfo("read", l, rd) + "; " + m.msgInfo("wrote", l, nm)
}

func (m *viewModel) fence(t ThreadID, f shmem.Fence) string {
	th := m.threads[t]
	switch f {
	case shmem.ReadBarrier:
		th.cur = th.acq
	case shmem.WriteBarrier:
		th.relBase, th.relLoc = th.cur, nil
	case shmem.FullBarrier:
		v := join(th.acq, m.sc)
		th.cur, th.acq, th.relBase, th.relLoc = v, v, v, nil
		m.sc = v
	}
	if !m.verbose {
		return ""
	}
	return "cur " + m.fmtView(th.cur)
}

func (m *viewModel) growSync(s int) {
	for s >= len(m.syncs) {
		m.syncs = append(m.syncs, nil)
	}
}

func (m *viewModel) release(t ThreadID, s int) {
	m.growSync(s)
	m.syncs[s] = join(m.syncs[s], m.threads[t].cur)
}

func (m *viewModel) acquire(t ThreadID, s int) {
	m.growSync(s)
	th := m.threads[t]
	th.cur = join(th.cur, m.syncs[s])
	th.acq = join(th.acq, m.syncs[s])
}

func (m *viewModel) buffered(ThreadID) bool               { return false }
func (m *viewModel) inBuffer(ThreadID, *loc) bool         { return false }
func (m *viewModel) bufferShares(ThreadID, ThreadID) bool { return false }
func (m *viewModel) flush(ThreadID) (*loc, val, string)   { return nil, val{}, "" }
func (m *viewModel) drain(ThreadID)                       {}

func (m *viewModel) final(l *loc) val {
	msgs := m.locs[l.idx].msgs
	return msgs[len(msgs)-1].v
}

func (m *viewModel) hash(e *encoder, sorted []*loc) {
	hv := func(v view) {
		for _, l := range sorted {
			e.u64(uint64(v.at(l.idx)))
		}
	}
	for _, l := range sorted {
		msgs := m.locs[l.idx].msgs
		e.u64(uint64(len(msgs)))
		for _, x := range msgs {
			e.val(x.v)
			e.bool(x.attached)
			hv(x.view)
		}
	}
	for _, th := range m.threads {
		hv(th.cur)
		hv(th.acq)
		for _, l := range sorted {
			hv(th.rel(l.idx))
		}
	}
	e.u64(uint64(len(m.syncs)))
	for _, s := range m.syncs {
		hv(s)
	}
	hv(m.sc)
}

// msgInfo describes a message for a trace row: "read #2 ts1/2" is message
// number 2 of its location at mo position 1, the newest being at 2.
func (m *viewModel) msgInfo(verb string, l *loc, msg *vmsg) string {
	if !m.verbose {
		return ""
	}
	last := len(m.locs[l.idx].msgs) - 1
	s := verb + " #" + itoa(msg.id) + " ts" + itoa(msg.pos) + "/" + itoa(last)
	if verb == "read" && msg.pos < last {
		s += " (stale)"
	}
	if verb == "wrote" && msg.pos < last {
		s += " (inserted)"
	}
	return s
}

// fmtView shows a view as "{x:1 y:0}" (timestamps by location).
func (m *viewModel) fmtView(v view) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range m.lref {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(l.label())
		b.WriteByte(':')
		b.WriteString(itoa(v.at(i)))
	}
	b.WriteByte('}')
	return b.String()
}
