package shmem

import "unsafe"

// Local is an in-process [Memory] over Go-allocated memory, for tests and
// single-process use. It behaves like a [Region] but cannot be shared with
// another process.
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
