package explore

import (
	"fmt"
	"strconv"

	"bgwmodel/impl/shmem"
)

// val is the content of one location: a word (w) or a block (b).
type val struct {
	w uint64
	b string
}

// loc is one location of the segment: a 32- or 64-bit word or a block,
// keyed by its offset. Locations are made lazily, on first access, and are
// private to one execution.
type loc struct {
	idx   int // creation index within the execution
	off   shmem.Offset
	size  int  // 4, 8 or the block length
	block bool // accessed with LoadBytes/StoreBytes
	name  string
	init  val
}

// label is the location's display name: its name, else "@0x10".
func (l *loc) label() string {
	if l.name != "" {
		return l.name
	}
	return "@" + strconv.FormatUint(uint64(l.off), 10)
}

// fmtVal formats a value of l for a trace row.
func (l *loc) fmtVal(v val) string {
	if l.block {
		return fmtBytes(v.b)
	}
	return strconv.FormatUint(v.w, 10)
}

// fmtBytes shows a block as a quoted string, cut at 24 bytes and at the
// first run of trailing zeros.
func fmtBytes(s string) string {
	end := len(s)
	for end > 0 && s[end-1] == 0 {
		end--
	}
	t := s[:end]
	cut := ""
	if len(t) > 24 {
		t, cut = t[:24], "…"
	}
	return fmt.Sprintf("%q%s[%d]", t, cut, len(s))
}

// chooser is what a model asks for a choice: it returns an index in
// [0, n), 0 being the default (the newest message, the last slot).
type chooser interface {
	pick(kind ChoiceKind, n int) int
}

// memModel is one execution's memory-model state. Threads are numbered by
// ThreadID, locations by loc.idx and synchronisation objects (locks,
// latches, exits) by small integers; all three grow on demand. Methods
// that return a string return a detail for trace rows, computed only when
// the model was made verbose.
type memModel interface {
	// addThread adds thread t; parent is -1 for a root thread, else the
	// spawning thread, which happens-before the child's first step.
	addThread(t ThreadID, parent ThreadID)
	// addLoc adds a location, with its initial message.
	addLoc(l *loc)

	load(t ThreadID, l *loc, o shmem.Order) (val, string)
	store(t ThreadID, l *loc, v val, o shmem.Order) string
	// rmw reads l and, if f says so, writes f's value immediately after
	// the message read, atomically. It returns the value read.
	rmw(t ThreadID, l *loc, o shmem.Order, f func(val) (val, bool)) (val, string)
	fence(t ThreadID, f shmem.Fence) string

	// release publishes t's view to sync object s (a lock release, a
	// signal, an exit); acquire joins s's view into t's (a lock acquire,
	// a latch wake, a reap).
	release(t ThreadID, s int)
	acquire(t ThreadID, s int)

	// buffered reports whether t has stores not yet in memory (TSO).
	buffered(t ThreadID) bool
	// inBuffer reports whether t has a store to l not yet in memory (TSO).
	inBuffer(t ThreadID, l *loc) bool
	// bufferShares reports whether t and u both have stores to some
	// location not yet in memory (TSO).
	bufferShares(t, u ThreadID) bool
	// flush writes t's oldest buffered store to memory (TSO).
	flush(t ThreadID) (*loc, val, string)
	// drain flushes all of t's buffered stores (TSO).
	drain(t ThreadID)

	// final is the value a fresh observer would read at the end: the
	// newest message (mo-maximal) or the memory word.
	final(l *loc) val
	// hash writes a canonical encoding of the state (locations in offset
	// order, message positions instead of identities).
	hash(e *encoder, sorted []*loc)
}

// newModel makes the model kind for one execution.
func newModel(kind ModelKind, ch chooser, verbose bool) (memModel, error) {
	switch kind {
	case SC:
		return &scModel{}, nil
	case TSO:
		return &tsoModel{verbose: verbose}, nil
	case View:
		return &viewModel{ch: ch, verbose: verbose}, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownModel, string(kind))
}

// isLoadOrder reports whether o is allowed on a plain load.
func isLoadOrder(o shmem.Order) bool { return o == shmem.Relaxed || o == shmem.Acquire }

// isStoreOrder reports whether o is allowed on a plain store.
func isStoreOrder(o shmem.Order) bool { return o == shmem.Relaxed || o == shmem.Release }

// acquires reports whether o has an acquire part.
func acquires(o shmem.Order) bool { return o == shmem.Acquire || o == shmem.AcqRel }

// releases reports whether o has a release part.
func releases(o shmem.Order) bool { return o == shmem.Release || o == shmem.AcqRel }

// loadPart is o less its release part: the order of a failed CAS's load.
func loadPart(o shmem.Order) shmem.Order {
	if acquires(o) {
		return shmem.Acquire
	}
	return shmem.Relaxed
}

// scModel is sequential consistency: one memory, every access at once.
type scModel struct {
	mem []val
}

func (m *scModel) addThread(ThreadID, ThreadID) {}

func (m *scModel) addLoc(l *loc) { m.mem = append(m.mem, l.init) }

func (m *scModel) load(_ ThreadID, l *loc, _ shmem.Order) (val, string) {
	return m.mem[l.idx], ""
}

func (m *scModel) store(_ ThreadID, l *loc, v val, _ shmem.Order) string {
	m.mem[l.idx] = v
	return ""
}

func (m *scModel) rmw(_ ThreadID, l *loc, _ shmem.Order, f func(val) (val, bool)) (val, string) {
	old := m.mem[l.idx]
	if nv, ok := f(old); ok {
		m.mem[l.idx] = nv
	}
	return old, ""
}

func (m *scModel) fence(ThreadID, shmem.Fence) string   { return "" }
func (m *scModel) release(ThreadID, int)                {}
func (m *scModel) acquire(ThreadID, int)                {}
func (m *scModel) buffered(ThreadID) bool               { return false }
func (m *scModel) inBuffer(ThreadID, *loc) bool         { return false }
func (m *scModel) bufferShares(ThreadID, ThreadID) bool { return false }
func (m *scModel) flush(ThreadID) (*loc, val, string)   { return nil, val{}, "" }
func (m *scModel) drain(ThreadID)                       {}
func (m *scModel) final(l *loc) val                     { return m.mem[l.idx] }
func (m *scModel) hash(e *encoder, sorted []*loc) {
	for _, l := range sorted {
		e.val(m.mem[l.idx])
	}
}
