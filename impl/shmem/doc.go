// Package shmem implements the shared-memory segment through which every
// access to the background-worker protocol's shared state goes.
//
// It is the one home of unsafe in bgwmodel. Nothing else reads or writes
// shared state except through a [Memory], so a simulator (the explorer)
// can implement [Memory] itself and see every access as one scheduling
// point.
//
// # Accesses and orders
//
// Every access names its memory order, as a C11 port of the seed would:
// [Relaxed], [Acquire] (loads and read-modify-writes), [Release] (stores
// and read-modify-writes) or [AcqRel] (read-modify-writes only). Fences
// name the PostgreSQL barrier they stand for: [ReadBarrier]
// (pg_read_barrier, an acquire fence), [WriteBarrier] (pg_write_barrier, a
// release fence) and [FullBarrier] (pg_memory_barrier, a sequentially
// consistent fence). An implementation may be stronger than the order it is
// asked for — [Region] and [Local] use Go's sequentially consistent atomics
// for every word access — but never weaker; the explorer checks that the
// stated orders are enough.
//
// Byte blocks ([Memory.LoadBytes], [Memory.StoreBytes]) are the memcpy of
// the seed: one non-atomic access to a fixed-size location. Callers must
// not race a block store with another access to the same block; the
// protocol's handoff rule (in_use) is what prevents that.
//
// # Bounds
//
// Offsets are checked on every access: an offset outside the segment, or
// not aligned to the access size, is an [ErrOutOfRange] or [ErrMisaligned]
// error, never a wild access. This is what lets the postmaster survive a
// corrupted slot number.
//
// # Implementations
//
// [Region] is the production implementation: a memfd (mode 0600) mapped
// shared, so it can be passed to child processes as an extra file and
// attached with [Attach]. [Local] is a plain in-process implementation over
// a Go byte slice, for tests and single-process use.
package shmem
