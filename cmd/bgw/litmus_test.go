package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestLitmusJSON(t *testing.T) {
	code, out, errs := bgw(t, "litmus", "-model", "tso", "-json")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	got := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Test    string `json:"test"`
			Model   string `json:"model"`
			Allowed *bool  `json:"allowed"`
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil || r.Test == "" || r.Model != "tso" || r.Allowed == nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		got[r.Test] = *r.Allowed
	}
	if !got["SB"] || got["MP"] || got["SB+fsc+fsc"] || len(got) < 40 {
		t.Errorf("verdicts: SB=%v MP=%v SB+fsc+fsc=%v (%d tests)", got["SB"], got["MP"], got["SB+fsc+fsc"], len(got))
	}
}

func TestLitmusText(t *testing.T) {
	code, out, _ := bgw(t, "litmus", "-model", "view")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"TEST", "MP+wb+rb", "forbidden", "allowed", "differ from the literature"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
