// Package explore implements a stateless model checker that runs real Go
// code as simulated threads under a scheduler that owns every shared
// access, lock, latch, signal and the clock, over a choice of memory
// models: sequential consistency ([SC]), x86-TSO ([TSO]) and the
// promise-free view model of C11 release/acquire, relaxed accesses and
// fences ([View]). docs/memory-model.md describes the models and the
// litmus results in full.
//
// # Worlds and threads
//
// A [Scenario] builds the world of one execution in its Setup function,
// which is called afresh for every execution: it spawns the initial
// threads with [World.Spawn], makes locks with [World.NewLock], names
// locations with [World.NameLoc], sets initial memory through
// [World.InitMem], and registers a check with [World.OnEnd] (run at the
// normal end of each execution; an error is a counterexample) and
// optionally an observer with [World.OnStep] (called on every step).
// Per-execution state lives in variables that Setup's closures capture.
//
// A thread body is an ordinary [ThreadFunc] that receives its [Thread].
// Every shared access goes through [Thread.Mem], a [shmem.Memory] whose
// every call is one scheduling point; [Thread.Lock] gives a
// [bgworker.Lock], [Thread.Latch] a [bgworker.Latch], and the Thread itself
// is a [bgworker.PostmasterSignaller]. Each thread runs on its own
// goroutine, which blocks on a channel at every scheduling point, so
// exactly one runs at a time and the scheduler decides which. Thread code
// must be deterministic: its behaviour may depend only on what the
// explorer returns to it (no clocks, no map iteration order, no sharing
// through Go variables, no real blocking).
//
// Blocking steps are enabled only when they can complete: a lock acquire
// when the lock is free in that mode, a latch wait when the latch is set
// or the postmaster has died (or its virtual deadline has come), a sleep
// when the virtual clock has reached its time. The clock advances, to
// the earliest pending timer, only when nothing else can run and a
// non-[Daemon] thread is alive (never beyond [Scenario.TimeHorizon]).
// [Thread.Signal] sets another thread's latch (SIGUSR1): it synchronises
// like a release store and an acquire load that the target's latch wait
// (or the reset that clears the set latch) performs. [Thread.Spawn] forks a thread at run time; when a thread ends
// its parent's latch is set and [Thread.Reap] returns its status. When the
// [Postmaster] thread ends, every latch wait returns WaitPostmasterDeath.
//
// [Thread.Kill] (or the search itself, for [Killable] threads, up to
// [Options.MaxKills] per execution) kills a thread at its scheduling point
// like kill -9: its goroutine unwinds with runtime.Goexit, and every
// explorer call its deferred functions make ends at once, so a lock it
// held stays held (a waiter then hangs, unless the scenario handles it).
// A panic in thread code is a [FailPanic] failure naming the thread. No
// goroutine outlives its execution, however the execution ended.
//
// # Memory models
//
// Each execution has a fresh model state. Locations are keyed by offset
// and made on first access, zeroed (or as [World.InitMem] set them); an
// access of another size at the same offset, or one overlapping another
// location, is a [FailMisuse] failure, as is an order an access may not
// have. Barriers map as read barrier → acquire fence, write barrier →
// release fence, full barrier → SC fence; lock acquire/release, latch
// wake/signal and reap/exit are acquire/release pairs.
//
//   - [SC]: one memory; every access takes effect at once.
//   - [TSO]: per-thread FIFO store buffers; a flush is a scheduling step
//     of its own ([ChooseFlush]), offered only where it can make a
//     difference (another thread's next step reads a buffered location,
//     or another buffer holds one; every flush once no thread can step);
//     loads read their own buffer first;
//     read-modify-writes, full barriers, locks, signals and spawns drain
//     the buffer; read and write barriers are no-ops.
//   - [View]: per-location messages in modification order, each with a
//     view; per-thread cur/acq/rel views; a load may read any message not
//     older than the thread's view of the location ([ChooseRead]); a store
//     may take any free timestamp above it, between existing messages
//     where there is room ([ChooseWrite]); an RMW writes immediately after
//     the message it reads. Without promises no load is ever reordered
//     with a later store: load buffering (LB) is forbidden here although
//     C11 allows it.
//
// # Search
//
// [Explore] runs executions under [Options]: [DFS] re-executes from
// scratch along a prefix of choices and backtracks the deepest untried
// alternative, optionally within a preemption bound (context switches
// away from a thread that could have continued; flushes and kills are
// not preemptions); [Random] draws every choice from a seeded generator.
// MaxExecutions and Budget bound the search; MaxSteps cuts an execution
// (counted as truncated). The [Report] counts executions, pruned and
// truncated ones, the deepest execution and the [Failure]s, each with a
// trace.
//
// # State hashing
//
// With [Options.StateHashing], DFS prunes an execution when it reaches a
// state from which an earlier execution has already explored with no
// more preemptions, steps or kills used. The state is the memory model's
// state (canonical: locations in offset order, messages by mo position),
// the scheduler's (clock, locks, latches, reaped statuses, current
// thread) and, per thread, a hash of every value the explorer has
// returned to it, with its spawn point. Since a thread is a deterministic
// function of what it has observed, equal hashes mean equal local states
// and equal futures, and the first visit's subtree — fully explored by
// DFS before it backtracks above that state — covers every continuation
// of the second. It is sound when thread code is deterministic and when
// checks and observers depend only on the state (final memory, thread
// statuses and what each thread observed, such as litmus registers), not
// on the order in which steps happened (a history-based check such as
// linearizability of the interleaving is not). Hashes are 128 bits.
//
// # Traces
//
// Every execution is a list of [Choice]s: one per scheduling step (tN
// runs thread N, fN flushes thread N's oldest buffered store, kN kills
// thread N) and one per model choice with more than one alternative (rK
// reads the K-th newest readable message, wK stores in the K-th newest
// free slot). [Trace.String] writes "MODEL:" then the tokens separated by
// dots, a run of K equal tokens written "tok*K": "tso:t0*2.t1*2.f0.f1".
// [ParseTrace] reads it back with errors that say where it went wrong.
// [Replay] re-runs a trace (a prefix is completed with default choices)
// and returns its interleaving as a [Table]; [Shrink] searches for a
// smaller trace that fails the same way.
//
// # Hangs
//
// A run in which no step or flush is possible, no timer is pending, and
// some non-[Daemon] thread is alive (blocked on a latch, a lock, or a
// timer past the horizon) is a hang, a [FailHang] failure whose Blocked
// field lists each live thread and what it waits for. A run in which only
// daemons are left, all blocked, ends normally.
//
// # Litmus tests
//
// The litmus catalogue, which computes each memory model's verdicts with
// this explorer, is package bgwmodel/explore/litmus.
package explore
