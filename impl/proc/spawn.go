package proc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Environment variables that [Spawn] sets in a child and [ChildFromEnv]
// reads. A caller's environment may not set them.
const (
	// EnvRole names the role the child runs (BGW_ROLE): the program's
	// main dispatches on it.
	EnvRole = "BGW_ROLE"
	// EnvPostmasterPid is the pid of the process that spawned the child
	// (BGW_POSTMASTER_PID), the postmaster.
	EnvPostmasterPid = "BGW_POSTMASTER_PID"
	// EnvFiles is the number of extra files passed (BGW_NFILES), at fds
	// FDShmem, FDShmem+1, ...
	EnvFiles = "BGW_NFILES"
)

// The file descriptors of a child's inherited files: files[i] of [Spawn]
// becomes fd 3+i. [ChildFromEnv] expects the first two to be these.
const (
	// FDShmem is the shared-memory segment's memfd (files[0]).
	FDShmem = 3
	// FDDeath is the read end of the postmaster-death pipe (files[1]).
	FDDeath = 4
	// FDExtra is the first role-specific file (files[2], then 6, 7, ...).
	FDExtra = 5
)

// Spawn starts a child process running role: it re-executes this
// program's own binary (/proc/self/exe, so the child runs exactly the
// code the parent runs, even if the file on disk has since been replaced)
// with no arguments besides argv[0], this process's environment (less any
// BGW_ variables) plus env, plus [EnvRole], [EnvPostmasterPid] (this
// process's pid) and [EnvFiles]; files[i] becomes the child's fd 3+i;
// stdin, stdout and stderr are this
// process's. The child leads a new session and process group (setsid, as
// PostgreSQL's children do): terminal signals and a kill of the
// postmaster's group reach only the postmaster, children learn of its
// death from the postmaster-death pipe, and [KillAll] can signal a child's
// whole group. No parent-death signal is set.
//
// It returns the child's pid. The *os.Process is released at once (its
// pidfd closed): waiting belongs to a single reaper, [Reap]. Call Spawn
// and Reap from the same goroutine, so that every pid Reap reports is one
// Spawn has already returned. As with os.StartProcess, the files are put
// in blocking mode in this process. Spawn blocks only for the fork and
// exec (it returns once the child has exec'd or failed to).
func Spawn(role string, env []string, files []*os.File) (pid int, err error) {
	return (&Command{Role: role, Env: env, Files: files}).Start()
}

// Command is [Spawn] with control over the child's standard files.
type Command struct {
	Role string
	Env  []string // NAME=value entries added to the environment
	// Files[i] becomes fd 3+i. None may be nil: the Go runtime of the
	// child opens files of its own at startup (the cgroup CPU quota, for
	// one), which would take a number left free and be mistaken for an
	// inherited file.
	Files []*os.File
	// Stdin, Stdout and Stderr are the child's fds 0, 1, 2; nil means
	// this process's own.
	Stdin, Stdout, Stderr *os.File
	// ParentDeathSignal, if not 0, is sent to the child when this
	// process dies, however it dies (prctl PR_SET_PDEATHSIG, set in the
	// child before exec). The kernel sends it when the thread that
	// started the child exits; Go's runtime ends a thread only when a
	// goroutine locked to it (runtime.LockOSThread) exits without
	// unlocking, which a program using this must not do.
	ParentDeathSignal syscall.Signal
}

// Start starts the child as [Spawn] describes and returns its pid. It
// blocks only for the fork and exec.
func (c *Command) Start() (pid int, err error) {
	if c.Role == "" || strings.ContainsAny(c.Role, "=\x00") {
		return 0, fmt.Errorf("proc: spawn: bad role %q", c.Role)
	}
	for i, f := range c.Files {
		if f == nil {
			return 0, fmt.Errorf("proc: spawn %s: file for fd %d is nil", c.Role, FDShmem+i)
		}
	}
	env := make([]string, 0, len(os.Environ())+len(c.Env)+3)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BGW_") {
			env = append(env, kv)
		}
	}
	for _, kv := range c.Env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" || strings.Contains(kv, "\x00") {
			return 0, fmt.Errorf("proc: spawn %s: bad environment entry %q", c.Role, kv)
		}
		if name == EnvRole || name == EnvPostmasterPid || name == EnvFiles {
			return 0, fmt.Errorf("proc: spawn %s: environment entry %q is reserved", c.Role, name)
		}
		env = append(env, kv)
	}
	env = append(env,
		EnvRole+"="+c.Role,
		EnvPostmasterPid+"="+strconv.Itoa(os.Getpid()),
		EnvFiles+"="+strconv.Itoa(len(c.Files)),
	)
	std := func(f, def *os.File) *os.File {
		if f != nil {
			return f
		}
		return def
	}
	files := append([]*os.File{
		std(c.Stdin, os.Stdin), std(c.Stdout, os.Stdout), std(c.Stderr, os.Stderr),
	}, c.Files...)
	p, err := os.StartProcess("/proc/self/exe", []string{os.Args[0]}, &os.ProcAttr{
		Env:   env,
		Files: files,
		Sys:   &syscall.SysProcAttr{Setsid: true, Pdeathsig: c.ParentDeathSignal},
	})
	if err != nil {
		return 0, fmt.Errorf("proc: spawn %s: %w", c.Role, err)
	}
	pid = p.Pid
	if err := p.Release(); err != nil {
		// The child runs; only the handle could not be dropped.
		return pid, fmt.Errorf("proc: spawn %s: release: %w", c.Role, err)
	}
	return pid, nil
}
