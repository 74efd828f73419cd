package postmaster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
	"bgwmodel/impl/shmem"
)

// chooser makes the random choices of a run.
type chooser interface{ intn(n int) int }

type rngChooser struct{ r *rand.Rand }

func (c rngChooser) intn(n int) int { return c.r.IntN(n) }

// bytesChooser reads choices from fuzz input; 0 once it runs out.
type bytesChooser struct {
	b []byte
	i int
}

func (c *bytesChooser) intn(n int) int {
	if c.i >= len(c.b) {
		return 0
	}
	v := int(c.b[c.i])
	c.i++
	return v % n
}

// randomRun drives a core with random events for steps steps, checking
// invariants as it goes, and returns its log and actions. corrupt allows
// random writes to shared memory.
func randomRun(t testing.TB, ch chooser, steps int, corrupt bool) ([]Record, []Action) {
	t.Helper()
	all := []flaw.Flaw{flaw.NoInuseCheck, flaw.SilentForget, flaw.SpawnFailureAsStart, flaw.NotifyBeforeFree,
		flaw.NoForgetBarrier, flaw.RestartOverflow, flaw.UnorderedPMSignal}
	var flaws flaw.Set
	for _, f := range all {
		if ch.intn(3) == 0 {
			flaws |= flaw.Of(f)
		}
	}
	restarts := []int32{bgworker.NeverRestart, 0, 1, 5, 2_147_484}
	flagsOf := []bgworker.Flags{0, bgworker.ShmemAccess, bgworker.ShmemAccess | bgworker.BackendDatabaseConnection}
	worker := func(dynamic bool) bgworker.Worker {
		w := wk(fmt.Sprintf("w%d", ch.intn(6)), flagsOf[ch.intn(3)], bgworker.StartTime(ch.intn(3)), restarts[ch.intn(len(restarts))])
		if w.Flags&bgworker.BackendDatabaseConnection != 0 && w.StartTime == bgworker.PostmasterStart {
			w.StartTime = bgworker.ConsistentState
		}
		if dynamic && ch.intn(10) == 0 {
			w.RestartTime = -7 // invalid: refused by the backend API
		}
		return w
	}
	maxw := 1 + ch.intn(4)
	var statics []bgworker.Worker
	for range ch.intn(maxw + 1) {
		statics = append(statics, worker(false))
	}
	d := newDriver(t, Config{MaxWorkers: maxw, Static: statics, Flaws: flaws,
		ConsistentDelay: time.Duration(ch.intn(3)) * time.Second, RecoveryDelay: time.Duration(ch.intn(3)) * time.Second})
	check := func(where string) {
		if corrupt {
			return
		}
		// The private list and shared memory agree.
		seen := map[int]bool{}
		for _, rw := range d.c.Workers() {
			if rw.Slot < 0 || rw.Slot >= maxw || seen[rw.Slot] {
				t.Fatalf("%s: bad slot %d", where, rw.Slot)
			}
			seen[rw.Slot] = true
			off := shmem.Offset(64 + rw.Slot*232)
			if v, _ := d.mem.Load32(off, shmem.Relaxed); v != 1 {
				t.Fatalf("%s: slot %d of %q not in use:\n%s", where, rw.Slot, rw.Worker.Name, d.dump(0))
			}
			if pid, _ := d.mem.Load32(off+4, shmem.Relaxed); rw.Pid > 0 && rw.Started && d.c.PMState() == PMRun && int32(pid) != rw.Pid {
				t.Fatalf("%s: slot %d pid %d, private %d", where, rw.Slot, int32(pid), rw.Pid)
			}
		}
	}
	d.onAction = func(a Action) {
		switch a.Kind {
		case ActionSignal:
			if a.Signal == SIGUSR1 && !slices.Contains(d.c.LiveBackends(), a.Pid) {
				t.Fatalf("SIGUSR1 to %d, not a live backend (%v):\n%s", a.Pid, d.c.LiveBackends(), d.dump(0))
			}
		case ActionSpawn:
			if d.c.PMState() != PMRun || d.c.ShuttingDown() {
				t.Fatalf("spawn in state %v:\n%s", d.c.PMState(), d.dump(0))
			}
		case ActionKillAll:
			if d.c.PMState() != PMCrashWait && d.c.PMState() != PMRun {
				t.Fatalf("kill-all in state %v", d.c.PMState())
			}
		}
	}
	try := func(ev Event) {
		if err := d.try(ev); err != nil && !errors.Is(err, ErrAlreadyStarted) {
			t.Fatalf("%v:\n%s", err, d.dump(0))
		}
	}
	var handles []struct {
		pid int32
		h   bgworker.Handle
	}
	nextBackend := int32(100)
	pick := func(pids []int32) int32 {
		if len(pids) == 0 {
			return 0
		}
		return pids[ch.intn(len(pids))]
	}
	d.start()
	for i := 0; i < steps && !d.exited; i++ {
		switch ch.intn(16) {
		case 0, 1:
			d.runUntil(d.now + time.Duration(ch.intn(4000))*time.Millisecond)
		case 2, 3:
			be := pick(slices.Sorted(mapKeys(d.backends)))
			if be == 0 {
				break
			}
			w := worker(true)
			switch ch.intn(3) {
			case 0:
				w.NotifyPid = be
			case 1:
				w.NotifyPid = 100 + int32(ch.intn(20))
			}
			h, err := d.backend(be).RegisterDynamicBackgroundWorker(w)
			if err == nil {
				handles = append(handles, struct {
					pid int32
					h   bgworker.Handle
				}{be, h})
			}
			if ch.intn(4) != 0 {
				try(Event{Kind: EventPMSignal})
			}
		case 4:
			try(Event{Kind: EventPMSignal})
		case 5, 6:
			if pid := pick(slices.Sorted(mapKeys(d.children))); pid != 0 {
				exits := []bgworker.ExitStatus{exit0, exit1, exit1, exit2, signaled}
				delete(d.children, pid)
				try(Event{Kind: EventChildExited, Pid: pid, Exit: exits[ch.intn(len(exits))]})
			}
		case 7:
			if d.c.PMState() == PMRun {
				nextBackend++
				d.backends[nextBackend] = true
				try(Event{Kind: EventBackendStarted, Pid: nextBackend})
			}
		case 8:
			if pid := pick(slices.Sorted(mapKeys(d.backends))); pid != 0 {
				exits := []bgworker.ExitStatus{exit0, exit1, exit0, exit1, exit2, signaled}
				delete(d.backends, pid)
				try(Event{Kind: EventBackendExited, Pid: pid, Exit: exits[ch.intn(len(exits))]})
			}
		case 9:
			d.fail[fmt.Sprintf("w%d", ch.intn(6))] = 1 + ch.intn(2)
		case 10:
			if corrupt {
				off := shmem.Offset(4 * ch.intn(bgworker.ShmemSize(maxw)/4))
				var v [4]byte
				for j := range v {
					v[j] = byte(ch.intn(256))
				}
				_ = d.mem.Store32(off, binary.LittleEndian.Uint32(v[:]), shmem.Relaxed)
			}
		case 11:
			bogus := []Event{
				{Kind: EventChildExited, Pid: int32(ch.intn(50)), Exit: exit2},
				{Kind: EventSpawnResult, SpawnToken: uint64(ch.intn(1 << 20)), Pid: 7},
				{Kind: EventBackendExited, Pid: int32(ch.intn(50)), Exit: signaled},
				{Kind: EventBackendStarted, Pid: -3},
				{Kind: EventStart},
				{Kind: EventTick},
			}
			try(bogus[ch.intn(len(bogus))])
		case 12:
			if ch.intn(8) == 0 {
				try(Event{Kind: EventShutdown})
			}
		case 13:
			if len(handles) > 0 {
				h := handles[ch.intn(len(handles))]
				_, _ = d.backend(h.pid).GetBackgroundWorkerPid(h.h)
			}
		case 14:
			d.holdSpawns = ch.intn(2) == 0
		case 15:
			held := d.held
			d.held = nil
			for _, ev := range held {
				try(ev)
			}
		}
		check(fmt.Sprintf("step %d", i))
	}
	// Stamps grow (records of one scan share its stamps); slots are in
	// range.
	var prev Record
	for _, r := range d.recs {
		shared := r.Call == prev.Call && r.Return == prev.Return
		if (r.Call <= prev.Return && !shared) || r.Return <= r.Call || r.Slot < -1 || r.Slot >= maxw {
			t.Fatalf("bad record %v after %v", r, prev)
		}
		prev = r
	}
	return d.recs, d.acts
}

// Random event sequences never panic, keep the invariants, and are
// deterministic: the same choices give the same log and actions.
func TestRandomEvents(t *testing.T) {
	for _, corrupt := range []bool{false, true} {
		t.Run(fmt.Sprintf("corrupt=%v", corrupt), func(t *testing.T) {
			n := 300
			if testing.Short() {
				n = 50
			}
			for seed := range uint64(n) {
				r1, a1 := randomRun(t, rngChooser{rand.New(rand.NewPCG(seed, 1))}, 300, corrupt)
				r2, a2 := randomRun(t, rngChooser{rand.New(rand.NewPCG(seed, 1))}, 300, corrupt)
				if !reflect.DeepEqual(r1, r2) || !reflect.DeepEqual(a1, a2) {
					t.Fatalf("seed %d: two runs differ", seed)
				}
			}
		})
	}
}

// FuzzCore runs random event sequences chosen by the fuzzer's bytes (go
// test -fuzz=FuzzCore); without -fuzz it runs the seed corpus.
func FuzzCore(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x02\x00\x07\x02\x03\x00\x05\x05\x01\x0b\x06"))
	f.Add([]byte("postmaster: crash, restart, forget, shutdown; random bytes make random events"))
	for i := range 8 {
		b := make([]byte, 256)
		r := rand.New(rand.NewPCG(uint64(i), 2))
		for j := range b {
			b[j] = byte(r.UintN(256))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		corrupt := len(data) > 0 && data[0]&1 == 1
		randomRun(t, &bytesChooser{b: data}, min(len(data), 400), corrupt)
	})
}
