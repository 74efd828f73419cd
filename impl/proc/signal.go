package proc

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"bgwmodel/impl/bgworker"
)

// Errors about signalling.
var (
	// ErrBadPid: a pid that must never be signalled (0, 1, negative):
	// kill(2) would reach a process group, init or every process.
	ErrBadPid = errors.New("proc: refusing to signal pid")
	// ErrPostmasterDead: the postmaster is known to be dead, so its pid
	// may already name another process.
	ErrPostmasterDead = errors.New("proc: postmaster is dead")
)

func checkPid(pid int) error {
	if pid <= 1 {
		return fmt.Errorf("%w %d", ErrBadPid, pid)
	}
	return nil
}

// Kill sends sig to the process pid (the seed's kill(pid, SIGUSR1) to a
// notify_pid, for example). It refuses pids below 2. It does not block.
func Kill(pid int, sig syscall.Signal) error {
	if err := checkPid(pid); err != nil {
		return err
	}
	if err := unix.Kill(pid, sig); err != nil {
		return fmt.Errorf("proc: kill(%d, %v): %w", pid, sig, err)
	}
	return nil
}

// KillAll sends sig to every child in pids and its process group
// (PostgreSQL's signal_child, used for SIGQUIT at a crash restart): each
// child made by [Spawn] leads its own session and group, so kill(-pid)
// reaches it and anything it started; if that group no longer exists
// (the child changed group), it falls back to kill(pid). It signals
// every pid even if some fail and returns the errors joined. Only pids
// not yet reaped may be passed: a zombie still holds its pid, a reaped one
// may have been reused. It does not block.
func KillAll(pids []int, sig syscall.Signal) error {
	var errs []error
	for _, pid := range pids {
		if err := checkPid(pid); err != nil {
			errs = append(errs, err)
			continue
		}
		err := unix.Kill(-pid, sig)
		if err == unix.ESRCH {
			err = unix.Kill(pid, sig)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("proc: kill(%d, %v): %w", pid, sig, err))
		}
	}
	return errors.Join(errs...)
}

// Signaller delivers SIGUSR1 to the postmaster from a child
// (SendPostmasterSignal's kill). The postmaster's pid comes from the
// child's environment ([EnvPostmasterPid]), never from getppid: a child
// whose postmaster died is reparented (to init or a subreaper), and must
// not signal that. It implements [bgworker.PostmasterSignaller].
type Signaller struct {
	pid   int
	death *Death
}

var _ bgworker.PostmasterSignaller = (*Signaller)(nil)

// NewSignaller returns a Signaller for the postmaster pid. If death is not
// nil, a postmaster known to be dead is not signalled: its pid may
// already belong to another process. It does not block.
func NewSignaller(pid int, death *Death) (*Signaller, error) {
	if err := checkPid(pid); err != nil {
		return nil, fmt.Errorf("proc: postmaster pid: %w", err)
	}
	return &Signaller{pid: pid, death: death}, nil
}

// Pid returns the postmaster's pid. It does not block.
func (s *Signaller) Pid() int { return s.pid }

// SignalPostmaster sends SIGUSR1 to the postmaster. It returns
// [ErrPostmasterDead] if the postmaster-death pipe already reports its
// death, and kill's error (ESRCH, EPERM) otherwise. It does not block.
func (s *Signaller) SignalPostmaster() error {
	if s.death != nil && !s.death.Alive() {
		return fmt.Errorf("%w: not signalling pid %d", ErrPostmasterDead, s.pid)
	}
	return Kill(s.pid, unix.SIGUSR1)
}

// Notifier delivers the signals it was made for on a channel it owns (an
// os/signal registration): the postmaster's OS loop uses one for SIGCHLD
// (then calls [Reap]), SIGUSR1 (PMSignal) and its shutdown signals.
// Signals of one kind coalesce while the channel is full, so a receiver
// must treat each delivery as "something happened" and look at all state
// (for SIGCHLD: Reap until nothing is left).
type Notifier struct {
	c    chan os.Signal
	once sync.Once
}

// Notify starts delivering sigs to a new Notifier's channel. It does not
// block.
func Notify(sigs ...os.Signal) *Notifier {
	n := &Notifier{c: make(chan os.Signal, len(sigs)+1)}
	signal.Notify(n.c, sigs...)
	return n
}

// NotifyChildExit is Notify(SIGCHLD), for the reaper. It does not block.
func NotifyChildExit() *Notifier { return Notify(unix.SIGCHLD) }

// C returns the channel signals arrive on. It does not block; receiving
// from the channel does.
func (n *Notifier) C() <-chan os.Signal { return n.c }

// Stop stops delivery; the channel receives nothing afterwards. It does
// not block.
func (n *Notifier) Stop() { n.once.Do(func() { signal.Stop(n.c) }) }

// StopSelf stops the calling process with SIGSTOP before the calling
// goroutine runs one more instruction of its own, and returns once the
// process is continued (SIGCONT). It is how a process stops itself at a
// breakpoint for fault injection.
//
// A SIGSTOP sent to the process (kill) may be taken by another thread,
// and the caller's thread runs on in user space until the group stop
// reaches it: long enough to finish what it was doing. Sent to the
// calling thread itself (tgkill), the signal is pending on that thread,
// which takes it on its way back from the syscall and stops there with
// the rest of the process. It blocks while the process is stopped.
func StopSelf() error {
	runtime.LockOSThread() // the thread that sends is the thread that stops
	defer runtime.UnlockOSThread()
	if err := unix.Tgkill(os.Getpid(), unix.Gettid(), unix.SIGSTOP); err != nil {
		return fmt.Errorf("proc: stop self: %w", err)
	}
	return nil
}

// Yield gives up the processor (sched_yield(2)): the calling thread goes
// to the end of its run queue, so that another runnable process or thread
// may run first. It is a hint to the scheduler; it does not block beyond
// that, and it cannot fail on Linux.
func Yield() { unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
