package proptest

import (
	"math"
	"strings"
	"time"

	"pgregory.net/rapid"

	"bgwmodel/impl/bgworker"
)

// Boundary values the generators draw with high probability, mixed with
// values from the whole range. Each list names the edges of one rule of
// [spec.Validate], [spec.SanityCheck] or the restart rule.
var (
	// RestartTimeEdges: both sides of NEVER_RESTART (-1) and of the sanity
	// bound (86,400,000 s), and both sides of the seed's 32-bit millisecond
	// overflow (2,147,483 s fits, 2,147,484 s wraps negative, 4,294,968 s
	// wraps to a small positive delay).
	RestartTimeEdges = []int32{
		math.MinInt32, -2, -1, 0, 1, 60,
		2_147_483, 2_147_484, 4_294_967, 4_294_968,
		86_399_999, 86_400_000, 86_400_001, math.MaxInt32,
	}
	// FlagEdges: every combination of the two known flags, alone and with
	// unknown bits.
	FlagEdges = []bgworker.Flags{
		0, bgworker.ShmemAccess, bgworker.BackendDatabaseConnection,
		bgworker.ShmemAccess | bgworker.BackendDatabaseConnection,
		0x4, 0x5, 0x6, 0x7, 0x8, 0x8000_0000, 0x8000_0003, 0xffff_ffff,
	}
	// StartTimeEdges: the three start times and values just and far out of
	// range.
	StartTimeEdges = []bgworker.StartTime{
		bgworker.PostmasterStart, bgworker.ConsistentState, bgworker.RecoveryFinished,
		3, 4, math.MaxInt32, math.MaxUint32,
	}
	// NameLengthEdges: empty, the longest name that fits BGW_MAXLEN with
	// its NUL (63 bytes), one and two bytes too long, and much too long.
	NameLengthEdges = []int{0, 1, bgworker.MaxLen - 2, bgworker.MaxLen - 1, bgworker.MaxLen, bgworker.MaxLen + 1, 200}
	// BadNameBytes: bytes a name may not hold: NUL, the control characters
	// the postmaster's ascii_safe_strlcpy keeps (\t \n \r) and others, DEL,
	// and non-ASCII bytes (0xc3 starts UTF-8 "é").
	BadNameBytes = []byte{0x00, 0x01, '\t', '\n', '\r', 0x1f, 0x7f, 0x80, 0xc3, 0xa9, 0xfe, 0xff}
	// NotifyPidEdges: negative pids (refused), 0 (no notification) and
	// positive ones.
	NotifyPidEdges = []int32{math.MinInt32, -2, -1, 0, 1, math.MaxInt32}
	// RestartEdgeSeconds are restart times that make or break a 32-bit
	// millisecond computation, for the restart-time property.
	RestartEdgeSeconds = []int32{
		bgworker.NeverRestart, 0, 1, 60,
		2_147_483, 2_147_484, 4_294_967, 4_294_968, 4_294_969,
		bgworker.MaxRestartTime - 1, bgworker.MaxRestartTime,
	}
)

var printableByte = rapid.ByteRange(0x20, 0x7e)

// goodName draws a valid, non-empty name: 1 to 63 printable ASCII bytes.
var goodName = rapid.Custom(func(t *rapid.T) string {
	return string(rapid.SliceOfN(printableByte, 1, bgworker.MaxLen-1).Draw(t, "bytes"))
})

// edgeLengthName draws a printable name of a boundary length.
var edgeLengthName = rapid.Custom(func(t *rapid.T) string {
	n := rapid.SampledFrom(NameLengthEdges).Draw(t, "len")
	return strings.Repeat(string(printableByte.Draw(t, "fill")), n)
})

// badByteName draws a name of valid length with one forbidden byte.
var badByteName = rapid.Custom(func(t *rapid.T) string {
	b := []byte(goodName.Draw(t, "base"))
	i := rapid.IntRange(0, len(b)-1).Draw(t, "at")
	b[i] = rapid.OneOf(
		rapid.SampledFrom(BadNameBytes),
		rapid.ByteRange(0x00, 0x1f),
		rapid.ByteRange(0x7f, 0xff),
	).Draw(t, "bad")
	return string(b)
})

// NameGen draws names for bgw_name, bgw_library_name and
// bgw_function_name: mostly valid ones (1 to 63 printable bytes), and
// often a boundary length from [NameLengthEdges] or a name holding one byte
// of [BadNameBytes] or any other non-printable byte.
func NameGen() *rapid.Generator[string] {
	return rapid.OneOf(goodName, goodName, goodName, edgeLengthName, badByteName)
}

// FlagsGen draws bgw_flags: mostly the four combinations of the known
// flags, often one of [FlagEdges] (unknown bits), sometimes any 32 bits.
func FlagsGen() *rapid.Generator[bgworker.Flags] {
	known := rapid.SampledFrom(FlagEdges[:4])
	return rapid.OneOf(known, known, known,
		rapid.SampledFrom(FlagEdges),
		rapid.Map(rapid.Uint32(), func(v uint32) bgworker.Flags { return bgworker.Flags(v) }))
}

// StartTimeGen draws bgw_start_time: mostly one of the three start times,
// often one of [StartTimeEdges], sometimes any 32 bits.
func StartTimeGen() *rapid.Generator[bgworker.StartTime] {
	known := rapid.SampledFrom(StartTimeEdges[:3])
	return rapid.OneOf(known, known, known,
		rapid.SampledFrom(StartTimeEdges),
		rapid.Map(rapid.Uint32(), func(v uint32) bgworker.StartTime { return bgworker.StartTime(v) }))
}

// RestartTimeGen draws bgw_restart_time: one of [RestartTimeEdges], any
// valid value (-1 or 0..86,400,000), or any int32.
func RestartTimeGen() *rapid.Generator[int32] {
	return rapid.OneOf(
		rapid.SampledFrom(RestartTimeEdges),
		rapid.Int32Range(bgworker.NeverRestart, bgworker.MaxRestartTime),
		rapid.Int32Range(bgworker.NeverRestart, bgworker.MaxRestartTime),
		rapid.Int32())
}

// NotifyPidGen draws bgw_notify_pid: mostly non-negative, often one of
// [NotifyPidEdges], sometimes any negative pid.
func NotifyPidGen() *rapid.Generator[int32] {
	return rapid.OneOf(
		rapid.Just[int32](0),
		rapid.Int32Range(0, math.MaxInt32),
		rapid.Int32Range(0, math.MaxInt32),
		rapid.SampledFrom(NotifyPidEdges),
		rapid.Int32Max(-1))
}

// Probe names the rule a [WorkerGen] worker is drawn to test: one field
// from its boundary-heavy generator and every other field valid, or no
// field ("valid"), or every field at once ("any", for the order in which
// the rules are checked).
type Probe string

// The probes, in the order rapid shrinks towards.
const (
	ProbeValid     Probe = "valid"
	ProbeName      Probe = "name"
	ProbeLibrary   Probe = "library"
	ProbeFunction  Probe = "function"
	ProbeFlags     Probe = "flags"
	ProbeStartTime Probe = "start_time"
	ProbeDB        Probe = "db-rules"
	ProbeRestart   Probe = "restart_time"
	ProbeNotify    Probe = "notify_pid"
	ProbeAny       Probe = "any"
)

// Probes lists every probe; "any" twice, so that about one worker in six
// has several fields drawn from their boundaries.
var Probes = []Probe{
	ProbeValid, ProbeName, ProbeLibrary, ProbeFunction, ProbeFlags, ProbeStartTime,
	ProbeDB, ProbeRestart, ProbeNotify, ProbeAny, ProbeAny,
}

// SanityRestartEdges are the restart times at the edges of the sanity
// check's rule: both sides of NEVER_RESTART, 0, both sides of the bound,
// and the extremes.
var SanityRestartEdges = []int32{math.MinInt32, -2, -1, 0, bgworker.MaxRestartTime, bgworker.MaxRestartTime + 1, math.MaxInt32}

// sanityRestartGen draws a restart time at an edge of the sanity rule
// half of the time.
var sanityRestartGen = rapid.OneOf(
	rapid.SampledFrom(SanityRestartEdges),
	rapid.SampledFrom(SanityRestartEdges),
	RestartTimeGen(),
	rapid.Int32())

// WorkerGen draws any worker definition, valid or not. It first draws a
// [Probe]: for a field probe, that field comes from its boundary-heavy
// generator ([NameGen], [FlagsGen], [StartTimeGen], restart times at the
// sanity bounds, [NotifyPidGen]) and every other field is valid, so that
// each rule is tested alone and at its edges; "db-rules" draws flags and
// start time together around the two database-connection rules; "any"
// draws every field from its boundary-heavy generator.
func WorkerGen() *rapid.Generator[bgworker.Worker] {
	return rapid.Custom(func(t *rapid.T) bgworker.Worker {
		probe := rapid.SampledFrom(Probes).Draw(t, "probe")
		w := validWorker(t, nil)
		all := probe == ProbeAny
		if all || probe == ProbeName {
			w.Name = NameGen().Draw(t, "name")
		}
		if all || probe == ProbeLibrary {
			w.LibraryName = NameGen().Draw(t, "library")
		}
		if all || probe == ProbeFunction {
			w.FunctionName = NameGen().Draw(t, "function")
		}
		if all || probe == ProbeFlags {
			w.Flags = FlagsGen().Draw(t, "flags")
		}
		if all || probe == ProbeStartTime {
			w.StartTime = StartTimeGen().Draw(t, "start")
		}
		if probe == ProbeDB {
			w.Flags = rapid.SampledFrom(FlagEdges[:4]).Draw(t, "flags")
			w.StartTime = rapid.SampledFrom(StartTimeEdges[:3]).Draw(t, "start")
		}
		if all || probe == ProbeRestart {
			w.RestartTime = sanityRestartGen.Draw(t, "restart")
		}
		if all || probe == ProbeNotify {
			w.NotifyPid = NotifyPidGen().Draw(t, "notify")
		}
		return w
	})
}

// validWorker draws a valid worker whose notify pid is drawn from notify,
// or any non-negative pid if notify is empty.
func validWorker(t *rapid.T, notify []int32) bgworker.Worker {
	flags := rapid.SampledFrom([]bgworker.Flags{
		0, bgworker.ShmemAccess, bgworker.ShmemAccess | bgworker.BackendDatabaseConnection,
	}).Draw(t, "flags")
	starts := StartTimeEdges[:3]
	if flags&bgworker.BackendDatabaseConnection != 0 {
		starts = StartTimeEdges[1:3]
	}
	notifyGen := rapid.OneOf(rapid.Just[int32](0), rapid.Int32Range(0, math.MaxInt32))
	if len(notify) > 0 {
		notifyGen = rapid.SampledFrom(notify)
	}
	return bgworker.Worker{
		Name:      goodName.Draw(t, "name"),
		Flags:     flags,
		StartTime: rapid.SampledFrom(starts).Draw(t, "start"),
		RestartTime: rapid.OneOf(
			rapid.SampledFrom([]int32{bgworker.NeverRestart, 0, bgworker.DefaultRestartTime, bgworker.MaxRestartTime}),
			rapid.Int32Range(0, bgworker.MaxRestartTime),
		).Draw(t, "restart"),
		LibraryName: rapid.OneOf(rapid.SampledFrom([]string{"", "worker_spi"}), goodName).Draw(t, "library"),
		FunctionName: rapid.OneOf(rapid.SampledFrom([]string{"", "worker_spi_main",
			strings.Repeat("f", bgworker.MaxLen-1)}), goodName).Draw(t, "function"),
		MainArg:   rapid.Uint64().Draw(t, "arg"),
		NotifyPid: notifyGen.Draw(t, "notify"),
	}
}

// ValidWorkerGen draws a worker that [bgworker.ValidateWorker] accepts,
// with bgw_notify_pid one of notify (any non-negative pid if notify is
// empty). The state machines use it to register workers that the
// postmaster adopts, so that the chosen notify pids decide which
// registrations signal the test's backend.
func ValidWorkerGen(notify ...int32) *rapid.Generator[bgworker.Worker] {
	return rapid.Custom(func(t *rapid.T) bgworker.Worker { return validWorker(t, notify) })
}

// ExitGen draws how a worker ended: exit codes 0, 1 and 2 often, any other
// code (negative and above 255 included), or a signal 1..64.
func ExitGen() *rapid.Generator[bgworker.ExitStatus] {
	return rapid.Custom(func(t *rapid.T) bgworker.ExitStatus {
		if rapid.IntRange(0, 3).Draw(t, "signaled?") == 0 {
			return bgworker.ExitStatus{Signaled: true, Code: rapid.IntRange(1, 64).Draw(t, "signal")}
		}
		return bgworker.ExitStatus{Code: rapid.OneOf(
			rapid.SampledFrom([]int{0, 1, 2}),
			rapid.SampledFrom([]int{0, 1, 2}),
			rapid.SampledFrom([]int{-1, 3, 127, 255, 256}),
			rapid.Int(),
		).Draw(t, "code")}
	})
}

// Clock is a pair of readings of the postmaster's monotonic clock: when a
// worker crashed and when the postmaster asks whether it may restart it.
type Clock struct {
	CrashedAt time.Duration
	Now       time.Duration
}

// maxClock bounds generated clock readings so that crashedAt plus any
// generated offset cannot overflow: 2^62 ns is about 146 years.
const maxClock = time.Duration(1) << 62

// ClockGen draws clock readings around the restart delay d (the exact
// delay of the restart time under test): Now - CrashedAt is exactly d, one
// nanosecond less or more, 0, one second less, or anything in [0, 2d+1 s].
// CrashedAt is 0, small or large; Now never precedes it (the clock is
// monotonic) and nothing overflows.
func ClockGen(d time.Duration) *rapid.Generator[Clock] {
	if d < 0 {
		d = 0
	}
	return rapid.Custom(func(t *rapid.T) Clock {
		at := rapid.OneOf(
			rapid.Just(time.Duration(0)),
			rapid.SampledFrom([]time.Duration{time.Nanosecond, time.Second, time.Hour}),
			rapid.Map(rapid.Int64Range(0, int64(maxClock)), func(v int64) time.Duration { return time.Duration(v) }),
		).Draw(t, "crashedAt")
		candidates := []time.Duration{d, d - time.Nanosecond, d + time.Nanosecond, 0, d - time.Second}
		off := rapid.OneOf(
			rapid.SampledFrom(candidates),
			rapid.SampledFrom(candidates),
			rapid.Map(rapid.Int64Range(0, int64(2*d+time.Second)), func(v int64) time.Duration { return time.Duration(v) }),
		).Draw(t, "elapsed")
		if off < 0 {
			off = 0
		}
		return Clock{CrashedAt: at, Now: at + off}
	})
}
