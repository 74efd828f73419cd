package worker

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc"
)

// Role is the [proc.EnvRole] value of a background worker process.
const Role = "bgworker"

// EnvWorker is the environment variable that carries the worker's
// definition from the postmaster to the worker process (BGW_WORKER): the
// postmaster's private copy, as fork gives MyBgworkerEntry in the seed.
const EnvWorker = "BGW_WORKER"

// Environ returns the environment entries that pass def to a worker
// process, for [proc.Spawn]'s env. It checks def with
// [bgworker.ValidateWorker] first. It does not block.
func Environ(def bgworker.Worker) ([]string, error) {
	if err := bgworker.ValidateWorker(&def); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	b, err := json.Marshal(def)
	if err != nil {
		return nil, fmt.Errorf("worker: encode %q: %w", def.Name, err)
	}
	return []string{EnvWorker + "=" + string(b)}, nil
}

// DefinitionFromEnv reads the definition [Environ] encoded, and checks it
// again. It does not block.
func DefinitionFromEnv() (bgworker.Worker, error) {
	return decodeDefinition(os.Getenv(EnvWorker))
}

func decodeDefinition(s string) (bgworker.Worker, error) {
	var def bgworker.Worker
	if s == "" {
		return def, fmt.Errorf("worker: %s not set: no worker definition", EnvWorker)
	}
	if err := json.Unmarshal([]byte(s), &def); err != nil {
		return def, fmt.Errorf("worker: %s: %w", EnvWorker, err)
	}
	if err := bgworker.ValidateWorker(&def); err != nil {
		return def, fmt.Errorf("worker: %s: %w", EnvWorker, err)
	}
	return def, nil
}

// Start is a worker process's main without the exit: it subscribes to
// SIGTERM and SIGQUIT before anything else, ignores SIGINT, SIGHUP and
// SIGUSR2 (as the seed does for a worker without a database connection),
// reads its inherited files ([proc.ChildFromEnv]) and definition
// ([DefinitionFromEnv]), and runs it ([Run]). It returns the exit code;
// setup failures are reported on stderr and return [ExitFatal]. It
// changes process-wide signal handling, so it is for worker processes
// only. It blocks until the worker is done.
//
// Nothing is closed on return: the process is about to exit, and after
// SIGQUIT it must not clean up.
func Start(reg *Registry) int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGQUIT)
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR2)
	child, err := proc.ChildFromEnv()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FATAL:  background worker: %v\n", err)
		return ExitFatal
	}
	def, err := DefinitionFromEnv()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FATAL:  background worker: %v\n", err)
		return ExitFatal
	}
	return Run(reg, def, Options{Child: child, Signals: sigs})
}

// Main runs a worker process and exits with its code: os.Exit(Start(reg)).
// It does not return.
func Main(reg *Registry) { os.Exit(Start(reg)) }
