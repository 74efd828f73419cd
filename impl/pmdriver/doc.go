// Package pmdriver runs the postmaster's pure core (package postmaster) as
// an operating-system process: the imperative shell around the functional
// core, as etcd's raft leaves its Ready loop to the application.
//
// # The loop
//
// [Run] owns a postmaster.Core and feeds it events: SIGUSR1, SIGTERM and
// SIGCHLD through os/signal, exits through wait4, a timer for the core's
// wake-ups, and requests on a control pipe from the harness
// ([ControlRequest], answered by [ControlReply]). It performs the core's
// actions: a re-executed binary for each worker and backend (package
// proc), signals, the postmaster-death pipe, and the record log, one
// JSON line per record ([postmaster.AppendRecordLine]) written before the
// next action.
//
// # Configuration
//
// [ParseConfig] and [LoadConfig] read the cluster's configuration file
// strictly (a [*ConfigError] names the file, the line and the field);
// [MarshalConfig] writes one.
//
// The checkers (spec, linearizability, policy, explore) use the core and
// its records only, never this package: the import rules in .ci/run keep
// them free of the OS plumbing.
package pmdriver
