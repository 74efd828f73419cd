package postmaster

import (
	"fmt"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
)

// Config configures a [Core].
type Config struct {
	// MaxWorkers is max_worker_processes, 1..[bgworker.MaxWorkerProcesses].
	MaxWorkers int
	// Static are the static workers, registered at [New] with
	// RegisterBackgroundWorker (as shared_preload_libraries would) and
	// placed in slots 0..len(Static)-1 by BackgroundWorkerShmemInit.
	Static []bgworker.Worker
	// ConsistentDelay is how long after PostmasterStart (at [EventStart],
	// and again after every crash restart) the cluster reaches
	// ConsistentState; RecoveryDelay is how much later it reaches
	// RecoveryFinished. They stand for the startup process's recovery,
	// which the core does not run. Both must be >= 0.
	ConsistentDelay, RecoveryDelay time.Duration
	// Flaws selects seed defects to reproduce (see package flaw); the zero
	// value is the fixed postmaster.
	Flaws flaw.Set
	// SegmentID names the shared-memory segment; handles carry it.
	SegmentID uint64
	// Stamp, if set, is the logical clock for [Record.Call] and
	// [Record.Return]. The core calls it synchronously from Step; it must
	// not block.
	Stamp func() uint64
}

// EventKind says what happened to the postmaster.
type EventKind uint8

// The events a driver feeds to [Core.Step].
const (
	// EventStart starts the postmaster: BackgroundWorkerShmemInit,
	// PostmasterStart reached, start every worker that may start
	// (PostmasterMain up to its first maybe_start_bgworker).
	EventStart EventKind = iota + 1
	// EventTick says time has passed: the start states advance and
	// delayed restarts become due (ServerLoop's timeout, then
	// maybe_start_bgworker). The driver delivers one at or after every
	// [ActionWakeAt]; extra ticks are harmless.
	EventTick
	// EventPMSignal says the postmaster received SIGUSR1
	// (sigusr1_handler): CheckPostmasterSignal, then
	// BackgroundWorkerStateChange if the flag was set, then
	// maybe_start_bgworker.
	EventPMSignal
	// EventChildExited says the worker process Pid exited with Exit
	// (reaper, then CleanupBackgroundWorker).
	EventChildExited
	// EventSpawnResult answers an [ActionSpawn] identified by SpawnToken:
	// the process started as Pid (> 0), or SpawnErr says why it did not
	// (do_start_bgworker's fork result).
	EventSpawnResult
	// EventBackendStarted says the postmaster started the regular backend
	// Pid (BackendStartup): from now on it is a live backend that may ask
	// for notifications.
	EventBackendStarted
	// EventBackendExited says the regular backend Pid exited with Exit
	// (CleanupBackend): exit 0 or 1 stops its notifications
	// (BackgroundWorkerStopNotifications); any other exit, or death by a
	// signal, crashes the cluster (HandleChildCrash).
	EventBackendExited
	// EventShutdown is SIGTERM to the postmaster (pmdie): every worker
	// gets SIGTERM, and once all have exited the postmaster exits.
	EventShutdown
)

// String returns the event kind's name, such as "child-exited".
func (k EventKind) String() string {
	switch k {
	case EventStart:
		return "start"
	case EventTick:
		return "tick"
	case EventPMSignal:
		return "pmsignal"
	case EventChildExited:
		return "child-exited"
	case EventSpawnResult:
		return "spawn-result"
	case EventBackendStarted:
		return "backend-started"
	case EventBackendExited:
		return "backend-exited"
	case EventShutdown:
		return "shutdown"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is one input to [Core.Step]. Only the fields of its Kind are read.
type Event struct {
	// Kind says what happened.
	Kind EventKind
	// Now is the driver's monotonic clock since the postmaster started.
	// The core never goes back in time: an event earlier than one already
	// seen is taken to happen at the latest time seen.
	Now time.Duration
	// Pid is the process: the exited worker (EventChildExited), the
	// started worker (EventSpawnResult), or the backend
	// (EventBackendStarted, EventBackendExited).
	Pid int32
	// Exit is how the process ended (EventChildExited,
	// EventBackendExited).
	Exit bgworker.ExitStatus
	// SpawnToken is the [Action.Token] of the spawn answered
	// (EventSpawnResult).
	SpawnToken uint64
	// SpawnErr is why the spawn failed, or "" if it succeeded
	// (EventSpawnResult). A success with Pid <= 0 counts as a failure.
	SpawnErr string
}

// String returns a compact description, such as
// "child-exited@1.5s pid=101 exit 1".
func (ev Event) String() string {
	s := fmt.Sprintf("%v@%v", ev.Kind, ev.Now)
	switch ev.Kind {
	case EventChildExited, EventBackendExited:
		s += fmt.Sprintf(" pid=%d %v", ev.Pid, ev.Exit)
	case EventBackendStarted:
		s += fmt.Sprintf(" pid=%d", ev.Pid)
	case EventSpawnResult:
		if ev.SpawnErr != "" {
			s += fmt.Sprintf(" token=%d err=%q", ev.SpawnToken, ev.SpawnErr)
		} else {
			s += fmt.Sprintf(" token=%d pid=%d", ev.SpawnToken, ev.Pid)
		}
	}
	return s
}

// ActionKind says what the driver must do.
type ActionKind uint8

// The actions [Core.Ready] returns.
const (
	// ActionSpawn: start a process for Worker in Slot (do_start_bgworker's
	// fork). The driver answers with an [EventSpawnResult] carrying Token,
	// synchronously if it can.
	ActionSpawn ActionKind = iota + 1
	// ActionSignal: send Signal to Pid (kill).
	ActionSignal
	// ActionWakeAt: deliver an [EventTick] at or after At. Only the
	// earliest pending WakeAt matters; the core emits a new one only when
	// it is earlier than the one pending.
	ActionWakeAt
	// ActionKillAll: a crash restart began (HandleChildCrash): send SIGQUIT
	// to every child, workers and backends alike, and report each exit
	// ([EventChildExited], [EventBackendExited]).
	ActionKillAll
	// ActionExit: the postmaster exits with code 0 (ExitPostmaster after a
	// shutdown). No event is accepted afterwards.
	ActionExit
)

// String returns the action kind's name, such as "spawn".
func (k ActionKind) String() string {
	switch k {
	case ActionSpawn:
		return "spawn"
	case ActionSignal:
		return "signal"
	case ActionWakeAt:
		return "wake-at"
	case ActionKillAll:
		return "kill-all"
	case ActionExit:
		return "exit"
	}
	return fmt.Sprintf("ActionKind(%d)", uint8(k))
}

// Signal is a signal the postmaster sends.
type Signal uint8

// The signals of [ActionSignal].
const (
	// SIGUSR1 wakes a backend waiting for a worker (its latch).
	SIGUSR1 Signal = iota + 1
	// SIGTERM asks a worker to exit (shutdown).
	SIGTERM
	// SIGQUIT makes a child exit at once (crash restart).
	SIGQUIT
)

// String returns the signal's C name.
func (s Signal) String() string {
	switch s {
	case SIGUSR1:
		return "SIGUSR1"
	case SIGTERM:
		return "SIGTERM"
	case SIGQUIT:
		return "SIGQUIT"
	}
	return fmt.Sprintf("Signal(%d)", uint8(s))
}

// Action is one thing the driver must do. Only the fields of its Kind are
// set.
type Action struct {
	// Kind says what to do.
	Kind ActionKind
	// Slot is the worker's slot (ActionSpawn).
	Slot int
	// Worker is a copy of the worker to start (ActionSpawn).
	Worker bgworker.Worker
	// Token identifies the spawn in its [EventSpawnResult] (ActionSpawn).
	Token uint64
	// Pid is the process to signal (ActionSignal).
	Pid int32
	// Signal is the signal to send (ActionSignal).
	Signal Signal
	// At is when to deliver a tick (ActionWakeAt).
	At time.Duration
}

// String returns a compact description, such as "signal SIGUSR1 -> 100".
func (a Action) String() string {
	switch a.Kind {
	case ActionSpawn:
		return fmt.Sprintf("spawn s%d %q token=%d", a.Slot, a.Worker.Name, a.Token)
	case ActionSignal:
		return fmt.Sprintf("signal %v -> %d", a.Signal, a.Pid)
	case ActionWakeAt:
		return fmt.Sprintf("wake-at %v", a.At)
	}
	return a.Kind.String()
}

// Ready is what [Core.Ready] drains: the actions to perform and the records
// to log, each in the order the core produced them.
type Ready struct {
	// Actions are for the driver to perform, in order.
	Actions []Action
	// Records are the postmaster's log, in order.
	Records []Record
}

// Empty reports whether there is nothing to do or log.
func (r Ready) Empty() bool { return len(r.Actions) == 0 && len(r.Records) == 0 }
