package worker_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/proc/proctest"
	"bgwmodel/impl/worker"
)

func TestRegistry(t *testing.T) {
	proctest.Clean(t)
	nop := func(context.Context, *worker.Process) int { return 0 }
	reg := worker.NewRegistry()
	if err := reg.Register("lib", "fn", nop); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		library, fn string
		entry       worker.Entry
		want        error
	}{
		{"other function", "lib", "fn2", nop, nil},
		{"other library", "lib2", "fn", nop, nil},
		{"duplicate", "lib", "fn", nop, worker.ErrDuplicate},
		{"nil entry", "lib", "fn3", nil, worker.ErrBadEntryName},
		{"empty library", "", "fn", nop, worker.ErrBadEntryName},
		{"empty function", "lib", "", nop, worker.ErrBadEntryName},
		{"too long", "lib", strings.Repeat("x", bgworker.MaxLen), nop, worker.ErrBadEntryName},
		{"longest", "lib", strings.Repeat("x", bgworker.MaxLen-1), nop, nil},
		{"not ASCII", "lib", "fn\xff", nop, worker.ErrBadEntryName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := reg.Register(tc.library, tc.fn, tc.entry)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Register = %v, want %v", err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		library, fn string
		has         bool
	}{
		{"lib", "fn", true},
		{"lib", "fn2", true},
		{"lib2", "fn", true},
		{"lib2", "fn2", false},
		{"lib", "fn3", false},
		{"", "", false},
	} {
		if got := reg.Has(tc.library, tc.fn); got != tc.has {
			t.Errorf("Has(%q, %q) = %v", tc.library, tc.fn, got)
		}
		if _, ok := reg.Lookup(tc.library, tc.fn); ok != tc.has {
			t.Errorf("Lookup(%q, %q) found = %v", tc.library, tc.fn, ok)
		}
		w := bgworker.Worker{Name: "w", LibraryName: tc.library, FunctionName: tc.fn}
		if err := reg.Check(&w); (err == nil) != tc.has || (err != nil && !errors.Is(err, worker.ErrUnknownEntry)) {
			t.Errorf("Check(%q, %q) = %v", tc.library, tc.fn, err)
		}
	}
}

func TestEnviron(t *testing.T) {
	proctest.Clean(t)
	def := bgworker.Worker{Name: "w 1", Flags: bgworker.ShmemAccess, RestartTime: bgworker.NeverRestart,
		LibraryName: "lib", FunctionName: "fn", MainArg: 1 << 63, NotifyPid: 1234}
	env, err := worker.Environ(def)
	if err != nil {
		t.Fatal(err)
	}
	if len(env) != 1 || !strings.HasPrefix(env[0], worker.EnvWorker+"=") {
		t.Fatalf("Environ = %q", env)
	}
	t.Setenv(worker.EnvWorker, strings.TrimPrefix(env[0], worker.EnvWorker+"="))
	got, err := worker.DefinitionFromEnv()
	if err != nil || got != def {
		t.Fatalf("DefinitionFromEnv = %+v, %v; want %+v", got, err, def)
	}
	for _, bad := range []string{"", "{", `{"Name":""}`, `{"Name":"x","RestartTime":-5}`} {
		t.Setenv(worker.EnvWorker, bad)
		if _, err := worker.DefinitionFromEnv(); err == nil {
			t.Errorf("DefinitionFromEnv(%q) succeeded", bad)
		}
	}
	if _, err := worker.Environ(bgworker.Worker{Name: "bad\n"}); err == nil {
		t.Error("Environ accepted a bad name")
	}
}
