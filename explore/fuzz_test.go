package explore

import (
	"errors"
	"testing"
)

// FuzzParseTrace: the trace parser of `bgw replay` never panics; every
// refusal says what is wrong; every accepted trace prints back to a string
// that parses to the same trace.
//
//	go test ./explore -run XXX -fuzz FuzzParseTrace -fuzztime 60s
func FuzzParseTrace(f *testing.F) {
	for _, s := range []string{"sc:t0.t1", "tso:t0*2.t1*2.f0.f1", "view:t0*2.t1.r0.t1.r1", "view:k3.w2", "", "sc:", "x:t0", "sc:t0*", "sc:t-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tr, err := ParseTrace(s)
		if err != nil {
			if !errors.Is(err, ErrBadTrace) {
				t.Fatalf("refusal of %q is not ErrBadTrace: %v", s, err)
			}
			return
		}
		back, err := ParseTrace(tr.String())
		if err != nil || back.String() != tr.String() {
			t.Fatalf("%q -> %q -> %v (%v)", s, tr.String(), back.String(), err)
		}
	})
}
