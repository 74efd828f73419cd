package explore

import (
	"encoding/binary"
	"hash/maphash"
	"strconv"
)

// hashSeeds are the two seeds of the 128-bit state and history hashes.
// They are made once per process: hashes are compared only within one
// search.
var hashSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// key is a 128-bit hash.
type key [2]uint64

// encoder builds the canonical byte encoding of a state or a history
// entry, then hashes it.
type encoder struct {
	buf []byte
}

func (e *encoder) reset()       { e.buf = e.buf[:0] }
func (e *encoder) u64(x uint64) { e.buf = binary.LittleEndian.AppendUint64(e.buf, x) }
func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *encoder) bool(b bool) {
	if b {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

func (e *encoder) val(v val) {
	e.u64(v.w)
	e.str(v.b)
}

func (e *encoder) key(k key) {
	e.u64(k[0])
	e.u64(k[1])
}

// sum hashes the encoding with both seeds.
func (e *encoder) sum() key {
	return key{maphash.Bytes(hashSeeds[0], e.buf), maphash.Bytes(hashSeeds[1], e.buf)}
}

// usage is what an execution had used when it reached a state: a later
// visit is pruned only if it has used at least as much of every bound.
type usage struct {
	preempt, steps, kills int
}

func (b usage) dominatedBy(o usage) bool {
	return o.preempt <= b.preempt && o.steps <= b.steps && o.kills <= b.kills
}

// stateTable remembers the states DFS has explored from.
type stateTable struct {
	seen map[key][]usage
}

func newStateTable() *stateTable { return &stateTable{seen: map[key][]usage{}} }

// visit reports whether a state k reached with usage b was already
// explored from with a usage at least as large; if not, it records it.
func (s *stateTable) visit(k key, b usage) bool {
	prev := s.seen[k]
	for _, p := range prev {
		if b.dominatedBy(p) {
			return true
		}
	}
	s.seen[k] = append(prev, b)
	return false
}

func itoa(i int) string { return strconv.Itoa(i) }
