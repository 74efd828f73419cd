package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"bgwmodel/impl/flaw"
	"bgwmodel/stress"
)

const stressSynopsis = "stress [-duration D] [-seed N] [-backends N] [-slots N] [-faults LIST] [-flaw NAME] [-out DIR] [-config FILE] [-stop-on-violation=BOOL] [-runs N] [-keep] [-print-config]"

// stressFlags are bgw stress's flags.
type stressFlags struct {
	duration    time.Duration
	seed        int64
	backends    int
	slots       int
	faults      string
	flaw        string
	out         string
	config      string
	stopOn      bool
	runs        int
	keep        bool
	printConfig bool
	set         map[string]bool
}

func runStress(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("stress", stressSynopsis, stderr)
	var f stressFlags
	fs.DurationVar(&f.duration, "duration", 0, "how long the workload and the faults run (default: the configuration's, 25s)")
	fs.Int64Var(&f.seed, "seed", 0, "seed of the harness's random choices; 0 picks one (always printed)")
	fs.IntVar(&f.backends, "backends", 0, "backends running operations at once (default: the configuration's, 5)")
	fs.IntVar(&f.slots, "slots", 0, "max_worker_processes (default: the configuration's, 12)")
	fs.StringVar(&f.faults, "faults", "default", "faults to inject, comma-separated: "+faultNames()+"; none; or default")
	fs.StringVar(&f.flaw, "flaw", "", "seed defect to bring back (see bgw flaws); only the x86-visible ones")
	fs.StringVar(&f.out, "out", ".", "directory in which to write the run directory bgw-out-SEED on a violation")
	fs.StringVar(&f.config, "config", "", "JSON configuration read over the embedded default (see -print-config)")
	fs.BoolVar(&f.stopOn, "stop-on-violation", true, "end the campaign at the first violation found while it runs")
	fs.IntVar(&f.runs, "runs", 1, "run N campaigns with seeds SEED, SEED+1, ... and report the totals")
	fs.BoolVar(&f.keep, "keep", false, "keep the run directory even when every check passes")
	fs.BoolVar(&f.printConfig, "print-config", false, "print the embedded default configuration and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: bgw %s\n\n", stressSynopsis)
		fmt.Fprintf(stderr, "Runs a stress campaign: a real cluster (postmaster, backends, workers as processes),\n"+
			"a random mix of operations and faults, then checks linearizability, the postmaster's\n"+
			"policy, that no waiter was left waiting, and that the stop left no process.\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nexit codes: 0 every check passed, 1 a violation (written to -out), 2 bad usage,\n"+
			"an infrastructure failure, or an undecided check\n")
	}
	if code := parseFlags(fs, args, false); code >= 0 {
		return code
	}
	if f.printConfig {
		stdout.Write(stress.DefaultConfigJSON())
		return exitOK
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	cfg, err := f.configure()
	if err != nil {
		fmt.Fprintf(stderr, "bgw stress: %v\n", err)
		return exitUsage
	}
	if f.runs < 1 {
		fmt.Fprintf(stderr, "bgw stress: -runs %d: want at least 1\n", f.runs)
		return exitUsage
	}
	if st, err := os.Stat(f.out); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "bgw stress: -out %s: not a directory\n", f.out)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.runs == 1 {
		return stressOnce(ctx, cfg, &f, stdout, stderr)
	}
	return stressMany(ctx, cfg, &f, stdout, stderr)
}

func faultNames() string {
	var names []string
	for _, k := range stress.FaultKinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// configure builds the configuration from -config and the flags given.
func (f *stressFlags) configure() (stress.Config, error) {
	cfg := stress.DefaultConfig()
	if f.config != "" {
		data, err := os.ReadFile(f.config)
		if err != nil {
			return cfg, err
		}
		if cfg, err = stress.ParseConfig(f.config, data); err != nil {
			return cfg, errors.New(strings.TrimPrefix(err.Error(), "stress: "))
		}
	}
	if f.set["duration"] {
		cfg.Duration = stress.Duration(f.duration)
	}
	if f.set["seed"] {
		cfg.Seed = f.seed
	}
	if f.set["backends"] {
		cfg.Backends = f.backends
		cfg.Careful = min(cfg.Careful, max(cfg.Backends-1, 0))
	}
	if f.set["slots"] {
		cfg.Slots = f.slots
	}
	if f.set["faults"] {
		if err := cfg.SetFaults(f.faults); err != nil {
			return cfg, fmt.Errorf("-faults: %s", strings.TrimPrefix(err.Error(), "stress: "))
		}
	}
	if f.set["flaw"] {
		set, err := flaw.ParseSet(f.flaw)
		if err != nil {
			return cfg, fmt.Errorf("-flaw: %v", err)
		}
		for _, fl := range set.Flaws() {
			if e, _ := fl.Entry(); e.Weak {
				return cfg, fmt.Errorf("-flaw %s: %s\n"+
					"  This flaw shows only under a weak memory model; x86 is too strong for stress to see it.\n"+
					"  Run the explorer instead: bgw explore -flaw %s -model view", fl, e.Shows, fl)
			}
		}
		cfg.Flaw = set.String()
		if set == 0 {
			cfg.Flaw = ""
		}
	}
	if f.set["stop-on-violation"] {
		cfg.Check.StopOnViolation = f.stopOn
	}
	if err := cfg.Validate(); err != nil {
		return cfg, errors.New(strings.TrimPrefix(err.Error(), "stress: "))
	}
	return cfg, nil
}

// freshDir returns a path under parent named bgw-out-SEED (or with -2,
// -3, ... appended) that does not exist yet.
func freshDir(parent string, seed int64) string {
	base := filepath.Join(parent, fmt.Sprintf("bgw-out-%d", seed))
	dir := base
	for k := 2; ; k++ {
		if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
			return dir
		}
		dir = fmt.Sprintf("%s-%d", base, k)
	}
}

// campaign runs one campaign in a temporary directory under -out and
// renames it to a fresh bgw-out-SEED if it is to be kept. It returns the
// result (nil on an infrastructure failure, reported on stderr) and where
// the run directory is ("" if removed).
func campaign(ctx context.Context, cfg stress.Config, f *stressFlags, progress func(stress.Progress), stderr io.Writer) (*stress.Result, string) {
	final := freshDir(f.out, cfg.Seed)
	tmp, err := os.MkdirTemp(f.out, fmt.Sprintf(".bgw-tmp-%d-", cfg.Seed))
	if err != nil {
		fmt.Fprintf(stderr, "bgw stress: %v\n", err)
		return nil, ""
	}
	res, err := stress.Run(ctx, cfg, stress.Options{Dir: tmp, ReproDir: final, Progress: progress})
	if err != nil {
		os.RemoveAll(tmp)
		fmt.Fprintf(stderr, "bgw stress: seed %d: %v\n", cfg.Seed, err)
		if errors.Is(err, stress.ErrWeakFlaw) {
			fmt.Fprintf(stderr, "  run the explorer instead: bgw explore -flaw %s -model view\n", cfg.Flaw)
		}
		return nil, ""
	}
	if res.Verdict.Outcome() == stress.Pass && !f.keep {
		os.RemoveAll(tmp)
		return res, ""
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		fmt.Fprintf(stderr, "bgw stress: %v\n", err)
		return nil, ""
	}
	return res, final
}

// exitFor is the exit code of a verdict.
func exitFor(o stress.Outcome) int {
	switch o {
	case stress.Pass:
		return exitOK
	case stress.Fail:
		return exitViolation
	}
	return exitUsage
}

func stressOnce(ctx context.Context, cfg stress.Config, f *stressFlags, stdout, stderr io.Writer) int {
	if cfg.Seed == 0 {
		cfg.Seed = stress.NewSeed()
	}
	fmt.Fprintf(stdout, "bgw stress: seed %d (%v, %d backends, %d slots, faults %s, flaw %s)\n", cfg.Seed, cfg.Duration,
		cfg.Backends, cfg.Slots, cfg.FaultList(), orNone(cfg.Flaw))
	var line *progressLine
	var progress func(stress.Progress)
	if isTerminal(stdout) {
		line = &progressLine{w: stdout}
		progress = line.draw
	}
	res, dir := campaign(ctx, cfg, f, progress, stderr)
	if line != nil {
		line.clear()
	}
	if res == nil {
		return exitUsage
	}
	fmt.Fprint(stdout, stress.Summary(res))
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, res.Verdict)
	outcome := res.Verdict.Outcome()
	if dir != "" {
		fmt.Fprintf(stdout, "\nwrote %s: histories (history/), record log (records.jsonl), verdict.txt", dir)
		if _, err := os.Stat(filepath.Join(dir, stress.HTMLFile)); err == nil {
			fmt.Fprintf(stdout, ", %s", stress.HTMLFile)
		}
		if _, err := os.Stat(filepath.Join(dir, stress.PolicyFile)); err == nil {
			fmt.Fprintf(stdout, ", %s", stress.PolicyFile)
		}
		fmt.Fprintln(stdout)
		fmt.Fprintf(stdout, "re-check: bgw check %s\n", dir)
	}
	switch outcome {
	case stress.Fail:
		fmt.Fprintf(stdout, "repro: %s\n", stress.ReproCommand(res.Config, dir))
	case stress.Undecided:
		fmt.Fprintf(stdout, "UNKNOWN: a check could not decide (a timeout is never a pass); re-check with a longer timeout: bgw check -timeout 10m %s\n", dir)
	}
	return exitFor(outcome)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// stressMany runs f.runs campaigns with consecutive seeds and reports the
// totals; every run directory with a violation is kept.
func stressMany(ctx context.Context, cfg stress.Config, f *stressFlags, stdout, stderr io.Writer) int {
	if cfg.Seed == 0 {
		cfg.Seed = stress.NewSeed()
	}
	first := cfg.Seed
	fmt.Fprintf(stdout, "bgw stress: %d campaigns, seeds %d..%d (%v each)\n", f.runs, first, first+int64(f.runs)-1, cfg.Duration)
	var campaigns, ops, faults, restarts, violations, undecided, failures int
	var elapsed time.Duration
	for i := range f.runs {
		if ctx.Err() != nil {
			break
		}
		c := cfg
		c.Seed = first + int64(i)
		res, dir := campaign(ctx, c, f, nil, stderr)
		if res == nil {
			failures++
			continue
		}
		campaigns++
		ops += res.Ops
		restarts += res.Restarts
		for _, n := range res.Faults {
			faults += n
		}
		elapsed += res.Elapsed
		o := res.Verdict.Outcome()
		status := o.String()
		switch o {
		case stress.Fail:
			violations++
			status += fmt.Sprintf(" (%v) in %s", res.Verdict.Failed(), dir)
		case stress.Undecided:
			undecided++
			status += " in " + dir
		}
		fmt.Fprintf(stdout, "  seed %d: %s, %d operations, %d crash restarts\n", c.Seed, status, res.Ops, res.Restarts)
	}
	fmt.Fprintf(stdout, "campaigns %d, operations %d (%.0f/s), faults %d, crash restarts %d, violations %d, undecided %d, infrastructure failures %d\n",
		campaigns, ops, float64(ops)/max(elapsed.Seconds(), 1e-9), faults, restarts, violations, undecided, failures)
	switch {
	case violations > 0:
		return exitViolation
	case undecided > 0 || failures > 0 || campaigns < f.runs:
		return exitUsage
	}
	return exitOK
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine redraws one status line in place.
type progressLine struct {
	w io.Writer
}

func (l *progressLine) draw(p stress.Progress) {
	verdict := "ok so far"
	if p.Violation != "" {
		verdict = "VIOLATION: " + p.Violation
		if len(verdict) > 60 {
			verdict = verdict[:57] + "..."
		}
	}
	rate := float64(p.Ops) / max(p.Elapsed.Seconds(), 1e-9)
	fmt.Fprintf(l.w, "\r\033[K  %5.1fs  %7d ops  %5.0f ops/s  %3d processes  %2d restarts  %3d faults  %s",
		p.Elapsed.Seconds(), p.Ops, rate, p.Processes, p.Restarts, p.Faults, verdict)
}

func (l *progressLine) clear() { fmt.Fprint(l.w, "\r\033[K") }
