package stress

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"bgwmodel/impl/cluster"
	"bgwmodel/linearizability"
	"bgwmodel/spec"
)

// Client ids of the histories: the backends' streams count up from 1; the
// postmaster's operations (from its record log) and the harness's own
// (the postmaster's death) use ids from these bases, so that a directory
// can be re-assembled without renumbering.
const (
	harnessClient    = 1 << 30
	postmasterClient = harnessClient + 1
)

// Process names of the operations that are not a backend's: the
// postmaster's, which [PostmasterHistory] derives from the record log,
// and the harness's (the postmaster's death).
const (
	postmasterProcess = "postmaster"
	harnessProcess    = "harness"
)

// HistoryDir is the run directory's subdirectory holding the histories:
// one JSON lines file per backend process ("b7.jsonl") and the harness's
// ("harness.jsonl": the postmaster's death, if injected or seen). The
// postmaster's operations are not written there: the checks derive them
// from the record log, the one account of what the postmaster did.
const HistoryDir = "history"

// recorder records the harness's operations. Each operation is one JSON
// line in the file of the process it ran on, written before the
// operation counts as done, and is kept in memory for the checks made
// while the campaign runs.
type recorder struct {
	dir   string
	clock *cluster.Clock

	mu         sync.Mutex
	nextClient int
	done       []linearizability.Operation
	pending    map[*pendingOp]bool
}

// pendingOp is an operation in flight.
type pendingOp struct {
	op linearizability.Operation
}

func newRecorder(dir string, clock *cluster.Clock) (*recorder, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("stress: %w", err)
	}
	return &recorder{dir: dir, clock: clock, nextClient: 1, pending: map[*pendingOp]bool{}}, nil
}

// stream is one process's history file: a sequential client (a new id
// after every operation cut short). The file is created with its first
// line: a history file holds at least one operation.
type stream struct {
	rec     *recorder
	process string
	path    string
	f       *os.File
	enc     *linearizability.Encoder
	client  int
}

// open returns the stream of the history file name.jsonl for process.
func (r *recorder) open(name, process string, client int) (*stream, error) {
	if client == 0 {
		client = r.newClient()
	}
	return &stream{rec: r, process: process, path: filepath.Join(r.dir, name+".jsonl"), client: client}, nil
}

// encode writes one line, creating the file first if needed.
func (s *stream) encode(op linearizability.Operation) error {
	if s.f == nil {
		f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("stress: history: %w", err)
		}
		s.f, s.enc = f, linearizability.NewEncoder(f)
	}
	if err := s.enc.Encode(op); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) { // "write PATH: no space left on device"
			return fmt.Errorf("stress: history: %w", pe)
		}
		return fmt.Errorf("stress: history %s: %w", s.path, err)
	}
	return nil
}

func (r *recorder) newClient() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.nextClient
	r.nextClient++
	return c
}

// close closes the file.
func (s *stream) close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}

// begin starts an operation: its Call stamp is taken last, immediately
// before the caller sends the request, under the lock that makes it
// visible to snapshot.
func (s *stream) begin(in spec.Input) *pendingOp {
	p := &pendingOp{op: linearizability.Operation{Client: s.client, Process: s.process, Input: in}}
	s.rec.mu.Lock()
	p.op.Call = linearizability.Stamp(s.rec.clock.Stamp())
	s.rec.pending[p] = true
	s.rec.mu.Unlock()
	return p
}

// end completes p with out: the Return stamp is taken at once (the caller
// calls it immediately after the reply), then the line is written.
func (s *stream) end(p *pendingOp, out spec.Output) (linearizability.Operation, error) {
	ret := linearizability.Stamp(s.rec.clock.Stamp())
	op := p.op
	op.Output, op.Return = out, ret
	return op, s.finish(p, out, ret)
}

// cut completes p as cut short: unknown output, returning at infinity;
// the stream goes on under a fresh client id.
func (s *stream) cut(p *pendingOp) error {
	err := s.finish(p, spec.Output{Unknown: true}, linearizability.Infinity)
	s.client = s.rec.newClient()
	return err
}

// finish writes the completed operation, then moves it from pending to
// done. p.op is not changed: snapshot may read it meanwhile.
func (s *stream) finish(p *pendingOp, out spec.Output, ret linearizability.Stamp) error {
	op := p.op
	op.Output, op.Return = out, ret
	err := s.encode(op)
	s.rec.mu.Lock()
	delete(s.rec.pending, p)
	s.rec.done = append(s.rec.done, op)
	s.rec.mu.Unlock()
	return err
}

// count returns the number of operations completed so far.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.done)
}

// snapshot returns the operations that can be checked against a record
// log whose last record returned at cut: those called at or before cut,
// where an operation still in flight or returning after cut counts as
// cut short (unknown output, return at infinity). Every postmaster
// operation called before cut is in such a log (the postmaster stamps in
// one thread and writes a step's records in order), and an operation
// called after cut can only be linearized after every one of them, so the
// snapshot of a linearizable history is linearizable.
func (r *recorder) snapshot(cut linearizability.Stamp) linearizability.History {
	r.mu.Lock()
	defer r.mu.Unlock()
	var h linearizability.History
	add := func(op linearizability.Operation, inFlight bool) {
		if op.Call > cut {
			return
		}
		if inFlight || op.Return > cut {
			op.Output, op.Return = spec.Output{Unknown: true}, linearizability.Infinity
		}
		h = append(h, op)
	}
	for _, op := range r.done {
		add(op, false)
	}
	for p := range r.pending {
		add(p.op, true)
	}
	return h
}
