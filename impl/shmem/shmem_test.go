package shmem_test

import (
	"errors"
	"os"
	"slices"
	"sync"
	"testing"

	"bgwmodel/impl/shmem"
	"bgwmodel/impl/shmem/memfd"
)

func memories(t *testing.T, size int) map[string]shmem.Memory {
	t.Helper()
	r, err := memfd.Create("test", size)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return map[string]shmem.Memory{"local": shmem.NewLocal(size), "region": r}
}

func TestBounds(t *testing.T) {
	for name, m := range memories(t, 64) {
		t.Run(name, func(t *testing.T) {
			cases := []struct {
				name string
				do   func() error
				want error
			}{
				{"load32 end", func() error { _, err := m.Load32(60, shmem.Relaxed); return err }, nil},
				{"load32 past end", func() error { _, err := m.Load32(64, shmem.Relaxed); return err }, shmem.ErrOutOfRange},
				{"load32 huge", func() error { _, err := m.Load32(0xfffffffc, shmem.Relaxed); return err }, shmem.ErrOutOfRange},
				{"load32 misaligned", func() error { _, err := m.Load32(2, shmem.Relaxed); return err }, shmem.ErrMisaligned},
				{"store64 misaligned", func() error { return m.Store64(4, 1, shmem.Relaxed) }, shmem.ErrMisaligned},
				{"store64 past end", func() error { return m.Store64(64, 1, shmem.Relaxed) }, shmem.ErrOutOfRange},
				{"add64 past end", func() error { _, err := m.Add64(64, 1, shmem.Relaxed); return err }, shmem.ErrOutOfRange},
				{"swap misaligned", func() error { _, err := m.Swap32(1, 1, shmem.AcqRel); return err }, shmem.ErrMisaligned},
				{"cas past end", func() error { _, err := m.CompareAndSwap32(64, 0, 1, shmem.AcqRel); return err }, shmem.ErrOutOfRange},
				{"bytes overflow", func() error { return m.StoreBytes(60, make([]byte, 8)) }, shmem.ErrOutOfRange},
				{"bytes whole", func() error { return m.LoadBytes(0, make([]byte, 64)) }, nil},
				{"bytes unaligned ok", func() error { return m.StoreBytes(3, make([]byte, 5)) }, nil},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					err := c.do()
					if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
						t.Fatalf("got %v, want %v", err, c.want)
					}
				})
			}
		})
	}
}

func TestAccesses(t *testing.T) {
	for name, m := range memories(t, 64) {
		t.Run(name, func(t *testing.T) {
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(m.Store32(8, 7, shmem.Release))
			if v, _ := m.Load32(8, shmem.Acquire); v != 7 {
				t.Fatalf("Load32 = %d", v)
			}
			if old, _ := m.Swap32(8, 9, shmem.AcqRel); old != 7 {
				t.Fatalf("Swap32 old = %d", old)
			}
			if ok, _ := m.CompareAndSwap32(8, 7, 1, shmem.AcqRel); ok {
				t.Fatal("CAS with wrong old succeeded")
			}
			if ok, _ := m.CompareAndSwap32(8, 9, 1, shmem.AcqRel); !ok {
				t.Fatal("CAS failed")
			}
			must(m.Store64(16, 1<<40, shmem.Relaxed))
			if v, _ := m.Add64(16, 2, shmem.AcqRel); v != 1<<40+2 {
				t.Fatalf("Add64 = %d", v)
			}
			src := []byte("0123456789abcdef")
			must(m.StoreBytes(32, src))
			dst := make([]byte, len(src))
			must(m.LoadBytes(32, dst))
			if string(dst) != string(src) {
				t.Fatalf("LoadBytes = %q", dst)
			}
			m.Fence(shmem.FullBarrier)
		})
	}
}

// Two mappings of one memfd see each other's writes, and the memfd is
// private to its owner.
func TestRegionAttach(t *testing.T) {
	r, err := memfd.Create("attach", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != 104 {
		t.Fatalf("size %d, want rounded up to 104", r.Size())
	}
	st, err := r.File().Stat()
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Fatalf("mode %v, want 0600", perm)
	}
	f, err := os.OpenFile("/proc/self/fd/"+itoa(int(r.File().Fd())), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := memfd.Attach(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if err := r.Store64(8, 42, shmem.Release); err != nil {
		t.Fatal(err)
	}
	if v, _ := r2.Load64(8, shmem.Acquire); v != 42 {
		t.Fatalf("other mapping reads %d", v)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r2.Close(); !errors.Is(err, memfd.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := r2.Load64(8, shmem.Acquire); err == nil {
		t.Fatal("a load after Close succeeded")
	}
}

func TestCreateErrors(t *testing.T) {
	if _, err := memfd.Create("zero", 0); err == nil {
		t.Fatal("Create(0) succeeded")
	}
}

func TestConcurrentAdd(t *testing.T) {
	for name, m := range memories(t, 64) {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 1000; i++ {
						m.Add64(0, 1, shmem.AcqRel)
					}
				}()
			}
			wg.Wait()
			if v, _ := m.Load64(0, shmem.Relaxed); v != 4000 {
				t.Fatalf("sum %d", v)
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestObserve: every access is reported once, before it is made, with its
// method, location and order; the accesses still take effect.
func TestObserve(t *testing.T) {
	var seen []shmem.Access
	var before uint32 // the word at 8 when the Store32 to it is reported
	mem := shmem.NewLocal(64)
	m := shmem.Observe(mem, func(a shmem.Access) {
		seen = append(seen, a)
		if a.Method == "Store32" {
			before, _ = mem.Load32(8, shmem.Relaxed)
		}
	})
	m.Store32(8, 7, shmem.Release)
	v, _ := m.Load32(8, shmem.Acquire)
	m.Swap32(12, 1, shmem.AcqRel)
	m.CompareAndSwap32(12, 1, 2, shmem.AcqRel)
	m.Store64(16, 5, shmem.Relaxed)
	m.Add64(16, 1, shmem.AcqRel)
	m.Load64(16, shmem.Relaxed)
	m.StoreBytes(24, []byte("ab"))
	m.LoadBytes(24, make([]byte, 2))
	m.Fence(shmem.FullBarrier)
	want := []shmem.Access{
		{Method: "Store32", Off: 8, Order: shmem.Release}, {Method: "Load32", Off: 8, Order: shmem.Acquire},
		{Method: "Swap32", Off: 12, Order: shmem.AcqRel}, {Method: "CompareAndSwap32", Off: 12, Order: shmem.AcqRel},
		{Method: "Store64", Off: 16}, {Method: "Add64", Off: 16, Order: shmem.AcqRel}, {Method: "Load64", Off: 16},
		{Method: "StoreBytes", Off: 24}, {Method: "LoadBytes", Off: 24}, {Method: "Fence", Fence: shmem.FullBarrier},
	}
	if !slices.Equal(seen, want) {
		t.Errorf("observed %v\nwant %v", seen, want)
	}
	if before != 0 || v != 7 {
		t.Errorf("the store was reported after it was made (%d), or not made (%d)", before, v)
	}
	if got, _ := mem.Load64(16, shmem.Relaxed); got != 6 {
		t.Errorf("word at 16 = %d, want 6", got)
	}
}
