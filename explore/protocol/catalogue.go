package protocol

import (
	"bgwmodel/impl/bgworker"
)

// The scenarios. Each is small enough that DFS with a preemption bound of
// [DefaultBound] exhausts it in seconds under every model; together they
// reach every seed function (TestCoverage).
func catalogue() []*Scenario {
	return []*Scenario{
		{
			Name:        "reuse",
			Summary:     "one slot reused by one backend: a NEVER_RESTART worker exits 1, its registrant waits for the stop and registers again",
			Slots:       1,
			SoleBackend: true,
			Behave:      FirstExits(1),
			Backends: []BackendSpec{{Name: "b1", Run: func(b *Backend) {
				h, ok := b.Register(b.Worker("w1", bgworker.NeverRestart))
				if !ok {
					b.Failf("first registration on an empty cluster refused")
				}
				b.WaitForStartup(h)
				b.WaitForStop(h)
				if h2, ok := b.Register(b.Worker("w2", bgworker.NeverRestart)); ok {
					b.GetPid(h2)
				}
			}}},
		},
		{
			Name:    "register-vs-forget",
			Summary: "register racing forget: b1's NEVER_RESTART worker exits 1 and is forgotten while b2 registers in the one slot",
			Slots:   1,
			Behave:  FirstExits(1),
			Backends: []BackendSpec{
				{Name: "b1", Run: func(b *Backend) {
					b.Register(b.Worker("w1", bgworker.NeverRestart))
				}},
				{Name: "b2", Run: func(b *Backend) {
					if h, ok := b.Register(b.Worker("w2", bgworker.NeverRestart)); ok {
						b.GetPid(h)
					}
				}},
			},
		},
		{
			Name:        "spawn-failure",
			Summary:     "the spawn of a NEVER_RESTART worker fails; its registrant waits for it to start",
			Slots:       1,
			SoleBackend: true,
			SpawnFails:  func(_ string, attempt int) bool { return attempt == 1 },
			Backends: []BackendSpec{{Name: "b1", Run: func(b *Backend) {
				if h, ok := b.Register(b.Worker("w1", bgworker.NeverRestart)); ok {
					b.WaitForStartup(h)
				}
			}}},
		},
		{
			Name:       "spawn-retry",
			Summary:    "the first spawn of a worker with restart_time 5 s fails: it is retried 5 s later, not at once",
			Slots:      1,
			SpawnFails: func(_ string, attempt int) bool { return attempt == 1 },
			Backends: []BackendSpec{{Name: "b1", Run: func(b *Backend) {
				if h, ok := b.Register(b.Worker("w1", 5)); ok {
					b.WaitForStartup(h)
				}
			}}},
		},
		{
			Name:    "two-register",
			Summary: "two backends register at once on two slots and wait for their workers (the PMSIGNAL race)",
			Slots:   2,
			Backends: []BackendSpec{
				{Name: "b1", Run: func(b *Backend) {
					if h, ok := b.Register(b.Worker("w1", 0)); ok {
						b.WaitForStartup(h)
					}
				}},
				{Name: "b2", Run: func(b *Backend) {
					if h, ok := b.Register(b.Worker("w2", 0)); ok {
						b.WaitForStartup(h)
					}
				}},
			},
		},
		{
			Name:        "register-twice",
			Summary:     "one backend registers two workers in two slots, then waits for both: the postmaster may scan the second slot having synchronised only with the first registration",
			Slots:       2,
			SoleBackend: true,
			Backends: []BackendSpec{{Name: "b1", Run: func(b *Backend) {
				h1, ok1 := b.Register(b.Worker("w1", 0))
				h2, ok2 := b.Register(b.Worker("w2", 0))
				if ok1 {
					b.WaitForStartup(h1)
				}
				if ok2 {
					b.WaitForStartup(h2)
				}
			}}},
		},
		{
			Name:    "restart",
			Summary: "w1 exits 1 with a huge restart_time (2,147,484 s) and must not restart early, while the static s0 exits 0 and is restarted at once",
			Slots:   2,
			Behave: func(name string, epoch uint64, start int) WorkerAction {
				switch {
				case start > 1:
					return Stay
				case name == "s0":
					return ExitWith(0)
				}
				return ExitWith(1)
			},
			Static: []bgworker.Worker{{Name: "s0", Flags: bgworker.ShmemAccess, RestartTime: 0,
				LibraryName: "bgwmodel", FunctionName: "worker_main"}},
			Backends: []BackendSpec{{Name: "b1", Run: func(b *Backend) {
				if h, ok := b.Register(b.Worker("w1", 2_147_484)); ok {
					b.WaitForStartup(h)
				}
			}}},
		},
		{
			Name:    "crash-reinit",
			Summary: "a static worker exits 2 (crash) while b1 registers: everything is killed and shared memory re-initialised; b2 registers afterwards and asks about a pre-crash handle",
			Slots:   2,
			Static: []bgworker.Worker{{Name: "s0", Flags: bgworker.ShmemAccess, RestartTime: bgworker.NeverRestart,
				LibraryName: "bgwmodel", FunctionName: "worker_main"}},
			Behave: func(name string, epoch uint64, start int) WorkerAction {
				if name == "s0" && epoch == 0 {
					return ExitWith(2)
				}
				return Stay
			},
			Backends: []BackendSpec{{Name: "b1", Run: func(b *Backend) {
				if h, ok := b.Register(b.Worker("w1", 0)); ok {
					b.WaitForStartup(h)
				}
			}}},
			AfterCrash: []BackendSpec{{Name: "b2", Run: func(b *Backend) {
				b.GetPid(b.Handle(1, 1, 0))
				if h, ok := b.Register(b.Worker("w2", 0)); ok {
					b.WaitForStartup(h)
				}
			}}},
		},
		{
			Name:           "postmaster-death",
			Summary:        "the postmaster is killed at some point while b1 registers and waits for its worker",
			Slots:          1,
			KillPostmaster: true,
			Backends: []BackendSpec{{Name: "b1", Run: func(b *Backend) {
				if h, ok := b.Register(b.Worker("w1", 0)); ok {
					b.WaitForStartup(h)
				}
			}}},
		},
	}
}
