package linearizability

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"bgwmodel/internal/safefile"
)

// hostileWait bounds how long a refusal may take: it must never block.
const hostileWait = 10 * time.Second

// TestHostileHistoryFiles: ReadDir and ReadFile refuse a FIFO, a device
// behind a symbolic link, a directory and a line too long, at once, with
// an error naming the path.
func TestHostileHistoryFiles(t *testing.T) {
	good := mustLine(reg(1, 1, 2, hd(0, 1, 0))) + "\n"
	for _, tc := range []struct {
		name string
		make func(path string) error // makes dir/z.jsonl
		want error
		line int // the line a *DecodeError must name, or 0 for none expected
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o600) }, safefile.ErrNotRegular, 0},
		{"symlink-to-dev-zero", func(p string) error { return os.Symlink("/dev/zero", p) }, safefile.ErrNotRegular, 0},
		{"directory", func(p string) error { return os.Mkdir(p, 0o700) }, safefile.ErrNotRegular, 0},
		{"line-too-long", func(p string) error {
			long := good + strings.Repeat("x", safefile.MaxLineSize+1) + "\n"
			return os.WriteFile(p, []byte(long), 0o600)
		}, safefile.ErrLineTooLong, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(good), 0o600); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "z.jsonl")
			if err := tc.make(path); err != nil {
				t.Fatal(err)
			}
			for _, read := range []struct {
				name string
				fn   func() (History, error)
			}{
				{"ReadDir", func() (History, error) { return ReadDir(dir) }},
				{"ReadFile", func() (History, error) { return ReadFile(path) }},
			} {
				done := make(chan error, 1)
				go func() {
					_, err := read.fn()
					done <- err
				}()
				var err error
				select {
				case err = <-done:
				case <-time.After(hostileWait):
					t.Fatalf("%s: still reading after %v", read.name, hostileWait)
				}
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), path) {
					t.Errorf("%s: error %v, want one wrapping %q and naming %s", read.name, err, tc.want, path)
				}
				var de *DecodeError
				if tc.line > 0 && (!errors.As(err, &de) || de.File != path || de.Line != tc.line) {
					t.Errorf("%s: error %v, want a *DecodeError at %s:%d", read.name, err, path, tc.line)
				}
			}
		})
	}
}
