package shmem

// Access is one access to a [Memory], as [Observe] reports it.
type Access struct {
	// Method is the Memory method: "Load32", "StoreBytes", "Fence", ...
	Method string
	// Off is the location accessed (0 for a fence).
	Off Offset
	// Order is the access's memory order (Relaxed for LoadBytes and
	// StoreBytes and for a fence).
	Order Order
	// Fence is the barrier of a fence.
	Fence Fence
}

// Observe returns a Memory that calls before with each access, then makes
// it on m: one call per access, in program order, on the goroutine that
// makes it. It is for tools that count or interrupt a process's steps
// (the cluster's breakpoints). It does not block; before may.
func Observe(m Memory, before func(Access)) Memory { return observed{m, before} }

type observed struct {
	Memory
	before func(Access)
}

func (m observed) Load32(off Offset, o Order) (uint32, error) {
	m.before(Access{Method: "Load32", Off: off, Order: o})
	return m.Memory.Load32(off, o)
}

func (m observed) Store32(off Offset, v uint32, o Order) error {
	m.before(Access{Method: "Store32", Off: off, Order: o})
	return m.Memory.Store32(off, v, o)
}

func (m observed) Swap32(off Offset, v uint32, o Order) (uint32, error) {
	m.before(Access{Method: "Swap32", Off: off, Order: o})
	return m.Memory.Swap32(off, v, o)
}

func (m observed) CompareAndSwap32(off Offset, old, new uint32, o Order) (bool, error) {
	m.before(Access{Method: "CompareAndSwap32", Off: off, Order: o})
	return m.Memory.CompareAndSwap32(off, old, new, o)
}

func (m observed) Load64(off Offset, o Order) (uint64, error) {
	m.before(Access{Method: "Load64", Off: off, Order: o})
	return m.Memory.Load64(off, o)
}

func (m observed) Store64(off Offset, v uint64, o Order) error {
	m.before(Access{Method: "Store64", Off: off, Order: o})
	return m.Memory.Store64(off, v, o)
}

func (m observed) Add64(off Offset, delta uint64, o Order) (uint64, error) {
	m.before(Access{Method: "Add64", Off: off, Order: o})
	return m.Memory.Add64(off, delta, o)
}

func (m observed) LoadBytes(off Offset, dst []byte) error {
	m.before(Access{Method: "LoadBytes", Off: off})
	return m.Memory.LoadBytes(off, dst)
}

func (m observed) StoreBytes(off Offset, src []byte) error {
	m.before(Access{Method: "StoreBytes", Off: off})
	return m.Memory.StoreBytes(off, src)
}

func (m observed) Fence(f Fence) {
	m.before(Access{Method: "Fence", Fence: f})
	m.Memory.Fence(f)
}
