package spec

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// good is a valid dynamic worker; tests change one field at a time.
var good = Worker{
	Name:         "w",
	Flags:        FlagShmemAccess,
	StartTime:    ConsistentState,
	RestartTime:  60,
	LibraryName:  "lib",
	FunctionName: "main",
}

// field returns the rejected field, or "" for nil.
func field(e *Invalid) Field {
	if e == nil {
		return ""
	}
	return e.Field
}

func TestSanityCheckRestartTime(t *testing.T) {
	for _, tc := range []struct {
		rt   int32
		want Field
	}{
		{math.MinInt32, FieldRestartTime},
		{-2, FieldRestartTime},
		{-1, ""}, // NeverRestart
		{0, ""},
		{60, ""},
		{86_400_000, ""},
		{86_400_001, FieldRestartTime},
		{math.MaxInt32, FieldRestartTime},
	} {
		t.Run(fmt.Sprint(tc.rt), func(t *testing.T) {
			w := good
			w.RestartTime = tc.rt
			if got := field(SanityCheck(w)); got != tc.want {
				t.Errorf("SanityCheck(restart_time=%d) = %q, want %q", tc.rt, got, tc.want)
			}
			if got := field(Validate(w)); got != tc.want {
				t.Errorf("Validate(restart_time=%d) = %q, want %q", tc.rt, got, tc.want)
			}
		})
	}
}

func TestSanityCheckFlagsAndStartTime(t *testing.T) {
	sh, db := FlagShmemAccess, FlagDatabaseConnection
	for _, tc := range []struct {
		flags Flags
		start StartTime
		want  Field
	}{
		{0, PostmasterStart, ""},
		{0, ConsistentState, ""},
		{0, RecoveryFinished, ""},
		{sh, PostmasterStart, ""},
		{sh, ConsistentState, ""},
		{sh, RecoveryFinished, ""},
		{db, PostmasterStart, FieldFlags}, // the shmem rule is checked first
		{db, ConsistentState, FieldFlags},
		{db, RecoveryFinished, FieldFlags},
		{sh | db, PostmasterStart, FieldStartTime},
		{sh | db, ConsistentState, ""},
		{sh | db, RecoveryFinished, ""},
	} {
		t.Run(tc.flags.String()+"/"+tc.start.String(), func(t *testing.T) {
			w := good
			w.Flags, w.StartTime = tc.flags, tc.start
			if got := field(SanityCheck(w)); got != tc.want {
				t.Errorf("SanityCheck = %q, want %q", got, tc.want)
			}
			if got := field(Validate(w)); got != tc.want {
				t.Errorf("Validate = %q, want %q", got, tc.want)
			}
			// The flag rules come before the restart-time rule.
			w.RestartTime = -2
			want := tc.want
			if want == "" {
				want = FieldRestartTime
			}
			if got := field(SanityCheck(w)); got != want {
				t.Errorf("SanityCheck with restart_time -2 = %q, want %q", got, want)
			}
		})
	}
}

func TestSanityCheckIgnoresAPIRules(t *testing.T) {
	w := Worker{Name: strings.Repeat("é", 40), Flags: 0x4, StartTime: 9, NotifyPid: -5}
	if e := SanityCheck(w); e != nil {
		t.Errorf("SanityCheck = %v, want nil: it checks only the seed's three rules", e)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Worker)
		want Field
	}{
		{"valid", func(w *Worker) {}, ""},
		{"name empty", func(w *Worker) { w.Name = "" }, FieldName},
		{"name 1 byte", func(w *Worker) { w.Name = "x" }, ""},
		{"name 63 bytes", func(w *Worker) { w.Name = strings.Repeat("n", 63) }, ""},
		{"name 64 bytes", func(w *Worker) { w.Name = strings.Repeat("n", 64) }, FieldName},
		{"name space and tilde", func(w *Worker) { w.Name = " ~" }, ""},
		{"name non-ASCII", func(w *Worker) { w.Name = "café" }, FieldName},
		{"name DEL", func(w *Worker) { w.Name = "a\x7f" }, FieldName},
		{"name unit separator", func(w *Worker) { w.Name = "a\x1f" }, FieldName},
		{"name tab", func(w *Worker) { w.Name = "a\tb" }, FieldName},
		{"name NUL", func(w *Worker) { w.Name = "a\x00b" }, FieldName},
		{"name 63 bytes of 2-byte runes", func(w *Worker) { w.Name = strings.Repeat("é", 31) }, FieldName},
		{"library empty", func(w *Worker) { w.LibraryName = "" }, ""},
		{"library 63 bytes", func(w *Worker) { w.LibraryName = strings.Repeat("l", 63) }, ""},
		{"library 64 bytes", func(w *Worker) { w.LibraryName = strings.Repeat("l", 64) }, FieldLibraryName},
		{"library non-ASCII", func(w *Worker) { w.LibraryName = "lib\xff" }, FieldLibraryName},
		{"function empty", func(w *Worker) { w.FunctionName = "" }, ""},
		{"function 63 bytes", func(w *Worker) { w.FunctionName = strings.Repeat("f", 63) }, ""},
		{"function 64 bytes", func(w *Worker) { w.FunctionName = strings.Repeat("f", 64) }, FieldFunctionName},
		{"function non-ASCII", func(w *Worker) { w.FunctionName = "ma\u00efn" }, FieldFunctionName},
		{"flags unknown bit", func(w *Worker) { w.Flags |= 0x4 }, FieldFlags},
		{"flags high bit", func(w *Worker) { w.Flags = 0x80000000 }, FieldFlags},
		{"flags none", func(w *Worker) { w.Flags = 0 }, ""},
		{"start time 3", func(w *Worker) { w.StartTime = 3 }, FieldStartTime},
		{"notify -1", func(w *Worker) { w.NotifyPid = -1 }, FieldNotifyPid},
		{"notify 0", func(w *Worker) { w.NotifyPid = 0 }, ""},
		{"notify 4242", func(w *Worker) { w.NotifyPid = 4242 }, ""},
		{"main arg max", func(w *Worker) { w.MainArg = math.MaxUint64 }, ""},
		// Checking order: name, library, function, flags, start time,
		// notify pid, then SanityCheck.
		{"name before library", func(w *Worker) { w.Name = ""; w.LibraryName = "\x01" }, FieldName},
		{"library before function", func(w *Worker) { w.LibraryName = "\x01"; w.FunctionName = "\x01" }, FieldLibraryName},
		{"function before flags", func(w *Worker) { w.FunctionName = "\x01"; w.Flags = 0x8 }, FieldFunctionName},
		{"flags before start time", func(w *Worker) { w.Flags = 0x8; w.StartTime = 7 }, FieldFlags},
		{"start time before notify", func(w *Worker) { w.StartTime = 7; w.NotifyPid = -1 }, FieldStartTime},
		{"notify before sanity", func(w *Worker) { w.NotifyPid = -1; w.RestartTime = -2 }, FieldNotifyPid},
		{"API rules before sanity flags", func(w *Worker) { w.Name = ""; w.Flags = FlagDatabaseConnection }, FieldName},
		{"sanity flags", func(w *Worker) { w.Flags = FlagDatabaseConnection }, FieldFlags},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := good
			tc.edit(&w)
			if got := field(Validate(w)); got != tc.want {
				t.Errorf("Validate(%v) = %v, want field %q", w, Validate(w), tc.want)
			}
		})
	}
}

func TestValidateStatic(t *testing.T) {
	for _, tc := range []struct {
		name   string
		notify int32
		rt     int32
		want   Field
	}{
		{"notify 0", 0, 60, ""},
		{"notify set", 4242, 60, FieldNotifyPid},
		{"notify negative", -1, 60, FieldNotifyPid},
		{"sanity before notify", 4242, -2, FieldRestartTime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := good
			w.NotifyPid, w.RestartTime = tc.notify, tc.rt
			if got := field(ValidateStatic(w)); got != tc.want {
				t.Errorf("ValidateStatic = %v, want field %q", ValidateStatic(w), tc.want)
			}
		})
	}
}

func TestInvalidError(t *testing.T) {
	w := good
	w.RestartTime = -2
	e := SanityCheck(w)
	var err error = e
	if got, want := err.Error(), "spec: invalid restart_time: invalid restart interval -2"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !strings.HasPrefix((&Invalid{Field: FieldName, Reason: "empty"}).Error(), "spec: invalid name: ") {
		t.Error("Error() lacks the field prefix")
	}
}

func TestWorkerStrings(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Flags(0).String(), "0"},
		{(FlagShmemAccess | FlagDatabaseConnection | 0x10).String(), "shmem|db|0x10"},
		{StartTime(5).String(), "StartTime(5)"},
		{good.String(), `"w" shmem ConsistentState restart=60s notify=0`},
		{Worker{Name: "n", RestartTime: NeverRestart}.String(), `"n" 0 PostmasterStart restart=never notify=0`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}
