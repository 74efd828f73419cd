package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"bgwmodel/impl/pmdriver"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/proc"
)

// PostmasterPid returns the postmaster's pid. It does not block.
func (c *Cluster) PostmasterPid() int { return c.pmPid }

// SupervisorPid returns the supervisor's pid: the harness's only child.
// It does not block.
func (c *Cluster) SupervisorPid() int { return c.supPid }

// SegmentID returns the segment's identifier, which every handle carries.
// It does not block.
func (c *Cluster) SegmentID() uint64 { return c.segmentID }

// MaxWorkers returns max_worker_processes. It does not block.
func (c *Cluster) MaxWorkers() int { return c.maxWorkers }

// Dir returns the directory holding the record log and the server log
// (removed by Stop if Start made it). It does not block.
func (c *Cluster) Dir() string { return c.dir }

// RecordsPath returns the record log's path. It does not block.
func (c *Cluster) RecordsPath() string { return c.recordsPath }

// ServerLogPath returns the server log's path. It does not block.
func (c *Cluster) ServerLogPath() string { return c.logPath }

// Stamp takes a reading of the cluster's logical clock, the one that
// stamps the postmaster's records ([Clock.Stamp]). After Stop of a cluster
// whose clock region Start made (and unmapped at Stop), it returns 0. It
// does not block.
func (c *Cluster) Stamp() uint64 {
	c.clockMu.RLock()
	defer c.clockMu.RUnlock()
	if c.clock == nil {
		return 0
	}
	return c.clock.Stamp()
}

// Records reads the postmaster's record log so far. A last line still
// being written is left out. After Stop of a cluster whose Dir Start made,
// it returns the records read at Stop. It blocks reading the file.
func (c *Cluster) Records() ([]postmaster.Record, error) {
	c.mu.Lock()
	if c.stopped && c.ownDir {
		defer c.mu.Unlock()
		return c.cached, nil
	}
	c.mu.Unlock()
	recs, err := postmaster.ReadRecords(c.recordsPath)
	if errors.Is(err, postmaster.ErrTruncatedRecord) {
		err = nil
	}
	return recs, err
}

// FailSpawns makes the postmaster fail its next n worker spawns on
// purpose, as if fork had failed: each counts as a crash of the worker at
// that moment (retried after restart_time, or forgotten and its registrant
// told if NEVER_RESTART). It blocks until the postmaster acknowledges (at
// most DefaultTimeout).
func (c *Cluster) FailSpawns(n int) error {
	_, err := c.ctl.call(context.Background(), pmdriver.ControlRequest{Op: pmdriver.OpFailSpawns, N: n})
	return err
}

// Kill kills the postmaster with SIGKILL (kill -9), as a crash would: its
// children see it die through the postmaster-death pipe and exit on their
// own; backends answer a wait in progress with POSTMASTER_DIED first.
// Call Stop afterwards to wait for them and release the cluster's
// resources. It does not block.
func (c *Cluster) Kill() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.supExit != nil || c.stopped {
		return errStopped
	}
	c.killed = true
	return proc.Kill(c.pmPid, syscall.SIGKILL)
}

// Stop shuts the cluster down (pg_ctl stop): SIGTERM to the postmaster,
// which stops its workers and exits; then it waits for the supervisor,
// which exits once nothing is left below it. If that takes longer than
// ctx allows (DefaultStopTimeout without a deadline), it kills everything
// with SIGKILL and says so in its error. After [Cluster.Kill] it only
// waits for the orphaned children to exit on their own, under the same
// bound. Either way, once it returns no process of the cluster is left,
// every connection and file of the harness is closed, and later calls
// return the same result. It returns an [*ExitError] if the postmaster
// exited with a failure that Kill did not cause. It blocks until then.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() { c.stopErr = c.stop(ctx) })
	return c.stopErr
}

func (c *Cluster) stop(ctx context.Context) error {
	until := deadline(ctx, DefaultStopTimeout)
	bound := time.Until(until) // for the error: the bound given, not what is left
	c.mu.Lock()
	killed := c.killed
	signal := c.supExit == nil && !killed
	c.mu.Unlock()
	if signal {
		if err := proc.Kill(c.pmPid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("cluster: stop: %w", err)
		}
	}
	var errs []error
	e, ok := c.waitSupervisor(until)
	if !ok {
		c.forceKill()
		e, ok = c.waitSupervisor(time.Now())
		errs = append(errs, fmt.Errorf("cluster: stop: the cluster did not exit within %v: killed", bound.Round(time.Millisecond)))
	}
	if code := exitCode(e); ok && code != ExitOK && !(killed && code == 128+int(syscall.SIGKILL)) {
		errs = append(errs, &ExitError{Code: code, Message: lastLine(c.logPath)})
	}
	c.release()
	return errors.Join(errs...)
}

// release closes the harness's side: the listener and every connection,
// the control pipes, the clock if it is the cluster's own, the socket
// directory, and the log directory if Start made it (after caching the
// records).
func (c *Cluster) release() {
	c.mu.Lock()
	c.stopped = true
	backends := make([]*Backend, 0, len(c.backends))
	for b := range c.backends {
		backends = append(backends, b)
	}
	for conn := range c.handshakes {
		conn.Close()
	}
	c.mu.Unlock()
	for _, b := range backends {
		b.Close()
	}
	c.ln.Close()
	c.acceptWG.Wait()
	c.ctl.close()
	if c.ownClock {
		c.clockMu.Lock()
		c.clock = nil
		c.clockRegion.Close()
		c.clockMu.Unlock()
	}
	os.RemoveAll(c.sockDir)
	if c.ownDir {
		recs, _ := postmaster.ReadRecords(c.recordsPath)
		c.mu.Lock()
		c.cached = recs
		c.mu.Unlock()
		os.RemoveAll(c.dir)
	}
}

// StopPostmasterAt arms a breakpoint in the postmaster (fault injection):
// it stops itself with SIGSTOP just before its n-th access to shared
// memory from now (n >= 1), after writing to the server log which access
// that is; n 0 disarms. The postmaster takes such steps when it handles a
// signal from a backend, a worker's start or exit, or a tick. Once it is
// stopped (proc.Stat shows proc.StateStopped), kill it or send it SIGCONT.
// It returns the number of accesses to shared memory the postmaster has
// made so far: two calls around an event count its steps. It blocks until
// the postmaster acknowledges (at most DefaultTimeout).
func (c *Cluster) StopPostmasterAt(n int) (accesses uint64, err error) {
	if n < 0 {
		return 0, fmt.Errorf("cluster: stop postmaster at step %d: want 0 or more", n)
	}
	rep, err := c.ctl.call(context.Background(), pmdriver.ControlRequest{Op: pmdriver.OpStopAt, N: n})
	return rep.Accesses, err
}

// waitSupervisor waits until the supervisor has exited or until; it
// reports false if it has not.
func (c *Cluster) waitSupervisor(until time.Time) (proc.Exited, bool) {
	c.mu.Lock()
	if c.supExit != nil {
		defer c.mu.Unlock()
		return *c.supExit, true
	}
	c.mu.Unlock()
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case e := <-c.supDone:
		c.mu.Lock()
		c.supExit = &e
		c.mu.Unlock()
		return e, true
	case <-t.C:
		return proc.Exited{}, false
	}
}

// forceKill is the last resort: SIGKILL to the postmaster, SIGTERM to the
// supervisor (which SIGKILLs everything below it), then SIGKILL to the
// supervisor; each bounded by killGrace. The SIGTERM comes with a SIGCONT:
// a supervisor stopped by SIGSTOP would hold it pending until the SIGKILL,
// which leaves what is below it to be reparented, unreaped.
func (c *Cluster) forceKill() {
	if c.pmPid > 1 {
		proc.Kill(c.pmPid, syscall.SIGKILL)
	}
	proc.Kill(c.supPid, syscall.SIGTERM)
	proc.Kill(c.supPid, syscall.SIGCONT)
	if _, ok := c.waitSupervisor(time.Now().Add(killGrace)); ok {
		return
	}
	proc.KillAll([]int{c.supPid}, syscall.SIGKILL)
	c.waitSupervisor(time.Now().Add(killGrace))
}
