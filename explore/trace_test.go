package explore

import (
	"errors"
	"strings"
	"testing"
)

func TestTraceStringParse(t *testing.T) {
	tr := Trace{Model: TSO, Choices: []Choice{
		{ChooseThread, 0}, {ChooseThread, 0}, {ChooseThread, 1}, {ChooseFlush, 0},
		{ChooseRead, 2}, {ChooseWrite, 1}, {ChooseKill, 3}, {ChooseThread, 0}, {ChooseThread, 0}, {ChooseThread, 0},
	}}
	s := tr.String()
	if s != "tso:t0*2.t1.f0.r2.w1.k3.t0*3" {
		t.Fatalf("String = %q", s)
	}
	back, err := ParseTrace(s)
	if err != nil {
		t.Fatal(err)
	}
	if back.String() != s || len(back.Choices) != len(tr.Choices) {
		t.Fatalf("round trip: %q → %+v", s, back)
	}
	if empty, err := ParseTrace("sc:"); err != nil || empty.Model != SC || len(empty.Choices) != 0 {
		t.Fatalf("empty trace: %+v %v", empty, err)
	}
}

func TestParseTraceErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "no model prefix"},
		{"view", "no model prefix"},
		{"arm:t0", "unknown memory model"},
		{"view:t", "bad number"},
		{"view:q1", "unknown choice kind"},
		{"view:t01", "leading zero"},
		{"view:t-1", "not a decimal"},
		{"view:t1..t2", "empty token"},
		{"view:t1.", "empty token"},
		{"view:t1*1", "bad repeat count"},
		{"view:t1*", "bad repeat count"},
		{"view:t1*x", "bad repeat count"},
		{"view:t99999999999", "too large"},
		{"view:t1*2.t1*1048575", "more than"},
	}
	for _, c := range cases {
		_, err := ParseTrace(c.in)
		if !errors.Is(err, ErrBadTrace) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseTrace(%q) = %v, want %q", c.in, err, c.want)
		}
	}
}

func TestReplayPrefixAndMismatch(t *testing.T) {
	s := counterScenario(2, false)
	// A prefix is completed with default choices.
	r, err := Replay(s, "sc:t1")
	if err != nil || r.Trace != "sc:t1*2.t0*2" || r.Failure != nil {
		t.Fatalf("prefix: %+v %v", r, err)
	}
	// The lost update: T0 loads, T1 runs whole, T0 stores.
	r, err = Replay(s, "sc:t0.t1*2.t0")
	if err != nil || r.Failure == nil || r.Preemptions != 1 {
		t.Fatalf("lost update: %+v %v", r, err)
	}
	for _, c := range []struct{ trace, want string }{
		{"sc:t5", "cannot be taken here; possible: t0 t1"},
		{"sc:f0", "cannot be taken here"},
		{"sc:r1", "cannot be taken here"},
		{"sc:t0*2.t1*2.t1", "the trace has 1 more"},
		{"view:t0*2.t1.w0", "wanted a read choice among 2 alternatives"},
		{"view:t0*2.t1.r2", "wanted a read choice among 2 alternatives"},
	} {
		sc := s
		if strings.HasPrefix(c.trace, "view") {
			sc = mpScenario()
		}
		_, err := Replay(sc, c.trace)
		if !errors.Is(err, ErrTraceMismatch) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Replay(%q) = %v, want %q", c.trace, err, c.want)
		}
	}
	if _, err := Replay(s, "bogus"); !errors.Is(err, ErrBadTrace) {
		t.Errorf("bad trace: %v", err)
	}
}

func TestShrink(t *testing.T) {
	// A noisy scenario: two threads race on a counter, a third does
	// unrelated loads. Random schedules fail with many preemptions;
	// shrinking must find a smaller failing trace.
	s := Scenario{Name: "noisy", MemSize: 24, Setup: func(w *World) error {
		inner := counterScenario(2, false)
		if err := inner.Setup(w); err != nil {
			return err
		}
		w.Spawn("noise", func(t *Thread) {
			for range 8 {
				load32(t, offB)
				store32(t, offC, 1)
			}
		}, 0)
		return nil
	}}
	rep := mustExplore(t, s, Options{Model: SC, Strategy: Random, Seed: 7, MaxExecutions: 500, PreemptionBound: Unbounded})
	if len(rep.Failures) != 1 {
		t.Fatalf("random found nothing: %v", rep)
	}
	orig := rep.Failures[0]
	sh, err := Shrink(s, orig.Trace, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !(sh.Preemptions < sh.OriginalPreemptions || sh.Steps < sh.OriginalSteps || sh.Choices < sh.OriginalChoices) {
		t.Fatalf("not shrunk: %+v", sh)
	}
	if sh.Preemptions > orig.Preemptions || sh.Steps > orig.Steps {
		t.Fatalf("grew: %+v", sh)
	}
	if sh.Preemptions != 1 {
		t.Errorf("shrunk to %d preemptions, want 1 (%s)", sh.Preemptions, sh.Trace)
	}
	r, err := Replay(s, sh.Trace)
	if err != nil || r.Failure == nil || r.Failure.Kind != orig.Kind {
		t.Fatalf("shrunk trace %q does not fail: %v %v", sh.Trace, r, err)
	}
	t.Logf("%s (%d steps, %d preemptions) → %s (%d steps, %d preemptions) in %d runs",
		orig.Trace, sh.OriginalSteps, sh.OriginalPreemptions, sh.Trace, sh.Steps, sh.Preemptions, sh.Runs)
	if _, err := Shrink(s, "sc:", 0); !errors.Is(err, ErrNoFailure) {
		t.Errorf("shrink of a passing trace: %v", err)
	}
}
