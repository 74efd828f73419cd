package proptest

import (
	"bgwmodel/internal/implspec"
	"path/filepath"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"bgwmodel/impl/bgworker"
	"bgwmodel/spec"
)

// Broken validators: the implementation behind a wrapper that changes the
// worker before checking it, so that exactly one rule is lost.
var (
	// acceptsRestart86400001 treats restart_time 86,400,001 s, one past the
	// sanity bound, as valid.
	acceptsRestart86400001 = wrapValidator(func(w bgworker.Worker) bgworker.Worker {
		if w.RestartTime == bgworker.MaxRestartTime+1 {
			w.RestartTime = bgworker.MaxRestartTime
		}
		return w
	})
	// skipsDBConnectionRule forgets BGWORKER_BACKEND_DATABASE_CONNECTION
	// before checking, so neither of the seed's two database rules
	// applies.
	skipsDBConnectionRule = wrapValidator(func(w bgworker.Worker) bgworker.Worker {
		w.Flags &^= bgworker.BackendDatabaseConnection
		return w
	})
	// allowsNegativeNotifyPid accepts notify pids below 0.
	allowsNegativeNotifyPid = wrapValidator(func(w bgworker.Worker) bgworker.Worker {
		if w.NotifyPid < 0 {
			w.NotifyPid = 0
		}
		return w
	})

	brokenValidators = []struct {
		name string
		v    Validator
	}{
		{"accepts-restart-86400001", acceptsRestart86400001},
		{"skips-db-connection-rule", skipsDBConnectionRule},
		{"allows-negative-notify-pid", allowsNegativeNotifyPid},
	}
)

// wrapValidator returns the implementation's validator applied to
// change(w) instead of w.
func wrapValidator(change func(bgworker.Worker) bgworker.Worker) Validator {
	impl := ImplValidator()
	return Validator{
		Validate: func(w *bgworker.Worker) error { c := change(*w); return impl.Validate(&c) },
		Sanity:   func(w *bgworker.Worker) error { c := change(*w); return impl.Sanity(&c) },
		Static:   func(w bgworker.Worker) error { return impl.Static(change(w)) },
	}
}

func TestSanity(t *testing.T) {
	rapid.Check(t, SanityProperty(ImplValidator()))
}

// TestSanity_Boundaries checks every boundary of the validity rules once,
// by name, against spec.
func TestSanity_Boundaries(t *testing.T) {
	base := bgworker.Worker{
		Name: "w", Flags: bgworker.ShmemAccess | bgworker.BackendDatabaseConnection,
		StartTime: bgworker.RecoveryFinished, RestartTime: bgworker.DefaultRestartTime,
		LibraryName: "lib", FunctionName: "main",
	}
	with := func(f func(*bgworker.Worker)) bgworker.Worker { w := base; f(&w); return w }
	tests := []struct {
		name string
		w    bgworker.Worker
		want spec.Field // "" for valid
	}{
		{"valid", base, ""},
		{"restart=-2", with(func(w *bgworker.Worker) { w.RestartTime = -2 }), spec.FieldRestartTime},
		{"restart=-1 (never)", with(func(w *bgworker.Worker) { w.RestartTime = -1 }), ""},
		{"restart=0", with(func(w *bgworker.Worker) { w.RestartTime = 0 }), ""},
		{"restart=86400000", with(func(w *bgworker.Worker) { w.RestartTime = 86_400_000 }), ""},
		{"restart=86400001", with(func(w *bgworker.Worker) { w.RestartTime = 86_400_001 }), spec.FieldRestartTime},
		{"flags=0", with(func(w *bgworker.Worker) { w.Flags = 0 }), ""},
		{"flags=shmem", with(func(w *bgworker.Worker) { w.Flags = bgworker.ShmemAccess }), ""},
		{"flags=db without shmem", with(func(w *bgworker.Worker) { w.Flags = bgworker.BackendDatabaseConnection }), spec.FieldFlags},
		{"flags=unknown bit 0x4", with(func(w *bgworker.Worker) { w.Flags |= 0x4 }), spec.FieldFlags},
		{"flags=unknown bit 0x80000000", with(func(w *bgworker.Worker) { w.Flags = 0x8000_0000 }), spec.FieldFlags},
		{"db at PostmasterStart", with(func(w *bgworker.Worker) { w.StartTime = bgworker.PostmasterStart }), spec.FieldStartTime},
		{"no db at PostmasterStart", with(func(w *bgworker.Worker) { w.Flags, w.StartTime = bgworker.ShmemAccess, bgworker.PostmasterStart }), ""},
		{"start=ConsistentState", with(func(w *bgworker.Worker) { w.StartTime = bgworker.ConsistentState }), ""},
		{"start=3", with(func(w *bgworker.Worker) { w.StartTime = 3 }), spec.FieldStartTime},
		{"start=MaxUint32", with(func(w *bgworker.Worker) { w.StartTime = ^bgworker.StartTime(0) }), spec.FieldStartTime},
		{"name 0 bytes", with(func(w *bgworker.Worker) { w.Name = "" }), spec.FieldName},
		{"name 63 bytes", with(func(w *bgworker.Worker) { w.Name = strings.Repeat("n", 63) }), ""},
		{"name 64 bytes", with(func(w *bgworker.Worker) { w.Name = strings.Repeat("n", 64) }), spec.FieldName},
		{"name non-ASCII", with(func(w *bgworker.Worker) { w.Name = "café" }), spec.FieldName},
		{"name NUL", with(func(w *bgworker.Worker) { w.Name = "a\x00b" }), spec.FieldName},
		{"name DEL", with(func(w *bgworker.Worker) { w.Name = "a\x7f" }), spec.FieldName},
		{"name tab", with(func(w *bgworker.Worker) { w.Name = "a\tb" }), spec.FieldName},
		{"library 0 bytes", with(func(w *bgworker.Worker) { w.LibraryName = "" }), ""},
		{"library 63 bytes", with(func(w *bgworker.Worker) { w.LibraryName = strings.Repeat("l", 63) }), ""},
		{"library 64 bytes", with(func(w *bgworker.Worker) { w.LibraryName = strings.Repeat("l", 64) }), spec.FieldLibraryName},
		{"function 64 bytes", with(func(w *bgworker.Worker) { w.FunctionName = strings.Repeat("f", 64) }), spec.FieldFunctionName},
		{"function 0xff", with(func(w *bgworker.Worker) { w.FunctionName = "\xff" }), spec.FieldFunctionName},
		{"notify=-1", with(func(w *bgworker.Worker) { w.NotifyPid = -1 }), spec.FieldNotifyPid},
		{"notify=MinInt32", with(func(w *bgworker.Worker) { w.NotifyPid = -1 << 31 }), spec.FieldNotifyPid},
		{"notify=42", with(func(w *bgworker.Worker) { w.NotifyPid = 42 }), ""},
		{"name before flags", with(func(w *bgworker.Worker) { w.Name, w.Flags = "", 0x4 }), spec.FieldName},
		{"flags before restart", with(func(w *bgworker.Worker) { w.Flags, w.RestartTime = 0x4, -2 }), spec.FieldFlags},
	}
	v := ImplValidator()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sw := implspec.Worker(tc.w)
			want := spec.Validate(sw)
			if got := fieldOf(want); got != tc.want {
				t.Fatalf("test table is wrong: spec.Validate names %q, table %q", got, tc.want)
			}
			if err := compareVerdicts(tc.w, v.Validate(&tc.w), want); err != nil {
				t.Errorf("ValidateWorker: %v", err)
			}
			if err := compareVerdicts(tc.w, v.Sanity(&tc.w), spec.SanityCheck(sw)); err != nil {
				t.Errorf("SanityCheckBackgroundWorker: %v", err)
			}
			if err := compareVerdicts(tc.w, v.Static(tc.w), spec.ValidateStatic(sw)); err != nil {
				t.Errorf("RegisterBackgroundWorker: %v", err)
			}
		})
	}
}

// fieldOf returns the field an *Invalid names, or "" for nil.
func fieldOf(inv *spec.Invalid) spec.Field {
	if inv == nil {
		return ""
	}
	return inv.Field
}

// TestSanity_CatchesBroken runs the sanity property against each broken
// validator: rapid must find a counterexample.
func TestSanity_CatchesBroken(t *testing.T) { runCatchesBroken(t) }

// regressions are the inputs rapid found for a real impl/spec
// disagreement while the properties were written (ValidateWorker named a
// library or function field before the empty bgw_name that spec.Validate
// names first), saved by rapid under the default tests' own names. The
// implementation now agrees: each must pass on it.
var regressions = []struct {
	test string
	prop func(*rapid.T)
}{
	{"TestSanity", SanityProperty(ImplValidator())},
	{"TestAgainstSpec", AgainstSpecProperty(ClusterConfig{})},
}

// TestRegressionReplay replays the saved regression inputs on the real
// implementation.
func TestRegressionReplay(t *testing.T) {
	for _, c := range regressions {
		files, err := filepath.Glob(filepath.Join("testdata", "rapid", c.test, "*.fail"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Errorf("no regression input saved for %s", c.test)
		}
		for _, file := range files {
			t.Run(c.test+"/"+filepath.Base(file), func(t *testing.T) { replayReal(t, file, c.prop) })
		}
	}
}

// TestEmptyNameFirst pins the order the regression inputs exposed.
func TestEmptyNameFirst(t *testing.T) {
	w := bgworker.Worker{Name: "", LibraryName: "\x01", RestartTime: bgworker.DefaultRestartTime}
	field, valid, err := ImplVerdict(bgworker.ValidateWorker(&w))
	if err != nil || valid || field != spec.FieldName {
		t.Fatalf("ValidateWorker names %q (valid %v, %v); want %q", field, valid, err, spec.FieldName)
	}
}
