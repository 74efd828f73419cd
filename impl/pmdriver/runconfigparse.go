package pmdriver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
	"bgwmodel/internal/jsonpos"
)

// configParser decodes one file field by field, so that every error names
// its field.
type configParser struct{ file string }

func (p *configParser) errorf(field, format string, args ...any) error {
	return &ConfigError{File: p.file, Field: field, Err: fmt.Errorf(format, args...)}
}

// jsonType names the JSON type of a raw value by its first byte.
func jsonType(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// object decodes raw as an object whose keys must all be in known.
func (p *configParser) object(field string, raw []byte, known []string) (map[string]json.RawMessage, error) {
	if t := jsonType(raw); t != "an object" {
		if field == "" {
			if ce := syntaxError(raw); ce != nil {
				ce.File = p.file
				return nil, ce
			}
		}
		return nil, p.errorf(field, "want a JSON object, got %s", t)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		if ce := syntaxError(raw); ce != nil {
			ce.File, ce.Field = p.file, field
			return nil, ce
		}
		return nil, &ConfigError{File: p.file, Field: field, Err: err}
	}
	var unknown []string
	for k := range m {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, p.errorf(join(field, unknown[0]), "unknown field (known: %s)", strings.Join(known, ", "))
	}
	return m, nil
}

// syntaxError returns raw's JSON syntax error at its line and column, or
// nil if raw is valid JSON (or fails otherwise).
func syntaxError(raw []byte) *ConfigError {
	var v any
	var se *json.SyntaxError
	if err := json.Unmarshal(raw, &v); !errors.As(err, &se) {
		return nil
	}
	line, col := jsonpos.Position(raw, se.Offset)
	return &ConfigError{Line: line, Col: col, Err: se}
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// integer decodes an integer in [lo, hi].
func (p *configParser) integer(field string, raw []byte, lo, hi int64) (int64, error) {
	if t := jsonType(raw); t != "a number" {
		return 0, p.errorf(field, "want an integer, got %s", t)
	}
	s := string(bytes.TrimSpace(raw))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, p.errorf(field, "want an integer, got %s", s)
	}
	if n < lo || n > hi {
		return 0, p.errorf(field, "%d out of range %d..%d", n, lo, hi)
	}
	return n, nil
}

// unsigned decodes a non-negative integer up to 2^64-1.
func (p *configParser) unsigned(field string, raw []byte) (uint64, error) {
	if t := jsonType(raw); t != "a number" {
		return 0, p.errorf(field, "want a non-negative integer, got %s", t)
	}
	s := string(bytes.TrimSpace(raw))
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, p.errorf(field, "want a non-negative integer, got %s", s)
	}
	return n, nil
}

func (p *configParser) str(field string, raw []byte) (string, error) {
	var s string
	if t := jsonType(raw); t != "a string" {
		return "", p.errorf(field, "want a string, got %s", t)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", p.errorf(field, "%v", err)
	}
	return s, nil
}

// duration decodes a Go duration string (">= 0").
func (p *configParser) duration(field string, raw []byte) (time.Duration, error) {
	s, err := p.str(field, raw)
	if err != nil {
		return 0, p.errorf(field, "want a duration such as \"50ms\", got %s", jsonType(raw))
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, p.errorf(field, "want a duration such as \"50ms\": %v", err)
	}
	if d < 0 {
		return 0, p.errorf(field, "negative duration %v", d)
	}
	return d, nil
}

// nameList decodes an array of strings, or one comma-separated string.
func (p *configParser) nameList(field string, raw []byte) ([]string, error) {
	switch jsonType(raw) {
	case "a string":
		s, err := p.str(field, raw)
		if err != nil || strings.TrimSpace(s) == "" || s == "none" {
			return nil, err
		}
		parts := strings.Split(s, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	case "an array":
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, p.errorf(field, "%v", err)
		}
		out := make([]string, len(items))
		for i, it := range items {
			s, err := p.str(fmt.Sprintf("%s[%d]", field, i), it)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, p.errorf(field, "want an array of names, got %s", jsonType(raw))
}

func (p *configParser) flaws(raw []byte) (flaw.Set, error) {
	names, err := p.nameList("flaws", raw)
	if err != nil {
		return 0, err
	}
	var s flaw.Set
	for i, n := range names {
		f, err := flaw.Parse(n)
		if err != nil {
			return 0, &ConfigError{File: p.file, Field: fmt.Sprintf("flaws[%d]", i), Err: err}
		}
		s |= flaw.Of(f)
	}
	return s, nil
}

func (p *configParser) workers(raw []byte) ([]bgworker.Worker, error) {
	if t := jsonType(raw); t != "an array" {
		return nil, p.errorf("static_workers", "want an array of workers, got %s", t)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, p.errorf("static_workers", "%v", err)
	}
	out := make([]bgworker.Worker, 0, len(items))
	for i, it := range items {
		w, err := p.worker(fmt.Sprintf("static_workers[%d]", i), it)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// worker decodes one static worker and checks it as
// RegisterBackgroundWorker does.
func (p *configParser) worker(field string, raw []byte) (bgworker.Worker, error) {
	var w bgworker.Worker
	m, err := p.object(field, raw, workerFields)
	if err != nil {
		return w, err
	}
	for _, k := range requiredWorkerFields {
		if _, ok := m[k]; !ok {
			return w, p.errorf(join(field, k), "required")
		}
	}
	strs := []struct {
		key string
		dst *string
	}{{"bgw_name", &w.Name}, {"bgw_library_name", &w.LibraryName}, {"bgw_function_name", &w.FunctionName}}
	for _, s := range strs {
		if *s.dst, err = p.str(join(field, s.key), m[s.key]); err != nil {
			return w, err
		}
	}
	rt, err := p.integer(join(field, "bgw_restart_time"), m["bgw_restart_time"], math.MinInt32, math.MaxInt32)
	if err != nil {
		return w, err
	}
	w.RestartTime = int32(rt)
	if raw, ok := m["bgw_flags"]; ok {
		if w.Flags, err = p.workerFlags(join(field, "bgw_flags"), raw); err != nil {
			return w, err
		}
	}
	if raw, ok := m["bgw_start_time"]; ok {
		if w.StartTime, err = p.startTime(join(field, "bgw_start_time"), raw); err != nil {
			return w, err
		}
	}
	if raw, ok := m["bgw_main_arg"]; ok {
		if w.MainArg, err = p.unsigned(join(field, "bgw_main_arg"), raw); err != nil {
			return w, err
		}
	}
	if raw, ok := m["bgw_notify_pid"]; ok {
		n, err := p.integer(join(field, "bgw_notify_pid"), raw, math.MinInt32, math.MaxInt32)
		if err != nil {
			return w, err
		}
		w.NotifyPid = int32(n)
	}
	if err := bgworker.ValidateWorker(&w); err != nil {
		var ie *bgworker.InvalidError
		if errors.As(err, &ie) {
			return w, &ConfigError{File: p.file, Field: join(field, string(ie.Field)), Err: reasonError{ie}}
		}
		return w, &ConfigError{File: p.file, Field: field, Err: err}
	}
	if w.NotifyPid != 0 {
		return w, p.errorf(join(field, "bgw_notify_pid"), "only dynamic background workers can request notification")
	}
	return w, nil
}

func (p *configParser) workerFlags(field string, raw []byte) (bgworker.Flags, error) {
	if jsonType(raw) == "a number" {
		n, err := p.integer(field, raw, 0, math.MaxUint32)
		return bgworker.Flags(n), err
	}
	names, err := p.nameList(field, raw)
	if err != nil {
		return 0, err
	}
	var f bgworker.Flags
	for i, n := range names {
		k := slices.IndexFunc(flagNames, func(fn struct {
			name string
			flag bgworker.Flags
		}) bool {
			return fn.name == strings.TrimPrefix(n, "BGWORKER_")
		})
		if k < 0 {
			return 0, p.errorf(fmt.Sprintf("%s[%d]", field, i), "unknown flag %q (known: SHMEM_ACCESS, BACKEND_DATABASE_CONNECTION)", n)
		}
		f |= flagNames[k].flag
	}
	return f, nil
}

func (p *configParser) startTime(field string, raw []byte) (bgworker.StartTime, error) {
	if jsonType(raw) == "a number" {
		n, err := p.integer(field, raw, 0, math.MaxUint32)
		return bgworker.StartTime(n), err
	}
	s, err := p.str(field, raw)
	if err != nil {
		return 0, err
	}
	st, ok := bgworker.ParseStartTime(strings.TrimPrefix(s, "BgWorkerStart_"))
	if !ok {
		return 0, p.errorf(field, "unknown start time %q (known: PostmasterStart, ConsistentState, RecoveryFinished)", s)
	}
	return st, nil
}

// reasonError is an InvalidError shown by its reason alone (the
// ConfigError names the field), which errors.Is and errors.As still find.
type reasonError struct{ ie *bgworker.InvalidError }

func (e reasonError) Error() string { return e.ie.Reason }
func (e reasonError) Unwrap() error { return e.ie }
