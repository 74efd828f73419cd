package linearizability

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"bgwmodel/spec"
)

// maxMissingShown is how many nonexistent slots a partition's name lists.
const maxMissingShown = 4

// noteMissing records the slot a GetPid or WaitForStartup's handle names,
// for a partition of operations naming no slot.
func (p *slotPart) noteMissing(op *Operation) {
	if op.Input.Kind != spec.OpGetPid && op.Input.Kind != spec.OpWaitForStartup {
		return
	}
	s := op.Input.Handle.Slot
	if len(p.missing) < maxMissingShown && !slices.Contains(p.missing, s) {
		p.missing = append(p.missing, s)
	}
}

// String names the partition in a report: "slot 3", or, for the
// operations naming no slot, the slots they name and the slots there are
// ("slot 5000, which does not exist (slots 0..7)").
func (p *slotPart) String() string {
	if p.slot != outOfRange {
		return fmt.Sprintf("slot %d", p.slot)
	}
	names := make([]string, len(p.missing))
	for i, s := range p.missing {
		names[i] = strconv.Itoa(s)
	}
	if len(p.missing) == 1 {
		return fmt.Sprintf("slot %s, which does not exist (%s)", names[0], slotRange(p.nslots))
	}
	return fmt.Sprintf("slots %s, which do not exist (%s)", strings.Join(names, ", "), slotRange(p.nslots))
}

// slotRange says which slots a cluster of nslots slots has.
func slotRange(nslots int) string {
	switch nslots {
	case 0:
		return "the run has no slots"
	case 1:
		return "the run has only slot 0"
	}
	return fmt.Sprintf("the run has slots 0..%d", nslots-1)
}

// class returns the pool class of an unknown operation's translated
// input, adding it if new.
func (p *slotPart) class(in spec.Input) int {
	if in.Kind == spec.OpRegister {
		in.Worker = canonicalWorker
	}
	key := classKey(in)
	if k, ok := p.keys[key]; ok {
		return k
	}
	p.keys[key] = len(p.classes)
	p.classes = append(p.classes, in)
	return len(p.classes) - 1
}
