package stress

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
)

func TestDefaultConfig(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Duration.D() < 20*time.Second || cfg.Duration.D() > 30*time.Second {
		t.Errorf("default duration %v, want 20..30s", cfg.Duration)
	}
	if cfg.Flaw != "" || cfg.Faults.PostmasterDeath.Enabled {
		t.Errorf("default has flaw %q / postmaster death %v, want neither", cfg.Flaw, cfg.Faults.PostmasterDeath.Enabled)
	}
	// Every operation and every fault but the optional death is on.
	if got := cfg.FaultList(); got != "kill-worker,kill-backend,fail-spawns,stop-postmaster" {
		t.Errorf("default faults %q", got)
	}
	// The saved form parses back to the same configuration.
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseConfig("saved", b)
	if err != nil {
		t.Fatal(err)
	}
	if ReproCommand(back, "d") != ReproCommand(cfg, "d") {
		t.Errorf("saved configuration differs from the default")
	}
}

func TestParseConfigOverlay(t *testing.T) {
	cfg, err := ParseConfig("f.json", []byte(`{"duration": "3s", "faults": {"kill_worker": {"every": "0s"}},
		"transient_workers": {"behaviours": {"exit2": 0}}}`))
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	if cfg.Duration.D() != 3*time.Second || cfg.Faults.KillWorker.Every != 0 ||
		cfg.Faults.KillBackend != def.Faults.KillBackend || cfg.Transient.Behaviours[Exit1] != def.Transient.Behaviours[Exit1] ||
		cfg.Transient.Behaviours[Exit2] != 0 {
		t.Errorf("overlay: %+v", cfg)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, c := range []struct {
		json, field string
		line        int // of the field in the file; 0: not in it
		want        string
	}{
		{`{"bogus": 1}`, "bogus", 1, "unknown field (known: duration, seed"},
		{"{\n\"faults\": {\n \"kill_worker\": {\"evry\": \"1s\"}}}", "faults.kill_worker.evry", 3, "unknown field (known: every)"},
		{`{"duration": "soon"}`, "duration", 1, `want a duration such as "250ms" or "25s": got "soon"`},
		{"{\n\"check\": {\"interval\": 5}}", "check.interval", 2, "want a duration"},
		{"{\"seed\": 1,\n\n\"backends\": \"4\"}", "backends", 3, "want an integer in range, got string"},
		{"{\"seed\": 1,\n\"backends\": 0}", "backends", 2, "want 1..64, got 0"},
		{`{"careful": 9}`, "careful", 1, "want 0..backends (5), got 9"},
		{`{"slots": 5000}`, "slots", 1, "want 1..1024"},
		{`{"flaw": "bogus"}`, "flaw", 1, "unknown flaw"},
		{`{"workload": {"invalid_rate": 2}}`, "workload.invalid_rate", 1, "want a probability"},
		{`{"workload": {"wait_timeout": "1ms"}}`, "workload.wait_timeout", 1, "want 100ms..10m"},
		{`{"transient_workers": {"behaviours": {"run": 1}}}`, "transient_workers.behaviours.run", 1, "must end to free its slot"},
		{`{"static_workers": [{"name": "s", "behaviour": "jump", "restart_time": 1, "start_time": "PostmasterStart"}]}`,
			"static_workers[0].behaviour", 1, `unknown behaviour "jump"`},
		{`{"static_workers": [{"name": "s", "behaviour": "exit1", "restart_time": 1, "start_time": "Noon"}]}`,
			"static_workers[0].start_time", 1, `unknown start time "Noon"`},
		{`{"permanent_workers": [{"name": "p", "behaviour": "exit2", "shmem_access": true, "restart_time": 1, "start_time": "PostmasterStart"}]}`,
			"permanent_workers[0].behaviour", 1, "restart the cluster for ever"},
		{"{\"permanent_workers\": [\n  {\"name\": \"p\", \"behaviour\": \"exit0\", \"restart_time\": 1, \"start_time\": \"PostmasterStart\"},\n" +
			"  {\"name\": \"p\", \"behaviour\": \"exit1\",\n   \"restart_time\": -1, \"start_time\": \"PostmasterStart\"}]}",
			"permanent_workers[1].restart_time", 4, "must keep its slot"},
		{`{"permanent_workers": [{"name": "", "behaviour": "exit0", "restart_time": 1, "start_time": "PostmasterStart"}]}`,
			"permanent_workers[0].name", 1, "empty"},
		{`{"permanent_workers": [{"name": "p", "behaviour": "exit0", "restart_time": 90000000, "start_time": "PostmasterStart"}]}`,
			"permanent_workers[0].restart_time", 1, "invalid restart interval"},
		{"{\"faults\": {\"stop_postmaster\": {\"min\": \"1s\",\n\"max\": \"10ms\"}}}", "faults.stop_postmaster.max", 2, "want 0 < min"},
		// The default's max (300ms) breaks the rule with the file's min:
		// the line is the min's.
		{"{\"faults\": {\"stop_postmaster\":\n {\"min\": \"1s\"}}}", "faults.stop_postmaster.max", 2, "want 0 < min"},
		// The file's max breaks the rule with the default's wait_grace.
		{"{\"faults\": {\"stop_postmaster\":\n\n {\"max\": \"2s\"}}}", "check.wait_grace", 3, "(faults.stop_postmaster.max, 2s)"},
		{"{\"careful\": 4,\n\"backends\": 3}", "careful", 1, "want 0..backends (3)"},
		{`{"faults": {"postmaster_death": {"at": 0}}}`, "faults.postmaster_death.at", 1, "want a fraction"},
		{`{"check": {"slack": "100ms"}}`, "check.slack", 1, "more than the longest SIGSTOP"},
		{`{"check": {"wait_grace": "10ms"}}`, "check.wait_grace", 1, "more than the longest SIGSTOP"},
		{`{"noise": {"probability": 1.5}}`, "noise.probability", 1, "want a probability in 0..1, got 1.5"},
		{"{\"noise\": {\"enabled\": false,\n \"yield_share\": -1}}", "noise.yield_share", 2, "want a share in 0..1"},
		{"{\"noise\": {\n\n \"max_delay\": \"1s\"}}", "noise.max_delay", 3, "want min_delay (20µs) .. 100ms, got 1s"},
		{`{"noise": {"min_delay": "0s"}}`, "noise.min_delay", 1, "want more than 0 when some pauses are sleeps"},
		{`{"noise": {"enabled": "yes"}}`, "noise.enabled", 1, "want true or false"},
		{`{"noise": {"seed": 3}}`, "noise.seed", 1, "unknown field (known: enabled, probability, yield_share, min_delay, max_delay)"},
	} {
		t.Run(c.field, func(t *testing.T) {
			_, err := ParseConfig("f.json", []byte(c.json))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("%s: error %v, want a *ConfigError", c.json, err)
			}
			if ce.File != "f.json" || ce.Field != c.field || ce.Line != c.line || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s:\n got %v (field %q, line %d)\nwant field %q, line %d, %q", c.json, err, ce.Field, ce.Line, c.field, c.line, c.want)
			}
			where := "stress: f.json: "
			if c.line > 0 {
				where = fmt.Sprintf("stress: f.json:%d: ", c.line)
			}
			if !strings.HasPrefix(err.Error(), where+c.field+": ") {
				t.Errorf("%v: want the prefix %q", err, where+c.field+": ")
			}
		})
	}
	for _, c := range []struct{ name, json, want string }{
		{"trailing", `{} {}`, "stress: f.json:1:4: data after the configuration object"},
		{"truncated", "{\"duration\": ", "stress: f.json:1:13: unexpected end of the file: not a whole JSON object"},
		{"empty", "", "stress: f.json:1:1: unexpected end of the file"},
		{"syntax", "{\n  \"duration\": \"1s\",\n}", "stress: f.json:3:1: invalid character '}'"},
		{"not-object", `[1]`, "stress: f.json:1:1: want a JSON object, got array"},
		{"garbage", "\x00\x01PK", "stress: f.json:1:1: invalid character"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig("f.json", []byte(c.json))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("%q: error %v, want %q", c.json, err, c.want)
			}
		})
	}
}

func TestSetFaults(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.SetFaults("kill-backend,postmaster-death"); err != nil {
		t.Fatal(err)
	}
	if got := cfg.FaultList(); got != "kill-backend,postmaster-death" {
		t.Errorf("FaultList %q", got)
	}
	if err := cfg.SetFaults("none"); err != nil || cfg.FaultList() != "none" {
		t.Errorf("none: %v %q", err, cfg.FaultList())
	}
	if err := cfg.SetFaults("kill-worker,fail-spawns,stop-postmaster,kill-backend"); err != nil ||
		cfg.FaultList() != DefaultConfig().FaultList() {
		t.Errorf("all back: %v %q", err, cfg.FaultList())
	}
	if err := cfg.SetFaults("kill-postmaster"); err == nil || !strings.Contains(err.Error(), `unknown fault "kill-postmaster" (known: kill-worker,`) {
		t.Errorf("unknown fault: %v", err)
	}
}

func TestSetFaultsRefusesBadLists(t *testing.T) {
	for _, tc := range []struct{ list, want string }{
		{"", "an empty fault list"},
		{"  ", "an empty fault list"},
		{"none,kill-worker", `"none" stands alone`},
		{"kill-worker,default", `"default" stands alone`},
		{"kill-worker,,kill-backend", "an empty fault name"},
		{"kill-worker,kill-worker", `fault "kill-worker" listed twice`},
		{"kill-all", `unknown fault "kill-all" (known: kill-worker,`},
	} {
		t.Run(tc.list, func(t *testing.T) {
			cfg := DefaultConfig()
			before := cfg.FaultList()
			err := cfg.SetFaults(tc.list)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("SetFaults(%q): %v, want an error containing %q", tc.list, err, tc.want)
			}
			if cfg.FaultList() != before {
				t.Errorf("SetFaults(%q) failed but changed the faults to %q", tc.list, cfg.FaultList())
			}
		})
	}
}

func TestReproCommand(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Seed = 42
	cfg = cfg.Resolve() // as Run runs it
	if got := ReproCommand(cfg, "out"); got != "bgw stress -seed 42" {
		t.Errorf("default: %q", got)
	}
	flagged := DefaultConfig()
	flagged.Seed, flagged.Flaw, flagged.Duration = 42, "silent-forget", Duration(5*time.Second)
	flagged.SetFaults("fail-spawns,postmaster-death")
	if got, want := ReproCommand(flagged.Resolve(), "out"), "bgw stress -seed 42 -duration 5s -faults fail-spawns,postmaster-death -flaw silent-forget"; got != want {
		t.Errorf("flags:\n got %q\nwant %q", got, want)
	}
	flagged.Slots, flagged.Vary.Slots = 4, false // -slots 4
	want := "bgw stress -seed 42 -duration 5s -faults fail-spawns,postmaster-death -flaw silent-forget -slots 4"
	if got := ReproCommand(flagged.Resolve(), "out"); got != want {
		t.Errorf("flags:\n got %q\nwant %q", got, want)
	}
	flagged.Workload.Think = Duration(time.Second)
	if got := ReproCommand(flagged.Resolve(), "my out"); got != "bgw stress -config 'my out/campaign.json'" {
		t.Errorf("config: %q", got)
	}
}

// TestResolve: a seed's variant is the same every time, resolves to
// itself, and the seeds give every kind of variant.
func TestResolve(t *testing.T) {
	statics, scarce, plentiful, staticNever := map[int]bool{}, 0, 0, 0
	for seed := int64(1); seed <= 60; seed++ {
		c := DefaultConfig()
		c.Seed = seed
		r := c.Resolve()
		if !reflect.DeepEqual(r, c.Resolve()) || !reflect.DeepEqual(r.Resolve(), r) {
			t.Fatalf("seed %d: Resolve is not a function of the seed, or not idempotent", seed)
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !reflect.DeepEqual(c, func() Config { d := DefaultConfig(); d.Seed = seed; return d }()) {
			t.Fatalf("seed %d: Resolve changed the configuration it was called on", seed)
		}
		statics[len(r.Static)] = true
		for _, s := range r.Static {
			if s.RestartTime == bgworker.NeverRestart {
				staticNever++
			}
		}
		if dyn := r.Slots - len(r.Static) - min(len(r.Permanent), r.Backends); dyn <= r.Backends+1 {
			scarce++
		} else {
			plentiful++
		}
	}
	if !statics[0] || !statics[1] || !(statics[2] || statics[3]) || scarce == 0 || plentiful == 0 || staticNever == 0 {
		t.Errorf("60 seeds gave static worker counts %v, %d scarce and %d plentiful, %d NEVER_RESTART static workers",
			statics, scarce, plentiful, staticNever)
	}
}

func TestMainArg(t *testing.T) {
	deadline := time.UnixMilli(1_700_000_000_123)
	for _, c := range []struct {
		run      time.Duration
		deadline time.Time
	}{{0, time.Time{}}, {250 * time.Millisecond, deadline}, {MaxRun, deadline}} {
		run, d := SplitMainArg(MainArg(c.run, c.deadline))
		if run != c.run || !d.Equal(c.deadline) {
			t.Errorf("MainArg(%v, %v) splits into %v, %v", c.run, c.deadline, run, d)
		}
	}
	reg := Registry()
	for _, b := range behaviours {
		if !reg.Has(Library, string(b)) {
			t.Errorf("registry lacks %s", b)
		}
	}
}

// TestNoiseConfig: the noise is on by default, seeded from the campaign's
// seed; a configuration file turns it off.
func TestNoiseConfig(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		on         bool
	}{
		{"default", `{}`, true},
		{"off", `{"noise": {"enabled": false}}`, false},
		{"probability 0", `{"noise": {"probability": 0}}`, false},
		{"yields only", `{"noise": {"yield_share": 1, "min_delay": "0s", "max_delay": "0s"}}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig("f.json", []byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			n := cfg.Noise.Cluster(1234)
			if n.Enabled() != tc.on {
				t.Fatalf("noise %+v: on %v, want %v", n, n.Enabled(), tc.on)
			}
			if err := n.Validate(); err != nil {
				t.Errorf("the cluster refuses the noise: %v", err)
			}
			if tc.on && n.Seed != 1234 {
				t.Errorf("noise seed %d, want the campaign's, 1234", n.Seed)
			}
		})
	}
}
