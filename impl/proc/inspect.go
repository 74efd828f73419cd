package proc

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"

	"golang.org/x/sys/unix"
)

// OpenFDs returns this process's open file descriptors and what each
// links to (/proc/self/fd), for leak checks in tests. The descriptor used
// to read the directory is left out. It does not block.
func OpenFDs() (map[int]string, error) {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return nil, fmt.Errorf("proc: open fds: %w", err)
	}
	defer d.Close()
	self := -1
	if rc, err := d.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { self = int(fd) })
	}
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("proc: open fds: %w", err)
	}
	out := make(map[int]string, len(names))
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil || fd == self {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + name)
		if err != nil {
			continue // closed meanwhile by another goroutine
		}
		out[fd] = target
	}
	return out, nil
}

// CountOpenFDs returns the number of this process's open file descriptors
// (see [OpenFDs]). It does not block.
func CountOpenFDs() (int, error) {
	fds, err := OpenFDs()
	return len(fds), err
}

// ChildPids returns the pids of this process's children, zombies included,
// in increasing order, by scanning the ppid field of /proc/*/stat. An empty
// result means no child is left, reaped or not. It does not block.
func ChildPids() ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("proc: list children: %w", err)
	}
	me := os.Getpid()
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		if st, ok := parseStat(b); ok && st.Ppid == me {
			out = append(out, pid)
		}
	}
	sort.Ints(out)
	return out, nil
}

// State is a process's state, the letter in /proc/PID/stat.
type State byte

// The states a process can be in.
const (
	StateRunning  State = 'R'
	StateSleeping State = 'S'
	StateDisk     State = 'D' // uninterruptible sleep
	StateStopped  State = 'T' // SIGSTOP
	StateTraced   State = 't'
	StateZombie   State = 'Z' // exited, not reaped
	StateDead     State = 'X'
)

// Status is what /proc/PID/stat says of a process.
type Status struct {
	Pid, Ppid int
	State     State
}

// Stat reads pid's parent and state from /proc/PID/stat. A process that
// does not exist (or was reaped) is an error wrapping fs.ErrNotExist. It
// does not block.
func Stat(pid int) (Status, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Status{}, fmt.Errorf("proc: stat %d: %w", pid, err)
	}
	st, ok := parseStat(b)
	if !ok {
		return Status{}, fmt.Errorf("proc: stat %d: bad line %q", pid, b)
	}
	st.Pid = pid
	return st, nil
}

// Exited reports whether the process has exited: a zombie not yet
// reaped, or dead. It does not block.
func (s Status) Exited() bool { return s.State == StateZombie || s.State == StateDead }

// Gone reports whether pid has exited: it does not exist (any more, or
// was reaped), or it is a zombie. It does not block.
func Gone(pid int) bool {
	st, err := Stat(pid)
	return err != nil || st.Exited()
}

// parseStat extracts the state and ppid from a /proc/PID/stat line:
// "pid (comm) state ppid ...", where comm may hold spaces and parentheses.
func parseStat(b []byte) (Status, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Status{}, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return Status{}, false
	}
	ppid, err := strconv.Atoi(string(f[1]))
	return Status{Ppid: ppid, State: State(f[0][0])}, err == nil
}

// SetChildSubreaper makes this process the subreaper of its descendants
// (prctl PR_SET_CHILD_SUBREAPER): an orphaned grandchild is reparented to
// it instead of init, so a test can reap it and [ChildPids] sees it. It
// does not block.
func SetChildSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("proc: prctl(PR_SET_CHILD_SUBREAPER): %w", err)
	}
	return nil
}
