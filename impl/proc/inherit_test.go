package proc_test

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"bgwmodel/impl/proc"
	"bgwmodel/impl/proc/proctest"
)

// TestOpenInherited: an inherited pipe end (a descriptor without
// close-on-exec, in blocking mode, as a child finds it) comes back
// close-on-exec and pollable: a read deadline works and expires.
func TestOpenInherited(t *testing.T) {
	proctest.Clean(t)
	r, w := proctest.Pipe(t)
	fd, err := unix.Dup(int(r.Fd())) // Fd puts r in blocking mode; the dup has no FD_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	f, err := proc.OpenInherited(fd, "inherited")
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	defer f.Close()
	if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("FD_CLOEXEC not set: %#x, %v", flags, err)
	}
	if err := f.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatalf("not pollable: %v", err)
	}
	if _, err := f.Read(make([]byte, 1)); !os.IsTimeout(err) {
		t.Errorf("read: %v, want a timeout", err)
	}
	w.Close()
	if _, err := proc.OpenInherited(1<<20, "none"); err == nil {
		t.Error("OpenInherited of a closed fd succeeded")
	}
}
