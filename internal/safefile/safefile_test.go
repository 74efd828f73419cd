package safefile

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenRefusesAllButRegularFiles(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "h.jsonl")
	if err := os.WriteFile(regular, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.jsonl")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string // want: "" for a file that opens
	}{
		{"regular", regular, ""},
		{"link to a regular file", link, ""},
		{"FIFO", fifo, "a FIFO"},
		{"link to /dev/zero", zero, "a character device"},
		{"directory", dir, "a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Open(tc.path) // a FIFO with no writer must not block
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				f.Close()
				return
			}
			if err == nil {
				f.Close()
				t.Fatalf("Open(%s) succeeded, want %v", tc.path, ErrNotRegular)
			}
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("Open: %v, want ErrNotRegular naming %q and the path", err, tc.want)
			}
		})
	}
}

func TestReaderStopsAtTheBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, []byte(strings.Repeat("x", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		bound   int64
		tooMuch bool
	}{{100, false}, {99, true}, {0, true}} {
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(&limited{f: f, left: tc.bound})
		f.Close()
		if tc.tooMuch != errors.Is(err, ErrTooLarge) {
			t.Errorf("bound %d: err %v, want ErrTooLarge %v", tc.bound, err, tc.tooMuch)
		}
		if !tc.tooMuch && len(data) != 100 {
			t.Errorf("bound %d: read %d bytes, want 100", tc.bound, len(data))
		}
	}
}

func TestReadLine(t *testing.T) {
	long := strings.Repeat("y", MaxLineSize+1)
	for _, tc := range []struct {
		name, in string
		want     []string
		err      error // after the lines in want
	}{
		{"lines", "a\nb\n", []string{"a\n", "b\n"}, io.EOF},
		{"torn last line", "a\nb", []string{"a\n", "b"}, io.EOF},
		{"longest line", strings.Repeat("z", MaxLineSize-1) + "\n", []string{strings.Repeat("z", MaxLineSize-1) + "\n"}, io.EOF},
		{"too long", "a\n" + long + "\n", []string{"a\n"}, ErrLineTooLong},
		{"too long, no newline", long, nil, ErrLineTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.in), 4096)
			var got []string
			var err error
			for {
				var line []byte
				line, err = ReadLine(br)
				if len(line) > 0 {
					got = append(got, string(line))
				}
				if err != nil {
					break
				}
			}
			if !errors.Is(err, tc.err) || strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("lines %d, err %v; want %d lines, err %v", len(got), err, len(tc.want), tc.err)
			}
		})
	}
}
