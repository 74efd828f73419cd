package worker

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
)

// Exit codes of a worker process besides its entry's own.
const (
	// ExitFatal is proc_exit(1): SIGTERM (FATAL), postmaster death, an
	// unknown entry point, a panic in the entry, a bad exit code.
	ExitFatal = 1
	// ExitQuickDie is the exit code after SIGQUIT. The seed's
	// bgworker_quickdie exits 0 and relies on the postmaster's dead-man
	// switch (PMSignal child slots) to still see a crash; bgwmodel has no
	// such switch, so it exits 2, which the postmaster's rule
	// ([bgworker.DecideRestart]) treats as a crash.
	ExitQuickDie = 2
)

// Options is what [Run] needs besides the registry and the definition.
// The zero value is valid: no inherited files, no postmaster-death watch,
// a fresh latch, os.Stderr, and real signals.
type Options struct {
	// Child holds the inherited files; its Death, if any, is watched:
	// the worker exits with ExitFatal once the postmaster is dead.
	Child *proc.Child
	// Latch is the worker's latch. If nil, Run makes a [proc.Latch]
	// (SIGUSR1 sets it) watching Child's Death, and closes it on return.
	Latch bgworker.Latch
	// Stderr receives the worker's messages. Default os.Stderr.
	Stderr io.Writer
	// Signals delivers SIGTERM and SIGQUIT. If nil, Run subscribes to
	// them itself with os/signal for as long as it runs; tests pass their
	// own channel to inject signals.
	Signals <-chan os.Signal
}

// Run is the worker process's side of a background worker
// (StartBackgroundWorker): it looks up def's entry point in reg, sets up
// signal handling and the latch, runs the entry in a goroutine and returns
// the exit code the process must exit with. It blocks until one of:
//
//   - the entry returns: its code (codes outside 0..255, which the OS
//     would truncate, become ExitFatal with a message);
//   - SIGTERM (bgworker_die): prints `FATAL:  terminating background
//     worker "NAME" due to administrator command` and returns ExitFatal;
//   - SIGQUIT (bgworker_quickdie): returns [ExitQuickDie] at once, with no
//     message and without waiting for the entry;
//   - the postmaster's death: prints a FATAL message and returns
//     ExitFatal;
//   - the entry panics (ereport(ERROR) reaching StartBackgroundWorker's
//     sigsetjmp): prints the panic and returns ExitFatal.
//
// An entry point that is not registered is reported and returns
// ExitFatal at once (load_external_function's ERROR). SIGUSR1 sets the
// worker's latch. Run never calls os.Exit: [Main] does.
func Run(reg *Registry, def bgworker.Worker, opts Options) (exitCode int) {
	stderr := opts.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	entry, ok := reg.Lookup(def.LibraryName, def.FunctionName)
	if !ok {
		fmt.Fprintf(stderr, "ERROR:  background worker %q: could not find function %q in library %q\n",
			def.Name, def.FunctionName, def.LibraryName)
		return ExitFatal
	}
	sigs := opts.Signals
	if sigs == nil {
		c := make(chan os.Signal, 2)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGQUIT)
		defer signal.Stop(c)
		sigs = c
	}
	var death *proc.Death
	if opts.Child != nil {
		death = opts.Child.Death
	}
	latch := opts.Latch
	if latch == nil {
		l := proc.NewLatch(death)
		defer l.Close()
		latch = l
	}
	var dead <-chan struct{}
	if death != nil {
		dead = death.Dead()
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &Process{Worker: def, Latch: latch, Child: opts.Child, Stderr: stderr}
	type result struct {
		code  int
		panic any
		stack []byte
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- result{panic: v, stack: debug.Stack()}
			}
		}()
		done <- result{code: entry(ctx, p)}
	}()

	for {
		select {
		case r := <-done:
			switch {
			case r.panic != nil:
				fmt.Fprintf(stderr, "ERROR:  background worker %q: panic: %v\n%s", def.Name, r.panic, r.stack)
				return ExitFatal
			case r.code < 0 || r.code > 255:
				fmt.Fprintf(stderr, "ERROR:  background worker %q: entry returned exit code %d, outside 0..255\n",
					def.Name, r.code)
				return ExitFatal
			}
			return r.code
		case s := <-sigs:
			switch s {
			case syscall.SIGTERM:
				fmt.Fprintf(stderr, "FATAL:  terminating background worker %q due to administrator command\n", def.Name)
				return ExitFatal
			case syscall.SIGQUIT:
				return ExitQuickDie
			}
			// Anything else on a caller's channel is not ours to act on.
		case <-dead:
			fmt.Fprintf(stderr, "FATAL:  terminating background worker %q due to unexpected postmaster exit\n", def.Name)
			return ExitFatal
		}
	}
}
