package postmaster

import (
	"slices"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/shmem"
)

// FuzzStateChange fills shared memory with arbitrary bytes — any
// total_slots, any in_use, pids, generations, names, flags, times and
// notify pids — raises the PMSIGNAL flag and lets the postmaster scan,
// start, tick and reap. The postmaster trusts nothing it reads: it must
// never panic or fail, never signal a pid that is not one of its live
// backends, and never start a worker that fails the sanity check.
//
//	go test ./impl/postmaster -run XXX -fuzz FuzzStateChange -fuzztime 60s
func FuzzStateChange(f *testing.F) {
	f.Add(uint8(2), []byte{}, false)
	f.Add(uint8(1), []byte("\x01\x00\x00\x00\xff\xff\xff\xffgarbage\x80\x81"), true)
	f.Add(uint8(4), slices.Repeat([]byte{0x01, 0x00, 0x00, 0x00, 0x07}, 200), false)
	f.Add(uint8(3), slices.Repeat([]byte{0xff}, 1000), true)
	f.Fuzz(func(t *testing.T, slots uint8, data []byte, keepHeader bool) {
		n := 1 + int(slots)%4
		d := newDriver(t, Config{MaxWorkers: n})
		d.start()
		live := []int32{100, 101}
		for _, pid := range live {
			d.feed(Event{Kind: EventBackendStarted, Pid: pid})
		}
		d.onAction = func(a Action) {
			switch a.Kind {
			case ActionSignal:
				if a.Signal == SIGUSR1 && !slices.Contains(live, a.Pid) {
					t.Fatalf("SIGUSR1 to %d, not a live backend", a.Pid)
				}
			case ActionSpawn:
				w := a.Worker
				if err := bgworker.ValidateWorker(&w); err != nil {
					t.Fatalf("spawned a worker that fails the sanity check: %v", err)
				}
			}
		}
		// Overwrite the segment: the whole of it, or everything after the
		// header (so that total_slots stays right and the scan goes on).
		from := 0
		if keepHeader {
			from = 64
		}
		size := bgworker.ShmemSize(n)
		buf := make([]byte, size-from)
		for i := range buf {
			if len(data) > 0 {
				buf[i] = data[i%len(data)]
			}
		}
		if err := d.mem.StoreBytes(shmem.Offset(from), buf); err != nil {
			t.Fatal(err)
		}
		if err := d.mem.Store32(12, 1, shmem.Release); err != nil { // PMSIGNAL flag
			t.Fatal(err)
		}
		d.feed(Event{Kind: EventPMSignal, Now: time.Second})
		for pid := range d.children {
			d.exitChild(pid, bgworker.ExitStatus{Code: 1})
		}
		d.runUntil(time.Hour)
		d.feed(Event{Kind: EventShutdown, Now: 2 * time.Hour})
	})
}
