package pmdriver_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
	"bgwmodel/impl/pmdriver"
	"bgwmodel/impl/postmaster"
)

// TestParseConfig reads a full file and its defaults.
func TestParseConfig(t *testing.T) {
	cfg, err := pmdriver.ParseConfig("c.json", []byte(`{
		"max_worker_processes": 4,
		"consistent_delay": "50ms", "recovery_delay": "1s",
		"flaws": "silent-forget, notify-before-free",
		"segment_id": 18446744073709551615,
		"static_workers": [
			{"bgw_name": "a", "bgw_restart_time": -1, "bgw_library_name": "l", "bgw_function_name": "f"},
			{"bgw_name": "b", "bgw_flags": ["SHMEM_ACCESS", "BGWORKER_BACKEND_DATABASE_CONNECTION"],
			 "bgw_start_time": "BgWorkerStart_RecoveryFinished", "bgw_restart_time": 5,
			 "bgw_library_name": "l", "bgw_function_name": "g", "bgw_main_arg": 42, "bgw_notify_pid": 0},
			{"bgw_name": "c", "bgw_flags": 1, "bgw_start_time": 1, "bgw_restart_time": 0,
			 "bgw_library_name": "l", "bgw_function_name": "h"}
		]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := postmaster.Config{MaxWorkers: 4, ConsistentDelay: 50 * time.Millisecond, RecoveryDelay: time.Second,
		Flaws: flaw.Of(flaw.SilentForget, flaw.NotifyBeforeFree), SegmentID: 1<<64 - 1,
		Static: []bgworker.Worker{
			{Name: "a", RestartTime: bgworker.NeverRestart, LibraryName: "l", FunctionName: "f"},
			{Name: "b", Flags: bgworker.ShmemAccess | bgworker.BackendDatabaseConnection, StartTime: bgworker.RecoveryFinished,
				RestartTime: 5, LibraryName: "l", FunctionName: "g", MainArg: 42},
			{Name: "c", Flags: bgworker.ShmemAccess, StartTime: bgworker.ConsistentState, LibraryName: "l", FunctionName: "h"},
		}}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
	def, err := pmdriver.ParseConfig("c.json", []byte(" {} "))
	if err != nil || def.MaxWorkers != pmdriver.DefaultMaxWorkers || def.Static != nil {
		t.Errorf("defaults: %+v, %v", def, err)
	}
	// What MarshalConfig writes reads back the same.
	b, err := pmdriver.MarshalConfig(want)
	if err != nil {
		t.Fatal(err)
	}
	back, err := pmdriver.ParseConfig("m.json", b)
	if err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("round trip: %+v, %v\n%s", back, err, b)
	}
}

// TestParseConfigErrors: each refusal names the file and the field, on
// one line, and wraps ErrConfig (and the bgworker error when there is
// one).
func TestParseConfigErrors(t *testing.T) {
	const w = `"bgw_name": "w", "bgw_restart_time": 1, "bgw_library_name": "l", "bgw_function_name": "f"`
	for _, tc := range []struct {
		in, field, msg string
		invalid        bool
	}{
		{``, "", "f.json:1:1: unexpected end of JSON input", false},
		{`{"a": 1} x`, "", "invalid character 'x' after top-level value", false},
		{`{"max_worker_processes": 1.5}`, "max_worker_processes", "want an integer, got 1.5", false},
		{`{"max_worker_processes": 2000}`, "max_worker_processes", "2000 out of range 1..1024", false},
		{`{"segment_id": -1}`, "segment_id", "want a non-negative integer, got -1", false},
		{`{"flaws": 3}`, "flaws", "want an array of names, got a number", false},
		{`{"flaws": ["silent-forget", 2]}`, "flaws[1]", "want a string, got a number", false},
		{`{"consistent_delay": 5}`, "consistent_delay", "want a duration", false},
		{`{"static_workers": {}}`, "static_workers", "want an array of workers, got an object", false},
		{`{"static_workers": [3]}`, "static_workers[0]", "want a JSON object, got a number", false},
		{`{"static_workers": [{` + w + `, "bgw_flags": ["PSYCHIC"]}]}`, "static_workers[0].bgw_flags[0]", `unknown flag "PSYCHIC"`, false},
		{`{"static_workers": [{` + w + `, "bgw_flags": 8}]}`, "static_workers[0].bgw_flags", "unknown bits 0x8", true},
		{`{"static_workers": [{` + w + `, "bgw_start_time": 9}]}`, "static_workers[0].bgw_start_time", "unknown start time 9", true},
		{`{"static_workers": [{"bgw_name": "", "bgw_restart_time": 1, "bgw_library_name": "l", "bgw_function_name": "f"}]}`,
			"static_workers[0].bgw_name", "empty", true},
		{`{"static_workers": [{` + w + `, "bgw_main_arg": "x"}]}`, "static_workers[0].bgw_main_arg", "want a non-negative integer, got a string", false},
		{`{"static_workers": [{` + w + `, "bgw_notify_pid": -3}]}`, "static_workers[0].bgw_notify_pid", "negative pid -3", true},
		{`{"static_workers": [{` + w + `, "bgw_restart_time": 3000000000}]}`, "static_workers[0].bgw_restart_time", "out of range", false},
	} {
		_, err := pmdriver.ParseConfig("f.json", []byte(tc.in))
		var ce *pmdriver.ConfigError
		if !errors.As(err, &ce) || ce.File != "f.json" || ce.Field != tc.field || !strings.Contains(err.Error(), tc.msg) ||
			strings.Contains(err.Error(), "\n") || !errors.Is(err, postmaster.ErrConfig) ||
			errors.Is(err, bgworker.ErrInvalidWorker) != tc.invalid {
			t.Errorf("%s:\n got %v (field %q)\nwant field %q, %q, invalid %v", tc.in, err, fieldOf(ce), tc.field, tc.msg, tc.invalid)
		}
		// Every file here is one line: every field it gives is at line 1.
		if ce != nil && !strings.HasPrefix(err.Error(), "postmaster: f.json:1") {
			t.Errorf("%s: %v names no line", tc.in, err)
		}
	}
}

func fieldOf(ce *pmdriver.ConfigError) string {
	if ce == nil {
		return "<no ConfigError>"
	}
	return ce.Field
}

// TestLoadConfigMissing: a missing file is a ConfigError naming it.
func TestLoadConfigMissing(t *testing.T) {
	_, err := pmdriver.LoadConfig(t.TempDir() + "/none.json")
	if !errors.Is(err, postmaster.ErrConfig) || !strings.Contains(err.Error(), "none.json: no such file or directory") {
		t.Errorf("LoadConfig: %v", err)
	}
}
