package bgworker

import (
	"testing"

	"bgwmodel/impl/shmem"
)

func TestASCIISafeCopy(t *testing.T) {
	cases := []struct {
		name string
		src  []byte
		want string
	}{
		{"plain", append([]byte("abc"), make([]byte, 61)...), "abc"},
		{"unterminated", bytesOf('x', 64), string(bytesOf('x', 63))},
		{"high bit", append([]byte{'a', 0xff, 'b', 0}, make([]byte, 60)...), "a?b"},
		{"controls", append([]byte{'\t', 1, '\n', 127, '\r', 0}, make([]byte, 58)...), "\t?\n\x7f\r"},
		{"stops at nul", append([]byte{'a', 0, 'b'}, make([]byte, 61)...), "a"},
		{"empty dest", []byte{}, ""},
		{"one byte", []byte{'z'}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := asciiSafeCopy(c.src); got != c.want {
				t.Fatalf("asciiSafeCopy = %q, want %q", got, c.want)
			}
		})
	}
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

func TestCodecRoundTrip(t *testing.T) {
	w := Worker{
		Name: string(bytesOf('n', MaxLen-1)), Flags: ShmemAccess | BackendDatabaseConnection,
		StartTime: RecoveryFinished, RestartTime: NeverRestart, LibraryName: "lib",
		FunctionName: "fn", MainArg: 1<<63 + 5, NotifyPid: 1234,
	}
	b := encodeWorker(&w)
	if len(b) != workerSize {
		t.Fatalf("block is %d bytes", len(b))
	}
	if got := decodeWorker(b); got != w {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, w)
	}
}

func TestLocation(t *testing.T) {
	for _, tc := range []struct {
		off  shmem.Offset
		want string
		ok   bool
	}{
		{offPMSignal, "pmsignal", true},
		{slotOff(0, slotInUse), "slot[0].in_use", true},
		{slotOff(3, slotGeneration), "slot[3].generation", true},
		{slotOff(1, slotWorker), "slot[1].worker", true},
		{slotOff(1, slotWorker) + 8, "", false},
		{2, "", false},
	} {
		got, ok := Location(tc.off)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Location(%d) = %q, %v; want %q, %v", tc.off, got, ok, tc.want, tc.ok)
		}
	}
}
