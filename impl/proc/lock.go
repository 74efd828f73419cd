package proc

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"bgwmodel/impl/bgworker"
)

// Errors from [Lock].
var (
	// ErrNotHeld: Release of a mode this process does not hold.
	ErrNotHeld = errors.New("proc: BackgroundWorkerLock not held in that mode")
	// ErrBadMode: a LockMode other than LockShared or LockExclusive.
	ErrBadMode = errors.New("proc: bad lock mode")
	// ErrLockClosed: the Lock was closed.
	ErrLockClosed = errors.New("proc: lock closed")
)

// Lock is BackgroundWorkerLock across processes: an open file description
// (OFD) lock on the bytes [bgworker.LockOffset, +bgworker.LockSize) of the
// shared-memory memfd, in front of which sits an in-process gate for the
// goroutines of this process. It implements [bgworker.Lock].
//
// Every Lock opens its own open file description of the memfd (by opening
// /proc/self/fd/N), because OFD locks belong to the description: two
// processes, or two Locks in one process, never share one. Goroutines that
// share one Lock are ordered by the in-process gate (a sync.RWMutex): an
// exclusive holder excludes every other goroutine, and shared holders of
// one process share a single F_RDLCK, taken by the first and dropped by
// the last.
//
// When a holder process dies, even by SIGKILL, the kernel closes its
// descriptions and so releases its locks: a killed holder never wedges the
// others. (The shared state it was modifying may be half-written; the
// protocol's handoff rule makes that harmless for the slot array, as in
// PostgreSQL, where a crashed backend triggers a cluster restart anyway.)
//
// Acquire and Release are full barriers: each makes a system call that
// takes the kernel's file-lock spinlock, and the gate is a Go mutex, so a
// holder sees every access its predecessor made before releasing.
//
// Lock is safe for concurrent use. The zero value is not usable; call
// [NewLock].
type Lock struct {
	gate sync.RWMutex // the in-process gate; held across the OFD lock

	mu      sync.Mutex // guards the fields below and the OFD lock transitions
	file    *os.File   // this Lock's own description of the memfd
	readers int        // goroutines holding the lock shared
	writer  bool       // a goroutine holds the lock exclusive
}

var _ bgworker.Lock = (*Lock)(nil)

// NewLock opens a new open file description of memfd (the shared-memory
// segment's memfd, as [memfd.Region.File] returns it, in this process or
// inherited from the postmaster) and returns an unlocked Lock on it. The
// caller keeps ownership of memfd; the Lock owns its own description and
// [Lock.Close] closes it. It does not block.
func NewLock(memfd *os.File) (*Lock, error) {
	if memfd == nil {
		return nil, errors.New("proc: NewLock: nil memfd")
	}
	f, err := reopen(memfd, os.O_RDWR)
	if err != nil {
		return nil, fmt.Errorf("proc: NewLock: %w", err)
	}
	return &Lock{file: f}, nil
}

// reopen opens a new open file description of the file behind f through
// /proc/self/fd, close-on-exec, with the given flags.
func reopen(f *os.File, flag int) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("reopen %s: %w", f.Name(), err)
	}
	var nf *os.File
	var oerr error
	if cerr := rc.Control(func(fd uintptr) {
		path := fmt.Sprintf("/proc/self/fd/%d", fd)
		nf, oerr = os.OpenFile(path, flag|unix.O_CLOEXEC, 0)
	}); cerr != nil {
		return nil, fmt.Errorf("reopen %s: %w", f.Name(), cerr)
	}
	if oerr != nil {
		return nil, fmt.Errorf("reopen %s: %w", f.Name(), oerr)
	}
	return nf, nil
}

// Acquire takes the lock in mode (LWLockAcquire). It blocks until no other
// process and no other goroutine of this process holds it in a conflicting
// mode. An interrupted wait (EINTR) is retried.
func (l *Lock) Acquire(mode bgworker.LockMode) error {
	_, err := l.acquire(mode, true)
	return err
}

// TryAcquire takes the lock in mode if that is possible at once
// (LWLockConditionalAcquire) and reports whether it did. It does not
// block. It may report false while another goroutine of this process is
// in the middle of acquiring or releasing, even if the lock would then be
// free.
func (l *Lock) TryAcquire(mode bgworker.LockMode) (bool, error) {
	return l.acquire(mode, false)
}

func (l *Lock) acquire(mode bgworker.LockMode, wait bool) (bool, error) {
	switch mode {
	case bgworker.LockExclusive:
		if wait {
			l.gate.Lock()
		} else if !l.gate.TryLock() {
			return false, nil
		}
		if !l.lockMu(wait) {
			l.gate.Unlock()
			return false, nil
		}
		defer l.mu.Unlock()
		ok, err := l.setlk(unix.F_WRLCK, wait)
		if err != nil || !ok {
			l.gate.Unlock()
			return false, err
		}
		l.writer = true
		return true, nil
	case bgworker.LockShared:
		if wait {
			l.gate.RLock()
		} else if !l.gate.TryRLock() {
			return false, nil
		}
		if !l.lockMu(wait) {
			l.gate.RUnlock()
			return false, nil
		}
		defer l.mu.Unlock()
		if l.readers == 0 {
			ok, err := l.setlk(unix.F_RDLCK, wait)
			if err != nil || !ok {
				l.gate.RUnlock()
				return false, err
			}
		}
		l.readers++
		return true, nil
	}
	return false, fmt.Errorf("%w: %d", ErrBadMode, mode)
}

// lockMu locks l.mu, or only tries to when wait is false.
func (l *Lock) lockMu(wait bool) bool {
	if wait {
		l.mu.Lock()
		return true
	}
	return l.mu.TryLock()
}

// Release releases the lock held in mode (LWLockRelease). It returns
// [ErrNotHeld] if no goroutine of this process holds it in mode. It does
// not block (beyond goroutines of this process that are acquiring or
// releasing).
func (l *Lock) Release(mode bgworker.LockMode) error {
	switch mode {
	case bgworker.LockExclusive:
		l.mu.Lock()
		if !l.writer {
			l.mu.Unlock()
			return fmt.Errorf("%w: %s", ErrNotHeld, mode)
		}
		l.writer = false
		_, err := l.setlk(unix.F_UNLCK, false)
		l.mu.Unlock()
		l.gate.Unlock()
		return err
	case bgworker.LockShared:
		l.mu.Lock()
		if l.readers == 0 {
			l.mu.Unlock()
			return fmt.Errorf("%w: %s", ErrNotHeld, mode)
		}
		l.readers--
		var err error
		if l.readers == 0 {
			_, err = l.setlk(unix.F_UNLCK, false)
		}
		l.mu.Unlock()
		l.gate.RUnlock()
		return err
	}
	return fmt.Errorf("%w: %d", ErrBadMode, mode)
}

// setlk applies an OFD lock of type typ (F_RDLCK, F_WRLCK or F_UNLCK) to
// the lock area, waiting (F_OFD_SETLKW) or not (F_OFD_SETLK). It reports
// false without error when a non-waiting request conflicts. l.mu is held.
func (l *Lock) setlk(typ int16, wait bool) (bool, error) {
	if l.file == nil {
		return false, ErrLockClosed
	}
	cmd := unix.F_OFD_SETLK
	if wait {
		cmd = unix.F_OFD_SETLKW
	}
	lk := unix.Flock_t{
		Type:   typ,
		Whence: 0, // SEEK_SET
		Start:  int64(bgworker.LockOffset),
		Len:    int64(bgworker.LockSize),
		// Pid must be 0 for OFD locks.
	}
	rc, err := l.file.SyscallConn()
	if err != nil {
		return false, fmt.Errorf("proc: lock: %w", err)
	}
	var serr error
	if cerr := rc.Control(func(fd uintptr) {
		for {
			serr = unix.FcntlFlock(fd, cmd, &lk)
			if serr != unix.EINTR {
				return
			}
		}
	}); cerr != nil {
		return false, fmt.Errorf("proc: lock: %w", cerr)
	}
	switch {
	case serr == nil:
		return true, nil
	case !wait && (serr == unix.EAGAIN || serr == unix.EACCES):
		return false, nil
	}
	return false, fmt.Errorf("proc: fcntl(%s) on the lock area: %w", lockCmdName(cmd, typ), serr)
}

func lockCmdName(cmd int, typ int16) string {
	c := "F_OFD_SETLK"
	if cmd == unix.F_OFD_SETLKW {
		c = "F_OFD_SETLKW"
	}
	switch typ {
	case unix.F_RDLCK:
		return c + ", F_RDLCK"
	case unix.F_WRLCK:
		return c + ", F_WRLCK"
	}
	return c + ", F_UNLCK"
}

// Close closes the Lock's open file description, which releases whatever
// it holds. It must not be called while a goroutine is inside Acquire; a
// later Acquire returns [ErrLockClosed]. It does not block.
func (l *Lock) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return ErrLockClosed
	}
	err := l.file.Close()
	l.file = nil
	return err
}
