package protocol

import (
	"strconv"
	"strings"
	"sync"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/shmem"
)

// maxSlots bounds the slot count of a scenario: the explorer's state space
// grows fast with it, and no scenario needs more.
const maxSlots = 4

// fields maps every field offset of a segment of maxSlots slots to its
// name, as bgworker.Location gives it; built once.
var fields = sync.OnceValue(func() map[shmem.Offset]string {
	m := map[shmem.Offset]string{}
	for off := 0; off < bgworker.ShmemSize(maxSlots); off++ {
		if name, ok := bgworker.Location(shmem.Offset(off)); ok {
			m[shmem.Offset(off)] = name
		}
	}
	return m
})

// fieldOf names the field at off ("slot[1].in_use"), or "".
func fieldOf(off shmem.Offset) string { return fields()[off] }

// fieldKind is the field's name without its slot: "in_use", "pmsignal".
func fieldKind(off shmem.Offset) string {
	name := fieldOf(off)
	if i := strings.IndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// slotField returns the offset of field ("in_use", "pid", "generation",
// "worker") of slot.
func slotField(slot int, field string) (shmem.Offset, bool) {
	want := "slot[" + strconv.Itoa(slot) + "]." + field
	for off, name := range fields() {
		if name == want {
			return off, true
		}
	}
	return 0, false
}
