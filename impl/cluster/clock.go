package cluster

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"bgwmodel/impl/proc"
	"bgwmodel/impl/shmem"
	"bgwmodel/impl/shmem/memfd"
)

// Clock is a logical clock shared by every process of a cluster: a 64-bit
// word in a shared-memory region that each reading increments atomically
// (a fetch-add), so readings are unique and totally ordered across
// processes. The postmaster stamps its records with it
// (postmaster.Config.Stamp); the harness ([Cluster.Stamp]) and the
// children ([ChildClock]) read the same word, so their histories and the
// record log can be merged in one order. A Clock is safe for concurrent
// use.
type Clock struct {
	mem shmem.Memory
	off shmem.Offset
}

// NewClock returns the clock whose word is at off in mem (8-byte aligned).
// It does not block.
func NewClock(mem shmem.Memory, off shmem.Offset) (*Clock, error) {
	if mem == nil {
		return nil, errors.New("cluster: clock: no memory")
	}
	if _, err := mem.Load64(off, shmem.Relaxed); err != nil {
		return nil, fmt.Errorf("cluster: clock: %w", err)
	}
	return &Clock{mem: mem, off: off}, nil
}

// Stamp takes a reading: the word's new value after an atomic increment
// (acquire-release). It does not block.
func (c *Clock) Stamp() uint64 {
	v, err := c.mem.Add64(c.off, 1, shmem.AcqRel)
	if err != nil { // NewClock checked the offset
		panic(err)
	}
	return v
}

// ChildClock returns the clock a child of the postmaster (a backend, or a
// worker's entry through worker.Process.Child) inherited at [FDClock],
// with its offset from [EnvClockOffset]. It maps the region and takes the
// file out of c.Extra (c.Close no longer closes it); close the returned
// region when done. It does not block.
func ChildClock(c *proc.Child) (*Clock, *memfd.Region, error) {
	if c == nil || len(c.Extra) == 0 || c.Extra[0] == nil {
		return nil, nil, fmt.Errorf("cluster: clock: no file at fd %d", FDClock)
	}
	off, err := strconv.ParseUint(os.Getenv(EnvClockOffset), 10, 32)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: clock: %s: %w", EnvClockOffset, err)
	}
	r, err := memfd.Attach(c.Extra[0])
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: clock: %w", err)
	}
	c.Extra[0] = nil
	clk, err := NewClock(r, shmem.Offset(off))
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return clk, r, nil
}
