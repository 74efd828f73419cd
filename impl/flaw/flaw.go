// Package flaw names the seed's known defects that the reference
// implementation can reproduce on demand.
//
// Every flaw is off by default. A [Set] of flaws is passed explicitly to the
// parts of impl that honour it (there is no global switch), so a program can
// run a flawed and a correct cluster side by side. Names are stable once
// published; [Catalogue] is the table that `bgw flaws` prints and
// docs/counterexamples.md explains.
package flaw

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Flaw is one known defect of the seed.
type Flaw uint8

const (
	// NoInuseCheck: GetBackgroundWorkerPid checks only the generation, so a
	// worker forgotten before it started reads NOT_YET_STARTED forever.
	NoInuseCheck Flaw = iota + 1
	// SilentForget: forgetting a never-started worker (spawn failed,
	// NEVER_RESTART) notifies nobody; WaitForBackgroundWorkerStartup hangs.
	SilentForget
	// SpawnFailureAsStart: a failed spawn half-updates postmaster state and
	// is retried hot.
	SpawnFailureAsStart
	// NotifyBeforeFree: a never-restart worker's exit is reported before
	// its slot is freed.
	NotifyBeforeFree
	// NoForgetBarrier: no full barrier before in_use = false.
	NoForgetBarrier
	// RestartOverflow: the restart gate computes restart_time * 1000 in
	// 32-bit milliseconds.
	RestartOverflow
	// UnorderedPMSignal: the PMSIGNAL flag and in_use are read without
	// ordering.
	UnorderedPMSignal

	numFlaws = iota
)

// Entry is one row of the catalogue.
type Entry struct {
	Flaw Flaw
	// Name is the stable name used on the command line.
	Name string
	// Seed is what the seed does.
	Seed string
	// Fixed is the upstream fix: year and PostgreSQL commit, or "never".
	Fixed string
	// Shows is how the defect shows.
	Shows string
	// Weak is true when only a weak memory model shows the defect; such a
	// flaw is caught by the explorer's view model, not by stress on x86.
	Weak bool
	// CaughtBy names the checkers that catch it.
	CaughtBy string
}

var catalogue = [...]Entry{
	{NoInuseCheck, "no-inuse-check", "GetBackgroundWorkerPid checks only the generation", "2017, 28724fd90d",
		"a worker forgotten before it started reads NOT_YET_STARTED forever", false, "linearizability, explore (sc)"},
	{SilentForget, "silent-forget", "forgetting a never-started worker (spawn failed, NEVER_RESTART) notifies nobody", "2017, 28724fd90d",
		"WaitForBackgroundWorkerStartup hangs", false, "validator (waiter left waiting), explore (hang)"},
	{SpawnFailureAsStart, "spawn-failure-as-start", "a failed spawn half-updates postmaster state and is retried hot", "2017, 4fe04244b5",
		"leaked bookkeeping, busy loop", false, "validator (spawn retry before restart_time), explore"},
	{NotifyBeforeFree, "notify-before-free", "a never-restart worker's exit is reported before its slot is freed", "2017, aea5d29836",
		"\"no free slot\" right after STOPPED", false, "validator (slot freed before notify), explore"},
	{NoForgetBarrier, "no-forget-barrier", "no full barrier before in_use = false", "2021, 30d8bad494",
		"weak memory: a stale pid = 0 lands on a reused slot; the new worker reads STOPPED", true, "explore (view)"},
	{RestartOverflow, "restart-overflow", "restart gate computes restart_time * 1000 in 32-bit ms", "never (still in master)",
		"restart_time >= 2,147,484 s restarts at once or after a wrong delay", false, "validator (restart delay), rapid"},
	{UnorderedPMSignal, "unordered-pmsignal", "signal flag and in_use read without ordering", "never (unreported)",
		"weak memory: a registration is missed until the next signal", true, "explore (view, hang)"},
}

// Catalogue returns every flaw's entry, in a stable order. The slice is a
// copy.
func Catalogue() []Entry {
	out := make([]Entry, len(catalogue))
	copy(out, catalogue[:])
	return out
}

// String returns the flaw's stable name.
func (f Flaw) String() string {
	if f >= 1 && int(f) <= len(catalogue) {
		return catalogue[f-1].Name
	}
	return fmt.Sprintf("flaw(%d)", uint8(f))
}

// Entry returns the flaw's catalogue entry.
func (f Flaw) Entry() (Entry, bool) {
	if f >= 1 && int(f) <= len(catalogue) {
		return catalogue[f-1], true
	}
	return Entry{}, false
}

// ErrUnknown is returned by [Parse] for a name not in the catalogue.
var ErrUnknown = errors.New("flaw: unknown flaw")

// Parse returns the flaw called name.
func Parse(name string) (Flaw, error) {
	for _, e := range catalogue {
		if e.Name == name {
			return e.Flaw, nil
		}
	}
	return 0, fmt.Errorf("%w %q (known: %s)", ErrUnknown, name, strings.Join(Names(), ", "))
}

// Names returns every flaw name, sorted.
func Names() []string {
	names := make([]string, 0, len(catalogue))
	for _, e := range catalogue {
		names = append(names, e.Name)
	}
	sort.Strings(names)
	return names
}

// Set is a set of flaws. The zero Set is the correct implementation.
type Set uint32

// Of returns the set holding fs.
func Of(fs ...Flaw) Set {
	var s Set
	for _, f := range fs {
		s |= 1 << f
	}
	return s
}

// Has reports whether f is in s.
func (s Set) Has(f Flaw) bool { return s&(1<<f) != 0 }

// Flaws returns the members of s in catalogue order.
func (s Set) Flaws() []Flaw {
	var out []Flaw
	for f := Flaw(1); f <= numFlaws; f++ {
		if s.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

// String returns the members' names joined by commas, or "none".
func (s Set) String() string {
	fs := s.Flaws()
	if len(fs) == 0 {
		return "none"
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.String()
	}
	return strings.Join(names, ",")
}

// ParseSet parses a comma-separated list of flaw names; "" and "none" are
// the empty set.
func ParseSet(list string) (Set, error) {
	var s Set
	if list == "" || list == "none" {
		return s, nil
	}
	for _, name := range strings.Split(list, ",") {
		f, err := Parse(strings.TrimSpace(name))
		if err != nil {
			return 0, err
		}
		s |= Of(f)
	}
	return s, nil
}
