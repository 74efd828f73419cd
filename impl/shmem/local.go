package shmem

import (
	"fmt"
	"unsafe"
)

// Local is an in-process [Memory] over Go-allocated memory, for tests and
// single-process use. It behaves like package memfd's Region but cannot be
// shared with another process.
type Local struct {
	atomicBytes
}

var _ Memory = (*Local)(nil)

// NewLocal returns a zeroed Local of size bytes, rounded up to a multiple
// of 8. It does not block.
func NewLocal(size int) *Local {
	if size < 0 {
		size = 0
	}
	words := make([]uint64, (size+7)/8)
	var b []byte
	if len(words) > 0 {
		b = unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)
	}
	return &Local{atomicBytes{b: b}}
}

// Mapped is a [Memory] over memory another package mapped (package memfd
// maps a memfd shared between processes): the accesses of [Local] over
// bytes this package does not own.
type Mapped struct {
	atomicBytes
}

var _ Memory = (*Mapped)(nil)

// NewMapped returns a Mapped over b, which must be 8-byte aligned (as a
// page-aligned mapping is), its length a multiple of 8, and stay valid
// until [Mapped.Detach]. It does not block.
func NewMapped(b []byte) (*Mapped, error) {
	if len(b)%8 != 0 || (len(b) > 0 && uintptr(unsafe.Pointer(&b[0]))%8 != 0) {
		return nil, fmt.Errorf("shmem: mapping of %d bytes not 8-byte aligned", len(b))
	}
	return &Mapped{atomicBytes{b: b}}, nil
}

// Detach forgets the bytes, before whoever mapped them unmaps them: any
// access after it is an error, not a fault. It does not block.
func (m *Mapped) Detach() { m.b = nil }
