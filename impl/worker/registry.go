package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
)

// Entry is a background worker's entry point: the function
// load_external_function finds by bgw_library_name and bgw_function_name,
// called with bgw_main_arg (here [Process.MainArg]). Its result is the
// process's exit code: 0 (the seed's proc_exit(0) when the entry returns:
// restart at once), 1 (a crash: restart after restart_time), or another
// code in 0..255 (a crash of the cluster for a ShmemAccess worker).
//
// ctx is the worker's CHECK_FOR_INTERRUPTS: it ends when [Run] is about to
// return for another reason (SIGTERM, SIGQUIT, postmaster death), which in
// a real worker process is followed at once by its exit.
type Entry func(ctx context.Context, p *Process) int

// Process is what an [Entry] gets: the worker's definition and the
// process's plumbing.
type Process struct {
	// Worker is the definition the worker was started from
	// (MyBgworkerEntry).
	Worker bgworker.Worker
	// Latch is the worker's own latch, set by SIGUSR1; its Wait reports
	// the postmaster's death too.
	Latch bgworker.Latch
	// Child holds the files inherited from the postmaster (the segment,
	// the death pipe, role-specific files) and the postmaster's pid; nil
	// when Run is used in-process without one.
	Child *proc.Child
	// Stderr is where the worker reports.
	Stderr io.Writer
}

// Name returns bgw_name. It does not block.
func (p *Process) Name() string { return p.Worker.Name }

// MainArg returns bgw_main_arg, the entry point's argument. It does not
// block.
func (p *Process) MainArg() uint64 { return p.Worker.MainArg }

// Errors from [Registry].
var (
	// ErrDuplicate: the (library, function) pair is already registered.
	ErrDuplicate = errors.New("worker: entry point already registered")
	// ErrBadEntryName: a library or function name that no valid worker
	// definition can carry (empty, longer than bgworker.MaxLen-1 bytes,
	// or not printable ASCII), or a nil Entry.
	ErrBadEntryName = errors.New("worker: bad entry point")
	// ErrUnknownEntry: no entry point is registered under the
	// definition's library and function names.
	ErrUnknownEntry = errors.New("worker: unknown entry point")
)

type key struct{ library, function string }

// Registry maps (bgw_library_name, bgw_function_name) to entry points:
// the program's stand-in for loading a shared library and looking up a
// symbol. The program builds one at start (there is no global registry)
// and hands it to both sides: backends refuse a definition whose entry is
// not registered ([Registry.Check]) and worker processes look it up
// ([Run]). A Registry is safe for concurrent use; the zero value is not
// usable, call [NewRegistry].
type Registry struct {
	mu      sync.RWMutex
	entries map[key]Entry
}

// NewRegistry returns an empty Registry. It does not block.
func NewRegistry() *Registry { return &Registry{entries: make(map[key]Entry)} }

// Register adds entry under (library, function). It returns
// [ErrDuplicate] if the pair is taken and [ErrBadEntryName] for names a
// worker definition cannot carry or a nil entry. It does not block.
func (r *Registry) Register(library, function string, entry Entry) error {
	if entry == nil {
		return fmt.Errorf("%w: nil entry for %q in %q", ErrBadEntryName, function, library)
	}
	for _, s := range [...]string{library, function} {
		if err := checkName(s); err != nil {
			return fmt.Errorf("%w: %q in %q: %s", ErrBadEntryName, function, library, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := key{library, function}
	if _, ok := r.entries[k]; ok {
		return fmt.Errorf("%w: %q in %q", ErrDuplicate, function, library)
	}
	r.entries[k] = entry
	return nil
}

func checkName(s string) error {
	if s == "" {
		return errors.New("empty name")
	}
	if len(s) > bgworker.MaxLen-1 {
		return fmt.Errorf("name %d bytes long (at most %d)", len(s), bgworker.MaxLen-1)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("byte %#x at %d is not printable ASCII", c, i)
		}
	}
	return nil
}

// Lookup returns the entry registered under (library, function)
// (load_external_function). It does not block.
func (r *Registry) Lookup(library, function string) (Entry, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.entries[key{library, function}]
	return e, ok
}

// Has reports whether an entry is registered under (library, function).
// It does not block.
func (r *Registry) Has(library, function string) bool {
	_, ok := r.Lookup(library, function)
	return ok
}

// Check returns nil if w's entry point is registered, and an error
// wrapping [ErrUnknownEntry] naming it otherwise: what a backend calls
// before RegisterDynamicBackgroundWorker (and the postmaster before
// RegisterBackgroundWorker) so that a worker that could never start is
// refused at registration rather than crashing at every start. It does
// not block.
func (r *Registry) Check(w *bgworker.Worker) error {
	if !r.Has(w.LibraryName, w.FunctionName) {
		return fmt.Errorf("%w: background worker %q: function %q in library %q",
			ErrUnknownEntry, w.Name, w.FunctionName, w.LibraryName)
	}
	return nil
}
