package flaw_test

import (
	"errors"
	"testing"

	"bgwmodel/impl/flaw"
)

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range flaw.Catalogue() {
		if e.Name == "" || e.Seed == "" || e.Fixed == "" || e.Shows == "" || e.CaughtBy == "" {
			t.Errorf("incomplete entry %+v", e)
		}
		if seen[e.Name] {
			t.Errorf("duplicate name %q", e.Name)
		}
		seen[e.Name] = true
		f, err := flaw.Parse(e.Name)
		if err != nil || f != e.Flaw || f.String() != e.Name {
			t.Errorf("Parse(%q) = %v, %v", e.Name, f, err)
		}
	}
	// The names are stable once published.
	for _, name := range []string{"no-inuse-check", "silent-forget", "spawn-failure-as-start", "notify-before-free",
		"no-forget-barrier", "restart-overflow", "unordered-pmsignal"} {
		if !seen[name] {
			t.Errorf("published flaw %q missing", name)
		}
	}
}

func TestParseSet(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want flaw.Set
		err  error
	}{
		{"", 0, nil},
		{"none", 0, nil},
		{"silent-forget", flaw.Of(flaw.SilentForget), nil},
		{"silent-forget, restart-overflow", flaw.Of(flaw.SilentForget, flaw.RestartOverflow), nil},
		{"bogus", 0, flaw.ErrUnknown},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := flaw.ParseSet(tc.in)
			if !errors.Is(err, tc.err) || (err == nil && got != tc.want) {
				t.Fatalf("ParseSet(%q) = %v, %v; want %v, %v", tc.in, got, err, tc.want, tc.err)
			}
			if err == nil {
				back, err := flaw.ParseSet(got.String())
				if err != nil || back != got {
					t.Fatalf("round trip %q -> %v, %v", got.String(), back, err)
				}
			}
		})
	}
	if s := flaw.Of(flaw.NoInuseCheck); !s.Has(flaw.NoInuseCheck) || s.Has(flaw.SilentForget) {
		t.Fatalf("Has on %v", s)
	}
}
