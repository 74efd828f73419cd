package stress

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/cluster"
	"bgwmodel/impl/flaw"
)

//go:embed default.json
var defaultJSON []byte

// DefaultConfigJSON returns the embedded default configuration, as JSON.
// It does not block.
func DefaultConfigJSON() []byte { return bytes.Clone(defaultJSON) }

// Duration is a time.Duration written in JSON as a Go duration string
// ("250ms", "25s").
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns the Go duration string.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// errDuration is what UnmarshalJSON reports; the decoder's caller finds
// the field and says which.
var errDuration = errors.New("want a duration such as \"250ms\" or \"25s\"")

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errDuration
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return errDuration
	}
	*d = Duration(v)
	return nil
}

// Config is a campaign's configuration. [DefaultConfig] is the embedded
// default (stress/default.json); [ParseConfig] reads a file over it.
type Config struct {
	// Duration is how long the workload and the faults run, before the
	// orderly stop.
	Duration Duration `json:"duration"`
	// Seed seeds every random choice of the harness (not the kernel's
	// scheduling); 0 picks one at random.
	Seed int64 `json:"seed"`
	// Backends is how many backends run operations at once.
	Backends int `json:"backends"`
	// Careful is how many of them are careful clients: each registers
	// one transient worker at a time, waits for it to start, and polls it
	// until it has stopped, so that it has no other registration whose
	// notifications could wake a wait that nothing else will (the
	// others, bulk clients, keep many registrations alive).
	Careful int `json:"careful"`
	// Slots is max_worker_processes.
	Slots int `json:"slots"`
	// Flaw names seed defects to bring back (flaw.ParseSet: a name, a
	// comma-separated list, or "" for none).
	Flaw string `json:"flaw"`
	// ConsistentDelay and RecoveryDelay are how long after (re)start the
	// cluster reaches ConsistentState and then RecoveryFinished.
	ConsistentDelay Duration `json:"consistent_delay"`
	RecoveryDelay   Duration `json:"recovery_delay"`
	// Workload is the backends' mix of operations.
	Workload Workload `json:"workload"`
	// Static are the static workers (slots 0..).
	Static []WorkerSpec `json:"static_workers"`
	// Permanent are workers registered once each, early, by the backends:
	// they are restarted for the cluster's whole life (restart_time >= 0,
	// or exit 0), so they hold their slot for good.
	Permanent []WorkerSpec `json:"permanent_workers"`
	// Transient describes the other registrations: NEVER_RESTART workers
	// that end, so that their slots are freed and taken again.
	Transient TransientSpec `json:"transient_workers"`
	// Faults is the fault schedule.
	Faults Faults `json:"faults"`
	// Check configures the verdicts.
	Check CheckConfig `json:"check"`
	// Vary is what the seed varies (see [Config.Resolve]).
	Vary Vary `json:"vary"`
	// Noise is the race-widening noise in the cluster's processes.
	Noise NoiseConfig `json:"noise"`
}

// NoiseConfig is the campaign's race-widening noise (cluster.Noise): the
// postmaster and the backends pause, at random, before some of their
// accesses to shared memory and their lock operations, so that windows a
// few instructions wide stay open long enough to be hit. It is seeded
// from the campaign's seed, each process on its own stream.
type NoiseConfig struct {
	// Enabled turns the noise on.
	Enabled bool `json:"enabled"`
	// Probability is the chance of a pause before each access or lock
	// operation, 0..1.
	Probability float64 `json:"probability"`
	// YieldShare is the share of pauses that are yields (sched_yield)
	// rather than sleeps, 0..1.
	YieldShare float64 `json:"yield_share"`
	// MinDelay and MaxDelay bound a sleep (drawn log-uniformly between
	// them; at most cluster.MaxNoiseDelay).
	MinDelay Duration `json:"min_delay"`
	MaxDelay Duration `json:"max_delay"`
}

// Cluster returns the cluster's noise for a campaign with seed: the zero
// (off) cluster.Noise unless Enabled. It does not block.
func (n NoiseConfig) Cluster(seed int64) cluster.Noise {
	if !n.Enabled {
		return cluster.Noise{}
	}
	return cluster.Noise{Seed: uint64(seed), Probability: n.Probability, YieldShare: n.YieldShare,
		MinDelay: n.MinDelay.D(), MaxDelay: n.MaxDelay.D()}
}

// validate checks the noise's fields, on or off, with the rules of
// cluster.Noise.Validate.
func (n NoiseConfig) validate() error {
	n.Enabled = true // a value is checked even while the noise is off
	var ne *cluster.NoiseError
	if err := n.Cluster(0).Validate(); errors.As(err, &ne) {
		return &ConfigError{Field: "noise." + ne.Field, Err: ne.Err}
	} else if err != nil {
		return &ConfigError{Field: "noise", Err: err}
	}
	return nil
}

// Workload is the backends' mix of operations.
type Workload struct {
	// Register, GetPid and WaitForStartup are the relative weights of
	// the three operations.
	Register       float64 `json:"register"`
	GetPid         float64 `json:"get_pid"`
	WaitForStartup float64 `json:"wait_for_startup"`
	// PollAfterRegister is the probability that a successful Register is
	// followed by GetPid polls of its handle (up to Polls, PollInterval
	// apart, until it is no longer NOT_YET_STARTED); WaitAfterRegister
	// the probability that it is followed by a WaitForStartup instead.
	PollAfterRegister float64  `json:"poll_after_register"`
	WaitAfterRegister float64  `json:"wait_after_register"`
	Polls             int      `json:"polls"`
	PollInterval      Duration `json:"poll_interval"`
	// Backoff is the longest a backend refrains from registering after
	// "no free slot" (a random time up to it), so that a freed slot is
	// not always taken again at once.
	Backoff Duration `json:"backoff"`
	// InvalidRate is the probability that a Register carries a worker the
	// sanity check refuses (a restart_time out of range).
	InvalidRate float64 `json:"invalid_rate"`
	// Think is the longest pause between two operations of a backend.
	Think Duration `json:"think"`
	// WaitTimeout bounds each WaitForStartup; it must be well above any
	// legal wait (start-state delays, SIGSTOP, restart_time 1 s after a
	// failed spawn): a wait that times out is judged (see the waiters
	// check).
	WaitTimeout Duration `json:"wait_timeout"`
	// FillEvery is about how often (uniformly between half and one and a
	// half times it) a bulk backend registers transient workers until it
	// is told "no free slot" (at most slots + 1 tries), so that every
	// slot is taken and the refusal is decided; 0 turns fills off.
	FillEvery Duration `json:"fill_every"`
	// BackendExitEvery is about how often a bulk backend exits normally
	// (code 0) and is replaced by a fresh one, with its registrations
	// alive, so that the postmaster's handling of a registrant that left
	// is judged while the campaign runs; 0 turns it off.
	BackendExitEvery Duration `json:"backend_exit_every"`
}

// Vary says what [Config.Resolve] draws afresh from the seed, so that
// campaigns with different seeds run different clusters.
type Vary struct {
	// Static replaces the static workers by none, one, or several
	// (copies of the first, with their own names and restart times).
	Static bool `json:"static"`
	// Slots makes max_worker_processes scarce (about as many dynamic
	// slots as backends) or plentiful (about three times as many).
	Slots bool `json:"slots"`
	// RestartTimes draws the restart_time of every static and permanent
	// worker that restarts within a minute from 0, 1 and 3 s, and for a
	// static one NEVER_RESTART too (it is forgotten once it exits).
	RestartTimes bool `json:"restart_times"`
}

// WorkerSpec is a worker definition in the configuration.
type WorkerSpec struct {
	Name      string    `json:"name"`
	Behaviour Behaviour `json:"behaviour"`
	// Sleep is how long the worker runs before it exits (bgw_main_arg);
	// not used by Run.
	Sleep              Duration `json:"sleep"`
	RestartTime        int32    `json:"restart_time"`
	ShmemAccess        bool     `json:"shmem_access"`
	DatabaseConnection bool     `json:"database_connection"`
	// StartTime is "PostmasterStart", "ConsistentState" or
	// "RecoveryFinished".
	StartTime string `json:"start_time"`
}

// TransientSpec describes the transient registrations: NEVER_RESTART
// workers with a random behaviour, running time, flags and start time.
type TransientSpec struct {
	// Behaviours weighs the behaviours (exit0 and run are not allowed:
	// such a worker would keep its slot).
	Behaviours map[Behaviour]float64 `json:"behaviours"`
	// SleepMin and SleepMax bound the running time.
	SleepMin Duration `json:"sleep_min"`
	SleepMax Duration `json:"sleep_max"`
	// ShmemRate is the probability of SHMEM_ACCESS (an exit 2 of such a
	// worker restarts the cluster); DatabaseRate of
	// BACKEND_DATABASE_CONNECTION (with SHMEM_ACCESS, not at
	// PostmasterStart).
	ShmemRate    float64 `json:"shmem_rate"`
	DatabaseRate float64 `json:"database_rate"`
	// StartTimes weighs the start times.
	StartTimes map[string]float64 `json:"start_times"`
}

// Faults is the fault schedule: each kind fires about every Every
// (uniformly between half and one and a half times it), from Start on;
// an Every of 0 turns the kind off.
type Faults struct {
	Start Duration `json:"start"`
	// KillWorker: kill -9 of a running worker (one with SHMEM_ACCESS
	// restarts the cluster).
	KillWorker Periodic `json:"kill_worker"`
	// KillBackend: kill -9 of a backend (restarts the cluster).
	KillBackend Periodic `json:"kill_backend"`
	// FailSpawns: the next 1..Max worker spawns fail (cluster.FailSpawns).
	FailSpawns SpawnFaults `json:"fail_spawns"`
	// StopPostmaster: SIGSTOP, then SIGCONT after Min..Max (see
	// [StopFaults] for the probe).
	StopPostmaster StopFaults `json:"stop_postmaster"`
	// PostmasterDeath: kill -9 of the postmaster at At (a fraction of
	// Duration); it ends the campaign.
	PostmasterDeath DeathFault `json:"postmaster_death"`
}

// Periodic is a fault kind that fires about every Every.
type Periodic struct {
	Every Duration `json:"every"`
}

// SpawnFaults is the spawn-failure fault.
type SpawnFaults struct {
	Every Duration `json:"every"`
	Max   int      `json:"max"`
}

// StopFaults is the SIGSTOP fault. With Probe, it is the seed's
// lost-wakeup scenario: the backends stop registering for Quiet (so that
// slots free up), 1..FailSpawns spawn failures are armed, the postmaster
// is stopped, a probe backend registers a transient worker and starts
// waiting for it (its spawn can only be tried after SIGCONT, and likely
// fails), and the postmaster is continued. Without Probe, FailSpawns
// failures are still armed before the stop.
type StopFaults struct {
	Every      Duration `json:"every"`
	Min        Duration `json:"min"`
	Max        Duration `json:"max"`
	FailSpawns int      `json:"fail_spawns"`
	Probe      bool     `json:"probe"`
	Quiet      Duration `json:"quiet"`
}

// DeathFault is the postmaster-death fault.
type DeathFault struct {
	Enabled bool    `json:"enabled"`
	At      float64 `json:"at"`
}

// CheckConfig configures the verdicts.
type CheckConfig struct {
	// Timeout bounds the linearizability check (a timeout is UNKNOWN,
	// never a pass).
	Timeout Duration `json:"timeout"`
	// Slack is the policy validator's slack (policy.Options.Slack); 0
	// means 5 s plus the longest SIGSTOP, so that a loaded machine (CI
	// runs test packages side by side) is not taken for a late postmaster.
	Slack Duration `json:"slack"`
	// LaunchBound is policy.Options.LaunchBound.
	LaunchBound Duration `json:"launch_bound"`
	// WaitGrace is how long before its timeout a WaitForStartup's
	// situation is judged: a launch or a forget earlier than that should
	// have woken it. It must exceed the longest SIGSTOP.
	WaitGrace Duration `json:"wait_grace"`
	// Interval is how often the policy and the waiters are checked while
	// the campaign runs; LinInterval how often linearizability is (0: only
	// at the end).
	Interval    Duration `json:"interval"`
	LinInterval Duration `json:"lin_interval"`
	// StopOnViolation ends the campaign at the first violation found
	// while it runs.
	StopOnViolation bool `json:"stop_on_violation"`
	// Waive lists the kinds of outcome ([CoverKind]) the coverage check
	// does not require, though the configuration can reach them.
	Waive []CoverKind `json:"waive"`
	// MemoryBudget bounds, in bytes, the heap the linearizability check
	// may grow by, past which it stops undecided; 0 means
	// linearizability.DefaultMemoryBudget (2 GiB), -1 none.
	MemoryBudget int64 `json:"memory_budget"`
}

// DefaultConfig returns the embedded default configuration
// (stress/default.json). It does not block.
func DefaultConfig() Config {
	var c Config
	if err := decodeStrict(defaultJSON, &c); err != nil {
		panic(fmt.Sprintf("stress: embedded default.json: %v", err)) // tested
	}
	return c
}

// ConfigError reports a configuration (or another JSON file of the
// harness's, such as a run directory's stop.json) that is refused: the
// file, where in it (the line, and the column of a syntax error, when
// known), the field (a dotted path such as "faults.kill_worker.every"),
// and why.
type ConfigError struct {
	File  string
	Line  int // 1-based; 0 if unknown (a field the file does not give)
	Col   int // 1-based; 0 if unknown
	Field string
	Err   error
	// related are other fields the broken rule compares Field with: if
	// the file does not give Field, Line is that of the first of them it
	// gives.
	related []string
}

// Error returns "stress: FILE:LINE: FIELD: reason" (with ":COL" after
// LINE for a syntax error), leaving out what is unknown.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("stress: ")
	if e.File != "" || e.Line > 0 {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Col > 0 {
				fmt.Fprintf(&b, ":%d", e.Col)
			}
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the reason.
func (e *ConfigError) Unwrap() error { return e.Err }

// ParseConfig reads a configuration file over the defaults: fields it
// gives replace the default's (objects are merged field by field, lists
// replaced). Parsing is strict: an unknown field, a value of the wrong
// type, a bad duration, trailing data, or a value [Config.Validate]
// refuses is a [*ConfigError] naming the file, the line and the field. It
// does not block.
func ParseConfig(file string, data []byte) (Config, error) {
	c := DefaultConfig()
	err := decodeStrict(data, &c)
	if err == nil {
		err = c.Validate()
	}
	if err == nil {
		err = c.Noise.validate()
	}
	if err != nil {
		return Config{}, inFile(file, data, err)
	}
	return c, nil
}

// worker returns the definition, notifying notify.
func (w *WorkerSpec) worker(notify int32) bgworker.Worker {
	var flags bgworker.Flags
	if w.ShmemAccess {
		flags |= bgworker.ShmemAccess
	}
	if w.DatabaseConnection {
		flags |= bgworker.BackendDatabaseConnection
	}
	return bgworker.Worker{Name: w.Name, Flags: flags, StartTime: startTimes[w.StartTime], RestartTime: w.RestartTime,
		LibraryName: Library, FunctionName: string(w.Behaviour), MainArg: MainArg(w.Sleep.D(), time.Time{}), NotifyPid: notify}
}

// slack is the policy validator's slack for the campaign.
func (c *Config) slack() time.Duration {
	if c.Check.Slack > 0 {
		return c.Check.Slack.D()
	}
	return 5*time.Second + c.Faults.StopPostmaster.Max.D()
}

// Flaws returns the configuration's flaw set (validated). It does not
// block.
func (c Config) Flaws() flaw.Set {
	s, _ := flaw.ParseSet(c.Flaw)
	return s
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
