package memfd

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"bgwmodel/impl/shmem"
)

// Region is the production shmem.Memory: a memfd mapped MAP_SHARED into
// this process. The memfd can be handed to a child process (for example as an
// extra file of os/exec) and mapped there with [Attach]; both processes
// then see one segment.
//
// Region's methods are safe for concurrent use. Close unmaps the segment;
// an access after Close is an error.
type Region struct {
	*shmem.Mapped
	file *os.File
	b    []byte // the mapping, for munmap
}

var _ shmem.Memory = (*Region)(nil)

// ErrClosed is returned by [Region.Close] on a second call.
var ErrClosed = errors.New("memfd: region closed")

// Create makes a new zeroed segment of size bytes, rounded up to a multiple
// of 8, backed by a memfd created with mode 0600 (memfds are created with
// owner-only permissions; Create also sets them explicitly) and marked
// close-on-exec. It does not block.
func Create(name string, size int) (*Region, error) {
	if size <= 0 {
		return nil, fmt.Errorf("memfd: create %q: size %d must be positive", name, size)
	}
	size = (size + 7) &^ 7
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd: memfd_create %q: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), "memfd:"+name)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("memfd: chmod %q: %w", name, err)
	}
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("memfd: truncate %q to %d: %w", name, size, err)
	}
	r, err := mapFile(f, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// Attach maps the segment behind f, a memfd made by [Create] in this or a
// parent process. The Region takes ownership of f. It does not block.
func Attach(f *os.File) (*Region, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("memfd: attach %s: %w", f.Name(), err)
	}
	size := st.Size()
	if size <= 0 || size%8 != 0 || size > 1<<30 {
		return nil, fmt.Errorf("memfd: attach %s: unusable size %d", f.Name(), size)
	}
	return mapFile(f, int(size))
}

func mapFile(f *os.File, size int) (*Region, error) {
	b, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("memfd: mmap %s (%d bytes): %w", f.Name(), size, err)
	}
	m, err := shmem.NewMapped(b)
	if err != nil {
		unix.Munmap(b)
		return nil, fmt.Errorf("memfd: %s: %w", f.Name(), err)
	}
	return &Region{Mapped: m, file: f, b: b}, nil
}

// File returns the memfd behind the region, for passing to a child
// process. The Region keeps ownership: do not close it.
func (r *Region) File() *os.File { return r.file }

// Close unmaps the segment and closes its memfd.
func (r *Region) Close() error {
	if r.b == nil {
		return ErrClosed
	}
	r.Mapped.Detach()
	err := unix.Munmap(r.b)
	r.b = nil
	if cerr := r.file.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("memfd: close: %w", err)
	}
	return nil
}
