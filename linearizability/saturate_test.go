package linearizability

import (
	"testing"
	"time"

	"bgwmodel/spec"
)

// readCases are histories whose reads (GetPid, WaitForStartup, "no free
// slot") span a change of what they read, so the sweep's early
// linearization of reads ([sweeper.saturate]) is tested both ways: a read
// that must take effect before the change, one that must take effect
// after it, and reads that no point of their interval allows.
var readCases = []struct {
	name  string
	slots int
	h     History
	legal bool
}{
	{"read-before-launch", 1, History{
		reg(1, 1, 2, hd(0, 1, 0)),
		getpid(2, 3, 20, hd(0, 1, 0), spec.NotYetStarted, 0),
		launch(5, 6, 0, 100),
		getpid(1, 7, 8, hd(0, 1, 0), spec.Started, 100),
	}, true},
	{"read-after-launch", 1, History{
		reg(1, 1, 2, hd(0, 1, 0)),
		getpid(2, 3, 20, hd(0, 1, 0), spec.Started, 100),
		launch(5, 6, 0, 100),
		getpid(1, 7, 8, hd(0, 1, 0), spec.NotYetStarted, 0),
	}, false},
	{"reads-on-both-sides", 1, History{
		reg(1, 1, 2, hd(0, 1, 0)),
		getpid(2, 3, 20, hd(0, 1, 0), spec.NotYetStarted, 0),
		getpid(3, 3, 21, hd(0, 1, 0), spec.Started, 100),
		wait(4, 4, 22, hd(0, 1, 0), spec.Started, 100),
		launch(5, 6, 0, 100),
		exit(7, 8, 0),
		getpid(1, 9, 10, hd(0, 1, 0), spec.Stopped, 0),
	}, true},
	{"same-read-called-after-the-change", 1, History{
		reg(1, 1, 2, hd(0, 1, 0)),
		getpid(2, 3, 20, hd(0, 1, 0), spec.NotYetStarted, 0),
		launch(5, 6, 0, 100),
		getpid(3, 10, 12, hd(0, 1, 0), spec.NotYetStarted, 0), // must see the launch
	}, false},
	{"read-between-two-changes", 1, History{
		reg(1, 1, 2, hd(0, 1, 0)),
		getpid(2, 3, 30, hd(0, 1, 0), spec.Started, 100),
		launch(5, 6, 0, 100),
		exit(7, 12, 0),
		getpid(1, 13, 14, hd(0, 1, 0), spec.Stopped, 0),
	}, true},
	{"read-after-both-changes", 1, History{
		reg(1, 1, 2, hd(0, 1, 0)),
		launch(5, 10, 0, 100),
		exit(11, 12, 0),
		getpid(2, 3, 30, hd(0, 1, 0), spec.Started, 100), // only between the two
		getpid(3, 4, 31, hd(0, 1, 0), spec.Started, 100),
		getpid(1, 13, 14, hd(0, 1, 0), spec.Started, 100), // after the exit: illegal
	}, false},
	{"read-of-a-cut-short-launch", 1, History{
		reg(1, 1, 2, hd(0, 1, 0)),
		cut(launch(3, 0, 0, 100)),
		getpid(2, 5, 6, hd(0, 1, 0), spec.NotYetStarted, 0),
		getpid(1, 7, 20, hd(0, 1, 0), spec.Started, 100),
		getpid(2, 8, 21, hd(0, 1, 0), spec.NotYetStarted, 0),
		getpid(3, 22, 23, hd(0, 1, 0), spec.Started, 100),
	}, true},
	{"read-back-before-a-cut-short-launch", 1, History{
		reg(1, 1, 2, hd(0, 1, 0)),
		cut(launch(3, 0, 0, 100)),
		getpid(1, 7, 8, hd(0, 1, 0), spec.Started, 100),
		getpid(2, 9, 10, hd(0, 1, 0), spec.NotYetStarted, 0),
	}, false},
	{"no-free-slot-while-one-is-freed", 1, History{
		reg(1, 1, 2, hd(0, 1, 0)),
		regFull(2, 3, 20),
		forget(5, 6, 0),
		regFull(3, 4, 21),
		reg(1, 7, 8, hd(0, 2, 0)),
		regFull(4, 9, 10),
	}, true},
	{"no-free-slot-after-it-was-freed", 1, History{
		reg(1, 1, 2, hd(0, 1, 0)),
		regFull(2, 3, 20),
		forget(5, 6, 0),
		regFull(3, 7, 8),
	}, false},
}

// TestReadsLinearizedEarly: on histories whose reads span a change of
// what they read, the partitioned mode, cut as often as possible or not
// at all, gives the exact check's verdict.
func TestReadsLinearizedEarly(t *testing.T) {
	for _, tc := range readCases {
		t.Run(tc.name, func(t *testing.T) {
			want := Violation
			if tc.legal {
				want = Ok
			}
			if err := tc.h.Validate(); err != nil {
				t.Fatal(err)
			}
			for _, o := range []Options{
				{Mode: ModeExact},
				{Mode: ModePartitioned, Window: 1},
				{Mode: ModePartitioned},
			} {
				o.Slots, o.Timeout = tc.slots, 10*time.Second
				if rep := Check(tc.h, o); rep.Result() != want {
					t.Errorf("%v, window %d: %v, want %v:\n%v", o.Mode, o.Window, rep.Result(), want, rep)
				}
			}
		})
	}
}
