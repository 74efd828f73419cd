package stress

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"bgwmodel/impl/postmaster"
	"bgwmodel/internal/safefile"
	"bgwmodel/linearizability"
	"bgwmodel/spec"
)

// WaitsFile is the run directory's list of the waits the waiters check
// judged (JSON lines, one [WaitRecord] each), so that `bgw check` can judge
// them again from the record log.
const WaitsFile = "waits.jsonl"

// WaitOutcome is how a judged WaitForStartup ended.
type WaitOutcome string

// The outcomes of a judged wait.
const (
	// WaitTimedOut: the backend's own timeout (the workload's
	// wait_timeout) passed without an answer.
	WaitTimedOut WaitOutcome = "timeout"
	// WaitCancelled: the campaign ended while it waited.
	WaitCancelled WaitOutcome = "cancelled"
	// WaitPending: it was judged while still waiting, and found left
	// waiting.
	WaitPending WaitOutcome = "pending"
	// WaitLost: its backend died while it waited (a crash restart, a
	// kill): it was still waiting then.
	WaitLost WaitOutcome = "lost"
)

// WaitRecord is a WaitForStartup that did not answer in time, to be
// judged against the postmaster's record log.
type WaitRecord struct {
	// Process and Client name the operation in the histories.
	Process string `json:"process"`
	Client  int    `json:"client"`
	// Handle is the registration waited for; the backend waiting is its
	// registrant (notify pid).
	Handle WaitHandle `json:"handle"`
	// Registered is the Register's return stamp; Call the wait's call.
	Registered uint64 `json:"registered"`
	Call       uint64 `json:"call"`
	// Mid is a stamp taken the check's grace (check.wait_grace) before
	// the wait ended or was judged: whatever the postmaster had done by
	// then must have woken the waiter by the end.
	Mid     uint64      `json:"mid"`
	Outcome WaitOutcome `json:"outcome"`
}

// WaitHandle is a handle in a [WaitRecord].
type WaitHandle struct {
	Slot       int    `json:"slot"`
	Generation uint64 `json:"generation"`
	Epoch      uint64 `json:"epoch"`
}

// String returns "s2/g1/e0", as spec.Handle does.
func (h WaitHandle) String() string { return spec.Handle(h).String() }

// WaiterFinding is a waiter left waiting: a WaitForStartup still waiting
// (at Wait.Mid plus the grace) although the record log shows that, by
// Wait.Mid, its worker had been launched, stopped or forgotten, or its
// registration rejected (the postmaster notifies the registrant of each),
// or the postmaster had died (POSTMASTER_DIED is due at once).
type WaiterFinding struct {
	Wait WaitRecord
	// Record is the 1-based line of the record log that should have woken
	// it, or 0.
	Record int
	Reason string
}

// String returns a one-line description.
func (f WaiterFinding) String() string {
	return fmt.Sprintf("waiter left waiting: %s (client %d) WaitForStartup(%v) called at %d, still waiting at %d (%s): %s",
		f.Wait.Process, f.Wait.Client, f.Wait.Handle, f.Wait.Call, f.Wait.Mid, f.Wait.Outcome, f.Reason)
}

// JudgeWaits judges each wait against the record log and the
// postmaster's death (died, nil if it did not die): a wait is left
// waiting if, by its Mid stamp, the record log shows its registration
// launched, stopped, forgotten or rejected, or the postmaster had died.
// The registration is found by its handle: the g-th adoption (or
// rejection) of the slot in the epoch is generation g. A wait is not
// judged if it was called after Mid, or if a crash restart or a shutdown
// of its epoch began before Mid (every backend is then killed or told to
// stop). It does not block.
func JudgeWaits(waits []WaitRecord, recs []postmaster.Record, died *linearizability.Operation) []WaiterFinding {
	var out []WaiterFinding
	for _, w := range waits {
		if f, bad := judgeWait(w, recs, died); bad {
			out = append(out, f)
		}
	}
	return out
}

func judgeWait(w WaitRecord, recs []postmaster.Record, died *linearizability.Operation) (WaiterFinding, bool) {
	f := WaiterFinding{Wait: w}
	if w.Mid <= w.Call {
		return f, false
	}
	if died != nil && uint64(died.Return) < w.Mid {
		f.Reason = fmt.Sprintf("the postmaster died at [%v, %v]: POSTMASTER_DIED was due", died.Call, died.Return)
		return f, true
	}
	h := w.Handle
	nth := uint64(0)
	var first, woke int // 1-based lines: the registration's adoption, what should have woken it
	var waiting bool    // its last record before Mid is a failed spawn waiting for a restart
	for i, r := range recs {
		if r.Call >= w.Mid {
			break
		}
		if r.Epoch != h.Epoch {
			continue
		}
		switch r.Kind {
		case postmaster.RecordCrashRestart, postmaster.RecordShutdown:
			return f, false
		}
		if r.Slot != h.Slot {
			continue
		}
		if r.Kind == postmaster.RecordAdopt || r.Kind == postmaster.RecordReject {
			nth++
			if nth == h.Generation {
				first = i + 1
				if r.Kind == postmaster.RecordReject {
					woke = i + 1
				}
				continue
			}
			if nth > h.Generation {
				break
			}
		}
		if first == 0 || nth != h.Generation || woke != 0 {
			continue
		}
		switch r.Kind {
		case postmaster.RecordLaunch, postmaster.RecordReportStopped, postmaster.RecordForget:
			woke = i + 1
		case postmaster.RecordSpawnFailed:
			waiting = r.Decision != 0 && r.Delay > 0
		case postmaster.RecordSpawn:
			waiting = false
		}
	}
	switch {
	case woke != 0:
		r := recs[woke-1]
		f.Record = woke
		f.Reason = fmt.Sprintf("record %d (%v, stamps [%d, %d]) should have woken it", woke, r.Kind, r.Call, r.Return)
		return f, true
	case waiting:
		return f, false // waiting for a retry after restart_time: legal
	}
	// Not adopted yet, or adopted and not launched yet: the adoption may
	// have been delayed by a SIGSTOP, and the launch by the start state;
	// the policy's launch-late rule judges the latter.
	return f, false
}

// writeWaits writes the waits as JSON lines.
func writeWaits(path string, waits []WaitRecord) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, w := range waits {
		if err := enc.Encode(w); err != nil {
			return fmt.Errorf("stress: %s: %w", path, err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("stress: %w", err)
	}
	return nil
}

// ReadWaits reads a waits file; errors name the file and line. It blocks
// reading the file.
func ReadWaits(path string) ([]WaitRecord, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("stress: %w", err)
	}
	defer f.Close()
	return decodeWaits(safefile.Reader(f), path)
}

func decodeWaits(rd io.Reader, name string) ([]WaitRecord, error) {
	out := []WaitRecord{}
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 4096), safefile.MaxLineSize)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var w WaitRecord
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.DisallowUnknownFields()
		if err := d.Decode(&w); err != nil {
			return nil, fmt.Errorf("stress: %s:%d: %w", name, n, err)
		}
		switch w.Outcome {
		case WaitTimedOut, WaitCancelled, WaitPending, WaitLost:
		default:
			return nil, fmt.Errorf("stress: %s:%d: unknown outcome %q", name, n, w.Outcome)
		}
		if w.Process == "" || w.Call == 0 {
			return nil, fmt.Errorf("stress: %s:%d: process and call are required", name, n)
		}
		out = append(out, w)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("stress: %s: %w", name, err)
	}
	return out, nil
}
