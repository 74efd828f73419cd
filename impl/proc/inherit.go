package proc

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// OpenInherited takes ownership of the inherited descriptor fd (one that
// [Spawn] passed at fd 3 or later) for a process whose files are not the
// standard [ChildFromEnv] set, such as the postmaster, which inherits its
// control pipes and record log from the program that started it. It
// checks that fd is open, marks it close-on-exec (so that no grandchild
// inherits it by accident) and, for a pipe or socket, non-blocking, so
// that the returned file is pollable: deadlines work and Close unblocks a
// Read in another goroutine. The non-blocking mode belongs to the open file
// description, which the spawning process may share; it should have
// closed its copy. It does not block.
func OpenInherited(fd int, name string) (*os.File, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("proc: inherited fd %d (%s): %w", fd, name, err)
	}
	unix.CloseOnExec(fd)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO, unix.S_IFSOCK:
		if err := unix.SetNonblock(fd, true); err != nil {
			return nil, fmt.Errorf("proc: inherited fd %d (%s): %w", fd, name, err)
		}
	}
	return os.NewFile(uintptr(fd), name), nil
}
