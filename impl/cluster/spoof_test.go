package cluster_test

import (
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/cluster"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/proc/proctest"
)

// TestNotifyPidSpoofing: a backend names as its worker's registrant a
// process that is not a live backend of this postmaster — init (pid 1),
// or another backend that has exited since (its pid may be recycled by
// any process). The postmaster never signals it: pid 1 is dropped at
// adoption, and the exited backend's notifications stop with its exit.
func TestNotifyPidSpoofing(t *testing.T) {
	proctest.Clean(t)
	c := start(t, cluster.Config{MaxWorkers: 2})
	spoofer := connect(t, c)
	victim := connect(t, c)
	victimPid := int32(victim.Pid())

	toInit := def("to-init", "run", 0, bgworker.NeverRestart)
	toInit.NotifyPid = 1
	if _, err := spoofer.Register(ctxT(t), toInit); err != nil {
		t.Fatal(err)
	}
	// The victim is alive at adoption, so its pid is kept...
	toVictim := def("to-victim", "exit1", 0, 1)
	toVictim.NotifyPid = victimPid
	h, err := spoofer.Register(ctxT(t), toVictim)
	if err != nil {
		t.Fatal(err)
	}
	pollStatus(t, spoofer, h, 5*time.Second, func(s bgworker.PidStatus) bool { return s.Status == bgworker.Started })
	// ...until it exits: from then on no notification may reach its pid,
	// although the worker keeps exiting and restarting.
	if err := victim.Close(); err != nil {
		t.Fatal(err)
	}
	waitRecords(t, c, "victim's exit", 5*time.Second, func(recs []postmaster.Record) bool {
		return len(filter(recs, postmaster.RecordBackendExited, func(r postmaster.Record) bool { return r.Pid == victimPid })) == 1
	})
	exitedAt := 0
	recs := waitRecords(t, c, "two more restarts", 10*time.Second, func(recs []postmaster.Record) bool {
		for i, r := range recs {
			if r.Kind == postmaster.RecordBackendExited && r.Pid == victimPid {
				exitedAt = i
			}
		}
		return len(filter(recs[exitedAt:], postmaster.RecordLaunch, inSlot(h.Slot))) >= 2
	})
	for i, r := range recs {
		if r.Kind == postmaster.RecordNotify && r.Notify == 1 {
			t.Errorf("record %d: init signalled: %v", i, r)
		}
		if i > exitedAt && r.Kind == postmaster.RecordNotify && r.Notify == victimPid {
			t.Errorf("record %d: the exited backend's pid signalled: %v", i, r)
		}
	}
	if d := filter(recs, postmaster.RecordDropNotify, func(r postmaster.Record) bool { return r.Pid == 1 }); len(d) != 1 {
		t.Errorf("pid 1 not dropped at adoption: %v", d)
	}
	if n := len(filter(recs[:exitedAt], postmaster.RecordNotify, func(r postmaster.Record) bool { return r.Notify == victimPid })); n == 0 {
		t.Error("the victim was never notified while alive: the test shows nothing")
	}
}

// TestFileModes: everything a cluster writes in its directory (the
// configuration, the record log, the server log) is readable by its owner
// only (0600), and the directory is 0700, whatever the umask lets through.
func TestFileModes(t *testing.T) {
	proctest.Clean(t)
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "cluster")
	c := start(t, cluster.Config{MaxWorkers: 2, Dir: dir})
	b := connect(t, c)
	if _, err := b.Register(ctxT(t), def("moded", "exit1", 0, bgworker.NeverRestart)); err != nil {
		t.Fatal(err)
	}
	var files int
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Errorf("%d files in the cluster directory; want the configuration and both logs", files)
	}
}
