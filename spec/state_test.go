package spec

import (
	"math/rand"
	"testing"
)

// st builds a state with the given epoch, liveness and slots.
func st(epoch uint64, alive bool, slots ...Slot) State {
	return State{Slots: slots, Alive: alive, Epoch: epoch}
}

// Slot shorthands.
func used(gen uint64, pid Pid) Slot { return Slot{InUse: true, Generation: gen, Pid: pid} }
func free(gen uint64, pid Pid) Slot { return Slot{Generation: gen, Pid: pid} }

func TestInit(t *testing.T) {
	for _, tc := range []struct {
		name           string
		nslots, static int
		want           State
	}{
		{"empty", 0, 0, st(0, true)},
		{"no static", 2, 0, st(0, true, free(0, 0), free(0, 0))},
		{"some static", 3, 2, st(0, true, used(0, -1), used(0, -1), free(0, 0))},
		{"all static", 2, 2, st(0, true, used(0, -1), used(0, -1))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Init(tc.nslots, tc.static); !got.Equal(tc.want) {
				t.Errorf("Init(%d, %d) = %v, want %v", tc.nslots, tc.static, got, tc.want)
			}
		})
	}
	for _, bad := range [][2]int{{2, 3}, {2, -1}, {-1, 0}} {
		t.Run("panics", func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Init(%d, %d) did not panic", bad[0], bad[1])
				}
			}()
			Init(bad[0], bad[1])
		})
	}
}

func TestCloneIsIndependent(t *testing.T) {
	s := st(1, true, used(3, 7))
	c := s.Clone()
	c.Slots[0].Pid = 0
	if s.Slots[0].Pid != 7 {
		t.Errorf("changing a clone changed the original: %v", s)
	}
}

func TestEqualAndHash(t *testing.T) {
	states := []State{
		st(0, true),
		st(0, false),
		st(1, true),
		st(0, true, free(0, 0)),
		st(0, true, used(0, 0)),
		st(0, true, free(1, 0)),
		st(0, true, free(0, -1)),
		st(0, true, used(0, -1)),
		st(0, true, used(0, -1), free(0, 0)),
		st(0, true, free(0, 0), used(0, -1)),
		st(0, true, used(1<<32, 5)),
		st(0, true, used(1, 5)),
		st(1<<40, false, used(9, 12345), free(3, 0), used(2, -1)),
	}
	for i, a := range states {
		for j, b := range states {
			if eq := a.Equal(b); eq != (i == j) {
				t.Errorf("%v.Equal(%v) = %v", a, b, eq)
			}
			if i != j && a.Hash() == b.Hash() {
				t.Errorf("%v and %v share hash %#x", a, b, a.Hash())
			}
		}
		if c := a.Clone(); !c.Equal(a) || c.Hash() != a.Hash() {
			t.Errorf("clone of %v differs", a)
		}
	}
	// nil and empty slot lists are the same state.
	if a, b := (State{Alive: true}), (State{Slots: []Slot{}, Alive: true}); !a.Equal(b) || a.Hash() != b.Hash() {
		t.Error("nil and empty slot lists differ")
	}
}

// TestHashIsStable pins the hash function: porcupine and saved reports rely
// on it being the same in every run and on every platform.
func TestHashIsStable(t *testing.T) {
	for _, tc := range []struct {
		s    State
		want uint64
	}{
		{st(0, true), 0x32d42a0eed270ac4},
		{Init(2, 1), 0x72d90b6296d9e893},
		{st(3, false, used(7, 4242), free(2, 0)), 0x3dfe153d4d222cf2},
	} {
		t.Run(tc.s.String(), func(t *testing.T) {
			if got := tc.s.Hash(); got != tc.want {
				t.Errorf("Hash = %#x, want %#x", got, tc.want)
			}
		})
	}
}

// TestHashEqualRandomWalk walks the state space with Step and checks that
// equal states always hash alike, whichever path reached them.
func TestHashEqualRandomWalk(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	seen := map[string]uint64{}
	for run := 0; run < 200; run++ {
		s := Init(3, rng.Intn(2))
		for step := 0; step < 30; step++ {
			in, out := randomOp(rng, s)
			next := Step(s, in, out)
			if len(next) == 0 {
				continue
			}
			s = next[rng.Intn(len(next))]
			key := s.String()
			if h, ok := seen[key]; ok && h != s.Hash() {
				t.Fatalf("state %v hashed %#x and %#x", s, h, s.Hash())
			}
			seen[key] = s.Hash()
		}
	}
	if len(seen) < 50 {
		t.Errorf("walk reached only %d states", len(seen))
	}
}

// randomOp returns a random operation, often a legal one, from s.
func randomOp(rng *rand.Rand, s State) (Input, Output) {
	n := len(s.Slots)
	slot := rng.Intn(n + 1)
	switch rng.Intn(8) {
	case 0:
		h := Handle{Slot: slot, Epoch: s.Epoch}
		if slot < n {
			h.Generation = s.Slots[slot].Generation + 1
		}
		return Input{Kind: OpRegister, Worker: good}, Output{Handle: h, Unknown: rng.Intn(4) == 0}
	case 1:
		return Input{Kind: OpLaunch, Slot: slot, Pid: Pid(rng.Intn(3) + 1)}, Output{}
	case 2:
		return Input{Kind: OpExit, Slot: slot}, Output{}
	case 3, 4:
		return Input{Kind: OpForget, Slot: slot}, Output{Unknown: rng.Intn(3) == 0}
	case 5:
		if rng.Intn(5) == 0 {
			return Input{Kind: OpReinit, InUse: rng.Perm(n)[:rng.Intn(n+1)]}, Output{}
		}
	case 6:
		if rng.Intn(10) == 0 {
			return Input{Kind: OpDied}, Output{}
		}
	}
	h := Handle{Slot: slot % max(n, 1), Epoch: s.Epoch}
	if h.Slot < n {
		h.Generation = s.Slots[h.Slot].Generation
	}
	stat, pid := StatusOf(s, h)
	return Input{Kind: OpGetPid, Handle: h}, Output{Status: stat, Pid: pid}
}

func TestStatusOf(t *testing.T) {
	s := st(2, true, used(3, -1), used(3, 0), used(3, 4242), free(3, -1), free(3, 4242))
	for _, tc := range []struct {
		name   string
		h      Handle
		status Status
		pid    Pid
	}{
		{"not yet started", Handle{0, 3, 2}, NotYetStarted, 0},
		{"dead", Handle{1, 3, 2}, Stopped, 0},
		{"running", Handle{2, 3, 2}, Started, 4242},
		{"free slot, pid -1 (forgotten before start)", Handle{3, 3, 2}, Stopped, 0},
		{"free slot, running pid", Handle{4, 3, 2}, Stopped, 0},
		{"older generation", Handle{2, 2, 2}, Stopped, 0},
		{"newer generation", Handle{0, 4, 2}, Stopped, 0},
		{"older epoch", Handle{2, 3, 1}, Stopped, 0},
		{"newer epoch", Handle{0, 3, 3}, Stopped, 0},
		{"slot -1", Handle{-1, 3, 2}, Stopped, 0},
		{"slot past the end", Handle{5, 3, 2}, Stopped, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, pid := StatusOf(s, tc.h)
			if status != tc.status || pid != tc.pid {
				t.Errorf("StatusOf(%v) = %v %d, want %v %d", tc.h, status, pid, tc.status, tc.pid)
			}
		})
	}
}

func TestStateStrings(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{st(1, true, used(1, -1), free(0, 0)).String(), "e1 alive [0:in-use g1 pid=-1, 1:free g0 pid=0]"},
		{st(0, false).String(), "e0 dead []"},
		{Handle{2, 1, 0}.String(), "s2/g1/e0"},
		{NotYetStarted.String(), "NOT_YET_STARTED"},
		{Started.String(), "STARTED"},
		{Stopped.String(), "STOPPED"},
		{PostmasterDied.String(), "POSTMASTER_DIED"},
		{Status(7).String(), "Status(7)"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}
