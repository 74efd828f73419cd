package proptest

import (
	"sort"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"bgwmodel/impl/bgworker"
)

// examples is how many values the generator coverage tests draw.
const examples = 3000

// TestGenerators_HitBoundaries checks that the worker generator produces
// every boundary the sanity property relies on.
func TestGenerators_HitBoundaries(t *testing.T) {
	want := map[string]bool{}
	need := func(names ...string) {
		for _, n := range names {
			want[n] = false
		}
	}
	need("restart=-2", "restart=-1", "restart=0", "restart=86400000", "restart=86400001",
		"restart in range", "restart far out",
		"flags=0", "flags=1", "flags=2", "flags=3", "flags unknown bits", "flags unknown with shmem|db",
		"start=0", "start=1", "start=2", "start out of range",
		"name 0 bytes", "name 63 bytes", "name 64 bytes", "name non-ASCII byte", "name control byte", "name NUL",
		"library 64 bytes", "function non-ASCII byte",
		"notify negative", "notify 0", "notify positive",
		"valid", "invalid name", "invalid flags", "invalid start_time", "invalid restart_time", "invalid notify_pid")
	hit := func(n string) {
		if _, ok := want[n]; ok {
			want[n] = true
		}
	}
	nameKinds := func(field, s string) {
		switch len(s) {
		case 0, 63, 64:
			hit(field + " " + itoa(len(s)) + " bytes")
		}
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == 0:
				hit(field + " NUL")
			case c < 0x20:
				hit(field + " control byte")
			case c >= 0x80:
				hit(field + " non-ASCII byte")
			}
		}
	}
	g := WorkerGen()
	for i := range examples {
		w := g.Example(i)
		switch rt := w.RestartTime; {
		case rt == -2 || rt == -1 || rt == 0 || rt == 86_400_000 || rt == 86_400_001:
			hit("restart=" + itoa(int(rt)))
		case rt > 0 && rt < 86_400_000:
			hit("restart in range")
		default:
			hit("restart far out")
		}
		switch {
		case w.Flags <= 3:
			hit("flags=" + itoa(int(w.Flags)))
		case w.Flags&3 == 3:
			hit("flags unknown with shmem|db")
			hit("flags unknown bits")
		default:
			hit("flags unknown bits")
		}
		if w.StartTime <= 2 {
			hit("start=" + itoa(int(w.StartTime)))
		} else {
			hit("start out of range")
		}
		nameKinds("name", w.Name)
		nameKinds("library", w.LibraryName)
		nameKinds("function", w.FunctionName)
		switch {
		case w.NotifyPid < 0:
			hit("notify negative")
		case w.NotifyPid == 0:
			hit("notify 0")
		default:
			hit("notify positive")
		}
		if f, valid, err := ImplVerdict(bgworker.ValidateWorker(&w)); err == nil {
			if valid {
				hit("valid")
			} else {
				hit("invalid " + string(f))
			}
		}
	}
	reportMissing(t, want)
}

// TestGenerators_RestartBoundaries checks that the restart-time property's
// generators produce every exit kind, the overflow boundaries, and clock
// readings exactly at the delay and one nanosecond before.
func TestGenerators_RestartBoundaries(t *testing.T) {
	want := map[string]bool{}
	for _, n := range []string{"exit 0", "exit 1", "exit 2", "exit other", "signaled",
		"rt 2147483", "rt 2147484", "rt 4294968", "rt 86400000", "rt -1", "rt random",
		"at delay", "1ns before", "at once", "between"} {
		want[n] = false
	}
	hit := func(n string) { want[n] = true }
	for i := range examples {
		switch e := ExitGen().Example(i); {
		case e.Signaled:
			hit("signaled")
		case e.Code <= 2 && e.Code >= 0:
			hit("exit " + itoa(e.Code))
		default:
			hit("exit other")
		}
		switch rt := RestartTimeValidGen().Example(i); rt {
		case 2_147_483, 2_147_484, 4_294_968, 86_400_000, -1:
			hit("rt " + itoa(int(rt)))
		default:
			hit("rt random")
		}
		d := 90 * time.Second
		c := ClockGen(d).Example(i)
		switch el := c.Now - c.CrashedAt; {
		case el == d:
			hit("at delay")
		case el == d-time.Nanosecond:
			hit("1ns before")
		case el == 0:
			hit("at once")
		case el > 0 && el < d:
			hit("between")
		}
		if c.Now < c.CrashedAt {
			t.Fatalf("ClockGen went backwards: %+v", c)
		}
	}
	reportMissing(t, want)
}

// TestStateMachines_Coverage checks that the state machines run every
// action and reach every kind of handle the properties are about: stale
// for each reason, live in each status, waits, a full cluster, invalid
// registrations and a dead postmaster.
func TestStateMachines_Coverage(t *testing.T) {
	// rapid's default budget even under -short, where rapid would run a
	// fifth of the checks and half the steps.
	checks := 100
	if testing.Short() {
		checks *= 5
	}
	setRapidFlag(t, "rapid.checks", itoa(checks))
	pinSteps(t)
	t.Run("handles", func(t *testing.T) {
		events := coverage{}
		rapid.Check(t, HandleProperty(ClusterConfig{events: events}))
		want := map[string]bool{}
		for _, a := range []string{"register", "scan", "launch", "exit", "forget", "reinit", "getpid", "wait"} {
			want["action: "+a] = false
		}
		for _, e := range []string{
			"register: ok", "register: no free slot", "register: invalid",
			"stale: forgotten before it started", "stale: forgotten", "stale: slot reused since",
			"stale: issued before a crash re-init",
			"live: NOT_YET_STARTED", "live: STARTED", "live: STOPPED",
			"wait: STARTED", "wait: STOPPED",
		} {
			want[e] = false
		}
		checkEvents(t, events, want)
	})
	t.Run("against-spec", func(t *testing.T) {
		events := coverage{}
		rapid.Check(t, AgainstSpecProperty(ClusterConfig{events: events}))
		want := map[string]bool{}
		for _, a := range []string{"register", "scan", "launch", "exit", "forget", "reinit", "died", "getpid", "wait"} {
			want["action: "+a] = false
		}
		for _, e := range []string{
			"Register -> ok", "Register -> no-free-slot", "Register -> invalid",
			"GetPid -> NOT_YET_STARTED", "GetPid -> STARTED", "GetPid -> STOPPED",
			"WaitForStartup -> STARTED", "WaitForStartup -> STOPPED", "WaitForStartup -> POSTMASTER_DIED",
			"Launch -> done", "Exit -> done", "Forget -> done", "Reinit -> done", "Died -> done",
		} {
			want[e] = false
		}
		checkEvents(t, events, want)
	})
}

func checkEvents(t *testing.T, events coverage, want map[string]bool) {
	t.Helper()
	for e := range want {
		want[e] = events[e] > 0
	}
	reportMissing(t, want)
	var lines []string
	for e, n := range events {
		lines = append(lines, e+": "+itoa(n))
	}
	sort.Strings(lines)
	t.Logf("events:\n  %s", strings.Join(lines, "\n  "))
}

func reportMissing(t *testing.T, want map[string]bool) {
	t.Helper()
	var missing []string
	for n, ok := range want {
		if !ok {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("never generated: %s", strings.Join(missing, "; "))
	}
}
