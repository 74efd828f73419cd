package litmus

import "bgwmodel/explore"

// This file is the table of EXPECTED litmus verdicts, with a source for
// each. It is never used to compute a verdict: [Check] explores the
// test and compares.

// Sources cited by the expected table.
const (
	srcSC = "SC (Lamport 1979): only interleavings; the outcome needs a cycle of program order and communication"

	srcTSOOrder  = "x86-TSO (Owens, Sarkar, Sewell 2009; Intel SDM vol. 3A §8.2.3): FIFO store buffers keep store→store order and loads are not reordered with loads"
	srcTSOSB     = "x86-TSO: a load may pass an earlier store to another location still in the store buffer (Intel SDM §8.2.3.4)"
	srcTSOMfence = "x86-TSO: mfence on both sides drains the buffers, restoring store→load order"
	srcTSOOneMF  = "x86-TSO: an mfence on one side only leaves the other thread's store→load reordering"
	srcTSOLB     = "x86-TSO: stores are not reordered with earlier loads (Intel SDM §8.2.3.3)"
	srcTSOMCA    = "x86-TSO: one shared memory, so stores become visible to all other threads at once (multi-copy atomic; Intel SDM §8.2.3.7)"
	srcTSOCausal = "x86-TSO: stores are transitively visible (causality; Intel SDM §8.2.3.6)"
	srcTSOR      = "x86-TSO: P1's store y=2 can wait in its buffer while its load reads x=0 (store→load reordering); P0's stores stay in order"
	srcTSORF     = "x86-TSO: P0's stores flush in order, and P1's mfence makes its load wait for its store y=2, which is after y=1 and so after x=1"
	srcTSO2W     = "x86-TSO: stores reach memory in program order, so the second stores cannot both lose to the first"
	srcTSOCo     = "x86-TSO: one memory order per location (coherence)"

	srcVRlx    = "Kang et al. 2017 / C11 (Batty et al. 2011), RC11 (Lahav et al. 2017): relaxed accesses do not synchronise; the reader may read a stale message"
	srcVHalf   = "Kang et al. 2017 / C11: a release without an acquire (or the reverse) does not synchronise, so the reader's view is not raised"
	srcVSync   = "Kang et al. 2017 / C11: release (store or fence) and acquire (load or fence) on the message read synchronise; the reader's view includes x=1"
	srcVSB     = "Kang et al. 2017 / C11, RC11: release/acquire and rb/wb do not order a store before a later load; only SC fences on both sides do"
	srcVSC     = "Kang et al. 2017 (the global SC-fence view S) / RC11 (psc): SC fences are totally ordered and the later one sees the earlier thread's accesses"
	srcVLB     = "LIMIT of this promise-free model: a load reads an existing message, so there is no load→store reordering; C11 (Batty et al. 2011) and the promising semantics with promises ALLOW plain LB; RC11 forbids it"
	srcVLBSync = "forbidden in C11/RC11 as well: with release/acquire or fences the reads-from edges synchronise, and a cycle in happens-before is impossible"
	srcV2W     = "Kang et al. 2017 / C11, RC11: no load, so nothing synchronises, and each store may take a timestamp below the other thread's (any free timestamp above its view)"
	srcVIRIW   = "C11/RC11, Kang et al. 2017: acquire loads (or acquire fences) are not multi-copy atomic; the two readers may disagree on the order of independent writes"
	srcVWRC    = "Kang et al. 2017 / C11: P2 does not acquire (or P1 does not release) so P1's view of x=1 does not reach P2"
	srcVS      = "Kang et al. 2017 / C11: without synchronisation P1's store x=1 may take a timestamp below x=2"
	srcVR      = "Kang et al. 2017 / C11: P1's store y=2 may go after y=1 in mo while P1 has not seen x=1; only SC fences on both sides forbid it"
	srcVCo     = "coherence (C11; Kang et al. 2017): a thread's view of a location only grows and its stores go above it"
)

// expectation is one test's expected verdicts. Every outcome in the suite
// is weak, so SC forbids all of them.
type expectation struct {
	tso, view       bool
	tsoSrc, viewSrc string
}

const (
	allow  = true
	forbid = false
)

var expected = map[string]expectation{
	"MP":         {forbid, allow, srcTSOOrder, srcVRlx},
	"MP+wb+po":   {forbid, allow, srcTSOOrder, srcVHalf},
	"MP+po+rb":   {forbid, allow, srcTSOOrder, srcVHalf},
	"MP+wb+rb":   {forbid, forbid, srcTSOOrder, srcVSync},
	"MP+rel+po":  {forbid, allow, srcTSOOrder, srcVHalf},
	"MP+po+acq":  {forbid, allow, srcTSOOrder, srcVHalf},
	"MP+rel+acq": {forbid, forbid, srcTSOOrder, srcVSync},
	"MP+wb+acq":  {forbid, forbid, srcTSOOrder, srcVSync},
	"MP+rel+rb":  {forbid, forbid, srcTSOOrder, srcVSync},
	"MP+fsc+fsc": {forbid, forbid, srcTSOOrder, srcVSync},

	"SB":               {allow, allow, srcTSOSB, srcVSB},
	"SB+wb+wb":         {allow, allow, srcTSOSB, srcVSB},
	"SB+rb+rb":         {allow, allow, srcTSOSB, srcVSB},
	"SB+relacq+relacq": {allow, allow, srcTSOSB, srcVSB},
	"SB+fsc+po":        {allow, allow, srcTSOOneMF, srcVSB},
	"SB+fsc+fsc":       {forbid, forbid, srcTSOMfence, srcVSC},

	"LB":               {forbid, forbid, srcTSOLB, srcVLB},
	"LB+wb+wb":         {forbid, forbid, srcTSOLB, srcVLB},
	"LB+rb+rb":         {forbid, forbid, srcTSOLB, srcVLBSync},
	"LB+relacq+relacq": {forbid, forbid, srcTSOLB, srcVLBSync},
	"LB+fsc+fsc":       {forbid, forbid, srcTSOLB, srcVLBSync},

	"2+2W":         {forbid, allow, srcTSO2W, srcV2W},
	"2+2W+wb+wb":   {forbid, allow, srcTSO2W, srcV2W},
	"2+2W+rel+rel": {forbid, allow, srcTSO2W, srcV2W},
	"2+2W+fsc+fsc": {forbid, forbid, srcTSO2W, srcVSC},

	"IRIW":         {forbid, allow, srcTSOMCA, srcVIRIW},
	"IRIW+acq+acq": {forbid, allow, srcTSOMCA, srcVIRIW},
	"IRIW+rb+rb":   {forbid, allow, srcTSOMCA, srcVIRIW},
	"IRIW+fsc+fsc": {forbid, forbid, srcTSOMCA, srcVSC},

	"WRC":         {forbid, allow, srcTSOCausal, srcVRlx},
	"WRC+wb+rb":   {forbid, forbid, srcTSOCausal, srcVSync},
	"WRC+rel+acq": {forbid, forbid, srcTSOCausal, srcVSync},
	"WRC+po+acq":  {forbid, allow, srcTSOCausal, srcVWRC},
	"WRC+rel+po":  {forbid, allow, srcTSOCausal, srcVWRC},
	"WRC+fsc+fsc": {forbid, forbid, srcTSOCausal, srcVSC},

	"S":         {forbid, allow, srcTSOOrder, srcVS},
	"S+wb+po":   {forbid, allow, srcTSOOrder, srcVHalf},
	"S+po+rb":   {forbid, allow, srcTSOOrder, srcVHalf},
	"S+wb+rb":   {forbid, forbid, srcTSOOrder, srcVSync},
	"S+rel+acq": {forbid, forbid, srcTSOOrder, srcVSync},
	"S+fsc+fsc": {forbid, forbid, srcTSOOrder, srcVSC},

	"R":               {allow, allow, srcTSOR, srcVR},
	"R+po+fsc":        {forbid, allow, srcTSORF, srcVR},
	"R+wb+fsc":        {forbid, allow, srcTSORF, srcVR},
	"R+relacq+relacq": {allow, allow, srcTSOR, srcVR},
	"R+fsc+fsc":       {forbid, forbid, srcTSORF, srcVSC},

	"CoRR":  {forbid, forbid, srcTSOCo, srcVCo},
	"CoWR":  {forbid, forbid, srcTSOCo, srcVCo},
	"CoRW":  {forbid, forbid, srcTSOCo, srcVCo},
	"CoWW":  {forbid, forbid, srcTSOCo, srcVCo},
	"CoRR2": {forbid, forbid, srcTSOCo, srcVCo},
}

// expVerdict is an expected verdict and its source.
type expVerdict struct {
	allowed bool
	source  string
}

// expected is the expected verdict of test under model m.
func expectedVerdict(test string, m explore.ModelKind) (expVerdict, bool) {
	e, ok := expected[test]
	if !ok {
		return expVerdict{}, false
	}
	switch m {
	case explore.SC:
		return expVerdict{false, srcSC}, true
	case explore.TSO:
		return expVerdict{e.tso, e.tsoSrc}, true
	case explore.View:
		return expVerdict{e.view, e.viewSrc}, true
	}
	return expVerdict{}, false
}
