package protocol

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"bgwmodel/explore"
	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
)

// Scenario is a small named configuration of the simulated cluster: how
// many slots, which static workers, which backends run which scripts, what
// each worker process does and which spawns fail. [Scenario.Build] turns
// it into an [explore.Scenario] that runs the real postmaster core and
// backend code.
type Scenario struct {
	// Name identifies the scenario on the command line.
	Name string
	// Summary says in one line what the scenario exercises.
	Summary string
	// Slots is max_worker_processes (1..4).
	Slots int
	// Static are the static workers, registered with
	// RegisterBackgroundWorker at postmaster start.
	Static []bgworker.Worker
	// Backends are started by the postmaster right after it starts, in
	// order, each running its script.
	Backends []BackendSpec
	// AfterCrash are started by the postmaster after its first crash
	// re-initialisation (backends from before the crash are gone by then).
	AfterCrash []BackendSpec
	// Behave says what the start-th start (from 1) of the worker called
	// name does in epoch epoch (crash re-inits so far). Nil: every worker
	// runs until it is killed.
	Behave func(name string, epoch uint64, start int) WorkerAction
	// SpawnFails reports whether the attempt-th spawn (from 1) of the
	// worker called name fails (fork failure). Nil: no spawn fails.
	SpawnFails func(name string, attempt int) bool
	// KillPostmaster adds a thread that kills the postmaster at one
	// point of the interleaving (kill -9): backends then see its death.
	KillPostmaster bool
	// SoleBackend says that at most one backend exists, so a backend told
	// that its NEVER_RESTART worker is gone must find a free slot when it
	// registers again (on a cluster with no other registrant).
	SoleBackend bool
	// TimeHorizon is the scenario's [explore.Scenario.TimeHorizon]; 0
	// means one hour of virtual time.
	TimeHorizon time.Duration
}

// BackendSpec is one backend of a scenario.
type BackendSpec struct {
	// Name is the thread's name, as "b1".
	Name string
	// Run is the backend's script: calls of the backend API through b.
	Run func(b *Backend)
}

// WorkerAction is what a worker process does once started.
type WorkerAction struct {
	// Exit is the exit code, unless Stay.
	Exit int
	// Stay makes the worker run until it is killed (SIGTERM, SIGQUIT) or
	// the postmaster dies.
	Stay bool
}

// ExitWith returns the action "exit at once with code".
func ExitWith(code int) WorkerAction { return WorkerAction{Exit: code} }

// Stay is the action "run until killed".
var Stay = WorkerAction{Stay: true}

// FirstExits returns a behaviour in which the first start of each worker
// in epoch 0 exits with code and every other start stays.
func FirstExits(code int) func(string, uint64, int) WorkerAction {
	return func(_ string, epoch uint64, start int) WorkerAction {
		if epoch == 0 && start == 1 {
			return ExitWith(code)
		}
		return Stay
	}
}

// Mutant names a seeded mutation of the memory orders of the real code,
// applied by a wrapper between the code and the explorer's memory (see
// [Mutants]).
type Mutant string

// Variant selects the code under test: the default implementation, with
// flaws of the seed brought back, and with mutants applied in order.
type Variant struct {
	Flaws   flaw.Set
	Mutants []Mutant
}

// String returns "default", or the flaws and the mutant.
func (v Variant) String() string {
	var parts []string
	if v.Flaws != 0 {
		parts = append(parts, "flaws="+v.Flaws.String())
	}
	if len(v.Mutants) > 0 {
		var ms []string
		for _, m := range v.Mutants {
			ms = append(ms, string(m))
		}
		parts = append(parts, "mutant="+strings.Join(ms, ","))
	}
	if len(parts) == 0 {
		return "default"
	}
	return strings.Join(parts, " ")
}

// ErrUnknownScenario is returned by [Lookup] for a name that is not a
// scenario.
var ErrUnknownScenario = errors.New("protocol: unknown scenario")

// Scenarios returns every scenario, sorted by name. The values are fresh
// copies.
func Scenarios() []*Scenario {
	out := catalogue()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns every scenario name, sorted.
func Names() []string {
	var names []string
	for _, s := range Scenarios() {
		names = append(names, s.Name)
	}
	return names
}

// Lookup returns the scenario called name.
func Lookup(name string) (*Scenario, error) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownScenario, name, strings.Join(Names(), ", "))
}

// validate checks a scenario's shape.
func (s *Scenario) validate() error {
	switch {
	case s.Name == "":
		return errors.New("protocol: scenario without a name")
	case s.Slots < 1 || s.Slots > maxSlots:
		return fmt.Errorf("protocol: scenario %q: %d slots (want 1..%d)", s.Name, s.Slots, maxSlots)
	case len(s.Static) > s.Slots:
		return fmt.Errorf("protocol: scenario %q: %d static workers for %d slots", s.Name, len(s.Static), s.Slots)
	}
	return nil
}

// Build returns the scenario as an [explore.Scenario] running variant v:
// every execution starts a fresh simulated cluster whose postmaster runs
// the real impl/postmaster core and whose backends run impl/bgworker, and
// checks it at the end (see the package documentation).
func (s *Scenario) Build(v Variant) (explore.Scenario, error) {
	return s.build(v, nil)
}

func (s *Scenario) build(v Variant, obs *observer) (explore.Scenario, error) {
	if err := s.validate(); err != nil {
		return explore.Scenario{}, err
	}
	for _, m := range v.Mutants {
		if _, err := lookupMutant(m); err != nil {
			return explore.Scenario{}, err
		}
	}
	horizon := s.TimeHorizon
	if horizon == 0 {
		horizon = time.Hour
	}
	name := s.Name
	if vs := v.String(); vs != "default" {
		name += " [" + vs + "]"
	}
	return explore.Scenario{
		Name:        name,
		MemSize:     bgworker.ShmemSize(s.Slots),
		TimeHorizon: horizon,
		Setup: func(w *explore.World) error {
			newCluster(s, v, w, obs)
			return nil
		},
	}, nil
}
