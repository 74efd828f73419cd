package linearizability

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/legal and testdata/illegal from the hand-written cases")

// The hand-written cases kept as files. A name ends in .slotsN or
// .slotsN.staticM: the cluster it was recorded on. A directory holds one
// file per process, as a stress run leaves them.
var (
	testdataFiles = []string{
		"lifecycle", "concurrent-launch", "any-free-slot", "static-worker", "postmaster-died",
		"stale-handle-started-after-reuse", "not-yet-started-after-forget", "generation-skipped",
		"launch-on-free-slot", "no-free-slot-with-free-slot", "wait-not-yet-started",
	}
	testdataDirs = []string{"crash-restart", "pre-crash-handle-reads-started"}
)

var clusterName = regexp.MustCompile(`\.slots(\d+)(?:\.static(\d+))?(?:\.jsonl)?$`)

func writeTestdata(t *testing.T) {
	for _, name := range append(append([]string{}, testdataFiles...), testdataDirs...) {
		tc := findCase(t, name)
		dir := filepath.Join("testdata", "legal")
		if !tc.legal {
			dir = filepath.Join("testdata", "illegal")
		}
		base := name + ".slots" + strconv.Itoa(tc.slots)
		if tc.static > 0 {
			base += ".static" + strconv.Itoa(tc.static)
		}
		files := map[string]*os.File{}
		open := func(path string) *os.File {
			if files[path] == nil {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				f, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				files[path] = f
			}
			return files[path]
		}
		for _, op := range tc.h {
			path := filepath.Join(dir, base+".jsonl")
			if isDir(name) {
				path = filepath.Join(dir, base, op.Process+".jsonl")
			}
			if err := NewEncoder(open(path)).Encode(op); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range files {
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func isDir(name string) bool {
	for _, d := range testdataDirs {
		if d == name {
			return true
		}
	}
	return false
}

func findCase(t *testing.T, name string) handCase {
	for _, tc := range handCases {
		if tc.name == name {
			return tc
		}
	}
	t.Fatalf("no hand-written case %q", name)
	return handCase{}
}

// TestTestdata replays every history under testdata/legal (must pass in
// both modes) and testdata/illegal (must fail in both), and checks that
// testdata/malformed files are rejected by the decoder.
func TestTestdata(t *testing.T) {
	if *update {
		writeTestdata(t)
	}
	for _, kind := range []string{"legal", "illegal"} {
		entries, err := os.ReadDir(filepath.Join("testdata", kind))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			t.Fatalf("no testdata/%s", kind)
		}
		for _, e := range entries {
			t.Run(kind+"/"+e.Name(), func(t *testing.T) {
				m := clusterName.FindStringSubmatch(e.Name())
				if m == nil {
					t.Fatalf("%s does not say its cluster (.slotsN[.staticM])", e.Name())
				}
				slots, _ := strconv.Atoi(m[1])
				static, _ := strconv.Atoi("0" + m[2])
				path := filepath.Join("testdata", kind, e.Name())
				var h History
				if e.IsDir() {
					h, err = ReadDir(path)
				} else {
					h, err = ReadFile(path)
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, mode := range []Mode{ModeExact, ModePartitioned} {
					rep := Check(h, Options{Slots: slots, Static: static, Mode: mode, Timeout: 10 * time.Second})
					if want := kind == "legal"; rep.Ok() != want || !want && rep.Result() != Violation {
						t.Errorf("%v:\n%v", mode, rep)
					}
				}
			})
		}
	}
	malformed, _ := filepath.Glob(filepath.Join("testdata", "malformed", "*.jsonl"))
	if len(malformed) == 0 {
		t.Fatal("no testdata/malformed")
	}
	for _, path := range malformed {
		t.Run(path, func(t *testing.T) {
			_, err := ReadFile(path)
			var de *DecodeError
			if !errors.As(err, &de) || de.Line == 0 {
				t.Fatalf("ReadFile(%s) = %v, want a *DecodeError with a line", path, err)
			}
			if truncated := filepath.Base(path) == "truncated-last-line.jsonl"; truncated != errors.Is(err, ErrTruncated) {
				t.Errorf("ReadFile(%s) = %v: truncated %v", path, err, errors.Is(err, ErrTruncated))
			}
		})
	}
}
