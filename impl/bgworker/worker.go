package bgworker

import (
	"errors"
	"fmt"
)

// Flags are a worker's bgw_flags.
type Flags uint32

const (
	// ShmemAccess is BGWORKER_SHMEM_ACCESS: the worker attaches to shared
	// memory.
	ShmemAccess Flags = 0x0001
	// BackendDatabaseConnection is BGWORKER_BACKEND_DATABASE_CONNECTION:
	// the worker may connect to a database. It requires ShmemAccess.
	BackendDatabaseConnection Flags = 0x0002

	knownFlags = ShmemAccess | BackendDatabaseConnection
)

// StartTime is a worker's bgw_start_time: the postmaster state from which
// it may run.
type StartTime uint32

const (
	// PostmasterStart is BgWorkerStart_PostmasterStart.
	PostmasterStart StartTime = iota
	// ConsistentState is BgWorkerStart_ConsistentState.
	ConsistentState
	// RecoveryFinished is BgWorkerStart_RecoveryFinished.
	RecoveryFinished
)

// String returns the seed's name of the start time.
func (s StartTime) String() string {
	switch s {
	case PostmasterStart:
		return "PostmasterStart"
	case ConsistentState:
		return "ConsistentState"
	case RecoveryFinished:
		return "RecoveryFinished"
	}
	return fmt.Sprintf("StartTime(%d)", uint32(s))
}

// ParseStartTime returns the start time [StartTime.String] names
// ("ConsistentState"), and whether it names one.
func ParseStartTime(name string) (StartTime, bool) {
	for s := PostmasterStart; s <= RecoveryFinished; s++ {
		if s.String() == name {
			return s, true
		}
	}
	return 0, false
}

const (
	// MaxLen is BGW_MAXLEN: a name field holds at most MaxLen-1 bytes and
	// a terminating NUL.
	MaxLen = 64
	// NeverRestart is BGW_NEVER_RESTART: restart_time for a worker that is
	// never restarted after a crash.
	NeverRestart int32 = -1
	// DefaultRestartTime is BGW_DEFAULT_RESTART_INTERVAL, in seconds.
	DefaultRestartTime int32 = 60
	// MaxRestartTime is the largest restart_time the sanity check accepts,
	// in seconds: the seed's USECS_PER_DAY / 1000.
	MaxRestartTime int32 = 86_400_000
)

// Worker is a BackgroundWorker: what a backend asks the postmaster to run.
type Worker struct {
	Name         string    // bgw_name
	Flags        Flags     // bgw_flags
	StartTime    StartTime // bgw_start_time
	RestartTime  int32     // bgw_restart_time, seconds, or NeverRestart
	LibraryName  string    // bgw_library_name
	FunctionName string    // bgw_function_name
	MainArg      uint64    // bgw_main_arg (a Datum)
	NotifyPid    int32     // bgw_notify_pid: backend to signal on start and stop, or 0
}

// Field names a field of [Worker] in errors, as the seed's C field.
type Field string

// The fields of Worker.
const (
	FieldName         Field = "bgw_name"
	FieldFlags        Field = "bgw_flags"
	FieldStartTime    Field = "bgw_start_time"
	FieldRestartTime  Field = "bgw_restart_time"
	FieldLibraryName  Field = "bgw_library_name"
	FieldFunctionName Field = "bgw_function_name"
	FieldNotifyPid    Field = "bgw_notify_pid"
)

// ErrInvalidWorker is wrapped by every [*InvalidError].
var ErrInvalidWorker = errors.New("invalid background worker")

// InvalidError reports a worker definition that is refused, naming the
// field and the rule. It wraps [ErrInvalidWorker].
type InvalidError struct {
	Worker string // the worker's name as given (may itself be the bad field)
	Field  Field
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("bgworker: background worker %q: invalid %s: %s", e.Worker, e.Field, e.Reason)
}

// Unwrap returns ErrInvalidWorker.
func (e *InvalidError) Unwrap() error { return ErrInvalidWorker }

func invalid(w *Worker, f Field, format string, args ...any) *InvalidError {
	return &InvalidError{Worker: w.Name, Field: f, Reason: fmt.Sprintf(format, args...)}
}

// SanityCheckBackgroundWorker reports whether w passes the seed's sanity
// check (SanityCheckBackgroundWorker): a database connection requires
// ShmemAccess and may not start at PostmasterStart, and restart_time is
// NeverRestart or in [0, MaxRestartTime]. It returns nil or an
// [*InvalidError]. It does not block and touches no shared state.
func SanityCheckBackgroundWorker(w *Worker) error {
	if w.Flags&BackendDatabaseConnection != 0 {
		if w.Flags&ShmemAccess == 0 {
			return invalid(w, FieldFlags, "must attach to shared memory in order to request a database connection")
		}
		if w.StartTime == PostmasterStart {
			return invalid(w, FieldStartTime, "cannot request database access if starting at postmaster start")
		}
	}
	if (w.RestartTime < 0 && w.RestartTime != NeverRestart) || w.RestartTime > MaxRestartTime {
		return invalid(w, FieldRestartTime, "invalid restart interval %d (want %d or 0..%d seconds)",
			w.RestartTime, NeverRestart, MaxRestartTime)
	}
	return nil
}

// ValidateWorker checks what the Go API accepts before the seed's sanity
// check: names of at most MaxLen-1 bytes of printable ASCII (the name
// non-empty), only known flags, a known start time and a non-negative
// notify pid; then it runs [SanityCheckBackgroundWorker]. The seed
// truncates long names and accepts any bytes; the API refuses them instead
// of changing what the caller asked for. It returns nil or an
// [*InvalidError].
func ValidateWorker(w *Worker) error {
	if w.Name == "" {
		return invalid(w, FieldName, "empty")
	}
	for _, f := range [...]struct {
		field Field
		s     string
	}{{FieldName, w.Name}, {FieldLibraryName, w.LibraryName}, {FieldFunctionName, w.FunctionName}} {
		if err := checkName(w, f.field, f.s); err != nil {
			return err
		}
	}
	if w.Flags&^knownFlags != 0 {
		return invalid(w, FieldFlags, "unknown bits %#x", uint32(w.Flags&^knownFlags))
	}
	if w.StartTime > RecoveryFinished {
		return invalid(w, FieldStartTime, "unknown start time %d", uint32(w.StartTime))
	}
	if w.NotifyPid < 0 {
		return invalid(w, FieldNotifyPid, "negative pid %d", w.NotifyPid)
	}
	return SanityCheckBackgroundWorker(w)
}

func checkName(w *Worker, f Field, s string) error {
	if len(s) > MaxLen-1 {
		return invalid(w, f, "%d bytes long (at most %d)", len(s), MaxLen-1)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return invalid(w, f, "byte %#x at %d is not printable ASCII", c, i)
		}
	}
	return nil
}
