package cluster_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/cluster"
	"bgwmodel/impl/pmdriver"
	"bgwmodel/impl/proc/proctest"
)

// TestBadConfig: the postmaster refuses a bad configuration file with exit
// code 2 and a one-line message naming the file and the field; Start
// reports it as an *ExitError and leaves nothing behind.
func TestBadConfig(t *testing.T) {
	const w = `"bgw_name": "w", "bgw_restart_time": 1, "bgw_library_name": "cluster_test", "bgw_function_name": "run"`
	for _, tc := range []struct {
		name, file, field string
	}{
		{"unknown field", `{"max_worker_processes": 2, "bogus": 1}`, "bogus: unknown field"},
		{"unknown worker field", `{"static_workers": [{` + w + `, "bgw_colour": "red"}]}`,
			"static_workers[0].bgw_colour: unknown field"},
		{"bad restart time", `{"static_workers": [{` + w + `}, {` + w + `}, {"bgw_name": "w2", "bgw_restart_time": 90000000,
			"bgw_library_name": "cluster_test", "bgw_function_name": "run"}]}`,
			"static_workers[2].bgw_restart_time: invalid restart interval 90000000"},
		{"notify pid", `{"static_workers": [{` + w + `, "bgw_notify_pid": 4242}]}`,
			"static_workers[0].bgw_notify_pid: only dynamic background workers can request notification"},
		{"too many", `{"max_worker_processes": 1, "static_workers": [{` + w + `}, {` + w + `}]}`,
			"static_workers: 2 workers, more than max_worker_processes (1)"},
		{"max workers range", `{"max_worker_processes": 0}`, "max_worker_processes: 0 out of range 1..1024"},
		{"max workers type", `{"max_worker_processes": "eight"}`, "max_worker_processes: want an integer, got a string"},
		{"unknown flaw", `{"flaws": ["silent-forget", "no-such-flaw"]}`, `flaws[1]: flaw: unknown flaw "no-such-flaw"`},
		{"bad duration", `{"consistent_delay": "soon"}`, "consistent_delay: want a duration"},
		{"negative duration", `{"recovery_delay": "-1s"}`, "recovery_delay: negative duration"},
		{"bad start time", `{"static_workers": [{` + w + `, "bgw_start_time": "Never"}]}`,
			`static_workers[0].bgw_start_time: unknown start time "Never"`},
		{"database without shmem", `{"static_workers": [{` + w + `, "bgw_flags": ["BACKEND_DATABASE_CONNECTION"],
			"bgw_start_time": "ConsistentState"}]}`, "static_workers[0].bgw_flags: must attach to shared memory"},
		{"missing name", `{"static_workers": [{"bgw_restart_time": 1, "bgw_library_name": "l", "bgw_function_name": "f"}]}`,
			"static_workers[0].bgw_name: required"},
		{"unknown entry", `{"static_workers": [{"bgw_name": "w", "bgw_restart_time": 1, "bgw_library_name": "cluster_test",
			"bgw_function_name": "nope"}]}`, "static_workers[0].bgw_function_name: worker: unknown entry point"},
		{"syntax", "{\n  \"max_worker_processes\": 2,\n}", "invalid character '}'"},
		{"not an object", `[1, 2]`, "want a JSON object, got an array"},
		{"missing file", "", "no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proctest.Clean(t)
			path := filepath.Join(t.TempDir(), "config.json")
			if tc.name != "missing file" {
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := cluster.Start(ctxT(t), cluster.Config{ConfigFile: path, Dir: t.TempDir()})
			if err == nil {
				c.Stop(ctxT(t))
				t.Fatal("Start succeeded")
			}
			var ee *cluster.ExitError
			if !errors.As(err, &ee) || ee.Code != cluster.ExitBadConfig {
				t.Fatalf("Start: %v; want an ExitError with code 2", err)
			}
			// Where: the line of the field (line 1 but in the two
			// files of several lines) and, for a syntax error, the
			// column; nothing for a file that cannot be read or is not
			// an object at all.
			at := ":1"
			switch tc.name {
			case "syntax":
				at = ":3:1"
			case "unknown entry":
				at = ":2"
			case "missing file", "not an object":
				at = ""
			}
			want := "postmaster: " + path + at + ": " + tc.field
			if !strings.HasPrefix(ee.Message, want) || strings.Contains(ee.Message, "\n") {
				t.Errorf("message %q\nwant one line starting %q", ee.Message, want)
			}
		})
	}
}

// TestBadConfigFields: Start refuses bad fields of Config itself with the
// same message, before starting anything.
func TestBadConfigFields(t *testing.T) {
	proctest.Clean(t)
	dir := t.TempDir()
	_, err := cluster.Start(ctxT(t), cluster.Config{MaxWorkers: 2, Dir: dir, Registry: testRegistry(),
		Static: []bgworker.Worker{def("ok", "run", 0, 1), def("bad", "run", 0, -7)}})
	var ce *pmdriver.ConfigError
	if !errors.As(err, &ce) || ce.Field != "static_workers[1].bgw_restart_time" || !errors.Is(err, bgworker.ErrInvalidWorker) {
		t.Errorf("Start: %v; want a ConfigError on static_workers[1].bgw_restart_time", err)
	}
	_, err = cluster.Start(ctxT(t), cluster.Config{MaxWorkers: 1, Dir: dir, Registry: testRegistry(),
		Static: []bgworker.Worker{def("ok", "nope", 0, 1)}})
	if !errors.As(err, &ce) || ce.Field != "static_workers[0].bgw_function_name" {
		t.Errorf("Start: %v; want a ConfigError on static_workers[0].bgw_function_name", err)
	}
}
