package protocol

import (
	"errors"
	"fmt"
	"strings"

	"bgwmodel/explore"
	"bgwmodel/impl/shmem"
)

// role is which side of the protocol a thread runs.
type role uint8

const (
	roleBackend role = iota + 1
	rolePostmaster
)

// MutantInfo describes one seeded mutant: a change to the memory orders
// (or accesses) of the real code, made by a wrapper around the explorer's
// memory that recognises fields by offset (bgworker.Location), so impl is
// not edited; or a step of the postmaster process that the real core does
// not take, performed by the simulated operating system around it
// (relaunch-running).
type MutantInfo struct {
	Name Mutant
	// What says what the mutant changes, in the seed's terms.
	What string
	// Model is the weakest-first model that catches it: no stronger model
	// does (asserted by the tests).
	Model explore.ModelKind
	// Scenario names scenarios (comma-separated) in which it is caught
	// under every model that catches it, while the default is clean.
	Scenario string

	edit func(role) edits
}

// edits is what a mutant changes for one role.
type edits struct {
	dropFence map[shmem.Fence]bool
	loadOrder map[string]shmem.Order // field kind → new order for Load32
	swapOrder map[string]shmem.Order // field kind → new order for Swap32
	skipStore map[string]bool        // field kind → skip the store
	plainSwap map[string]bool        // field kind → Swap32 as a load (acquire) then a store (release)
	storeSwap map[string]bool        // field kind → Swap32 as a Store32 with the same order (returns 0)

	// relaunch (postmaster): the first worker launched is forked and
	// reported a second time while it runs (see pmDriver.relaunch).
	relaunch bool
}

var mutants = []MutantInfo{
	{Name: "no-register-wb", Model: explore.View, Scenario: "register-twice",
		What: "RegisterDynamicBackgroundWorker without the write barrier before in_use = true (backends' pg_write_barrier dropped)",
		edit: func(r role) edits { return edits{dropFence: backendOnly(r, shmem.WriteBarrier)} }},
	{Name: "no-scan-rb", Model: explore.View, Scenario: "register-twice",
		What: "BackgroundWorkerStateChange without the read barrier after reading in_use (the postmaster's pg_read_barrier dropped)",
		edit: func(r role) edits { return edits{dropFence: pmOnly(r, shmem.ReadBarrier)} }},
	{Name: "no-forget-fsc", Model: explore.View, Scenario: "register-vs-forget",
		What: "ForgetBackgroundWorker without the full barrier before in_use = false (the postmaster's pg_memory_barrier dropped; the 2021 fix undone)",
		edit: func(r role) edits { return edits{dropFence: pmOnly(r, shmem.FullBarrier)} }},
	{Name: "relaxed-inuse-acquire", Model: explore.View, Scenario: "register-vs-forget",
		What: "backends read in_use relaxed instead of acquire (the control dependency PostgreSQL relies on, with no C11 ordering)",
		edit: func(r role) edits {
			if r != roleBackend {
				return edits{}
			}
			return edits{loadOrder: map[string]shmem.Order{"in_use": shmem.Relaxed}}
		}},
	{Name: "relaxed-pmsignal-swap", Model: explore.View, Scenario: "register-vs-forget",
		What: "CheckPostmasterSignal's exchange relaxed instead of acquire-release",
		edit: func(r role) edits {
			if r != rolePostmaster {
				return edits{}
			}
			return edits{swapOrder: map[string]shmem.Order{"pmsignal": shmem.Relaxed}}
		}},
	{Name: "relaxed-pmsignal-set", Model: explore.View, Scenario: "register-vs-forget",
		What: "SendPostmasterSignal's exchange relaxed instead of release",
		edit: func(r role) edits {
			if r != roleBackend {
				return edits{}
			}
			return edits{swapOrder: map[string]shmem.Order{"pmsignal": shmem.Relaxed}}
		}},
	{Name: "store-pmsignal-set", Model: explore.View, Scenario: "two-register",
		What: "SendPostmasterSignal sets the flag with a release store instead of the exchange (impl's code before the explorer found the two-backend race)",
		edit: func(r role) edits {
			if r != roleBackend {
				return edits{}
			}
			return edits{storeSwap: map[string]bool{"pmsignal": true}}
		}},
	{Name: "plain-pmsignal-clear", Model: explore.TSO, Scenario: "two-register,register-twice",
		What: "CheckPostmasterSignal as the seed's pmsignal.c writes it: read the flag, then clear it with a plain store (acquire load, release store; no read-modify-write)",
		edit: func(r role) edits {
			if r != rolePostmaster {
				return edits{}
			}
			return edits{plainSwap: map[string]bool{"pmsignal": true}}
		}},
	{Name: "skip-generation-store", Model: explore.SC, Scenario: "reuse",
		What: "RegisterDynamicBackgroundWorker does not store the incremented generation",
		edit: func(r role) edits {
			if r != roleBackend {
				return edits{}
			}
			return edits{skipStore: map[string]bool{"generation": true}}
		}},
	{Name: "skip-pid-reset", Model: explore.SC, Scenario: "reuse",
		What: "RegisterDynamicBackgroundWorker does not set pid = InvalidPid in the slot it takes",
		edit: func(r role) edits {
			if r != roleBackend {
				return edits{}
			}
			return edits{skipStore: map[string]bool{"pid": true}}
		}},
	{Name: "relaunch-running", Model: explore.SC, Scenario: "reuse",
		What: "maybe_start_bgworker without its \"already running?\" check (rw_pid != 0): the first worker launched is forked again while it runs and the second child's pid is published in its slot (ReportBackgroundWorkerPID's store; the registrant is not signalled again)",
		edit: func(r role) edits { return edits{relaunch: r == rolePostmaster} }},
}

func backendOnly(r role, f shmem.Fence) map[shmem.Fence]bool {
	if r != roleBackend {
		return nil
	}
	return map[shmem.Fence]bool{f: true}
}

func pmOnly(r role, f shmem.Fence) map[shmem.Fence]bool {
	if r != rolePostmaster {
		return nil
	}
	return map[shmem.Fence]bool{f: true}
}

// Mutants returns the catalogue of seeded mutants.
func Mutants() []MutantInfo { return append([]MutantInfo(nil), mutants...) }

// MutantNames returns every mutant's name, in catalogue order.
func MutantNames() []string {
	var names []string
	for _, m := range mutants {
		names = append(names, string(m.Name))
	}
	return names
}

// ErrUnknownMutant is returned for a name that is not a mutant.
var ErrUnknownMutant = errors.New("protocol: unknown mutant")

// ParseMutants parses a comma-separated list of mutant names;
// "" and "none" are none.
func ParseMutants(list string) ([]Mutant, error) {
	if list == "" || list == "none" {
		return nil, nil
	}
	var out []Mutant
	for _, name := range strings.Split(list, ",") {
		m := Mutant(strings.TrimSpace(name))
		if _, err := lookupMutant(m); err != nil || m == "" {
			if err == nil {
				err = fmt.Errorf("%w: empty name in %q", ErrUnknownMutant, list)
			}
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func lookupMutant(m Mutant) (*MutantInfo, error) {
	if m == "" {
		return nil, nil
	}
	for i := range mutants {
		if mutants[i].Name == m {
			return &mutants[i], nil
		}
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownMutant, m, strings.Join(MutantNames(), ", "))
}

// mutantMem is the memory a thread of role sees under mutants: the
// explorer's, with the mutants' edits (later ones win).
type mutantMem struct {
	shmem.Memory
	ed edits
}

func newMutantMem(m shmem.Memory, r role, names []Mutant) *mutantMem {
	return &mutantMem{Memory: m, ed: roleEdits(names, r)}
}

// roleEdits merges what the mutants names change for role r (later ones
// win).
func roleEdits(names []Mutant, r role) edits {
	var ed edits
	for _, n := range names {
		info, _ := lookupMutant(n)
		if info == nil {
			continue
		}
		ed.merge(info.edit(r))
	}
	return ed
}

func (e *edits) merge(o edits) {
	e.dropFence = mergeMap(e.dropFence, o.dropFence)
	e.loadOrder = mergeMap(e.loadOrder, o.loadOrder)
	e.swapOrder = mergeMap(e.swapOrder, o.swapOrder)
	e.skipStore = mergeMap(e.skipStore, o.skipStore)
	e.plainSwap = mergeMap(e.plainSwap, o.plainSwap)
	e.storeSwap = mergeMap(e.storeSwap, o.storeSwap)
	e.relaunch = e.relaunch || o.relaunch
}

func mergeMap[K comparable, V any](a, b map[K]V) map[K]V {
	if len(b) == 0 {
		return a
	}
	if a == nil {
		a = map[K]V{}
	}
	for k, v := range b {
		a[k] = v
	}
	return a
}

func (m *mutantMem) edits() *edits { return &m.ed }

func (m *mutantMem) Fence(f shmem.Fence) {
	if m.edits().dropFence[f] {
		return
	}
	m.Memory.Fence(f)
}

func (m *mutantMem) Load32(off shmem.Offset, o shmem.Order) (uint32, error) {
	if n, ok := m.edits().loadOrder[fieldKind(off)]; ok {
		o = n
	}
	return m.Memory.Load32(off, o)
}

func (m *mutantMem) Store32(off shmem.Offset, v uint32, o shmem.Order) error {
	k := fieldKind(off)
	if m.edits().skipStore[k] {
		return nil
	}
	return m.Memory.Store32(off, v, o)
}

func (m *mutantMem) Store64(off shmem.Offset, v uint64, o shmem.Order) error {
	if m.edits().skipStore[fieldKind(off)] {
		return nil
	}
	return m.Memory.Store64(off, v, o)
}

func (m *mutantMem) Swap32(off shmem.Offset, v uint32, o shmem.Order) (uint32, error) {
	k := fieldKind(off)
	if m.edits().plainSwap[k] {
		old, err := m.Memory.Load32(off, shmem.Acquire)
		if err != nil || old == v {
			return old, err // "don't clear the flag if we haven't seen it set"
		}
		return old, m.Memory.Store32(off, v, shmem.Release)
	}
	if n, ok := m.edits().swapOrder[k]; ok {
		o = n
	}
	if m.edits().storeSwap[k] {
		return 0, m.Memory.Store32(off, v, o) // the caller ignores the old value
	}
	return m.Memory.Swap32(off, v, o)
}
