package stress

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseConfig: the stress configuration parser (bgw stress -config)
// never panics; every refusal is a *ConfigError naming the file, and a
// line of it when it gives one; every accepted configuration is valid and
// survives a round trip through its JSON (what campaign.json holds).
//
//	go test ./stress -run XXX -fuzz FuzzParseConfig -fuzztime 200000x
func FuzzParseConfig(f *testing.F) {
	f.Add(DefaultConfigJSON())
	for _, s := range []string{
		`{}`, `{"duration": "1s"}`, `{"backends": 0}`, `{"workload": {"think": "fast"}}`,
		`{"faults": {"stop_postmaster": {"max": "2s"}}}`, `{"static_workers": []}`,
		`{"flaw": "silent-forget"}`, `{"seed": -1, "slots": 3}`, `{"duration": "1s"} {}`,
		"{\n\"check\": {\n\"wait_grace\": \"10ms\"}}", `[1, 2]`, `{"bogus": true}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "fuzz.json"
		cfg, err := ParseConfig(file, data)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.File != file {
				t.Fatalf("refusal %v (%T) is not a ConfigError naming the file", err, err)
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			if ce.Line < 0 || ce.Line > lines {
				t.Fatalf("refusal names line %d of a %d-line file: %v", ce.Line, lines, err)
			}
			if !strings.HasPrefix(err.Error(), "stress: "+file) {
				t.Fatalf("refusal %q does not start with the file", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted an invalid configuration: %v", err)
		}
		b, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseConfig("again.json", b)
		if err != nil {
			t.Fatalf("round trip refused: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(again, cfg) {
			t.Fatalf("round trip changed the configuration:\n%+v\n%+v", cfg, again)
		}
	})
}
