package postmaster_test

import (
	"fmt"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/shmem"
)

// A minimal driver: feed an event, perform the actions (here spawns get
// fake pids at once), log the records. A static worker starts, exits 1,
// and is restarted after its restart_time.
func Example() {
	cfg := postmaster.Config{MaxWorkers: 2, Static: []bgworker.Worker{{
		Name: "ticker", StartTime: bgworker.PostmasterStart, RestartTime: 5,
		LibraryName: "lib", FunctionName: "ticker_main",
	}}}
	core, err := postmaster.New(cfg, shmem.NewLocal(bgworker.ShmemSize(cfg.MaxWorkers)))
	if err != nil {
		panic(err)
	}
	pid := int32(4000)
	var feed func(ev postmaster.Event)
	feed = func(ev postmaster.Event) {
		if err := core.Step(ev); err != nil {
			panic(err)
		}
		rd := core.Ready()
		for _, r := range rd.Records {
			fmt.Println(" ", r)
		}
		for _, a := range rd.Actions {
			fmt.Println("->", a)
			if a.Kind == postmaster.ActionSpawn {
				pid++
				feed(postmaster.Event{Kind: postmaster.EventSpawnResult, Now: ev.Now, SpawnToken: a.Token, Pid: pid})
			}
		}
	}
	feed(postmaster.Event{Kind: postmaster.EventStart})
	feed(postmaster.Event{Kind: postmaster.EventChildExited, Now: time.Second, Pid: 4001, Exit: bgworker.ExitStatus{Code: 1}})
	feed(postmaster.Event{Kind: postmaster.EventTick, Now: 6 * time.Second})
	// Output:
	//   0s init e0 in_use=[0]
	//   0s state-reached e0 PostmasterStart
	//   0s state-reached e0 ConsistentState
	//   0s state-reached e0 RecoveryFinished
	//   0s spawn e0 s0 "ticker"
	// -> spawn s0 "ticker" token=1
	//   0s launch e0 s0 "ticker" pid=4001
	//   1s exited e0 s0 "ticker" pid=4001 exit 1 restart-after(5s)
	//   1s report-stopped e0 s0 "ticker"
	// -> wake-at 6s
	//   6s spawn e0 s0 "ticker"
	// -> spawn s0 "ticker" token=2
	//   6s launch e0 s0 "ticker" pid=4002
}
