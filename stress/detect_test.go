package stress

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"bgwmodel/impl/flaw"
	"bgwmodel/impl/proc/proctest"
)

var (
	flagLong     = flag.Bool("stress.long", false, "TestDetection: run every flaw with several seeds and report the median time to detect")
	flagSeeds    = flag.Int("stress.seeds", 0, "TestManySeeds: run the default campaign with this many distinct seeds")
	flagDuration = flag.Duration("stress.duration", 0, "TestManySeeds: each campaign's duration (default: the configuration's)")
	flagUpdate   = flag.String("stress.update", "", "TestGenerateTestdata: rewrite these saved runs of stress/testdata (comma-separated names, or all)")
)

// x86Flaws are the flaws stress must catch.
func x86Flaws() []flaw.Flaw {
	var out []flaw.Flaw
	for _, e := range flaw.Catalogue() {
		if !e.Weak {
			out = append(out, e.Flaw)
		}
	}
	return out
}

// runCampaign runs one campaign in a fresh directory and checks that it
// leaves no process or descriptor behind.
func runCampaign(t *testing.T, cfg Config) *Result {
	t.Helper()
	proctest.Clean(t)
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), cfg, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict.Check(CheckStop).Outcome != Pass {
		t.Errorf("seed %d: stop: %s", cfg.Seed, res.Verdict.Check(CheckStop).Detail)
	}
	return res
}

// TestDetection is the detection matrix: every x86-visible flaw is caught
// by a check meant for it, and the default campaign passes. With -short,
// only a short clean campaign and one flaw; with -stress.long, five seeds
// per flaw and the median time to detect.
func TestDetection(t *testing.T) {
	seeds := 1
	if *flagLong {
		seeds = 5
	}
	flaws := x86Flaws()
	clean := 10 * time.Second
	if testing.Short() {
		flaws, clean = []flaw.Flaw{flaw.NotifyBeforeFree}, 4*time.Second
	}
	var table []string
	for _, f := range flaws {
		t.Run(f.String(), func(t *testing.T) {
			var times []time.Duration
			for i := range seeds {
				cfg := DefaultConfig()
				cfg.Seed, cfg.Flaw, cfg.Duration = int64(1000*int(f)+i+1), f.String(), Duration(30*time.Second)
				res := runCampaign(t, cfg)
				by := CaughtBy(res.Verdict, f)
				if len(by) == 0 {
					t.Errorf("seed %d: %s not caught (want %v):\n%s%s", cfg.Seed, f, Catchers(f), Summary(res), res.Verdict)
					continue
				}
				times = append(times, res.DetectedAfter)
				t.Logf("seed %d: caught by %v after %v (%s)", cfg.Seed, by, res.DetectedAfter.Round(time.Millisecond), res.FirstViolation)
			}
			if len(times) > 0 {
				slices.Sort(times)
				table = append(table, fmt.Sprintf("%-24s median %v over %d seeds (min %v, max %v)", f,
					times[len(times)/2].Round(10*time.Millisecond), len(times), times[0].Round(10*time.Millisecond),
					times[len(times)-1].Round(10*time.Millisecond)))
			}
		})
	}
	t.Run("clean", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Seed, cfg.Duration = 7, Duration(clean)
		res := runCampaign(t, cfg)
		if res.Verdict.Outcome() != Pass {
			t.Errorf("the default campaign did not pass:\n%s%s", Summary(res), res.Verdict)
		}
		t.Logf("%s", Summary(res))
	})
	t.Run("postmaster-death", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Seed, cfg.Duration = 8, Duration(clean/2)
		if err := cfg.SetFaults("kill-worker,kill-backend,fail-spawns,stop-postmaster,postmaster-death"); err != nil {
			t.Fatal(err)
		}
		res := runCampaign(t, cfg)
		if res.Verdict.Outcome() != Pass || res.Faults[FaultPostmasterDeath] != 1 {
			t.Errorf("a campaign with the postmaster's death did not pass:\n%s%s", Summary(res), res.Verdict)
		}
	})
	t.Logf("time to detect:\n%s", strings.Join(table, "\n"))
}

// TestManySeeds runs the default campaign with -stress.seeds distinct
// seeds (-stress.duration each) and requires every one to pass: the
// checkers never cry wolf.
func TestManySeeds(t *testing.T) {
	if *flagSeeds <= 0 {
		t.Skip("run with -stress.seeds=N [-stress.duration=D]")
	}
	var ops, restarts, faults, violations int
	start := time.Now()
	for i := range *flagSeeds {
		cfg := DefaultConfig()
		cfg.Seed = int64(100_000 + i)
		if *flagDuration > 0 {
			cfg.Duration = Duration(*flagDuration)
		}
		res := runCampaign(t, cfg)
		ops += res.Ops
		restarts += res.Restarts
		for _, n := range res.Faults {
			faults += n
		}
		if res.Verdict.Outcome() != Pass {
			violations++
			t.Errorf("seed %d: %v\n%s%s", cfg.Seed, res.Verdict.Outcome(), Summary(res), res.Verdict)
		}
	}
	t.Logf("campaigns %d, operations %d, crash restarts %d, faults %d, violations %d, in %v",
		*flagSeeds, ops, restarts, faults, violations, time.Since(start).Round(time.Second))
}

// testdataConfig is the small campaign of the saved runs in testdata:
// fewer backends and slots, slower clients, frequent probes. clean-2
// ends with the postmaster's death.
func testdataConfig(name string, seed int64, f string) Config {
	cfg := DefaultConfig()
	cfg.Seed, cfg.Flaw = seed, f
	cfg.Duration, cfg.Backends, cfg.Careful, cfg.Slots = Duration(12*time.Second), 2, 1, 6
	cfg.Workload.Think = Duration(15 * time.Millisecond)
	cfg.Faults.StopPostmaster.Every = Duration(1500 * time.Millisecond)
	cfg.Check.LinInterval = Duration(time.Second)
	cfg.Vary = Vary{} // small and alike: the flaws' runs and the clean ones
	if f == "" {
		cfg.Duration = Duration(3 * time.Second)
	}
	if name == "clean-2" {
		cfg.Faults.PostmasterDeath.Enabled, cfg.Faults.PostmasterDeath.At = true, 0.7
	}
	return cfg
}

// TestGenerateTestdata rewrites stress/testdata (with -stress.update):
// for each x86-visible flaw a small failing run caught by a check meant
// for it, and two clean runs; each under 200 KB.
func TestGenerateTestdata(t *testing.T) {
	if *flagUpdate == "" {
		t.Skip("run with -stress.update=all (or NAME,...) to rewrite stress/testdata")
	}
	names := []string{"clean-1", "clean-2"}
	for _, f := range x86Flaws() {
		names = append(names, f.String())
	}
	for i, name := range names {
		if *flagUpdate != "all" && !slices.Contains(strings.Split(*flagUpdate, ","), name) {
			continue
		}
		f := name
		if strings.HasPrefix(name, "clean") {
			f = ""
		}
		for try := range 20 {
			cfg := testdataConfig(name, int64((i+1)*1000+try+1), f)
			res := runCampaign(t, cfg)
			fl, _ := flaw.Parse(f)
			// Prefer the evidence the catalogue names first (for
			// no-inuse-check a NOT_YET_STARTED the checker rejects) for
			// ten tries, then take any the catalogue names.
			want := Catchers(fl)
			if len(want) > 0 && try < 10 {
				want = want[:1]
			}
			caught := slices.ContainsFunc(CaughtBy(res.Verdict, fl), func(c Catcher) bool {
				return slices.ContainsFunc(want, func(w Catcher) bool { return w.Check == c.Check })
			})
			if (f == "" && res.Verdict.Outcome() != Pass) || (f != "" && !caught) {
				t.Logf("%s: seed %d: %v, trying another", name, cfg.Seed, res.Verdict.Failed())
				continue
			}
			for _, junk := range []string{"server.log", "postmaster.json", HTMLFile, ResultFile} {
				os.Remove(filepath.Join(res.Dir, junk))
			}
			if size := dirSize(t, res.Dir); size > 200_000 {
				t.Logf("%s: seed %d: %d bytes, trying another", name, cfg.Seed, size)
				continue
			}
			dst := filepath.Join("testdata", name)
			os.RemoveAll(dst)
			if err := os.Rename(res.Dir, dst); err != nil {
				t.Fatal(err)
			}
			repro := ReproCommand(res.Config, filepath.Join("stress", dst)) + "\n"
			if err := os.WriteFile(filepath.Join(dst, ReproFile), []byte(repro), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := SealRunDir(dst); err != nil { // the junk is gone
				t.Fatal(err)
			}
			t.Logf("%s: seed %d, %d bytes, %s", name, cfg.Seed, dirSize(t, dst), res.FirstViolation)
			break
		}
	}
}

func dirSize(t *testing.T, dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// TestTestdata checks the saved runs: each flaw's run fails with a check
// meant for it, and the clean runs pass.
func TestTestdata(t *testing.T) {
	for _, f := range x86Flaws() {
		t.Run(f.String(), func(t *testing.T) {
			v, err := CheckDir(filepath.Join("testdata", f.String()), CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if by := CaughtBy(v, f); len(by) == 0 {
				t.Errorf("not caught by %v:\n%s", Catchers(f), v)
			}
		})
	}
	dirs, _ := filepath.Glob(filepath.Join("testdata", "clean-*"))
	if len(dirs) < 2 {
		t.Fatalf("clean runs in testdata: %v, want 2", dirs)
	}
	for _, d := range dirs {
		t.Run(filepath.Base(d), func(t *testing.T) {
			v, err := CheckDir(d, CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if v.Outcome() != Pass {
				t.Errorf("%v:\n%s", v.Outcome(), v)
			}
			for _, c := range v.Checks {
				if c.Outcome == Skipped {
					t.Errorf("%s skipped: %s", c.Name, c.Summary)
				}
			}
		})
	}
}
