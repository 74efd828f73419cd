package protocol

import (
	"sort"
	"strings"
	"testing"

	"bgwmodel/explore"
)

// seedFunctions are the seed's functions (bgworker.c, and pmsignal.c's
// two) that the scenarios must reach between them.
var seedFunctions = []string{
	"RegisterDynamicBackgroundWorker",
	"GetBackgroundWorkerPid",
	"WaitForBackgroundWorkerStartup",
	"SendPostmasterSignal",
	"CheckPostmasterSignal",
	"BackgroundWorkerStateChange",
	"SanityCheckBackgroundWorker",
	"ReportBackgroundWorkerPID",
	"BackgroundWorkerStopNotifications",
	"ForgetBackgroundWorker",
	"BackgroundWorkerShmemInit",
	"BackgroundWorkerShmemInit (re-init)",
	"RegisterBackgroundWorker",
}

// reach explores s (DFS, default bound, SC) and returns how often each
// seed function was reached.
func reach(t *testing.T, s *Scenario) map[string]int {
	t.Helper()
	obs := &observer{reached: map[string]int{}}
	es, err := s.build(Variant{}, obs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := explore.Explore(es, explore.Options{Model: explore.SC, PreemptionBound: DefaultBound, MaxFailures: -1}); err != nil {
		t.Fatal(err)
	}
	return obs.reached
}

// TestCoverage: together the scenarios reach every seed function.
func TestCoverage(t *testing.T) {
	by := map[string][]string{}
	for _, s := range Scenarios() {
		for fn, n := range reach(t, s) {
			if n > 0 {
				by[fn] = append(by[fn], s.Name)
			}
		}
	}
	for _, fn := range seedFunctions {
		if len(by[fn]) == 0 {
			t.Errorf("no scenario reaches %s", fn)
		}
	}
	var lines []string
	for fn, ss := range by {
		sort.Strings(ss)
		lines = append(lines, fn+": "+strings.Join(ss, ", "))
	}
	sort.Strings(lines)
	t.Logf("reached:\n  %s", strings.Join(lines, "\n  "))
}
