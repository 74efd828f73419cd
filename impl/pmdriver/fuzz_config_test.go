package pmdriver

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"bgwmodel/impl/bgworker"
	"bgwmodel/internal/jsonpos"
)

// FuzzParseConfig: the config parser never panics; every refusal is a
// *ConfigError naming the file, and a line within it (always, for a file
// that is not JSON or a field the file gives); every accepted config holds
// only workers the API accepts as static workers, within
// max_worker_processes.
//
//	go test ./impl/postmaster -run XXX -fuzz FuzzParseConfig -fuzztime 60s
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"max_worker_processes": 2, "static_workers": [{"bgw_name": "a", "bgw_library_name": "l", "bgw_function_name": "f", "bgw_restart_time": 5}]}`))
	f.Add([]byte(`{"max_worker_processes": -1}`))
	f.Add([]byte(`{"static_workers": [{"bgw_name": "\u00e9"}]}`))
	f.Add([]byte(`[1,2`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig("fuzz.json", data)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.File != "fuzz.json" || !strings.HasPrefix(err.Error(), "postmaster: fuzz.json") {
				t.Fatalf("refusal %v is not a ConfigError naming the file", err)
			}
			if lines := bytes.Count(data, []byte("\n")) + 1; ce.Line < 0 || ce.Line > lines {
				t.Fatalf("refusal names line %d of a %d-line file: %v", ce.Line, lines, err)
			}
			if !json.Valid(data) && ce.Line == 0 {
				t.Fatalf("refusal of a file that is not JSON names no line: %v", err)
			}
			if ce.Field != "" && ce.Line == 0 && jsonpos.FieldLine(data, ce.Field) != 0 {
				t.Fatalf("refusal of field %s, which the file gives, names no line: %v", ce.Field, err)
			}
			return
		}
		if cfg.MaxWorkers < 1 || cfg.MaxWorkers > bgworker.MaxWorkerProcesses || len(cfg.Static) > cfg.MaxWorkers {
			t.Fatalf("accepted max_worker_processes %d with %d static workers", cfg.MaxWorkers, len(cfg.Static))
		}
		for i, w := range cfg.Static {
			if err := bgworker.ValidateWorker(&w); err != nil || w.NotifyPid != 0 {
				t.Fatalf("accepted static worker %d: %+v (%v)", i, w, err)
			}
		}
	})
}
