package explore

import (
	"fmt"
	"strings"
	"time"

	"bgwmodel/impl/shmem"
)

// OpKind is the kind of one step of an execution.
type OpKind uint8

const (
	OpLoad       OpKind = iota + 1 // Load32/Load64
	OpStore                        // Store32/Store64
	OpSwap                         // Swap32
	OpCAS                          // CompareAndSwap32
	OpAdd                          // Add64
	OpLoadBytes                    // LoadBytes
	OpStoreBytes                   // StoreBytes
	OpFence                        // Fence
	OpLock                         // Lock acquire
	OpUnlock                       // Lock release
	OpWait                         // latch wait
	OpReset                        // latch reset
	OpSignal                       // set another thread's latch (SIGUSR1)
	OpSleep                        // sleep until a virtual time
	OpSpawn                        // spawn a thread
	OpKill                         // kill a thread (from thread code)
	OpReap                         // collect exited children
	OpPMDied                       // check for postmaster death
	OpYield                        // a bare scheduling point
	OpFlush                        // TSO: a store buffer flush
	OpExit                         // a thread ended (returned, exited or panicked)
	OpKilled                       // a thread was killed
	OpTime                         // the virtual clock advanced
	OpNote                         // a note from thread code (Thread.Note)
)

var opNames = [...]string{
	OpLoad: "ld", OpStore: "st", OpSwap: "swap", OpCAS: "cas", OpAdd: "add",
	OpLoadBytes: "ldb", OpStoreBytes: "stb", OpFence: "fence", OpLock: "lock",
	OpUnlock: "unlock", OpWait: "wait", OpReset: "reset", OpSignal: "signal",
	OpSleep: "sleep", OpSpawn: "spawn", OpKill: "kill", OpReap: "reap",
	OpPMDied: "pmdied", OpYield: "yield", OpFlush: "flush", OpExit: "exit",
	OpKilled: "killed", OpTime: "time", OpNote: "note",
}

// String returns the op's short name, as used in trace tables.
func (k OpKind) String() string {
	if int(k) < len(opNames) && opNames[k] != "" {
		return opNames[k]
	}
	return fmt.Sprintf("OpKind(%d)", uint8(k))
}

// isMem reports whether the op is a shared-memory access.
func (k OpKind) isMem() bool { return k >= OpLoad && k <= OpStoreBytes }

// Step is one step of an execution, as given to an observer
// ([World.OnStep]) and as a row of a replayed trace ([Table]).
type Step struct {
	// Index numbers the steps from 1; rows that are not steps (the clock
	// advancing, notes, thread ends) repeat the previous index.
	Index int
	// Thread is the thread that took the step (the flushed or killed
	// thread for OpFlush and OpKilled; -1 for OpTime).
	Thread ThreadID
	Name   string
	Op     OpKind
	// Off, Size and Loc locate a memory access (Loc is the name given by
	// [World.NameLoc], else "@OFFSET").
	Off  shmem.Offset
	Size int
	Loc  string
	// Value is the value loaded, stored, or written by an RMW; Old is the
	// value an RMW read. Bytes is a block's content.
	Value, Old uint64
	Bytes      string
	// Order is the access's memory order; Fence the fence's kind.
	Order shmem.Order
	Fence shmem.Fence
	// Time is the virtual clock after the step.
	Time time.Duration
	// Text is the value column and Info the model's detail (message,
	// timestamp, view, buffer); both are filled only when a trace is
	// replayed, or for observers.
	Text, Info string
}

// Table is an execution as rows, from [Replay].
type Table []Step

// access is the access column: "st32", "cas32", "fence", …
func (s *Step) access() string {
	switch s.Op {
	case OpLoad, OpStore, OpSwap, OpCAS, OpAdd:
		return s.Op.String() + itoa(s.Size*8)
	}
	return s.Op.String()
}

// order is the order column: the memory order, fence kind or lock mode.
func (s *Step) order() string {
	switch {
	case s.Op == OpFence:
		return s.Fence.String()
	case s.Op.isMem():
		return s.Order.String()
	}
	return ""
}

// String formats the table with aligned columns: step, thread, access,
// location, value, order, info.
func (t Table) String() string {
	rows := [][]string{{"step", "thread", "access", "loc", "value", "order", "info"}}
	for i := range t {
		s := &t[i]
		rows = append(rows, []string{itoa(s.Index), s.Name, s.access(), s.Loc, s.Text, s.order(), s.Info})
	}
	w := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			w[i] = max(w[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		line := ""
		for i, c := range r {
			if i < len(r)-1 {
				line += c + strings.Repeat(" ", w[i]-len([]rune(c))+2)
			} else {
				line += c
			}
		}
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	return b.String()
}
