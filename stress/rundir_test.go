package stress

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"bgwmodel/linearizability"
)

// copyRun copies the saved run testdata/name to a new directory and
// returns its path.
func copyRun(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("testdata", name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		data, err := os.ReadFile(p)
		if err == nil {
			err = os.WriteFile(filepath.Join(dst, rel), data, 0o600)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// checkDirBounded is CheckDir, failing the test if it has not returned
// within a minute (a FIFO read would block for ever).
func checkDirBounded(t *testing.T, dir string) (*Verdict, error) {
	t.Helper()
	type result struct {
		v   *Verdict
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := CheckDir(dir, CheckOptions{})
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-time.After(time.Minute):
		t.Fatalf("CheckDir(%s) hangs", dir)
		return nil, nil
	}
}

// TestCheckDirRefusesDamagedRuns: a run directory that is not whole (a
// part missing, cut or changed, no manifest because the run never
// finished, a file the run did not write, anything but a regular file) is
// an error naming the part, never a verdict.
func TestCheckDirRefusesDamagedRuns(t *testing.T) {
	for _, tc := range []struct {
		name       string
		run        string
		damage     func(t *testing.T, dir string)
		want       []string // in the error
		incomplete bool     // the error wraps ErrIncompleteRun
	}{
		{"interrupted: no manifest", "clean-1", remove(ManifestFile), []string{"no manifest.json", "did not finish"}, true},
		{"no postmaster history derivable: no record log", "clean-1", remove(RecordsFile), []string{"the part records.jsonl is missing"}, true},
		{"no waits", "clean-1", remove(WaitsFile), []string{"the part waits.jsonl is missing"}, true},
		{"no postmaster exit", "clean-1", remove(PostmasterExitFile), []string{"postmaster-exit.json is missing"}, true},
		{"no campaign", "clean-1", remove(CampaignFile), []string{"campaign.json is missing"}, true},
		{"a history file gone", "clean-1", removeHistory, []string{"history/", "is missing"}, true},
		{"a history file the run did not write", "clean-1", write("history/z.jsonl", `{"client":77,"process":"b77","op":"get_pid","input":{"handle":{"slot":0,"generation":1,"epoch":0}},"output":{"status":"STOPPED"},"call":1,"return":2}`+"\n"),
			[]string{"z.jsonl", "not written by the run"}, true},
		{"records cut in the middle of a line", "notify-before-free", cutRecords(0.5), []string{"records.jsonl", "the run wrote", "cut or changed"}, true},
		{"records cut at a line's end", "notify-before-free", cutRecordsAtLine, []string{"records.jsonl", "cut or changed"}, true},
		{"records changed", "clean-1", flipByte(RecordsFile), []string{"records.jsonl", "differs from what the run wrote"}, true},
		{"a FIFO for a history", "clean-1", fifo("history/z.jsonl"), []string{"z.jsonl", "not written by the run"}, true},
		{"/dev/zero for a history", "clean-1", symlink("/dev/zero", "history/zero.jsonl"), []string{"zero.jsonl", "not written by the run"}, true},
		{"/dev/zero for a history the run wrote", "clean-1", replaceBy("/dev/zero", "history/b1.jsonl"), []string{"b1.jsonl", "character device"}, true},
		{"/dev/zero for the record log", "clean-1", replaceBy("/dev/zero", RecordsFile), []string{"records.jsonl", "character device"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyRun(t, tc.run)
			tc.damage(t, dir)
			v, err := checkDirBounded(t, dir)
			if err == nil {
				t.Fatalf("CheckDir passed a damaged run with a verdict: %v\n%s", v.Outcome(), v)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tc.incomplete && !errors.Is(err, ErrIncompleteRun) {
				t.Errorf("error %v does not wrap ErrIncompleteRun", err)
			}
		})
	}
}

func remove(name string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func removeHistory(t *testing.T, dir string) {
	paths, _ := filepath.Glob(filepath.Join(dir, HistoryDir, "b*.jsonl"))
	if len(paths) == 0 {
		t.Fatal("no backend history")
	}
	if err := os.Remove(paths[0]); err != nil {
		t.Fatal(err)
	}
}

func write(name, content string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func fifo(name string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func symlink(target, name string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func replaceBy(target, name string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		remove(name)(t, dir)
		symlink(target, name)(t, dir)
	}
}

// cutRecords cuts the record log at the given fraction of its length.
func cutRecords(at float64) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		p := filepath.Join(dir, RecordsFile)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		n := int(float64(len(data)) * at)
		if data[n-1] == '\n' {
			n-- // in the middle of a line
		}
		if err := os.WriteFile(p, data[:n], 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// cutRecordsAtLine drops the record log's second half, at a line's end.
func cutRecordsAtLine(t *testing.T, dir string) {
	p := filepath.Join(dir, RecordsFile)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	n := bytes.IndexByte(data[len(data)/2:], '\n') + len(data)/2 + 1
	if err := os.WriteFile(p, data[:n], 0o600); err != nil {
		t.Fatal(err)
	}
}

func flipByte(name string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		p := filepath.Join(dir, name)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(data, []byte(`"slot":`)) + len(`"slot":`)
		data[i] ^= 1 // a slot number, one bit off
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckFilesTornRecords: a record log given as a file, cut anywhere,
// is refused unless the postmaster was killed: at every cut point of the
// saved notify-before-free run, never a pass.
func TestCheckFilesTornRecords(t *testing.T) {
	src := filepath.Join("testdata", "notify-before-free")
	data, err := os.ReadFile(filepath.Join(src, RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	hist, _ := filepath.Glob(filepath.Join(src, HistoryDir, "*.jsonl"))
	whole, err := CheckFiles(append(hist, filepath.Join(src, RecordsFile)), CheckOptions{Slots: 6})
	if err != nil || whole.Outcome() != Fail {
		t.Fatalf("the whole run: %v, %v; want FAIL", whole, err)
	}
	tmp := t.TempDir()
	for k := 1; k <= 15; k++ {
		n := len(data) * k / 16
		p := filepath.Join(tmp, RecordsFile)
		if err := os.WriteFile(p, data[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		v, err := CheckFiles(append(hist, p), CheckOptions{Slots: 6})
		if err == nil && v.Outcome() != Fail {
			t.Errorf("cut at byte %d of %d: %v, want an error (or the violation), never a pass", n, len(data), v.Outcome())
		}
		if err != nil && !errors.Is(err, ErrIncompleteRun) {
			t.Errorf("cut at byte %d: %v, want ErrIncompleteRun", n, err)
		}
	}
}

// TestCheckDirRefusesPostmasterHistory: in a run directory the
// postmaster's operations come from the record log only; a history file
// holding them (an old or forged postmaster.jsonl) is refused, even when
// sealed.
func TestCheckDirRefusesPostmasterHistory(t *testing.T) {
	dir := copyRun(t, "clean-1")
	line := `{"client":1073741825,"process":"postmaster","op":"forget","input":{"slot":1},"output":{},"call":3,"return":4}` + "\n"
	write("history/postmaster.jsonl", line)(t, dir)
	if err := SealRunDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckDir(dir, CheckOptions{}); err == nil || !strings.Contains(err.Error(), "come from records.jsonl only") {
		t.Fatalf("CheckDir: %v, want the postmaster history refused", err)
	}
}

// TestSealRunDir: a sealed directory checks as it did, and sealing refuses
// what is not a regular file.
func TestSealRunDir(t *testing.T) {
	dir := copyRun(t, "clean-1")
	if err := SealRunDir(dir); err != nil {
		t.Fatal(err)
	}
	if v, err := CheckDir(dir, CheckOptions{}); err != nil || v.Outcome() != Pass {
		t.Fatalf("resealed clean-1: %v, %v", v, err)
	}
	fifo("history/f.jsonl")(t, dir)
	if err := SealRunDir(dir); err == nil || !strings.Contains(err.Error(), "FIFO") {
		t.Fatalf("SealRunDir with a FIFO: %v", err)
	}
}

// TestCheckDirHistoryFilesOnly: a directory of history files (not a run
// directory) refuses anything but regular files too, without blocking.
func TestCheckDirHistoryFilesOnly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(*testing.T, string)
		want   string
	}{
		{"FIFO", fifo("z.jsonl"), "FIFO"},
		{"/dev/zero", symlink("/dev/zero", "zero.jsonl"), "character device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			hist, _ := filepath.Glob(filepath.Join("testdata", "clean-1", HistoryDir, "*.jsonl"))
			for _, p := range hist {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				write(filepath.Base(p), string(data))(t, dir)
			}
			tc.damage(t, dir)
			if _, err := checkDirBounded(t, dir); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckDir: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestCheckDirLiveViolation: a violation the campaign found while it ran
// is checked again from the snapshot it saved, and fails the run even
// where the checks of the whole history pass.
func TestCheckDirLiveViolation(t *testing.T) {
	src := filepath.Join("testdata", "no-inuse-check")
	h, err := linearizability.ReadDir(filepath.Join(src, HistoryDir))
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := readRecords(filepath.Join(src, RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	pmh, _, err := PostmasterHistory(recs)
	if err != nil {
		t.Fatal(err)
	}
	h = append(h, pmh...)
	h.SortByCall()
	dir := copyRun(t, "clean-1")
	if err := writeHistory(filepath.Join(dir, LiveViolationFile), h); err != nil {
		t.Fatal(err)
	}
	if err := SealRunDir(dir); err != nil {
		t.Fatal(err)
	}
	v, err := CheckDir(dir, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Failed(); len(got) != 1 || got[0] != CheckLive {
		t.Fatalf("failed %v, want [%s]:\n%s", got, CheckLive, v)
	}
}

// TestCheckOptionsDefaults: a memory budget given wins; else the run's
// configuration gives it; the timeout defaults to 2 minutes.
func TestCheckOptionsDefaults(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Check.MemoryBudget = 64 << 20
	for _, tc := range []struct {
		name   string
		opts   CheckOptions
		cfg    *Config
		budget int64
	}{
		{"the run's", CheckOptions{}, &cfg, 64 << 20},
		{"given", CheckOptions{MemoryBudget: 8 << 20}, &cfg, 8 << 20},
		{"no run", CheckOptions{}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lo := tc.opts.defaults(tc.cfg).linOptions(8, 1)
			if lo.MemoryBudget != tc.budget || lo.Timeout != 2*time.Minute || lo.Slots != 8 || lo.Static != 1 {
				t.Fatalf("options %+v", lo)
			}
		})
	}
}
