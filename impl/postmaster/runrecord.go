package postmaster

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/internal/safefile"
)

// The record log is JSON lines: one [Record] per line, as
// [Record.MarshalJSON] encodes it. Field names are stable:
//
//	kind          string  RecordKind name ("launch", "report-stopped", ...); always
//	now_ns        int     Record.Now in nanoseconds since the postmaster started; always
//	call, return  int     the logical-clock stamps (0 without a clock); always
//	epoch         int     crash re-initializations so far; always
//	slot          int     the slot, or -1; always
//	pid           int     Record.Pid, omitted when 0
//	name          string  bgw_name, omitted when ""
//	restart_time  int     bgw_restart_time, present whenever name is (or it is not 0)
//	flags         int     bgw_flags (1 SHMEM_ACCESS, 2 BACKEND_DATABASE_CONNECTION), omitted when 0
//	exit          object  {"code": N} or {"code": 0, "signaled": true}: exited,
//	                      backend-exited, and any record whose Exit is set
//	decision      string  RestartAction name ("restart-after", ...), omitted when 0
//	delay_ns      int     the restart delay, omitted when 0
//	notify        int     the registrant, omitted when 0
//	reason        string  NotifyReason name ("launched", ...), omitted when 0
//	state         string  start state ("ConsistentState", ...): state-reached
//	in_use        [int]   slots in use: init and reinit (possibly [])
//	detail        string  human-readable, omitted when ""

// ErrTruncatedRecord is wrapped by the error of [DecodeRecords] when the
// last line has no newline and is not a whole record: the postmaster was
// killed while writing it, or is writing it right now.
var ErrTruncatedRecord = errors.New("postmaster: truncated last record")

// recordJSON is the wire form of a Record.
type recordJSON struct {
	Kind        string    `json:"kind"`
	NowNS       int64     `json:"now_ns"`
	Call        uint64    `json:"call"`
	Return      uint64    `json:"return"`
	Epoch       uint64    `json:"epoch"`
	Slot        int       `json:"slot"`
	Pid         int32     `json:"pid,omitempty"`
	Name        string    `json:"name,omitempty"`
	RestartTime *int32    `json:"restart_time,omitempty"`
	Flags       uint32    `json:"flags,omitempty"`
	Exit        *exitJSON `json:"exit,omitempty"`
	Decision    string    `json:"decision,omitempty"`
	DelayNS     int64     `json:"delay_ns,omitempty"`
	Notify      int32     `json:"notify,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	State       string    `json:"state,omitempty"`
	InUse       *[]int    `json:"in_use,omitempty"`
	Detail      string    `json:"detail,omitempty"`
}

type exitJSON struct {
	Code     int  `json:"code"`
	Signaled bool `json:"signaled,omitempty"`
}

// Name tables for the enums the log spells out, built from their String
// methods so that the log and the Go names never drift apart.
var (
	recordKinds   = nameTable(RecordInit, RecordDeathPipeClosed)
	notifyReasons = nameTable(NotifyLaunched, NotifyRejected)
	decisions     = nameTable(bgworker.RestartNow, bgworker.CrashRestart)
)

func nameTable[T interface {
	~uint8 | ~uint32
	fmt.Stringer
}](first, last T) map[string]T {
	m := make(map[string]T)
	for v := first; v <= last; v++ {
		m[v.String()] = v
	}
	return m
}

// MarshalJSON encodes the record as one JSON object with the log's stable
// field names (see docs/runtime.md, "The record log"). It does not block.
func (r Record) MarshalJSON() ([]byte, error) {
	j := recordJSON{
		Kind: r.Kind.String(), NowNS: int64(r.Now), Call: r.Call, Return: r.Return, Epoch: r.Epoch,
		Slot: r.Slot, Pid: r.Pid, Name: r.Name, Flags: uint32(r.Flags), DelayNS: int64(r.Delay), Notify: r.Notify,
		Detail: r.Detail,
	}
	if _, ok := recordKinds[j.Kind]; !ok {
		return nil, fmt.Errorf("postmaster: encode record: unknown kind %d", uint8(r.Kind))
	}
	if r.Name != "" || r.RestartTime != 0 {
		rt := r.RestartTime
		j.RestartTime = &rt
	}
	if r.Kind == RecordExited || r.Kind == RecordBackendExited || r.Exit != (bgworker.ExitStatus{}) {
		j.Exit = &exitJSON{Code: r.Exit.Code, Signaled: r.Exit.Signaled}
	}
	if r.Decision != 0 {
		j.Decision = r.Decision.String()
	}
	if r.Reason != 0 {
		j.Reason = r.Reason.String()
	}
	if r.Kind == RecordStateReached || r.State != 0 {
		j.State = r.State.String()
	}
	if r.Kind == RecordInit || r.Kind == RecordReinit || r.InUse != nil {
		in := r.InUse
		if in == nil {
			in = []int{}
		}
		j.InUse = &in
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes what [Record.MarshalJSON] encodes. Unknown fields
// and unknown enum names are errors. It does not block.
func (r *Record) UnmarshalJSON(b []byte) error {
	if err := r.decode(b); err != nil {
		return fmt.Errorf("postmaster: decode record: %w", err)
	}
	return nil
}

// decode is UnmarshalJSON without the package prefix on its errors.
func (r *Record) decode(b []byte) error {
	var j recordJSON
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&j); err != nil {
		return err
	}
	out := Record{Now: time.Duration(j.NowNS), Call: j.Call, Return: j.Return, Epoch: j.Epoch, Slot: j.Slot,
		Pid: j.Pid, Name: j.Name, Flags: bgworker.Flags(j.Flags), Delay: time.Duration(j.DelayNS), Notify: j.Notify, Detail: j.Detail}
	var ok bool
	if out.Kind, ok = recordKinds[j.Kind]; !ok {
		return fmt.Errorf("unknown kind %q", j.Kind)
	}
	if j.RestartTime != nil {
		out.RestartTime = *j.RestartTime
	}
	if j.Exit != nil {
		out.Exit = bgworker.ExitStatus{Code: j.Exit.Code, Signaled: j.Exit.Signaled}
	}
	if j.Decision != "" {
		if out.Decision, ok = decisions[j.Decision]; !ok {
			return fmt.Errorf("unknown decision %q", j.Decision)
		}
	}
	if j.Reason != "" {
		if out.Reason, ok = notifyReasons[j.Reason]; !ok {
			return fmt.Errorf("unknown reason %q", j.Reason)
		}
	}
	if j.State != "" {
		if out.State, ok = bgworker.ParseStartTime(j.State); !ok {
			return fmt.Errorf("unknown state %q", j.State)
		}
	}
	if j.InUse != nil {
		out.InUse = *j.InUse
	}
	*r = out
	return nil
}

// AppendRecordLine appends r's JSON encoding and a newline to dst: one
// line of the record log. It does not block.
func AppendRecordLine(dst []byte, r Record) ([]byte, error) {
	b, err := r.MarshalJSON()
	if err != nil {
		return dst, err
	}
	return append(append(dst, b...), '\n'), nil
}

// DecodeRecords reads a record log: one JSON object per line, blank lines
// skipped. A malformed line is an error naming its number. A last line
// without a newline that does not decode is reported as
// [ErrTruncatedRecord], together with every record before it, so a reader
// racing the writer (or reading after a SIGKILL) can keep what is whole.
// It blocks reading rd.
func DecodeRecords(rd io.Reader) ([]Record, error) { return decodeRecords(rd, "records") }

// decodeRecords is DecodeRecords; name (the file) prefixes its errors.
func decodeRecords(rd io.Reader, name string) ([]Record, error) {
	br := bufio.NewReader(rd)
	var out []Record
	for n := 1; ; n++ {
		line, err := safefile.ReadLine(br)
		if err != nil && err != io.EOF {
			return out, fmt.Errorf("postmaster: %s: line %d: %w", name, n, err)
		}
		complete := len(line) > 0 && line[len(line)-1] == '\n'
		if t := bytes.TrimSpace(line); len(t) > 0 {
			var r Record
			if derr := r.decode(t); derr != nil {
				if !complete {
					return out, fmt.Errorf("%w: %s: line %d: %w", ErrTruncatedRecord, name, n, derr)
				}
				return out, fmt.Errorf("postmaster: %s: line %d: %w", name, n, derr)
			}
			out = append(out, r)
		}
		if err == io.EOF {
			return out, nil
		}
	}
}

// ReadRecords reads the record log at path with [DecodeRecords]. Only a
// regular file is read (never blocking on a FIFO), up to
// safefile.MaxFileSize bytes, in lines of at most safefile.MaxLineSize.
// It blocks reading the file.
func ReadRecords(path string) ([]Record, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("postmaster: records: %w", err)
	}
	defer f.Close()
	return decodeRecords(safefile.Reader(f), path)
}
