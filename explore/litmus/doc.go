// Package litmus is the explorer's litmus catalogue: the MP, SB, LB, 2+2W,
// IRIW, WRC, S, R and coherence families, with and without barriers and
// release/acquire orders, named in herd's convention.
//
// Each [Test] is ordinary Go code over [shmem.Memory] that becomes an
// [explore.Scenario]; its verdict under a memory model ([Check], [Run])
// comes from exploring it exhaustively and is compared with an expected
// table that cites its source for every verdict. [Format] renders the
// verdicts as a Markdown table, as `bgw litmus` prints them.
package litmus
