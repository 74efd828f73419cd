package spec

import (
	"fmt"
	"strings"
)

// Flags is a background worker's capability mask, bgw_flags in the seed's
// BackgroundWorker.
type Flags uint32

// The worker flags known to the seed. Any other bit is rejected by
// [Validate].
const (
	// FlagShmemAccess is BGWORKER_SHMEM_ACCESS: the worker attaches to
	// shared memory. Its abnormal exits crash the cluster (see [Restart]).
	FlagShmemAccess Flags = 0x1
	// FlagDatabaseConnection is BGWORKER_BACKEND_DATABASE_CONNECTION: the
	// worker may connect to a database. It requires [FlagShmemAccess] (see
	// [SanityCheck]).
	FlagDatabaseConnection Flags = 0x2

	knownFlags = FlagShmemAccess | FlagDatabaseConnection
)

// String returns the flags as "shmem|db", "0" for none, with any unknown
// bits in hexadecimal.
func (f Flags) String() string {
	var parts []string
	if f&FlagShmemAccess != 0 {
		parts = append(parts, "shmem")
	}
	if f&FlagDatabaseConnection != 0 {
		parts = append(parts, "db")
	}
	if rest := f &^ knownFlags; rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(rest)))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// StartTime says when the postmaster may start a worker, bgw_start_time in
// the seed (BgWorkerStartTime).
type StartTime uint32

// The start times of the seed. Any other value is rejected by [Validate].
const (
	// PostmasterStart is BgWorkerStart_PostmasterStart: as soon as the
	// postmaster has started. Not allowed with [FlagDatabaseConnection].
	PostmasterStart StartTime = 0
	// ConsistentState is BgWorkerStart_ConsistentState: once a hot standby
	// accepts read-only connections.
	ConsistentState StartTime = 1
	// RecoveryFinished is BgWorkerStart_RecoveryFinished: once the system
	// accepts read-write connections.
	RecoveryFinished StartTime = 2
)

// String returns the start time's name, or "StartTime(n)" for an unknown
// value.
func (t StartTime) String() string {
	switch t {
	case PostmasterStart:
		return "PostmasterStart"
	case ConsistentState:
		return "ConsistentState"
	case RecoveryFinished:
		return "RecoveryFinished"
	}
	return fmt.Sprintf("StartTime(%d)", uint32(t))
}

// NeverRestart is BGW_NEVER_RESTART: a restart_time meaning the worker is
// forgotten, not restarted, after a crash (see [Restart]).
const NeverRestart int32 = -1

// MaxRestartTime is the largest restart_time, in seconds, that
// SanityCheckBackgroundWorker accepts: USECS_PER_DAY / 1000, as written in
// the seed (the seed divides microseconds by 1000 and compares with
// seconds, so the bound is 86,400,000 seconds, a thousand days).
const MaxRestartTime int32 = 86_400_000

// MaxLen is BGW_MAXLEN, the size of the seed's fixed name buffers
// (bgw_name, bgw_library_name, bgw_function_name). A name holds at most
// MaxLen-1 bytes, the last byte being the terminating NUL.
const MaxLen = 64

// Worker is a background worker definition, the seed's BackgroundWorker.
// The seed's bgw_main function pointer is not modelled: a worker's entry
// point is always LibraryName and FunctionName.
type Worker struct {
	Name         string    // bgw_name: at most MaxLen-1 printable ASCII bytes, non-empty
	Flags        Flags     // bgw_flags
	StartTime    StartTime // bgw_start_time
	RestartTime  int32     // bgw_restart_time, in seconds, or NeverRestart
	LibraryName  string    // bgw_library_name: at most MaxLen-1 printable ASCII bytes
	FunctionName string    // bgw_function_name: at most MaxLen-1 printable ASCII bytes
	MainArg      uint64    // bgw_main_arg (a Datum)
	NotifyPid    int32     // bgw_notify_pid: backend to signal on state changes, 0 for none
}

// String returns a compact description of w for logs and porcupine's
// visualization, such as `"w1" shmem ConsistentState restart=60s notify=42`.
// The entry point and argument are left out.
func (w Worker) String() string {
	restart := "never"
	if w.RestartTime != NeverRestart {
		restart = fmt.Sprintf("%ds", w.RestartTime)
	}
	return fmt.Sprintf("%q %v %v restart=%s notify=%d",
		w.Name, w.Flags, w.StartTime, restart, w.NotifyPid)
}
