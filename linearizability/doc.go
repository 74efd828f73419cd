// Package linearizability implements the linearizability checking of
// recorded histories of the background-worker slot handoff against the
// sequential specification in package spec: history types and
// their JSON lines codec, porcupine models built from [spec.Step], the
// checks, a generator of linearizable histories, and porcupine's HTML
// view of a violation. It never imports the implementation: the checker
// is built from the specification alone.
//
// # Histories
//
// A [History] is a list of [Operation]s: a client id, the process that
// ran it, a [spec.Input], a [spec.Output] and two [Stamp]s from the
// stress segment's logical clock, taken before the operation's first and
// after its last shared access. An operation cut short by a crash has an
// unknown output and returns at [Infinity]; its process goes on under a
// fresh client id. [History.Validate] rejects recording errors (a client
// overlapping itself, a return before its call, ...).
//
// # Codec
//
// Every process appends one JSON object per line to its own file with an
// [Encoder]; [ReadDir] merges a directory of such files, [ReadFile] and
// [Decode] read one. Decoding is strict and reports a [*DecodeError] with
// the file and line; a last line cut short by a killed writer wraps
// [ErrTruncated]. The format is described in docs/checking.md.
//
// # Models
//
// [Exact] is the specification itself as a porcupine model: no
// partitioning, the state is a [spec.State], and porcupine explores the
// set of states [spec.Step] allows. [PerSlot] partitions a history by
// slot and checks each slot on its one-slot view; [Count] checks "no free
// slot" answers, which depend on every slot, on the projection onto
// registrations, forgets and re-initializations; [Validity] checks the
// operations whose legality does not depend on the state. Each
// projection of a linearizable history is linearizable, so each check is
// sound: a violation it reports is always real.
//
// # Checking
//
// [Check] runs the checks an [Options] asks for ([ModeExact],
// [ModePartitioned] or [ModeAuto]) and returns a [Report] with one
// [Verdict] per check: [Ok], [Violation] or [Unknown]. A timeout is never
// a pass, nor is a check stopped by its memory budget
// ([Options.MemoryBudget], 2 GiB unless set). The partitioned checks split
// each partition into windows at cuts: points just after a return where a
// sweep over the history has computed every configuration the partition
// may be in, with what it has linearized of the operations still in
// flight, and found them few. A quiescent point is one such cut; a slot
// whose operations overlap without end still has many. Porcupine checks
// each window from those configurations, so memory grows with the
// history, not its square (docs/performance.md has the figures). The
// sweep and porcupine must agree on every window; if they do not, the
// verdict is [Unknown].
//
// # Views and tests
//
// [WriteHTML] and [Verdict.WriteHTML] write porcupine's visualization of
// a violation. [Generate] simulates the specification to produce
// linearizable histories with overlapping operations, crashes and
// unknown outputs; [Mutate] breaks one for negative tests.
package linearizability
