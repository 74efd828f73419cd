package linearizability

import (
	"fmt"
	"math/rand"

	"bgwmodel/spec"
)

// Generate returns a linearizable history of about nops operations on a
// cluster of nslots slots without static workers, for benchmarks and
// tests. It simulates the specification sequentially: nclients backends
// (Register, GetPid, WaitForStartup) and the postmaster (Launch, Exit,
// Forget, and rarely a crash restart or its death) each run one operation
// at a time; every operation is called, takes effect at a later moment of
// a shared logical clock (its true linearization point, where [spec.Step]
// computes its output), and returns later still, so operations of
// different clients overlap. A crash restart cuts short the backends'
// operations in flight (each may or may not take effect; its output is
// unknown and its return at infinity), gives the backends fresh client
// ids and re-initializes shared memory (Reinit). The same seed gives the
// same history. Check it with Options{Slots: nslots}.
func Generate(seed int64, nops, nslots, nclients int) History {
	return generate(seed, nops, nslots, nclients, false)
}

// GenerateOverlapping is [Generate] with operations that overlap without
// end: no operation returns while it is the only one in flight, so the
// history has no quiescent point before its last return. On one slot it
// is the shape that splits at no quiescent point at all.
func GenerateOverlapping(seed int64, nops, nslots, nclients int) History {
	return generate(seed, nops, nslots, nclients, true)
}

func generate(seed int64, nops, nslots, nclients int, overlap bool) History {
	g := &generator{
		overlap: overlap,
		rng:     rand.New(rand.NewSource(seed)),
		s:       spec.Init(nslots, 0),
		pid:     1000,
		nextID:  1,
		h:       make(History, 0, nops+2*nclients+2),
	}
	g.pm = &agent{client: 0, process: "postmaster"}
	for k := range nclients {
		g.backends = append(g.backends, &agent{client: g.nextID, process: fmt.Sprintf("backend-%d", k+1)})
		g.nextID++
	}
	for len(g.h) < nops && g.step(nops) {
	}
	// Operations that took effect return; the others were never called.
	for _, a := range append([]*agent{g.pm}, g.backends...) {
		if a.op != nil && a.applied {
			a.op.Return = g.tick()
			g.h = append(g.h, *a.op)
		}
	}
	return g.h
}

// agent is a backend or the postmaster: at most one operation in flight.
type agent struct {
	client  int
	process string
	op      *Operation // in flight, or nil
	applied bool       // op has taken effect (its output is set)
	handles []spec.Handle
	dead    bool // the postmaster died
}

type generator struct {
	rng      *rand.Rand
	s        spec.State
	clock    Stamp
	h        History
	pm       *agent
	backends []*agent
	pid      spec.Pid
	nextID   int
	died     bool
	overlap  bool // no return leaves nothing in flight
	inFlight int  // operations called and not yet returned
}

// mayReturn reports whether an operation may return now.
func (g *generator) mayReturn() bool {
	return !g.overlap || g.inFlight > 1
}

func (g *generator) tick() Stamp {
	g.clock++
	return g.clock
}

// step advances one agent by one event; it reports false if nothing can
// move any more.
func (g *generator) step(nops int) bool {
	agents := append([]*agent{g.pm}, g.backends...)
	for _, k := range g.rng.Perm(len(agents)) {
		a := agents[k]
		if a == g.pm && g.advancePostmaster(nops) || a != g.pm && g.advanceBackend(a) {
			return true
		}
	}
	return false
}

// advanceBackend calls, applies or returns a backend's operation.
func (g *generator) advanceBackend(a *agent) bool {
	switch {
	case a.op == nil:
		a.op = &Operation{Client: a.client, Process: a.process, Input: g.backendInput(a), Call: g.tick()}
		a.applied = false
		g.inFlight++
	case !a.applied:
		out, ok := g.output(a.op.Input)
		if !ok {
			return false // WaitForStartup keeps waiting
		}
		g.apply(a.op.Input, out)
		a.op.Output, a.applied = out, true
		if out.Result == spec.ResultOK && a.op.Input.Kind == spec.OpRegister {
			a.handles = append(a.handles, out.Handle)
		}
	case !g.mayReturn():
		return false
	default:
		a.op.Return = g.tick()
		g.h = append(g.h, *a.op)
		a.op = nil
		g.inFlight--
	}
	return true
}

// backendInput chooses a backend's next operation.
func (g *generator) backendInput(a *agent) spec.Input {
	r := g.rng.Intn(100)
	switch {
	case len(a.handles) == 0 || r < 30:
		w := spec.Worker{Name: fmt.Sprintf("w%d", g.rng.Intn(1000)), Flags: spec.FlagShmemAccess,
			StartTime: spec.ConsistentState, RestartTime: 60, LibraryName: "lib", FunctionName: "main"}
		if g.rng.Intn(40) == 0 {
			w.RestartTime = -2 // rejected: invalid(restart_time)
		}
		return spec.Input{Kind: spec.OpRegister, Worker: w}
	case r < 80:
		h := a.handles[len(a.handles)-1]
		if g.rng.Intn(4) == 0 {
			h = a.handles[g.rng.Intn(len(a.handles))]
		}
		return spec.Input{Kind: spec.OpGetPid, Handle: h}
	}
	return spec.Input{Kind: spec.OpWaitForStartup, Handle: a.handles[len(a.handles)-1]}
}

// output is the output of a backend's operation if it takes effect now;
// false for a WaitForStartup that would still be waiting.
func (g *generator) output(in spec.Input) (spec.Output, bool) {
	switch in.Kind {
	case spec.OpRegister:
		if bad := spec.Validate(in.Worker); bad != nil {
			return spec.Output{Result: spec.ResultInvalid, Invalid: bad.Field}, true
		}
		for i, sl := range g.s.Slots {
			if !sl.InUse {
				return spec.Output{Handle: spec.Handle{Slot: i, Generation: sl.Generation + 1, Epoch: g.s.Epoch}}, true
			}
		}
		return spec.Output{Result: spec.ResultNoFreeSlot}, true
	case spec.OpWaitForStartup:
		if !g.s.Alive {
			return spec.Output{Status: spec.PostmasterDied}, true
		}
		st, pid := spec.StatusOf(g.s, in.Handle)
		return spec.Output{Status: st, Pid: pid}, st != spec.NotYetStarted
	}
	st, pid := spec.StatusOf(g.s, in.Handle)
	return spec.Output{Status: st, Pid: pid}, true
}

// apply makes in take effect with output out; the simulation only ever
// produces legal outputs, so spec.Step returning nothing is a bug.
func (g *generator) apply(in spec.Input, out spec.Output) {
	next := spec.Step(g.s, in, out)
	if len(next) == 0 {
		panic(fmt.Sprintf("linearizability: generator produced an illegal step %s from %v", spec.Describe(in, out), g.s))
	}
	g.s = next[0]
}

// advancePostmaster calls, applies or returns the postmaster's operation,
// or crashes the cluster.
func (g *generator) advancePostmaster(nops int) bool {
	a := g.pm
	switch {
	case a.dead:
		return false
	case a.op == nil:
		in, ok := g.postmasterInput(nops)
		if !ok {
			return false
		}
		if in.Kind == spec.OpReinit {
			g.crash()
		}
		a.op = &Operation{Client: a.client, Process: a.process, Input: in, Call: g.tick()}
		a.applied = false
		g.inFlight++
	case !a.applied:
		g.apply(a.op.Input, spec.Output{})
		a.applied = true
	case !g.mayReturn():
		return false
	default:
		a.op.Return = g.tick()
		g.h = append(g.h, *a.op)
		a.dead = a.op.Input.Kind == spec.OpDied
		a.op = nil
		g.inFlight--
	}
	return true
}

// postmasterInput chooses the postmaster's next operation, if any.
func (g *generator) postmasterInput(nops int) (spec.Input, bool) {
	var unstarted, running, stopped []int
	for i, sl := range g.s.Slots {
		switch {
		case !sl.InUse:
		case sl.Pid == spec.InvalidPid:
			unstarted = append(unstarted, i)
		case sl.Pid == spec.DeadPid:
			stopped = append(stopped, i)
		default:
			running = append(running, i)
		}
	}
	pick := func(s []int) int { return s[g.rng.Intn(len(s))] }
	r := g.rng.Intn(1000)
	switch {
	case r < 3 && !g.died:
		inUse := []int{}
		for i, sl := range g.s.Slots {
			if sl.InUse && g.rng.Intn(2) == 0 {
				inUse = append(inUse, i)
			}
		}
		return spec.Input{Kind: spec.OpReinit, InUse: inUse}, true
	case r < 4 && len(g.h) > nops-nops/50:
		g.died = true
		return spec.Input{Kind: spec.OpDied}, true
	case r < 450 && len(unstarted) > 0:
		g.pid++
		return spec.Input{Kind: spec.OpLaunch, Slot: pick(unstarted), Pid: g.pid}, true
	case r < 650 && len(running) > 0:
		return spec.Input{Kind: spec.OpExit, Slot: pick(running)}, true
	case r < 800 && len(stopped) > 0:
		g.pid++
		return spec.Input{Kind: spec.OpLaunch, Slot: pick(stopped), Pid: g.pid}, true // restart
	case r < 1000 && len(stopped)+len(unstarted) > 0:
		return spec.Input{Kind: spec.OpForget, Slot: pick(append(stopped, unstarted...))}, true
	}
	return spec.Input{}, false
}

// crash cuts short every backend operation in flight: one not yet applied
// takes effect or not at random; all are recorded with an unknown output
// returning at infinity. Every backend continues as a new process with a
// fresh client id and no handles.
func (g *generator) crash() {
	for _, a := range g.backends {
		if a.op != nil {
			if !a.applied && g.rng.Intn(2) == 0 {
				if out, ok := g.output(a.op.Input); ok {
					g.apply(a.op.Input, out)
				}
			}
			a.op.Output, a.op.Return = spec.Output{Unknown: true}, Infinity
			g.h = append(g.h, *a.op)
			a.op = nil
			g.inFlight--
		}
		a.client, a.handles = g.nextID, nil
		g.nextID++
	}
}
