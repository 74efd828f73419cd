package proc

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"bgwmodel/impl/shmem/memfd"
)

// ErrNotChild is returned by [ChildFromEnv] when [EnvRole] is not set:
// the process was not started by [Spawn] (it is the postmaster, or run by
// hand).
var ErrNotChild = errors.New("proc: not a child process (" + EnvRole + " not set)")

// Child is what a process started by [Spawn] inherits: its role, the
// postmaster's pid, the shared-memory segment (fd [FDShmem]), the
// postmaster-death pipe (fd [FDDeath]) and any role-specific files (fds
// [FDExtra] on).
type Child struct {
	Role          string
	PostmasterPid int
	Region        *memfd.Region // the segment, attached
	Death         *Death        // watching the postmaster-death pipe
	Extra         []*os.File    // fds 5, 6, ...
}

// ChildFromEnv is the start of every child's main: it reads [EnvRole],
// [EnvPostmasterPid] and [EnvFiles], attaches the segment at fd [FDShmem],
// starts watching the pipe at fd [FDDeath] and wraps the extra fds. It
// returns [ErrNotChild] if EnvRole is unset, and an error naming the
// variable or fd otherwise: a missing or malformed variable, fewer than two
// files, fd 3 not a memfd, fd 4 not a pipe. It does not block.
func ChildFromEnv() (*Child, error) {
	c, n, err := childEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	if err := checkFD(FDShmem, "shared memory", isMemfd); err != nil {
		return nil, err
	}
	if err := checkFD(FDDeath, "postmaster-death pipe", isPipe); err != nil {
		return nil, err
	}
	for fd := FDExtra; fd < FDShmem+n; fd++ {
		if err := checkFD(fd, "extra file", nil); err != nil {
			return nil, err
		}
		c.Extra = append(c.Extra, os.NewFile(uintptr(fd), "bgw-fd-"+strconv.Itoa(fd)))
	}
	// Every fd is known good: take them. None is close-on-exec yet (Spawn
	// cleared the flag for the exec); set it so that a grandchild never
	// inherits them by accident.
	for fd := FDShmem; fd < FDShmem+n; fd++ {
		unix.CloseOnExec(fd)
	}
	mf := os.NewFile(FDShmem, "bgw-shmem")
	region, err := memfd.Attach(mf)
	if err != nil {
		mf.Close()
		os.NewFile(FDDeath, "bgw-death-pipe").Close()
		c.closeExtra()
		return nil, fmt.Errorf("proc: child: fd %d (shared memory): %w", FDShmem, err)
	}
	c.Region = region
	death, err := NewDeath(os.NewFile(FDDeath, "bgw-death-pipe"))
	if err != nil {
		c.closeExtra()
		region.Close()
		return nil, fmt.Errorf("proc: child: fd %d (postmaster-death pipe): %w", FDDeath, err)
	}
	c.Death = death
	return c, nil
}

// childEnv parses the environment; it returns the child (without files)
// and the number of files passed.
func childEnv(getenv func(string) string) (*Child, int, error) {
	role := getenv(EnvRole)
	if role == "" {
		return nil, 0, ErrNotChild
	}
	ps := getenv(EnvPostmasterPid)
	if ps == "" {
		return nil, 0, fmt.Errorf("proc: child %s: %s not set (not started by proc.Spawn?)", role, EnvPostmasterPid)
	}
	pid, err := strconv.Atoi(ps)
	if err != nil || pid <= 1 {
		return nil, 0, fmt.Errorf("proc: child %s: %s=%q is not a pid", role, EnvPostmasterPid, ps)
	}
	ns := getenv(EnvFiles)
	if ns == "" {
		return nil, 0, fmt.Errorf("proc: child %s: %s not set (not started by proc.Spawn?)", role, EnvFiles)
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n < 0 || n > 1000 {
		return nil, 0, fmt.Errorf("proc: child %s: %s=%q is not a file count", role, EnvFiles, ns)
	}
	if n < 2 {
		return nil, 0, fmt.Errorf("proc: child %s: %d inherited files; need fd %d (shared memory) and fd %d (postmaster-death pipe)",
			role, n, FDShmem, FDDeath)
	}
	return &Child{Role: role, PostmasterPid: pid}, n, nil
}

// checkFD checks that fd is open and, if kind is not nil, of the right
// kind.
func checkFD(fd int, what string, kind func(fd int, st *unix.Stat_t) bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("proc: child: fd %d (%s) not inherited: %w", fd, what, err)
	}
	if kind != nil && !kind(fd, &st) {
		return fmt.Errorf("proc: child: fd %d is not the %s (it is %s)", fd, what, describeFD(fd))
	}
	return nil
}

func isMemfd(fd int, st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFREG && strings.HasPrefix(describeFD(fd), "/memfd:")
}

func isPipe(_ int, st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFIFO }

// describeFD returns what /proc/self/fd/N links to.
func describeFD(fd int) string {
	s, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "unknown"
	}
	return s
}

func (c *Child) closeExtra() {
	for _, f := range c.Extra {
		f.Close()
	}
	c.Extra = nil
}

// Signaller returns the [Signaller] for this child's postmaster, which
// does not signal a postmaster known to be dead. It does not block.
func (c *Child) Signaller() (*Signaller, error) { return NewSignaller(c.PostmasterPid, c.Death) }

// Close stops watching the death pipe, unmaps the segment and closes the
// extra files; fields already set to nil are skipped, so a caller that
// took ownership of one sets it to nil first. It does not block.
func (c *Child) Close() error {
	var errs []error
	if c.Death != nil {
		errs = append(errs, c.Death.Close())
		c.Death = nil
	}
	if c.Region != nil {
		errs = append(errs, c.Region.Close())
		c.Region = nil
	}
	for _, f := range c.Extra {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	c.Extra = nil
	return errors.Join(errs...)
}
