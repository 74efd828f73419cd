package proc

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"bgwmodel/impl/bgworker"
)

// Exited is a child that has ended and been reaped.
type Exited struct {
	Pid    int
	Status bgworker.ExitStatus // exit code, or killed by a signal
	Signal syscall.Signal      // the signal, when Status.Signaled
	Core   bool                // a core was dumped, when Status.Signaled
}

// String returns "pid N: exit C" or "pid N: killed by signal S". It does
// not block.
func (e Exited) String() string {
	if e.Status.Signaled {
		return fmt.Sprintf("pid %d: killed by signal %v", e.Pid, e.Signal)
	}
	return fmt.Sprintf("pid %d: exit %d", e.Pid, e.Status.Code)
}

func exited(pid int, ws unix.WaitStatus) Exited {
	e := Exited{Pid: pid}
	if ws.Signaled() {
		e.Status = bgworker.ExitStatus{Signaled: true}
		e.Signal = ws.Signal()
		e.Core = ws.CoreDump()
	} else {
		e.Status = bgworker.ExitStatus{Code: ws.ExitStatus()}
	}
	return e
}

// Reap reaps every child of this process that has ended
// (wait4(-1, WNOHANG) until it reports nothing more; the postmaster's
// reaper), and returns them in the order reaped. No children at all
// (ECHILD) is not an error. EINTR is retried.
//
// Reap reaps any child, not only those made by [Spawn]: a process that
// uses Reap must have a single reaper, and must not also wait for
// children in other ways (os/exec's Wait, for example, would then fail).
// It does not block.
func Reap() ([]Exited, error) {
	var out []Exited
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.ECHILD:
			return out, nil
		case err != nil:
			return out, fmt.Errorf("proc: wait4: %w", err)
		case pid <= 0:
			return out, nil // children remain, none has ended
		}
		out = append(out, exited(pid, ws))
	}
}

// WaitPid blocks until the child pid ends, reaps it and returns how it
// ended. It is for simple parents and tests that own pid; the postmaster
// uses [Reap]. EINTR is retried.
func WaitPid(pid int) (Exited, error) {
	if err := checkPid(pid); err != nil {
		return Exited{}, err
	}
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return Exited{}, fmt.Errorf("proc: wait4(%d): %w", pid, err)
		}
		return exited(got, ws), nil
	}
}
