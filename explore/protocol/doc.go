// Package protocol runs the real background-worker protocol code — the
// pure postmaster core of impl/postmaster and the backend half of
// impl/bgworker — as threads of the explorer (package explore), under
// SC, x86-TSO and the C11 view model, in small named scenarios, and checks
// every execution. There is no second copy of the protocol here: only a
// simulated operating system around the real code, and the checks.
//
// # The simulated operating system
//
// Each execution of a [Scenario] (see [Scenario.Build]) starts one
// postmaster thread (explore.Daemon | explore.Postmaster). It builds a
// postmaster.Core over the thread's shared memory, feeds it EventStart and
// then runs the core's Ready loop as the real driver does with fork, kill
// and wait4: ActionSpawn forks a worker thread (or fails, where the
// scenario injects a fork failure) and answers EventSpawnResult with the
// worker's pid (1000 + its thread id); ActionSignal SIGUSR1 sets a
// backend's latch, SIGTERM and SIGQUIT kill the process (SIGTERM is
// reported as exit 1, as bgworker_die does); ActionKillAll kills every
// child; ActionWakeAt arms the timeout of the postmaster's latch wait;
// ActionExit ends the thread. On every wake it reaps children
// (EventChildExited, EventBackendExited), then steps EventPMSignal if its
// latch was set and EventTick when its deadline has come.
//
// Backends are forked by the postmaster right after it starts (and, in a
// crash scenario, after the re-initialisation), announced to the core with
// EventBackendStarted before they run, and run a script over a [Backend]:
// the real bgworker.Backend with the explorer's memory, a
// BackgroundWorkerLock, the thread's latch and the thread itself as its
// PostmasterSignaller. Workers run a [WorkerAction]: exit with a code at
// once, or stay until killed.
//
// # Checks
//
// Every execution is checked; a check that fails is a counterexample with
// a replayable trace.
//
//   - Linearizability (invariant 1 of docs/protocol.md): the backends'
//     calls and the postmaster's operations on shared memory (launch,
//     report stopped → exit, forget, reject → forget, re-init, death) form
//     a history that the linearizability package checks in exact mode
//     against package spec. [Backend] explains how its stamps keep that
//     check sound under weak memory.
//   - Invariant 2: a STARTED pid is the pid launched for the very
//     registration the handle names. Invariant 3: per slot and epoch,
//     handle generations grow. Invariant 4: the postmaster's private list
//     holds at most one worker per slot (after every core step) and only
//     in-use slots (at the end). Invariant 5: with a live postmaster, every
//     registration is adopted by the end of the run, as registered (a
//     rejected or different definition means a stale read). Invariant 6:
//     SIGUSR1 goes only to live backends of this postmaster.
//   - Policy: after every step of the core, the postmaster policy
//     validator (package policy) judges the log so far against the
//     specification's restart rule in virtual time — no restart before
//     restart_time, a NEVER_RESTART worker never restarted, a failed spawn
//     counted as a crash (no hot retry), a NEVER_RESTART worker's slot
//     freed before its registrant is notified, crash restarts exactly
//     when the rule says. The registrant's side of the last rule is
//     checked too: told that its worker is gone, a sole backend must find
//     a free slot. A failed spawn must leak no bookkeeping.
//   - Hangs are the explorer's own: a backend waiting with nothing left to
//     run and no timer pending within the scenario's horizon.
//
// # Flaws and mutants
//
// A [Variant] selects the code under test: the seed's flaws (package flaw,
// passed to the real code through its configuration), and [Mutants] of
// the memory orders, applied without editing impl by a wrapper between
// the real code and the explorer's memory that recognises fields by
// offset (bgworker.Location), or, for relaunch-running, performed by the
// simulated operating system around the core (a worker launched again
// while it runs). The default implementation explores clean in every
// scenario under every model; each flaw and mutant is caught.
//
// # Scenarios
//
// [Scenarios] are small enough that DFS with the preemption bound
// [DefaultBound] exhausts each in well under a second under every model,
// and together they reach every seed function. docs/memory-model.md has
// the results: what each model catches, the traces, the benchmarks.
package protocol
