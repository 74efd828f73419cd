package proc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// DeathPipe is the postmaster's end of the postmaster-death pipe
// (postmaster_alive_fds). The postmaster keeps the write end, which is
// close-on-exec and is never passed to a child, so it is open only in the
// postmaster; every child gets the read end (at [FDDeath]) and sees
// end-of-file when the last write end closes, that is when the postmaster
// exits for any reason, including SIGKILL while it is stopped: the kernel
// closes a dying process's files whether or not it was running.
//
// Nothing is ever written to the pipe.
type DeathPipe struct {
	r, w *os.File
}

// NewDeathPipe makes the pipe. Both ends are close-on-exec; [Spawn] dups
// the read end into the child. It does not block.
func NewDeathPipe() (*DeathPipe, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("proc: postmaster-death pipe: %w", err)
	}
	return &DeathPipe{r: r, w: w}, nil
}

// ReadEnd returns the read end, to pass to [Spawn] as the file for
// [FDDeath]. The DeathPipe keeps ownership: do not close it. It does not
// block.
func (p *DeathPipe) ReadEnd() *os.File { return p.r }

// Close closes both ends. Every child holding the read end then sees the
// postmaster as dead: this is how a test (or an orderly postmaster) makes
// its children's [Death] fire. It does not block.
func (p *DeathPipe) Close() error {
	err := p.w.Close()
	if rerr := p.r.Close(); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("proc: close postmaster-death pipe: %w", err)
	}
	return nil
}

// Death watches the read end of the postmaster-death pipe in a child
// (PostmasterIsAlive and WL_POSTMASTER_DEATH). A goroutine reads the pipe
// and closes the channel of [Death.Dead] at end-of-file.
//
// The zero value is not usable; call [NewDeath]. A Death is safe for
// concurrent use.
type Death struct {
	f    *os.File // this process's own, non-blocking description of the pipe
	dead chan struct{}
	once sync.Once
	done chan struct{} // closed when the reading goroutine has returned

	mu  sync.Mutex
	err error // why death was declared, when not end-of-file
}

// NewDeath starts watching the read end of a postmaster-death pipe. It
// opens a new open file description of the pipe through /proc/self/fd, so
// that its non-blocking mode is this process's own (O_NONBLOCK belongs to
// the description, which the postmaster and every sibling share), then
// closes f: the Death takes ownership of f. It does not block.
func NewDeath(f *os.File) (*Death, error) {
	if f == nil {
		return nil, errors.New("proc: NewDeath: nil file")
	}
	own, err := reopen(f, os.O_RDONLY|unix.O_NONBLOCK)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		if own != nil {
			own.Close()
		}
		return nil, fmt.Errorf("proc: NewDeath: %w", err)
	}
	d := &Death{f: own, dead: make(chan struct{}), done: make(chan struct{})}
	go d.watch()
	return d, nil
}

// watch reads the pipe until end-of-file (the postmaster is dead), an
// error (treated as death, as PostgreSQL treats a failed read as fatal),
// or Close.
func (d *Death) watch() {
	defer close(d.done)
	var buf [16]byte
	for {
		n, err := d.f.Read(buf[:])
		if n > 0 {
			continue // nobody writes; ignore stray bytes
		}
		switch {
		case err == io.EOF:
			d.declare(nil)
			return
		case errors.Is(err, os.ErrClosed):
			return
		case err != nil:
			d.declare(err)
			return
		}
	}
}

func (d *Death) declare(err error) {
	d.once.Do(func() {
		if err != nil {
			d.mu.Lock()
			d.err = err
			d.mu.Unlock()
		}
		close(d.dead)
	})
}

// Dead returns a channel that is closed once the postmaster is known to be
// dead. It does not block.
func (d *Death) Dead() <-chan struct{} { return d.dead }

// Alive reports whether the postmaster is alive (PostmasterIsAlive): it
// makes a non-blocking read of the pipe, which returns end-of-file once
// the postmaster is gone, even before the watching goroutine has noticed.
// It does not block. After Close it reports what was last known.
func (d *Death) Alive() bool {
	select {
	case <-d.dead:
		return false
	default:
	}
	rc, err := d.f.SyscallConn()
	if err != nil {
		return true
	}
	var n int
	var rerr error
	// Control, not Read: the watching goroutine holds the file's read lock
	// while it waits, and the description is non-blocking, so this read
	// returns at once.
	if cerr := rc.Control(func(fd uintptr) {
		var buf [16]byte
		n, rerr = unix.Read(int(fd), buf[:])
	}); cerr != nil {
		return true // closed: report the last known state
	}
	switch {
	case rerr == nil && n == 0:
		d.declare(nil)
		return false
	case rerr == nil, rerr == unix.EAGAIN, rerr == unix.EINTR:
		return true
	}
	d.declare(rerr)
	return false
}

// Err returns the read error that made the Death declare the postmaster
// dead, or nil (end-of-file, or not dead). It does not block.
func (d *Death) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// Close stops watching and closes the Death's description of the pipe. It
// blocks until the watching goroutine has returned (at once). Dead's
// channel stays as it was.
func (d *Death) Close() error {
	err := d.f.Close()
	<-d.done
	return err
}
