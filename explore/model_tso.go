package explore

import (
	"bgwmodel/impl/shmem"
)

// tsoModel is x86-TSO (Owens, Sarkar, Sewell, "A Better x86 Memory Model:
// x86-TSO", TPHOLs 2009): one memory, and per thread a FIFO store buffer.
// A store enters its thread's buffer; a flush (a scheduling step of its
// own) moves the oldest buffered store to memory; a load reads the newest
// buffered store to its location in its own buffer, else memory.
// Read-modify-writes, FullBarrier (mfence), locks, signals, spawn and exit
// first drain the thread's buffer (a locked instruction or a system call
// waits for the buffer to empty; draining at once is one of the
// interleavings where the flushes run just before, and it allows no new
// behaviour). ReadBarrier and WriteBarrier are no-ops: TSO already keeps
// load→load and store→store order. Orders are ignored for the same reason.
type tsoModel struct {
	mem     []val
	buf     [][]tsoEntry // per thread, oldest first
	verbose bool
}

type tsoEntry struct {
	l *loc
	v val
}

func (m *tsoModel) addThread(t ThreadID, parent ThreadID) {
	for int(t) >= len(m.buf) {
		m.buf = append(m.buf, nil)
	}
	if parent >= 0 {
		m.drain(parent)
	}
}

func (m *tsoModel) addLoc(l *loc) { m.mem = append(m.mem, l.init) }

func (m *tsoModel) load(t ThreadID, l *loc, _ shmem.Order) (val, string) {
	b := m.buf[t]
	for i := len(b) - 1; i >= 0; i-- {
		if b[i].l == l {
			return b[i].v, m.info("from own buffer")
		}
	}
	return m.mem[l.idx], m.info("from memory")
}

func (m *tsoModel) store(t ThreadID, l *loc, v val, _ shmem.Order) string {
	m.buf[t] = append(m.buf[t], tsoEntry{l, v})
	return m.info("buffered")
}

func (m *tsoModel) rmw(t ThreadID, l *loc, _ shmem.Order, f func(val) (val, bool)) (val, string) {
	n := len(m.buf[t])
	m.drain(t)
	old := m.mem[l.idx]
	if nv, ok := f(old); ok {
		m.mem[l.idx] = nv
	}
	return old, m.drained(n)
}

func (m *tsoModel) fence(t ThreadID, f shmem.Fence) string {
	if f != shmem.FullBarrier {
		return m.info("no-op on TSO")
	}
	n := len(m.buf[t])
	m.drain(t)
	return m.drained(n)
}

func (m *tsoModel) release(t ThreadID, _ int) { m.drain(t) }
func (m *tsoModel) acquire(t ThreadID, _ int) { m.drain(t) }

func (m *tsoModel) buffered(t ThreadID) bool { return len(m.buf[t]) > 0 }

func (m *tsoModel) inBuffer(t ThreadID, l *loc) bool {
	for _, e := range m.buf[t] {
		if e.l == l {
			return true
		}
	}
	return false
}

func (m *tsoModel) bufferShares(t, u ThreadID) bool {
	for _, e := range m.buf[t] {
		if m.inBuffer(u, e.l) {
			return true
		}
	}
	return false
}

func (m *tsoModel) flush(t ThreadID) (*loc, val, string) {
	e := m.buf[t][0]
	m.buf[t] = m.buf[t][1:]
	if len(m.buf[t]) == 0 {
		m.buf[t] = nil
	}
	m.mem[e.l.idx] = e.v
	return e.l, e.v, ""
}

func (m *tsoModel) drain(t ThreadID) {
	for _, e := range m.buf[t] {
		m.mem[e.l.idx] = e.v
	}
	m.buf[t] = nil
}

func (m *tsoModel) final(l *loc) val { return m.mem[l.idx] }

func (m *tsoModel) hash(e *encoder, sorted []*loc) {
	for _, l := range sorted {
		e.val(m.mem[l.idx])
	}
	for _, b := range m.buf {
		e.u64(uint64(len(b)))
		for _, x := range b {
			e.u64(uint64(x.l.off))
			e.val(x.v)
		}
	}
}

func (m *tsoModel) info(s string) string {
	if !m.verbose {
		return ""
	}
	return s
}

func (m *tsoModel) drained(n int) string {
	if !m.verbose || n == 0 {
		return ""
	}
	if n == 1 {
		return "drained 1 buffered store"
	}
	return "drained " + itoa(n) + " buffered stores"
}
