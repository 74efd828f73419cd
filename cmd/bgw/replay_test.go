package main

import (
	"strings"
	"testing"
)

func TestReplay(t *testing.T) {
	// A prefix is completed with default choices: the empty trace is the
	// non-preemptive execution, which passes.
	code, out, errs := bgw(t, "replay", "-scenario", "reuse", "sc:")
	if code != exitOK || !strings.Contains(out, "ok: the execution ends normally") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"step", "thread", "access", "loc", "value", "order", "slot[0].in_use", "BackgroundWorkerLock", "{name \"w1\" …}", "-1"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	// A failing trace: the flaw's counterexample.
	code, out, _ = bgw(t, "explore", "-flaw", "no-forget-barrier", "-model", "view", "-scenario", "reuse")
	if code != exitViolation {
		t.Fatalf("explore: exit %d\n%s", code, out)
	}
	args := replayArgs(t, out)
	code, out, _ = bgw(t, args...)
	if code != exitViolation || !strings.Contains(out, "FAIL:") || !strings.Contains(out, "(inserted)") {
		t.Fatalf("%v: exit %d\n%s", args, code, out)
	}
	// The same trace without the flaw passes or does not fit, but never
	// fails.
	if code, out, _ := bgw(t, append([]string{"replay", "-scenario", "reuse"}, args[len(args)-1])...); code == exitViolation {
		t.Errorf("default: exit 1\n%s", out)
	}
	// Without -scenario, the one scenario the whole trace fits.
	noScn := []string{"replay", "-flaw", "no-forget-barrier", args[len(args)-1]}
	if code, out, errs := bgw(t, noScn...); code != exitViolation || !strings.Contains(out, "replaying scenario reuse") {
		t.Errorf("%v: exit %d\n%s%s", noScn, code, out, errs)
	}
	// A litmus test's witness.
	code, out, _ = bgw(t, "replay", "-scenario", "MP", "view:t0*2.t1.r0.t1.r1")
	if code != exitViolation || !strings.Contains(out, "(stale)") {
		t.Errorf("MP witness: exit %d\n%s", code, out)
	}
}
