package pmdriver

import (
	"encoding/json"
	"fmt"
)

// The control protocol: the program that started the postmaster (the
// harness) sends [ControlRequest] values, one JSON object per line, on a
// pipe ([RunConfig.Control]); the postmaster answers each, in order, with
// one [ControlReply] line on another ([RunConfig.Replies]). Before any
// reply it writes one unsolicited line with Ready set, once EventStart has
// been handled: the postmaster is up, its static workers asked for.

// ControlOp names a control request.
type ControlOp string

// The control requests.
const (
	// OpStartBackend starts a regular backend process (BackendStartup for
	// a new connection) identified by [ControlRequest.ID]; the reply
	// carries its pid. Refused with [CodeNotAccepting] during a crash
	// restart or a shutdown, as PostgreSQL refuses connections then.
	OpStartBackend ControlOp = "start_backend"
	// OpFailSpawns makes the next [ControlRequest.N] worker spawns fail
	// without starting anything (fault injection): each is answered with
	// an EventSpawnResult carrying an error.
	OpFailSpawns ControlOp = "fail_spawns"
	// OpShutdown is the same as SIGTERM to the postmaster: an orderly
	// shutdown (EventShutdown).
	OpShutdown ControlOp = "shutdown"
	// OpStopAt arms a breakpoint (fault injection): the postmaster stops
	// itself with SIGSTOP just before its [ControlRequest.N]-th access to
	// shared memory from now (N >= 1), after writing where to its stderr;
	// N 0 disarms. A new request replaces the old.
	OpStopAt ControlOp = "stop_at"
)

// ControlRequest is one request line.
type ControlRequest struct {
	// Op is the request.
	Op ControlOp `json:"op"`
	// ID names the backend (OpStartBackend): 1..64 printable ASCII bytes.
	ID string `json:"id,omitempty"`
	// N is the number of spawns to fail (OpFailSpawns), >= 0, or the
	// step to stop at (OpStopAt), >= 0.
	N int `json:"n,omitempty"`
}

// ControlCode classifies a refused request.
type ControlCode string

// The codes of [ControlReply.Code].
const (
	// CodeBadRequest: the line is not a request the postmaster knows.
	CodeBadRequest ControlCode = "bad_request"
	// CodeNotAccepting: no backend may start now (crash restart, shutdown).
	CodeNotAccepting ControlCode = "not_accepting"
	// CodeSpawnFailed: the backend process could not be started.
	CodeSpawnFailed ControlCode = "spawn_failed"
)

// ControlReply is one reply line, or the first, unsolicited, ready line.
type ControlReply struct {
	// Ready marks the first line: the postmaster has started.
	Ready bool `json:"ready,omitempty"`
	// OK says the request was done.
	OK bool `json:"ok"`
	// Pid is the new backend's pid (OpStartBackend), or the postmaster's
	// own (Ready).
	Pid int `json:"pid,omitempty"`
	// SegmentID names the segment (Ready).
	SegmentID uint64 `json:"segment_id,omitempty"`
	// MaxWorkers is max_worker_processes (Ready).
	MaxWorkers int `json:"max_workers,omitempty"`
	// Accesses is the number of accesses to shared memory the
	// postmaster has made so far (OpStopAt), so that a harness can count
	// the steps of what it handles.
	Accesses uint64 `json:"accesses,omitempty"`
	// Code classifies a refusal.
	Code ControlCode `json:"code,omitempty"`
	// Error says why a request was refused.
	Error string `json:"error,omitempty"`
}

// checkRequest validates a decoded request.
func checkRequest(req ControlRequest) error {
	switch req.Op {
	case OpStartBackend:
		if len(req.ID) == 0 || len(req.ID) > 64 {
			return fmt.Errorf("backend id %q: want 1..64 bytes", req.ID)
		}
		for i := 0; i < len(req.ID); i++ {
			if c := req.ID[i]; c <= 0x20 || c > 0x7e {
				return fmt.Errorf("backend id %q: byte %#x is not printable ASCII", req.ID, c)
			}
		}
	case OpFailSpawns:
		if req.N < 0 {
			return fmt.Errorf("fail_spawns: negative count %d", req.N)
		}
	case OpStopAt:
		if req.N < 0 {
			return fmt.Errorf("stop_at: negative step %d", req.N)
		}
	case OpShutdown:
	default:
		return fmt.Errorf("unknown op %q", req.Op)
	}
	return nil
}

// parseRequest decodes one request line.
func parseRequest(line []byte) (ControlRequest, error) {
	var req ControlRequest
	if err := json.Unmarshal(line, &req); err != nil {
		return req, fmt.Errorf("bad request line: %w", err)
	}
	return req, checkRequest(req)
}

// AppendLine appends v's JSON encoding and a newline to dst: one line of
// the control protocol. It does not block.
func AppendLine(dst []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("postmaster: encode control line: %w", err)
	}
	return append(append(dst, b...), '\n'), nil
}
