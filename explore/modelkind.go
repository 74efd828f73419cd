package explore

import (
	"errors"
	"fmt"
)

// ModelKind names a memory model. Its string form is the model's name in
// trace strings and on the command line.
type ModelKind string

const (
	// SC is sequential consistency: every access takes effect at once, in
	// one global order (Lamport 1979).
	SC ModelKind = "sc"
	// TSO is x86-TSO (Owens, Sarkar, Sewell 2009): per-thread FIFO store
	// buffers whose flushes are scheduling steps.
	TSO ModelKind = "tso"
	// View is the promise-free view model of C11 release/acquire, relaxed
	// accesses and fences (Kang et al., POPL 2017, without promises).
	View ModelKind = "view"
)

// Models returns every model, weakest last.
func Models() []ModelKind { return []ModelKind{SC, TSO, View} }

// ErrUnknownModel is returned for a model name that is not one of [Models].
var ErrUnknownModel = errors.New("explore: unknown memory model")

// ParseModel returns the model named s ("sc", "tso" or "view").
func ParseModel(s string) (ModelKind, error) {
	for _, m := range Models() {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("%w %q (want sc, tso or view)", ErrUnknownModel, s)
}
