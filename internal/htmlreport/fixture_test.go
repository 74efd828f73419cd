package htmlreport

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// hostile is text that breaks a page that does not escape it.
const hostile = `<script>window.hacked=1</script><img src=x onerror="window.hacked=2"> & "quotes" 'too' </td></tr>`

// samplePage is a waiters violation as bgw stress would report it: a
// backend waits for a worker's startup that the postmaster never reports,
// because a crash freed the slot without notifying it.
func samplePage() Page {
	ms := time.Millisecond
	return Page{
		Title: Title("waiters", 42, "no-notify-on-crash"),
		Summary: "backend 2 waited for the startup of the worker it registered in slot 3; " +
			"the worker was killed and the postmaster freed the slot without notifying backend 2, " +
			"so the wait never ended.",
		Facts: []Fact{
			{Key: "check", Value: "waiters: every wait for startup ends"},
			{Key: "repro", Value: "bgw stress -seed 42 -flaw no-notify-on-crash -duration 25s", Code: true},
			{Key: "run directory", Value: "/tmp/bgw-out-42", Code: true},
		},
		Legend: []LegendEntry{
			{Term: "s3/g1", Meaning: "slot 3, generation 1: the handle a backend holds"},
			{Term: "call 17 / return 21", Meaning: "the logical stamps around the shared-memory accesses"},
		},
		Lanes: []string{"postmaster", "backend 1", "backend 2"},
		Events: []Event{
			{At: 0, Lane: "postmaster", Text: "BackgroundWorkerShmemInit: 8 slots", Stamp: "call 1 / return 2"},
			{At: 2 * ms, Lane: "backend 1", Text: "RegisterDynamicBackgroundWorker → s1/g1", Stamp: "call 5 / return 9"},
			{At: 3 * ms, Lane: "backend 2", Text: "RegisterDynamicBackgroundWorker → s3/g1", Stamp: "call 11 / return 16",
				Mark: MarkViolation, Why: "the registration whose worker is lost"},
			{At: 4 * ms, Lane: "postmaster", Text: "BackgroundWorkerStateChange: adopt s1, s3 (notify backend 2)", Stamp: "call 17 / return 21"},
			{At: 5 * ms, Lane: "worker 4242", Text: "started in s3/g1"},
			{At: 5 * ms, Lane: "backend 2", Text: "WaitForBackgroundWorkerStartup(s3/g1)", Mark: MarkViolation,
				Why: "never returned"},
			{At: 6 * ms, Lane: "fault", Text: "SIGKILL worker 4242", Mark: MarkNote, Why: "injected fault"},
			{At: 7 * ms, Lane: "postmaster", Text: "worker 4242 exited (signal 9): crash, free s3 without notify",
				Mark: MarkViolation, Why: "the notify the wait needs is dropped"},
			{At: 8 * ms, Lane: "backend 1", Text: "WaitForBackgroundWorkerStartup(s1/g1) → STARTED pid 4240"},
			{At: 1200 * ms, Lane: "postmaster", Text: "hang detector: backend 2 waiting 1.2 s"},
			{At: 1201 * ms, Lane: "backend 1", Text: hostile},
		},
	}
}

// porcupinePage returns porcupine's visualization of a register history
// that is not linearizable: a read returns a value nobody wrote.
func porcupinePage(t testing.TB) []byte {
	t.Helper()
	type in struct {
		write bool
		v     int
	}
	model := porcupine.Model{
		Init: func() any { return 0 },
		Step: func(state, input, output any) (bool, any) {
			i := input.(in)
			if i.write {
				return true, i.v
			}
			return output.(int) == state.(int), state
		},
		DescribeOperation: func(input, output any) string {
			i := input.(in)
			if i.write {
				return fmt.Sprintf("put(%d)", i.v)
			}
			return fmt.Sprintf("get() → %d", output.(int))
		},
	}
	history := []porcupine.Operation{
		{ClientId: 0, Input: in{true, 1}, Call: 0, Output: 0, Return: 10},
		{ClientId: 1, Input: in{false, 0}, Call: 20, Output: 1, Return: 30},
		{ClientId: 1, Input: in{false, 0}, Call: 40, Output: 7, Return: 50},
	}
	res, info := porcupine.CheckOperationsVerbose(model, history, time.Second)
	if res != porcupine.Illegal {
		t.Fatalf("porcupine says %v, want Illegal", res)
	}
	var buf bytes.Buffer
	if err := porcupine.Visualize(model, info, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
