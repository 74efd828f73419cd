package worker_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc/proctest"
	"bgwmodel/impl/worker"
)

const testLib = "worker_test"

// testRegistry is the registry both the test process and its worker
// children build: the program's registry, built at start.
func testRegistry() *worker.Registry {
	reg := worker.NewRegistry()
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	// exit_arg returns its main_arg as exit code.
	must(reg.Register(testLib, "exit_arg", func(_ context.Context, p *worker.Process) int {
		return int(p.MainArg())
	}))
	// wait reports "R" on fd 5 (or nowhere in-process), then waits on its
	// latch until the process is told to stop.
	must(reg.Register(testLib, "wait", func(ctx context.Context, p *worker.Process) int {
		ready(p)
		for {
			ev, err := p.Latch.Wait(ctx)
			if err != nil {
				return 0
			}
			if ev&bgworker.WaitPostmasterDeath != 0 {
				<-ctx.Done() // Run's own death watch reports it
				return 0
			}
			p.Latch.Reset()
		}
	}))
	// latch reports "R", then exits 0 once its latch is set (by SIGUSR1)
	// and 3 if the postmaster dies first.
	must(reg.Register(testLib, "latch", func(ctx context.Context, p *worker.Process) int {
		ready(p)
		ev, err := p.Latch.Wait(ctx)
		switch {
		case err != nil:
			return 4
		case ev&bgworker.WaitLatchSet != 0:
			return 0
		}
		return 3
	}))
	must(reg.Register(testLib, "panic", func(context.Context, *worker.Process) int {
		panic("boom")
	}))
	// name exits 0 if it sees the expected definition.
	must(reg.Register(testLib, "name", func(_ context.Context, p *worker.Process) int {
		if p.Name() == "named worker" && p.MainArg() == 42 && p.Worker.RestartTime == 7 {
			return 0
		}
		fmt.Fprintf(p.Stderr, "got %+v\n", p.Worker)
		return 5
	}))
	return reg
}

// ready writes "R" on the first extra file, if the worker has one.
func ready(p *worker.Process) {
	if p.Child != nil && len(p.Child.Extra) > 0 {
		p.Child.Extra[0].WriteString("R")
	}
}

func TestMain(m *testing.M) {
	proctest.Main(m, proctest.Roles{
		worker.Role: func() int { return worker.Start(testRegistry()) },
		"start-noenv": func() int {
			os.Unsetenv(worker.EnvWorker)
			return worker.Start(testRegistry())
		},
	})
}
