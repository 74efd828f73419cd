package explore

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"bgwmodel/impl/shmem"
)

// ErrLocation is the error of a [FailMisuse] failure for an access that
// does not fit a known location: another size at the same offset, or a
// range that overlaps another location.
var ErrLocation = errors.New("explore: access does not fit the location")

// ErrOrder is the error of a [FailMisuse] failure for an order an access
// may not have (an acquire store, a release load).
var ErrOrder = errors.New("explore: memory order not allowed for this access")

// ErrReadOnly is returned by the write methods of [World.InitMem] after
// Setup and of [End.Mem].
var ErrReadOnly = errors.New("explore: memory is read-only here")

// bounds checks an access as shmem's segments do.
func bounds(off shmem.Offset, size, align, n int) error {
	if int(off)%align != 0 {
		return fmt.Errorf("%w: %d (size %d)", shmem.ErrMisaligned, off, size)
	}
	if size < 0 || int(off) > n || size > n-int(off) {
		return fmt.Errorf("%w: %d+%d > %d", shmem.ErrOutOfRange, off, size, n)
	}
	return nil
}

// memory is the execution's shared segment: the memory model, once Setup
// has returned, and the locations, made on first access and named by the
// scenario.
type memory struct {
	kind    ModelKind
	model   memModel // nil during Setup
	locs    map[shmem.Offset]*loc
	locList []*loc // in creation order
	sorted  []*loc // by offset
	names   map[shmem.Offset]string
}

// name names the location at off in trace tables.
func (m *memory) name(off shmem.Offset, name string) {
	m.names[off] = name
	if l, ok := m.locs[off]; ok {
		l.name = name
	}
}

// locate returns the location at off, making it on first access.
func (m *memory) locate(off shmem.Offset, size int, block bool) (*loc, error) {
	if l, ok := m.locs[off]; ok {
		if l.size != size || l.block != block {
			return nil, fmt.Errorf("%w: %s accessed as %s, first as %s", ErrLocation, l.label(), kindOf(size, block), kindOf(l.size, l.block))
		}
		return l, nil
	}
	i := sort.Search(len(m.sorted), func(i int) bool { return m.sorted[i].off > off })
	if i > 0 {
		if p := m.sorted[i-1]; int(p.off)+p.size > int(off) {
			return nil, fmt.Errorf("%w: %s at %d overlaps %s (%s)", ErrLocation, kindOf(size, block), off, p.label(), kindOf(p.size, p.block))
		}
	}
	if i < len(m.sorted) {
		if n := m.sorted[i]; int(off)+size > int(n.off) {
			return nil, fmt.Errorf("%w: %s at %d overlaps %s (%s)", ErrLocation, kindOf(size, block), off, n.label(), kindOf(n.size, n.block))
		}
	}
	l := &loc{idx: len(m.locList), off: off, size: size, block: block, name: m.names[off]}
	if block {
		l.init.b = strings.Repeat("\x00", size)
	}
	m.locs[off] = l
	m.locList = append(m.locList, l)
	m.sorted = append(m.sorted, nil)
	copy(m.sorted[i+1:], m.sorted[i:])
	m.sorted[i] = l
	if m.model != nil {
		m.model.addLoc(l)
	}
	return l, nil
}

func kindOf(size int, block bool) string {
	if block {
		return fmt.Sprintf("a %d-byte block", size)
	}
	return fmt.Sprintf("a %d-bit word", size*8)
}

// threadMem is the segment as one thread sees it: each access is one
// scheduling point.
type threadMem struct{ t *Thread }

var _ shmem.Memory = threadMem{}

func (m threadMem) Size() int { return m.t.ex.scn.MemSize }

// word checks a word access and returns its location; a misuse ends the
// thread with a failure.
func (m threadMem) word(off shmem.Offset, size int, o shmem.Order, orderOK bool, what string) (*loc, error) {
	if err := bounds(off, size, size, m.Size()); err != nil {
		return nil, err
	}
	if !orderOK {
		m.t.fail(FailMisuse, fmt.Errorf("%w: %s with order %s", ErrOrder, what, o))
	}
	l, err := m.t.ex.mem.locate(off, size, false)
	if err != nil {
		m.t.fail(FailMisuse, err)
	}
	return l, nil
}

func (m threadMem) Load32(off shmem.Offset, o shmem.Order) (uint32, error) {
	l, err := m.word(off, 4, o, isLoadOrder(o), "Load32")
	if err != nil {
		return 0, err
	}
	return uint32(m.t.call(op{kind: OpLoad, l: l, order: o}).w), nil
}

func (m threadMem) Store32(off shmem.Offset, v uint32, o shmem.Order) error {
	l, err := m.word(off, 4, o, isStoreOrder(o), "Store32")
	if err != nil {
		return err
	}
	m.t.call(op{kind: OpStore, l: l, v: uint64(v), order: o})
	return nil
}

func (m threadMem) Swap32(off shmem.Offset, v uint32, o shmem.Order) (uint32, error) {
	l, err := m.word(off, 4, o, o <= shmem.AcqRel, "Swap32")
	if err != nil {
		return 0, err
	}
	return uint32(m.t.call(op{kind: OpSwap, l: l, v: uint64(v), order: o}).w), nil
}

func (m threadMem) CompareAndSwap32(off shmem.Offset, old, new uint32, o shmem.Order) (bool, error) {
	l, err := m.word(off, 4, o, o <= shmem.AcqRel, "CompareAndSwap32")
	if err != nil {
		return false, err
	}
	return m.t.call(op{kind: OpCAS, l: l, v: uint64(new), old: uint64(old), order: o}).ok, nil
}

func (m threadMem) Load64(off shmem.Offset, o shmem.Order) (uint64, error) {
	l, err := m.word(off, 8, o, isLoadOrder(o), "Load64")
	if err != nil {
		return 0, err
	}
	return m.t.call(op{kind: OpLoad, l: l, order: o}).w, nil
}

func (m threadMem) Store64(off shmem.Offset, v uint64, o shmem.Order) error {
	l, err := m.word(off, 8, o, isStoreOrder(o), "Store64")
	if err != nil {
		return err
	}
	m.t.call(op{kind: OpStore, l: l, v: v, order: o})
	return nil
}

func (m threadMem) Add64(off shmem.Offset, delta uint64, o shmem.Order) (uint64, error) {
	l, err := m.word(off, 8, o, o <= shmem.AcqRel, "Add64")
	if err != nil {
		return 0, err
	}
	return m.t.call(op{kind: OpAdd, l: l, v: delta, order: o}).w, nil
}

func (m threadMem) block(off shmem.Offset, n int) (*loc, error) {
	if err := bounds(off, n, 1, m.Size()); err != nil {
		return nil, err
	}
	l, err := m.t.ex.mem.locate(off, n, true)
	if err != nil {
		m.t.fail(FailMisuse, err)
	}
	return l, nil
}

func (m threadMem) LoadBytes(off shmem.Offset, dst []byte) error {
	l, err := m.block(off, len(dst))
	if err != nil {
		return err
	}
	copy(dst, m.t.call(op{kind: OpLoadBytes, l: l}).b)
	return nil
}

func (m threadMem) StoreBytes(off shmem.Offset, src []byte) error {
	l, err := m.block(off, len(src))
	if err != nil {
		return err
	}
	m.t.call(op{kind: OpStoreBytes, l: l, b: string(src)})
	return nil
}

func (m threadMem) Fence(f shmem.Fence) {
	if f < shmem.ReadBarrier || f > shmem.FullBarrier {
		m.t.fail(FailMisuse, fmt.Errorf("%w: unknown fence %d", ErrOrder, f))
	}
	m.t.call(op{kind: OpFence, fence: f})
}

// staticMem is the segment outside the run: before it ([World.InitMem],
// which sets initial values) or after it ([End.Mem], which reads final
// values). Accesses are not scheduling points and orders are ignored.
type staticMem struct {
	ex    *execution
	final bool
}

var _ shmem.Memory = staticMem{}

func (m staticMem) Size() int { return m.ex.scn.MemSize }

func (m staticMem) get(off shmem.Offset, size int, block bool) (val, error) {
	align := size
	if block {
		align = 1
	}
	if err := bounds(off, size, align, m.Size()); err != nil {
		return val{}, err
	}
	l, err := m.ex.mem.locate(off, size, block)
	if err != nil {
		return val{}, err
	}
	if m.final {
		return m.ex.mem.model.final(l), nil
	}
	return l.init, nil
}

func (m staticMem) set(off shmem.Offset, size int, block bool, v val) error {
	if m.final || m.ex.setupDone {
		return ErrReadOnly
	}
	align := size
	if block {
		align = 1
	}
	if err := bounds(off, size, align, m.Size()); err != nil {
		return err
	}
	l, err := m.ex.mem.locate(off, size, block)
	if err != nil {
		return err
	}
	l.init = v
	return nil
}

func (m staticMem) Load32(off shmem.Offset, _ shmem.Order) (uint32, error) {
	v, err := m.get(off, 4, false)
	return uint32(v.w), err
}

func (m staticMem) Store32(off shmem.Offset, v uint32, _ shmem.Order) error {
	return m.set(off, 4, false, val{w: uint64(v)})
}

func (m staticMem) Swap32(off shmem.Offset, v uint32, _ shmem.Order) (uint32, error) {
	old, err := m.get(off, 4, false)
	if err == nil {
		err = m.set(off, 4, false, val{w: uint64(v)})
	}
	return uint32(old.w), err
}

func (m staticMem) CompareAndSwap32(off shmem.Offset, old, new uint32, _ shmem.Order) (bool, error) {
	cur, err := m.get(off, 4, false)
	if err != nil || cur.w != uint64(old) {
		return false, err
	}
	return err == nil, m.set(off, 4, false, val{w: uint64(new)})
}

func (m staticMem) Load64(off shmem.Offset, _ shmem.Order) (uint64, error) {
	v, err := m.get(off, 8, false)
	return v.w, err
}

func (m staticMem) Store64(off shmem.Offset, v uint64, _ shmem.Order) error {
	return m.set(off, 8, false, val{w: v})
}

func (m staticMem) Add64(off shmem.Offset, delta uint64, _ shmem.Order) (uint64, error) {
	old, err := m.get(off, 8, false)
	if err == nil {
		err = m.set(off, 8, false, val{w: old.w + delta})
	}
	return old.w + delta, err
}

func (m staticMem) LoadBytes(off shmem.Offset, dst []byte) error {
	v, err := m.get(off, len(dst), true)
	copy(dst, v.b)
	return err
}

func (m staticMem) StoreBytes(off shmem.Offset, src []byte) error {
	return m.set(off, len(src), true, val{b: string(src)})
}

func (m staticMem) Fence(shmem.Fence) {}
