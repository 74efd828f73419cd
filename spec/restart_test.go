package spec

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// restartTimes are the restart_time values of the restart tables, with the
// delay each must give, written as constants so that no 32-bit arithmetic
// is involved. 2,147,483 s is the last value whose milliseconds fit in an
// int32; 2,147,484 s and 4,294,968 s overflow once and twice.
var restartTimes = []struct {
	rt    int32
	delay time.Duration
}{
	{NeverRestart, 0},
	{0, 0},
	{1, time.Second},
	{2_147_483, 2_147_483 * time.Second},
	{2_147_484, 2_147_484 * time.Second},
	{4_294_968, 4_294_968 * time.Second},
	{86_400_000, 86_400_000 * time.Second},
}

func TestRestart(t *testing.T) {
	exits := []Exit{{Code: 0}, {Code: 1}, {Code: 2}, {Code: 9, Signaled: true}}
	for _, e := range exits {
		for _, shmem := range []bool{false, true} {
			for _, r := range restartTimes {
				name := fmt.Sprintf("%v/shmem=%v/restart=%d", e, shmem, r.rt)
				t.Run(name, func(t *testing.T) {
					w := Worker{Name: "w", RestartTime: r.rt}
					if shmem {
						w.Flags = FlagShmemAccess
					}
					var want Decision
					switch {
					case e == Exit{Code: 0}:
						want = Decision{Action: RestartNow}
					case shmem && e != Exit{Code: 1}:
						want = Decision{Action: CrashRestart}
					case r.rt == NeverRestart:
						want = Decision{Action: Forget}
					default:
						want = Decision{Action: RestartAfter, Delay: r.delay}
					}
					got := Restart(w, e)
					if got != want {
						t.Fatalf("Restart = %v, want %v", got, want)
					}
					if got.Action == RestartAfter && int64(got.Delay/time.Second) != int64(r.rt) {
						t.Errorf("delay %v is not %d seconds", got.Delay, r.rt)
					}
				})
			}
		}
	}
}

func TestRestartEdgeExits(t *testing.T) {
	sh := Worker{Name: "w", Flags: FlagShmemAccess | FlagDatabaseConnection, StartTime: RecoveryFinished, RestartTime: 5}
	plain := Worker{Name: "w", RestartTime: 5}
	for _, tc := range []struct {
		name string
		w    Worker
		e    Exit
		want Decision
	}{
		{"signal numbered 0 is not exit 0", plain, Exit{Code: 0, Signaled: true}, Decision{RestartAfter, 5 * time.Second}},
		{"signal numbered 1 crashes a shmem worker", sh, Exit{Code: 1, Signaled: true}, Decision{Action: CrashRestart}},
		{"SIGQUIT's exit 0 restarts at once", sh, Exit{Code: 0}, Decision{Action: RestartNow}},
		{"exit 255 of a shmem worker", sh, Exit{Code: 255}, Decision{Action: CrashRestart}},
		{"exit 255 of a plain worker", plain, Exit{Code: 255}, Decision{RestartAfter, 5 * time.Second}},
		{"exit 1 of a db worker", sh, Exit{Code: 1}, Decision{RestartAfter, 5 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Restart(tc.w, tc.e); got != tc.want {
				t.Errorf("Restart(%v) = %v, want %v", tc.e, got, tc.want)
			}
		})
	}
}

func TestSpawnFailed(t *testing.T) {
	for _, r := range restartTimes {
		for _, flags := range []Flags{0, FlagShmemAccess} {
			t.Run(fmt.Sprintf("restart=%d/%v", r.rt, flags), func(t *testing.T) {
				want := Decision{Action: RestartAfter, Delay: r.delay}
				if r.rt == NeverRestart {
					want = Decision{Action: Forget}
				}
				if got := SpawnFailed(Worker{Name: "w", Flags: flags, RestartTime: r.rt}); got != want {
					t.Errorf("SpawnFailed = %v, want %v", got, want)
				}
			})
		}
	}
}

func TestRestartDelay(t *testing.T) {
	for _, r := range restartTimes {
		if r.rt == NeverRestart {
			continue
		}
		t.Run(fmt.Sprint(r.rt), func(t *testing.T) {
			if got := RestartDelay(r.rt); got != r.delay {
				t.Errorf("RestartDelay(%d) = %v, want %v", r.rt, got, r.delay)
			}
		})
	}
	if got, want := RestartDelay(math.MinInt32), -2_147_483_648*time.Second; got != want {
		t.Errorf("RestartDelay(MinInt32) = %v, want %v", got, want)
	}
}

func TestReadyToRestart(t *testing.T) {
	const ns = time.Nanosecond
	base := 100 * time.Second
	for _, tc := range []struct {
		name      string
		rt        int32
		crashedAt time.Duration
		now       time.Duration
		want      bool
	}{
		{"60s, 1ns early", 60, base, base + 60*time.Second - ns, false},
		{"60s, exactly", 60, base, base + 60*time.Second, true},
		{"60s, later", 60, base, base + time.Hour, true},
		{"0s, same instant", 0, base, base, true},
		{"0s, clock went back", 0, base, base - ns, false},
		{"1s, 1ns early", 1, base, base + time.Second - ns, false},
		{"1s, exactly", 1, base, base + time.Second, true},
		{"2147483s, 1ns early", 2_147_483, base, base + 2_147_483*time.Second - ns, false},
		{"2147483s, exactly", 2_147_483, base, base + 2_147_483*time.Second, true},
		{"2147484s, at once (32-bit ms overflow would say yes)", 2_147_484, base, base, false},
		{"2147484s, 1ns early", 2_147_484, base, base + 2_147_484*time.Second - ns, false},
		{"2147484s, exactly", 2_147_484, base, base + 2_147_484*time.Second, true},
		{"4294968s, after 704ms (what 32-bit ms would give)", 4_294_968, base, base + 704*time.Millisecond, false},
		{"4294968s, 1ns early", 4_294_968, base, base + 4_294_968*time.Second - ns, false},
		{"4294968s, exactly", 4_294_968, base, base + 4_294_968*time.Second, true},
		{"86400000s, 1ns early", 86_400_000, 0, 86_400_000*time.Second - ns, false},
		{"86400000s, exactly", 86_400_000, 0, 86_400_000 * time.Second, true},
		{"negative crash time", 60, -30 * time.Second, 30 * time.Second, true},
		{"NeverRestart by the formula", NeverRestart, base, base - time.Second, true},
		{"NeverRestart by the formula, 1ns more", NeverRestart, base, base - time.Second - ns, false},
		{"difference overflows int64, ready", MaxRestartTime, math.MinInt64, math.MaxInt64, true},
		{"difference underflows int64, not ready", MaxRestartTime, math.MaxInt64, math.MinInt64, false},
		{"difference underflows int64, MinInt32", math.MinInt32, math.MaxInt64, math.MinInt64, false},
		{"huge negative restart, in range", math.MinInt32, 0, -2_147_483_648 * time.Second, true},
		{"huge negative restart, 1ns beyond", math.MinInt32, 0, -2_147_483_648*time.Second - ns, false},
		{"max int32 restart, exactly", math.MaxInt32, math.MinInt64, math.MinInt64 + math.MaxInt32*time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReadyToRestart(tc.rt, tc.crashedAt, tc.now); got != tc.want {
				t.Errorf("ReadyToRestart(%d, %d, %d) = %v, want %v", tc.rt, tc.crashedAt, tc.now, got, tc.want)
			}
		})
	}
}

func TestRestartStrings(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{RestartNow.String(), "RestartNow"},
		{RestartAfter.String(), "RestartAfter"},
		{Forget.String(), "Forget"},
		{CrashRestart.String(), "CrashRestart"},
		{Action(9).String(), "Action(9)"},
		{Decision{RestartAfter, 90 * time.Second}.String(), "RestartAfter(1m30s)"},
		{Decision{Action: Forget}.String(), "Forget"},
		{Exit{Code: 1}.String(), "exit 1"},
		{Exit{Code: 9, Signaled: true}.String(), "signal 9"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}
