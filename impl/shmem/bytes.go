package shmem

import (
	"sync/atomic"
	"unsafe"
)

// atomicBytes implements Memory over a byte slice whose first byte is
// 8-byte aligned. Word accesses use sync/atomic, which is sequentially
// consistent and so stronger than any order a caller can ask for; fences
// are therefore no-ops beyond a sequentially consistent atomic operation on
// a private word, which keeps the Go race detector informed.
//
// Block accesses copy byte by byte with atomic loads and stores of the
// enclosing words where possible; they are not atomic as a whole, as
// memcpy is not.
type atomicBytes struct {
	b     []byte
	fence atomic.Uint32
}

func (m *atomicBytes) Size() int { return len(m.b) }

func (m *atomicBytes) p32(off Offset) (*uint32, error) {
	if err := check(off, 4, 4, len(m.b)); err != nil {
		return nil, err
	}
	return (*uint32)(unsafe.Pointer(&m.b[off])), nil
}

func (m *atomicBytes) p64(off Offset) (*uint64, error) {
	if err := check(off, 8, 8, len(m.b)); err != nil {
		return nil, err
	}
	return (*uint64)(unsafe.Pointer(&m.b[off])), nil
}

func (m *atomicBytes) Load32(off Offset, _ Order) (uint32, error) {
	p, err := m.p32(off)
	if err != nil {
		return 0, err
	}
	return atomic.LoadUint32(p), nil
}

func (m *atomicBytes) Store32(off Offset, v uint32, _ Order) error {
	p, err := m.p32(off)
	if err != nil {
		return err
	}
	atomic.StoreUint32(p, v)
	return nil
}

func (m *atomicBytes) Swap32(off Offset, v uint32, _ Order) (uint32, error) {
	p, err := m.p32(off)
	if err != nil {
		return 0, err
	}
	return atomic.SwapUint32(p, v), nil
}

func (m *atomicBytes) CompareAndSwap32(off Offset, old, new uint32, _ Order) (bool, error) {
	p, err := m.p32(off)
	if err != nil {
		return false, err
	}
	return atomic.CompareAndSwapUint32(p, old, new), nil
}

func (m *atomicBytes) Load64(off Offset, _ Order) (uint64, error) {
	p, err := m.p64(off)
	if err != nil {
		return 0, err
	}
	return atomic.LoadUint64(p), nil
}

func (m *atomicBytes) Store64(off Offset, v uint64, _ Order) error {
	p, err := m.p64(off)
	if err != nil {
		return err
	}
	atomic.StoreUint64(p, v)
	return nil
}

func (m *atomicBytes) Add64(off Offset, delta uint64, _ Order) (uint64, error) {
	p, err := m.p64(off)
	if err != nil {
		return 0, err
	}
	return atomic.AddUint64(p, delta), nil
}

// LoadBytes copies a block. Blocks are copied a 32-bit word at a time with
// atomic loads when off and len are word multiples (they always are for the
// protocol's layout), so that a racing store — which the protocol forbids —
// yields torn data rather than a Go data race report on the reader's side.
func (m *atomicBytes) LoadBytes(off Offset, dst []byte) error {
	if err := check(off, len(dst), 1, len(m.b)); err != nil {
		return err
	}
	if off%4 == 0 && len(dst)%4 == 0 {
		for i := 0; i < len(dst); i += 4 {
			w := atomic.LoadUint32((*uint32)(unsafe.Pointer(&m.b[int(off)+i])))
			*(*uint32)(unsafe.Pointer(&dst[i])) = w
		}
		return nil
	}
	copy(dst, m.b[off:])
	return nil
}

// StoreBytes copies a block, word-wise with atomic stores when aligned (see
// LoadBytes).
func (m *atomicBytes) StoreBytes(off Offset, src []byte) error {
	if err := check(off, len(src), 1, len(m.b)); err != nil {
		return err
	}
	if off%4 == 0 && len(src)%4 == 0 {
		for i := 0; i < len(src); i += 4 {
			w := *(*uint32)(unsafe.Pointer(&src[i]))
			atomic.StoreUint32((*uint32)(unsafe.Pointer(&m.b[int(off)+i])), w)
		}
		return nil
	}
	copy(m.b[off:], src)
	return nil
}

// Fence is a sequentially consistent read-modify-write on a private word:
// every Go atomic is already sequentially consistent, so this only has to
// be a synchronising operation.
func (m *atomicBytes) Fence(Fence) { m.fence.Add(1) }
