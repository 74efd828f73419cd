// Package policy implements the postmaster policy validator: the checks
// over the postmaster's log ([postmaster.Record]) of what linearizability
// cannot see, because it is about when things happen and whom the
// postmaster tells, not about the values backends read.
//
// # Rules
//
// [Validate] replays the log and applies the seed's lifecycle rules (from
// package spec, never from the implementation's own decisions, which the
// log also carries):
//
//   - [RestartEarly]: a worker that exited or failed to spawn is started
//     again before its restart_time has passed (spec.Restart,
//     spec.SpawnFailed). This is how restart-overflow and
//     spawn-failure-as-start show.
//   - [RestartLate]: a worker due for a restart (exit 0 at once, exit 1
//     after restart_time) is not spawned within [Options.Slack] of the due
//     time while the postmaster runs.
//   - [NeverRestarted]: a NEVER_RESTART worker that exited with 1, or
//     whose spawn failed, is started again instead of forgotten.
//   - [NotifyBeforeFree]: the registrant of a NEVER_RESTART worker that
//     will be forgotten is signalled before the slot is free
//     (notify-before-free).
//   - [ForgottenSilently]: a registration with a live registrant is
//     forgotten and the registrant is not signalled within Slack
//     (silent-forget).
//   - [NotifyStranger]: SIGUSR1 goes to a pid that is not a live backend
//     of this postmaster.
//   - [LaunchLate]: a registration is neither launched nor forgotten
//     within [Options.LaunchBound] of its adoption while the postmaster
//     runs.
//   - [CrashMissed] / [CrashUnwarranted]: an exit the spec calls a crash
//     is not followed by a crash restart, or a crash restart follows an
//     exit that is not one.
//
// Deadlines that fall after the last record are not judged: the log ended
// first. A crash restart or a shutdown ends every pending expectation,
// since every process is then killed or stopped on purpose.
//
// # Soundness
//
// Each rule is a property every correct postmaster has; the validator
// never reports a rule on a log the fixed core produces, as the tests show
// on generated logs, and each flaw of the catalogue that the postmaster
// owns is caught by at least one rule.
package policy
