package postmaster

import (
	"errors"
	"strings"
	"testing"

	"bgwmodel/impl/bgworker"
)

// FuzzParseConfig: the config parser never panics; every refusal is a
// *ConfigError naming the file; every accepted config holds only workers
// the API accepts as static workers, within max_worker_processes.
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
			if !errors.As(err, &ce) || ce.File != "fuzz.json" || !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("refusal %v is not a ConfigError naming the file", err)
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
