package pmdriver

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/postmaster"
	"bgwmodel/internal/jsonpos"
)

// DefaultMaxWorkers is max_worker_processes when a configuration file
// does not set it: PostgreSQL's default.
const DefaultMaxWorkers = 8

// ConfigError reports a configuration file that the postmaster refuses,
// naming the file, the line and the field
// ("static_workers[2].bgw_restart_time"), as PostgreSQL names the file
// and line of a bad postgresql.conf entry.
// It wraps [postmaster.ErrConfig] and the underlying error (for example an
// [*bgworker.InvalidError] or [flaw.ErrUnknown]).
type ConfigError struct {
	// File is the file as it was named.
	File string
	// Line and Col (1-based) locate the problem in the file: a syntax
	// error, or where the file gives Field. 0 when unknown: a field the
	// file does not give (a default), or a file that cannot be read.
	Line, Col int
	// Field is the JSON path of the bad value, or "" when the file as a
	// whole is bad (unreadable, not JSON).
	Field string
	// Err says what is wrong.
	Err error
}

// Error returns "postmaster: FILE:LINE[:COL]: FIELD: reason" on one line,
// leaving out what is unknown.
func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "postmaster: %s", e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	fmt.Fprintf(&b, ": %s", strings.ReplaceAll(e.Err.Error(), "\n", " "))
	return b.String()
}

// Locate sets e.Line, if it is unknown, to the line at which data (the
// file's contents) gives e.Field, or else the nearest value enclosing it
// that the file gives: the worker's object for a required field it lacks.
// It returns e. It does not block.
func (e *ConfigError) Locate(data []byte) *ConfigError {
	if e.Line == 0 && e.Field != "" {
		e.Line = jsonpos.NearestLine(data, e.Field)
	}
	return e
}

// Unwrap returns ErrConfig and Err.
func (e *ConfigError) Unwrap() []error { return []error{postmaster.ErrConfig, e.Err} }

// The configuration file's fields. Unknown fields are errors.
var (
	configFields = []string{"max_worker_processes", "static_workers", "consistent_delay",
		"recovery_delay", "flaws", "segment_id"}
	workerFields = []string{"bgw_name", "bgw_flags", "bgw_start_time", "bgw_restart_time",
		"bgw_library_name", "bgw_function_name", "bgw_main_arg", "bgw_notify_pid"}
	requiredWorkerFields = []string{"bgw_name", "bgw_restart_time", "bgw_library_name", "bgw_function_name"}
)

// flagNames are the names bgw_flags may list, as the seed's macros
// without the BGWORKER_ prefix.
var flagNames = []struct {
	name string
	flag bgworker.Flags
}{{"SHMEM_ACCESS", bgworker.ShmemAccess}, {"BACKEND_DATABASE_CONNECTION", bgworker.BackendDatabaseConnection}}

// LoadConfig reads the postmaster's configuration file at path (see
// [ParseConfig]). It blocks reading the file.
func LoadConfig(path string) (postmaster.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return postmaster.Config{}, &ConfigError{File: path, Err: err}
	}
	return ParseConfig(path, data)
}

// ParseConfig parses a configuration file's contents; file names it in
// errors. The file is one JSON object:
//
//	{
//	  "max_worker_processes": 8,              // 1..1024; default 8
//	  "consistent_delay": "50ms",             // Go duration >= 0; default 0
//	  "recovery_delay": "50ms",               // likewise
//	  "flaws": ["notify-before-free"],        // flaw names (or one comma-separated string)
//	  "segment_id": 42,                       // names the segment in handles
//	  "static_workers": [{
//	    "bgw_name": "ticker",                 // required
//	    "bgw_flags": ["SHMEM_ACCESS"],        // names, or the C integer; default none
//	    "bgw_start_time": "ConsistentState",  // name, or the C integer; default PostmasterStart
//	    "bgw_restart_time": 5,                // required: seconds, or -1 (BGW_NEVER_RESTART)
//	    "bgw_library_name": "lib",            // required
//	    "bgw_function_name": "ticker_main",   // required
//	    "bgw_main_arg": 0,                    // default 0
//	    "bgw_notify_pid": 0                   // must be 0 for a static worker
//	  }]
//	}
//
// Unknown fields, values of the wrong type or out of range, a static
// worker that fails [bgworker.ValidateWorker] or asks for notification,
// and more static workers than max_worker_processes are each a
// [*ConfigError] naming file, line and field. Stamp is never set. It does
// not block.
func ParseConfig(file string, data []byte) (postmaster.Config, error) {
	cfg, err := parseConfig(file, data)
	var ce *ConfigError
	if errors.As(err, &ce) {
		ce.Locate(data)
	}
	return cfg, err
}

func parseConfig(file string, data []byte) (postmaster.Config, error) {
	p := &configParser{file: file}
	cfg := postmaster.Config{MaxWorkers: DefaultMaxWorkers}
	top, err := p.object("", data, configFields)
	if err != nil {
		return postmaster.Config{}, err
	}
	if raw, ok := top["max_worker_processes"]; ok {
		n, err := p.integer("max_worker_processes", raw, 1, bgworker.MaxWorkerProcesses)
		if err != nil {
			return postmaster.Config{}, err
		}
		cfg.MaxWorkers = int(n)
	}
	for _, f := range []struct {
		name string
		dst  *time.Duration
	}{{"consistent_delay", &cfg.ConsistentDelay}, {"recovery_delay", &cfg.RecoveryDelay}} {
		if raw, ok := top[f.name]; ok {
			if *f.dst, err = p.duration(f.name, raw); err != nil {
				return postmaster.Config{}, err
			}
		}
	}
	if raw, ok := top["flaws"]; ok {
		if cfg.Flaws, err = p.flaws(raw); err != nil {
			return postmaster.Config{}, err
		}
	}
	if raw, ok := top["segment_id"]; ok {
		if cfg.SegmentID, err = p.unsigned("segment_id", raw); err != nil {
			return postmaster.Config{}, err
		}
	}
	if raw, ok := top["static_workers"]; ok {
		if cfg.Static, err = p.workers(raw); err != nil {
			return postmaster.Config{}, err
		}
		if len(cfg.Static) > cfg.MaxWorkers {
			return postmaster.Config{}, p.errorf("static_workers", "%d workers, more than max_worker_processes (%d)",
				len(cfg.Static), cfg.MaxWorkers)
		}
	}
	return cfg, nil
}

// MarshalConfig encodes cfg as a configuration file that [ParseConfig]
// reads back to the same Config (less Stamp). It does not check cfg. It
// does not block.
func MarshalConfig(cfg postmaster.Config) ([]byte, error) {
	type workerJSON struct {
		Name         string `json:"bgw_name"`
		Flags        any    `json:"bgw_flags"`
		StartTime    string `json:"bgw_start_time"`
		RestartTime  int32  `json:"bgw_restart_time"`
		LibraryName  string `json:"bgw_library_name"`
		FunctionName string `json:"bgw_function_name"`
		MainArg      uint64 `json:"bgw_main_arg"`
		NotifyPid    int32  `json:"bgw_notify_pid"`
	}
	out := struct {
		MaxWorkers      int          `json:"max_worker_processes"`
		ConsistentDelay string       `json:"consistent_delay"`
		RecoveryDelay   string       `json:"recovery_delay"`
		Flaws           []string     `json:"flaws"`
		SegmentID       uint64       `json:"segment_id"`
		Static          []workerJSON `json:"static_workers"`
	}{MaxWorkers: cfg.MaxWorkers, ConsistentDelay: cfg.ConsistentDelay.String(),
		RecoveryDelay: cfg.RecoveryDelay.String(), Flaws: []string{}, SegmentID: cfg.SegmentID,
		Static: []workerJSON{}}
	for _, f := range cfg.Flaws.Flaws() {
		out.Flaws = append(out.Flaws, f.String())
	}
	for _, w := range cfg.Static {
		if _, ok := bgworker.ParseStartTime(w.StartTime.String()); !ok {
			return nil, fmt.Errorf("postmaster: marshal config: worker %q: unknown start time %d", w.Name, w.StartTime)
		}
		var flags any = uint32(w.Flags)
		if names, ok := flagList(w.Flags); ok {
			flags = names
		}
		out.Static = append(out.Static, workerJSON{Name: w.Name, Flags: flags, StartTime: w.StartTime.String(),
			RestartTime: w.RestartTime, LibraryName: w.LibraryName, FunctionName: w.FunctionName,
			MainArg: w.MainArg, NotifyPid: w.NotifyPid})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("postmaster: marshal config: %w", err)
	}
	return append(b, '\n'), nil
}

// flagList names the bits of f, or reports false if f has unknown bits.
func flagList(f bgworker.Flags) ([]string, bool) {
	names := []string{}
	for _, fn := range flagNames {
		if f&fn.flag != 0 {
			names = append(names, fn.name)
			f &^= fn.flag
		}
	}
	return names, f == 0
}
