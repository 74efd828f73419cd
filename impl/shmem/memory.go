package shmem

import (
	"errors"
	"fmt"
)

// Order is the memory order of one access, named as in C11.
type Order uint8

const (
	// Relaxed orders nothing but the access itself (memory_order_relaxed).
	Relaxed Order = iota
	// Acquire: no later access of this thread may be seen before it
	// (memory_order_acquire). Loads and read-modify-writes only.
	Acquire
	// Release: no earlier access of this thread may be seen after it
	// (memory_order_release). Stores and read-modify-writes only.
	Release
	// AcqRel is both Acquire and Release. Read-modify-writes only.
	AcqRel
)

// String returns the C11 name of the order.
func (o Order) String() string {
	switch o {
	case Relaxed:
		return "rlx"
	case Acquire:
		return "acq"
	case Release:
		return "rel"
	case AcqRel:
		return "acqrel"
	}
	return fmt.Sprintf("Order(%d)", uint8(o))
}

// Fence is one of PostgreSQL's memory barriers.
type Fence uint8

const (
	// ReadBarrier is pg_read_barrier: an acquire fence.
	ReadBarrier Fence = iota + 1
	// WriteBarrier is pg_write_barrier: a release fence.
	WriteBarrier
	// FullBarrier is pg_memory_barrier: a sequentially consistent fence.
	FullBarrier
)

// String returns the herd name of the fence: rb, wb or fsc.
func (f Fence) String() string {
	switch f {
	case ReadBarrier:
		return "rb"
	case WriteBarrier:
		return "wb"
	case FullBarrier:
		return "fsc"
	}
	return fmt.Sprintf("Fence(%d)", uint8(f))
}

// Offset is a byte offset into a segment.
type Offset uint32

// Errors returned for a bad offset. They are wrapped with the offset and
// size of the access.
var (
	ErrOutOfRange = errors.New("shmem: offset out of range")
	ErrMisaligned = errors.New("shmem: misaligned offset")
)

// Memory is a shared-memory segment seen by one thread or process. Every
// access to shared protocol state goes through it; each call is one access
// (one scheduling point for a simulator).
//
// Word accesses must be aligned to their size. A location is always accessed
// with the same size; a block location only with LoadBytes and StoreBytes of
// its full length.
//
// Methods never block. They return an error only for a bad offset.
type Memory interface {
	// Size returns the segment's length in bytes.
	Size() int

	// Load32 reads the 32-bit word at off with order Relaxed or Acquire.
	Load32(off Offset, o Order) (uint32, error)
	// Store32 writes the 32-bit word at off with order Relaxed or Release.
	Store32(off Offset, v uint32, o Order) error
	// Swap32 atomically replaces the word at off by v and returns the old
	// value.
	Swap32(off Offset, v uint32, o Order) (uint32, error)
	// CompareAndSwap32 atomically replaces the word at off by new if it
	// holds old, and reports whether it did. A failed compare is a load
	// with order o (less its release part).
	CompareAndSwap32(off Offset, old, new uint32, o Order) (bool, error)

	// Load64 reads the 64-bit word at off with order Relaxed or Acquire.
	Load64(off Offset, o Order) (uint64, error)
	// Store64 writes the 64-bit word at off with order Relaxed or Release.
	Store64(off Offset, v uint64, o Order) error
	// Add64 atomically adds delta to the word at off and returns the new
	// value.
	Add64(off Offset, delta uint64, o Order) (uint64, error)

	// LoadBytes copies len(dst) bytes at off into dst: one non-atomic
	// (relaxed) access to the block location at off.
	LoadBytes(off Offset, dst []byte) error
	// StoreBytes copies src to off: one non-atomic (relaxed) access to the
	// block location at off.
	StoreBytes(off Offset, src []byte) error

	// Fence issues the barrier f.
	Fence(f Fence)
}

// check validates an access of size bytes at off in a segment of n bytes,
// with the given alignment (1 for blocks).
func check(off Offset, size, align, n int) error {
	if int(off)%align != 0 {
		return fmt.Errorf("%w: %d (size %d)", ErrMisaligned, off, size)
	}
	if size < 0 || int(off) > n || size > n-int(off) {
		return fmt.Errorf("%w: %d+%d > %d", ErrOutOfRange, off, size, n)
	}
	return nil
}
