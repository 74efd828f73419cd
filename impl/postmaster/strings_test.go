package postmaster

import (
	"strings"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
)

func TestStrings(t *testing.T) {
	groups := map[string][]string{}
	for k := EventStart; k <= EventShutdown; k++ {
		groups["event"] = append(groups["event"], k.String())
	}
	for k := ActionSpawn; k <= ActionExit; k++ {
		groups["action"] = append(groups["action"], k.String())
	}
	for k := RecordInit; k <= RecordIgnored; k++ {
		groups["record"] = append(groups["record"], k.String())
	}
	for r := NotifyLaunched; r <= NotifyRejected; r++ {
		groups["reason"] = append(groups["reason"], r.String())
	}
	for s := SIGUSR1; s <= SIGQUIT; s++ {
		groups["signal"] = append(groups["signal"], s.String())
	}
	for s := PMInit; s <= PMExited; s++ {
		groups["state"] = append(groups["state"], s.String())
	}
	for g, names := range groups {
		seen := map[string]bool{}
		for _, n := range names {
			if strings.Contains(n, "(") || seen[n] {
				t.Errorf("%s name %q unnamed or duplicated", g, n)
			}
			seen[n] = true
		}
	}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"unknown event", EventKind(0).String(), "EventKind(0)"},
		{"unknown record", RecordKind(200).String(), "RecordKind(200)"},
		{"event", Event{Kind: EventChildExited, Now: time.Second, Pid: 7, Exit: bgworker.ExitStatus{Code: 1}}.String(),
			"child-exited@1s pid=7 exit 1"},
		{"spawn failure", Event{Kind: EventSpawnResult, SpawnToken: 3, SpawnErr: "no"}.String(), `spawn-result@0s token=3 err="no"`},
		{"action", Action{Kind: ActionSignal, Pid: 100, Signal: SIGUSR1}.String(), "signal SIGUSR1 -> 100"},
		{"record", Record{Kind: RecordNotify, Now: time.Second, Slot: 2, Notify: 100, Reason: NotifyForgotten, Call: 4, Return: 5}.String(),
			"1s notify e0 s2 notify=100 (forgotten) [4,5]"},
		{"reinit", Record{Kind: RecordReinit, Slot: -1, Epoch: 1, InUse: []int{0, 1}}.String(), "0s reinit e1 in_use=[0 1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
	if !(Ready{}).Empty() {
		t.Errorf("zero Ready not empty")
	}
}
