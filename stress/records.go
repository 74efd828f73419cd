package stress

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"bgwmodel/impl/postmaster"
	"bgwmodel/internal/implspec"
	"bgwmodel/internal/safefile"
	"bgwmodel/linearizability"
)

// tailer reads the postmaster's record log as it grows, keeping every
// whole record read so far and what the campaign needs to know of them.
type tailer struct {
	path    string
	off     int64
	partial []byte
	recs    []postmaster.Record

	// Derived from the records so far.
	workers  map[int32]workerInfo // running workers by pid
	backends map[int32]bool       // live backends
	restarts int                  // crash restarts
	launches int
}

// workerInfo is a running worker, as the record log shows it.
type workerInfo struct {
	slot  int
	name  string
	shmem bool
}

func newTailer(path string) *tailer {
	return &tailer{path: path, workers: map[int32]workerInfo{}, backends: map[int32]bool{}}
}

// poll reads what was appended since the last call. A last line without
// its newline is kept for the next call.
func (t *tailer) poll() error {
	f, err := os.Open(t.path)
	if err != nil {
		return fmt.Errorf("stress: records: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(t.off, io.SeekStart); err != nil {
		return fmt.Errorf("stress: records: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("stress: records: %w", err)
	}
	t.off += int64(len(data))
	data = append(t.partial, data...)
	end := bytes.LastIndexByte(data, '\n') + 1
	t.partial = append([]byte(nil), data[end:]...)
	recs, err := postmaster.DecodeRecords(bytes.NewReader(data[:end]))
	if err != nil {
		return fmt.Errorf("stress: records %s: %w", t.path, err)
	}
	for _, r := range recs {
		t.note(r)
	}
	t.recs = append(t.recs, recs...)
	return nil
}

// note updates the derived state with r.
func (t *tailer) note(r postmaster.Record) {
	switch r.Kind {
	case postmaster.RecordLaunch:
		t.workers[r.Pid] = workerInfo{slot: r.Slot, name: r.Name, shmem: r.Flags&1 != 0}
		t.launches++
	case postmaster.RecordExited:
		delete(t.workers, r.Pid)
	case postmaster.RecordBackendStarted:
		t.backends[r.Pid] = true
	case postmaster.RecordBackendExited:
		delete(t.backends, r.Pid)
	case postmaster.RecordCrashRestart:
		t.restarts++
	}
}

// lastReturn is the largest Return stamp of the records read so far.
func (t *tailer) lastReturn() linearizability.Stamp {
	var m uint64
	for i := len(t.recs) - 1; i >= 0 && i >= len(t.recs)-64; i-- {
		m = max(m, t.recs[i].Return)
	}
	return linearizability.Stamp(m)
}

// readRecords reads a whole record log. A torn last line (the postmaster
// was killed while writing it) is dropped and reported as torn: whether
// that is allowed depends on how the postmaster ended (see
// input.wholeRecords). A record that cannot be decoded is an error naming
// the file and its line.
func readRecords(path string) (recs []postmaster.Record, torn bool, err error) {
	recs, err = postmaster.ReadRecords(path)
	switch {
	case errors.Is(err, postmaster.ErrTruncatedRecord):
		return recs, true, nil
	case err != nil:
		return nil, false, recordsError(path, err)
	}
	return recs, false, nil
}

// recordsError finds the line of the record log at path that err (from
// postmaster.ReadRecords) is about, and says "stress: PATH:LINE: reason".
func recordsError(path string, err error) error {
	data, rerr := safefile.ReadFile(path)
	if rerr != nil {
		return fmt.Errorf("stress: %w", rerr)
	}
	for n, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if _, lerr := postmaster.DecodeRecords(bytes.NewReader(line)); lerr != nil {
			if inner := errors.Unwrap(lerr); inner != nil {
				lerr = inner
			}
			return fmt.Errorf("stress: %s:%d: %w", path, n+1, lerr)
		}
	}
	return fmt.Errorf("stress: %s: %w", path, err)
}

// PostmasterHistory converts the postmaster's record log to its
// operations in the history (implspec.Op: Launch, Exit, Forget, Reinit),
// each with the record's stamps. It also returns the number of static workers, from
// RecordInit (which must list slots 0..n-1). Postmaster operations that
// would overlap (several rejections in one scan share its stamps) get
// distinct client ids. It does not block.
func PostmasterHistory(recs []postmaster.Record) (linearizability.History, int, error) {
	var h linearizability.History
	static := -1
	client := postmasterClient
	var last linearizability.Stamp
	for i, r := range recs {
		in, isOp := implspec.Op(r)
		switch {
		case r.Kind == postmaster.RecordInit:
			if static >= 0 {
				return nil, 0, fmt.Errorf("stress: records: record %d: a second init record", i+1)
			}
			for k, s := range r.InUse {
				if s != k {
					return nil, 0, fmt.Errorf("stress: records: record %d: static workers in slots %v, want 0..n-1", i+1, r.InUse)
				}
			}
			static = len(r.InUse)
			continue
		case !isOp:
			continue
		}
		if r.Call == 0 || r.Return < r.Call {
			return nil, 0, fmt.Errorf("stress: records: record %d (%v): bad stamps [%d, %d]", i+1, r.Kind, r.Call, r.Return)
		}
		op := linearizability.Operation{Client: client, Process: postmasterProcess, Input: in,
			Call: linearizability.Stamp(r.Call), Return: linearizability.Stamp(r.Return)}
		if len(h) > 0 && op.Call <= last {
			client++
			op.Client = client
		}
		last = max(last, op.Return)
		h = append(h, op)
	}
	if static < 0 {
		return nil, 0, errors.New("stress: records: no init record")
	}
	return h, static, nil
}
