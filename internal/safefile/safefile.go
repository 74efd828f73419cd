package safefile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Bounds on what a run directory's file may hold. A history of a million
// operations takes about 150 MB; a record line lists at most
// max_worker_processes slots, a few kilobytes.
const (
	// MaxFileSize is the largest file [ReadFile] and [Reader] read.
	MaxFileSize int64 = 2 << 30
	// MaxLineSize is the longest line [ReadLine] returns.
	MaxLineSize = 1 << 20
)

var (
	// ErrNotRegular is returned by [Open] for a directory, FIFO, device or
	// socket.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is returned when a file holds more than [MaxFileSize].
	ErrTooLarge = fmt.Errorf("larger than %d bytes", MaxFileSize)
	// ErrLineTooLong is returned by [ReadLine] for a line longer than
	// [MaxLineSize].
	ErrLineTooLong = fmt.Errorf("a line longer than %d bytes", MaxLineSize)
)

// Open opens path for reading if it is a regular file (a symbolic link is
// followed, and judged by what it points at). Anything else is a
// *os.PathError wrapping [ErrNotRegular] that names the kind of file. It
// never blocks on a FIFO: the file is opened non-blocking, then checked.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(st.Mode()))}
	}
	return f, nil
}

// kind names a file mode for a refusal.
func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// ReadFile reads the regular file at path whole, as [Open] and [Reader]
// allow. It blocks while it reads.
func ReadFile(path string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(Reader(f))
}

// Reader returns a reader of f that fails with a *os.PathError wrapping
// [ErrTooLarge] once more than [MaxFileSize] bytes were read, instead of
// reading on: a file that grows without end is refused, not exhausted.
func Reader(f *os.File) io.Reader {
	return &limited{f: f, left: MaxFileSize}
}

// limited is [Reader]: left is what may still be read.

type limited struct {
	f    *os.File
	left int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, &os.PathError{Op: "read", Path: l.f.Name(), Err: ErrTooLarge}
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.f.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, &os.PathError{Op: "read", Path: l.f.Name(), Err: ErrTooLarge}
	}
	return n, err
}

// ReadLine returns the next line of br, with its newline if it has one,
// as bufio.Reader.ReadBytes('\n') does: io.EOF with the last line if it
// has no newline, io.EOF alone at the end. A line longer than
// [MaxLineSize] is [ErrLineTooLong], and nothing more of it is read. It
// blocks while it reads.
func ReadLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > MaxLineSize {
			return nil, ErrLineTooLong
		}
		line = append(line, frag...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}
