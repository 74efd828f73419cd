package spec

import "fmt"

// Field names the worker field a validity check rejected. Its values are the
// seed's field names without the "bgw_" prefix.
type Field string

// The fields of a [Worker] that a validity check can name.
const (
	FieldName         Field = "name"
	FieldFlags        Field = "flags"
	FieldStartTime    Field = "start_time"
	FieldRestartTime  Field = "restart_time"
	FieldLibraryName  Field = "library_name"
	FieldFunctionName Field = "function_name"
	FieldNotifyPid    Field = "notify_pid"
)

// Invalid reports why a worker definition was rejected: the first field, in
// checking order, that breaks a rule. It implements error.
//
// The check functions return a nil *Invalid for a valid worker. Compare
// that result with nil before converting it to error: a nil *Invalid stored
// in an error interface is not a nil error.
type Invalid struct {
	Field  Field  // the offending field
	Reason string // a short human-readable reason
}

// Error returns "spec: invalid <field>: <reason>".
func (e *Invalid) Error() string {
	return fmt.Sprintf("spec: invalid %s: %s", e.Field, e.Reason)
}

func invalid(f Field, format string, args ...any) *Invalid {
	return &Invalid{Field: f, Reason: fmt.Sprintf(format, args...)}
}

// SanityCheck applies exactly the three rules of the seed's
// SanityCheckBackgroundWorker, in the seed's order:
//
//  1. [FlagDatabaseConnection] requires [FlagShmemAccess] (field "flags");
//  2. [FlagDatabaseConnection] is not allowed with [PostmasterStart]
//     (field "start_time");
//  3. RestartTime must be [NeverRestart] or in [0, [MaxRestartTime]]
//     (field "restart_time").
//
// It returns nil if w passes all three. It checks nothing else: names,
// unknown flag bits and unknown start times are [Validate]'s business.
func SanityCheck(w Worker) *Invalid {
	if w.Flags&FlagDatabaseConnection != 0 {
		if w.Flags&FlagShmemAccess == 0 {
			return invalid(FieldFlags, "must attach to shared memory in order to request a database connection")
		}
		if w.StartTime == PostmasterStart {
			return invalid(FieldStartTime, "cannot request database access if starting at postmaster start")
		}
	}
	if (w.RestartTime < 0 && w.RestartTime != NeverRestart) || w.RestartTime > MaxRestartTime {
		return invalid(FieldRestartTime, "invalid restart interval %d", w.RestartTime)
	}
	return nil
}

// checkName enforces the Go API's rule for the seed's BGW_MAXLEN buffers:
// at most MaxLen-1 bytes (room for the NUL), printable ASCII only (what the
// postmaster's ascii_safe_strlcpy in BackgroundWorkerStateChange would keep
// unchanged).
func checkName(f Field, s string) *Invalid {
	if len(s) > MaxLen-1 {
		return invalid(f, "%d bytes, longer than %d", len(s), MaxLen-1)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return invalid(f, "byte %#02x at offset %d is not printable ASCII", c, i)
		}
	}
	return nil
}

// Validate applies the Go API's input rules and then [SanityCheck]. It is
// the check RegisterDynamicBackgroundWorker makes (the seed calls
// SanityCheckBackgroundWorker at ERROR level) strengthened with rules the
// seed leaves to C's types and to the postmaster's paranoid copying
// (BackgroundWorkerStateChange's copies). In order:
//
//  1. Name: non-empty, at most MaxLen-1 bytes, printable ASCII (0x20..0x7e);
//  2. LibraryName, then FunctionName: at most MaxLen-1 bytes, printable
//     ASCII (they may be empty);
//  3. Flags: no bits other than [FlagShmemAccess] and
//     [FlagDatabaseConnection];
//  4. StartTime: one of [PostmasterStart], [ConsistentState],
//     [RecoveryFinished];
//  5. NotifyPid: not negative;
//  6. [SanityCheck].
//
// It returns nil if w is valid, otherwise the first rule broken.
func Validate(w Worker) *Invalid {
	if w.Name == "" {
		return invalid(FieldName, "empty")
	}
	if e := checkName(FieldName, w.Name); e != nil {
		return e
	}
	if e := checkName(FieldLibraryName, w.LibraryName); e != nil {
		return e
	}
	if e := checkName(FieldFunctionName, w.FunctionName); e != nil {
		return e
	}
	if rest := w.Flags &^ knownFlags; rest != 0 {
		return invalid(FieldFlags, "unknown bits %#x", uint32(rest))
	}
	if w.StartTime > RecoveryFinished {
		return invalid(FieldStartTime, "unknown start time %d", uint32(w.StartTime))
	}
	if w.NotifyPid < 0 {
		return invalid(FieldNotifyPid, "negative pid %d", w.NotifyPid)
	}
	return SanityCheck(w)
}

// ValidateStatic is the check of the seed's RegisterBackgroundWorker, which
// registers a static worker at postmaster start: [Validate], then
// NotifyPid must be 0 ("only dynamic background workers can request
// notification"), checked after the sanity check as in the seed.
func ValidateStatic(w Worker) *Invalid {
	if e := Validate(w); e != nil {
		return e
	}
	if w.NotifyPid != 0 {
		return invalid(FieldNotifyPid, "only dynamic background workers can request notification")
	}
	return nil
}
