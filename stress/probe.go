package stress

import (
	"bgwmodel/internal/implspec"
	"context"
	"fmt"
	"sync"

	"bgwmodel/spec"
)

// prober runs the lost-wakeup probe of the SIGSTOP fault (see
// [StopFaults]) on its own backend: while the postmaster is stopped, it
// registers a transient worker and starts waiting for it; the wait, and
// the polls after it, go on in the background.
type prober struct {
	d    *driver
	mu   sync.Mutex
	busy bool
	wg   sync.WaitGroup
	err  error
}

// idle reports whether no probe is under way.
func (p *prober) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.busy
}

// prepare makes sure the probe has a live backend (the postmaster is
// running): it checks the connection with a GetPid, and connects a new
// backend if it is gone. The error is an infrastructure failure.
func (p *prober) prepare(ctx context.Context) error {
	d := p.d
	if d.be != nil && !d.c.pool.empty() {
		if _, err := d.getPid(ctx, d.c.pool.pick(d.rng)); err != nil {
			return err
		}
	}
	if d.be == nil {
		if err := d.connect(ctx); err != nil && ctx.Err() == nil && !d.c.postmasterGone() {
			return err
		}
	}
	return nil
}

// start registers a worker and starts the wait in the background; it
// returns what it did. The postmaster is stopped meanwhile: Connect would
// block, so a probe without a backend only connects one for next time,
// in the background too.
func (p *prober) start(ctx context.Context) string {
	d := p.d
	p.mu.Lock()
	p.busy = true
	p.mu.Unlock()
	done := func(err error) {
		p.mu.Lock()
		p.busy = false
		if p.err == nil && err != nil {
			p.err = err
		}
		p.mu.Unlock()
	}
	if d.be == nil {
		done(nil)
		return "no backend"
	}
	def := d.c.work.transient(d.rng, d.n)
	oh, result, err := d.register(ctx, def)
	switch {
	case err != nil:
		done(err)
		return fmt.Sprintf("register %q: %v", def.Name, err)
	case d.be == nil:
		done(nil)
		return fmt.Sprintf("register %q: cut short", def.Name)
	case result != spec.ResultOK:
		done(nil)
		return fmt.Sprintf("register %q: %v", def.Name, result)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		st, err := d.waitStatus(ctx, oh)
		for err == nil && st == spec.Started && ctx.Err() == nil && d.be != nil {
			sleepCtx(ctx, carefulPoll)
			st, err = d.getPid(ctx, oh.h)
			if st == spec.Stopped {
				break
			}
		}
		if err == nil && d.be == nil && ctx.Err() == nil && !d.c.postmasterDead() {
			// The backend died (a crash restart): have one for next time.
			if err = d.connect(ctx); err != nil && (ctx.Err() != nil || d.c.postmasterGone()) {
				err = nil
			}
		}
		done(err)
	}()
	return fmt.Sprintf("registered %q in %v, waiting", def.Name, implspec.Handle(oh.h))
}

// wait waits for the probe in the background and closes its backend; it
// returns the first infrastructure error.
func (p *prober) wait() error {
	p.wg.Wait()
	p.d.disconnect()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
