package bgworker

import (
	"errors"
	"fmt"

	"bgwmodel/impl/shmem"
)

// The segment layout. All integers are little-endian (the host order on
// every platform bgwmodel supports) and naturally aligned.
//
//	header (64 bytes)
//	  0  magic        u32   segMagic
//	  4  version      u32   segVersion
//	  8  total_slots  u32   BackgroundWorkerArray.total_slots
//	 12  pmsignal     u32   PMSignalFlags[PMSIGNAL_BACKGROUND_WORKER_CHANGE]
//	 16  segment id   u64   names the segment in handles
//	 24  epoch        u64   crash re-inits so far
//	 32  lock area    32 bytes reserved for BackgroundWorkerLock (impl/proc)
//	slot i at 64 + i*slotSize (232 bytes)
//	  0  in_use       u32
//	  4  pid          u32   (an int32: -1 not started, 0 dead, >0 running)
//	  8  generation   u64
//	 16  worker       216-byte block (see codec.go)
const (
	segMagic   uint32 = 0x31574742 // "BGW1"
	segVersion uint32 = 1

	offMagic      shmem.Offset = 0
	offVersion    shmem.Offset = 4
	offTotalSlots shmem.Offset = 8
	offPMSignal   shmem.Offset = 12
	offSegmentID  shmem.Offset = 16
	offEpoch      shmem.Offset = 24
	// LockOffset is where BackgroundWorkerLock's words live, for a
	// cross-process Lock implementation; LockSize bytes are reserved.
	LockOffset shmem.Offset = 32
	// LockSize is the number of bytes reserved at LockOffset.
	LockSize   = 32
	headerSize = 64

	slotInUse      shmem.Offset = 0
	slotPid        shmem.Offset = 4
	slotGeneration shmem.Offset = 8
	slotWorker     shmem.Offset = 16
	slotSize                    = 16 + workerSize

	// MaxWorkerProcesses bounds max_worker_processes (the seed's GUC
	// allows up to MAX_BACKENDS; a model needs far fewer).
	MaxWorkerProcesses = 1024
)

// ShmemSize returns the segment size for maxWorkers slots
// (BackgroundWorkerShmemSize).
func ShmemSize(maxWorkers int) int { return headerSize + maxWorkers*slotSize }

func slotOff(slot int, field shmem.Offset) shmem.Offset {
	return shmem.Offset(headerSize+slot*slotSize) + field
}

// Errors about segments.
var (
	// ErrBadSegment: the memory does not hold a background-worker segment
	// of the expected shape.
	ErrBadSegment = errors.New("bgworker: not a background worker segment")
	// ErrCorrupt: shared memory holds a value no correct process writes.
	ErrCorrupt = errors.New("bgworker: corrupt shared memory")
)

// Segment is an attached BackgroundWorkerArray: the shared memory of the
// protocol plus the slot count this process trusts. It holds no mutable
// state of its own and is safe for concurrent use.
type Segment struct {
	mem   shmem.Memory
	slots int
	id    uint64
}

// Memory returns the memory the segment lives in.
func (s *Segment) Memory() shmem.Memory { return s.mem }

// Slots returns max_worker_processes as this process knows it.
func (s *Segment) Slots() int { return s.slots }

// ID returns the segment's identifier, carried by every [Handle].
func (s *Segment) ID() uint64 { return s.id }

// Attach attaches to a segment initialised by the postmaster
// ([Postmaster.BackgroundWorkerShmemInit]), as a child process does after
// fork. It checks the header and that total_slots fits the memory; a
// segment that fails is [ErrBadSegment]. It does not block.
func Attach(mem shmem.Memory) (*Segment, error) {
	var hdr [3]uint32
	for i, off := range [...]shmem.Offset{offMagic, offVersion, offTotalSlots} {
		v, err := mem.Load32(off, shmem.Relaxed)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadSegment, err)
		}
		hdr[i] = v
	}
	magic, version, total := hdr[0], hdr[1], int(hdr[2])
	if magic != segMagic || version != segVersion {
		return nil, fmt.Errorf("%w: magic %#x version %d", ErrBadSegment, magic, version)
	}
	if total < 1 || total > MaxWorkerProcesses || ShmemSize(total) > mem.Size() {
		return nil, fmt.Errorf("%w: total_slots %d does not fit %d bytes", ErrBadSegment, total, mem.Size())
	}
	id, err := mem.Load64(offSegmentID, shmem.Relaxed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSegment, err)
	}
	return &Segment{mem: mem, slots: total, id: id}, nil
}

// Location names the shared field at off, for tools that print accesses
// (the explorer's replay table): "total_slots", "pmsignal", "epoch",
// "slot[2].in_use", "slot[0].worker", and so on. It reports false for an
// offset that is not the start of a field.
//
// See also [DescribeAccess].
func Location(off shmem.Offset) (string, bool) {
	switch off {
	case offMagic:
		return "magic", true
	case offVersion:
		return "version", true
	case offTotalSlots:
		return "total_slots", true
	case offPMSignal:
		return "pmsignal", true
	case offSegmentID:
		return "segment_id", true
	case offEpoch:
		return "epoch", true
	case LockOffset:
		return "lock", true
	}
	if off < headerSize {
		return "", false
	}
	slot, field := int(off-headerSize)/slotSize, shmem.Offset(int(off-headerSize)%slotSize)
	if slot >= MaxWorkerProcesses {
		return "", false
	}
	for _, f := range [...]struct {
		off  shmem.Offset
		name string
	}{{slotInUse, "in_use"}, {slotPid, "pid"}, {slotGeneration, "generation"}, {slotWorker, "worker"}} {
		if field == f.off {
			return fmt.Sprintf("slot[%d].%s", slot, f.name), true
		}
	}
	return "", false
}

// DescribeAccess names an access to the segment for people: "Load32
// slot[2].in_use (acq)", "Fence full barrier", or "Store32 offset 4100
// (rel)" for an offset that is not the start of a field. It does not
// block.
func DescribeAccess(a shmem.Access) string {
	if a.Method == "Fence" {
		return fmt.Sprintf("Fence %v", a.Fence)
	}
	loc, ok := Location(a.Off)
	if !ok {
		loc = fmt.Sprintf("offset %d", a.Off)
	}
	return fmt.Sprintf("%s %s (%v)", a.Method, loc, a.Order)
}
