package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"bgwmodel/impl/flaw"
	"bgwmodel/internal/shellquote"
	"bgwmodel/stress"
)

const stressSynopsis = "stress [-duration D] [-seed N] [-backends N] [-slots N] [-faults LIST] [-flaw NAME] [-out DIR] [-config FILE] [-stop-on-violation=BOOL] [-waive LIST] [-soak N] [-keep] [-print-config]"

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
	soak        int // -soak, or its alias -runs
	keep        bool
	printConfig bool
	waive       string
	set         map[string]bool
	fs          *flag.FlagSet
}

func runStress(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("stress", stressSynopsis, stderr)
	f := stressFlags{fs: fs}
	fs.DurationVar(&f.duration, "duration", 0, "how long the workload and the faults run (default: the configuration's, 25s)")
	fs.Int64Var(&f.seed, "seed", 0, "seed of the harness's random choices; 0 picks one (always printed)")
	fs.IntVar(&f.backends, "backends", 0, "backends running operations at once, 1..64 (default: the configuration's, 5)")
	fs.IntVar(&f.slots, "slots", 0, "max_worker_processes, 1..1024 (default: the configuration's, 12)")
	fs.StringVar(&f.faults, "faults", "default", "faults to inject, comma-separated: "+faultNames()+"; none; or default")
	fs.StringVar(&f.flaw, "flaw", "", "seed defect to bring back (see bgw flaws); only the x86-visible ones")
	fs.StringVar(&f.out, "out", ".", "existing directory in which to write the run directory bgw-out-SEED on a violation or a hang")
	fs.StringVar(&f.config, "config", "", "JSON configuration read over the embedded default (see -print-config)")
	fs.BoolVar(&f.stopOn, "stop-on-violation", true, "end the campaign at the first violation found while it runs")
	fs.IntVar(&f.soak, "soak", 0, "a soak: run `N` campaigns (each as the other flags say) with seeds SEED, SEED+1, ...;\n"+
		"print one line per campaign and the totals: operations, faults, violations, timeouts, hangs")
	fs.IntVar(&f.soak, "runs", 0, "alias of -soak `N`")
	fs.BoolVar(&f.keep, "keep", false, "keep the run directory even when every check passes")
	fs.StringVar(&f.waive, "waive", "", "kinds of outcome the coverage check need not see decided, comma-separated: "+coverKindList())
	fs.BoolVar(&f.printConfig, "print-config", false, "print the configuration the other flags give (the embedded default without them) and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: bgw %s\n\n", stressSynopsis)
		fmt.Fprintf(stderr, "Runs a stress campaign: a real cluster (postmaster, backends, workers as processes),\n"+
			"a random mix of operations and faults, then checks linearizability, the postmaster's\n"+
			"policy, that no waiter was left waiting, that the stop left no process, and that the\n"+
			"postmaster survived until the harness stopped or killed it. With -soak N, N campaigns.\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nexit codes: 0 every check passed (in every campaign), 1 a violation (written to -out),\n"+
			"2 bad usage, an infrastructure failure, a hang, an interrupt, or an undecided check\n"+
			"(a timeout, a vacuous run: coverage, or outcomes the run cannot explain: recording)\n")
	}
	if code := parseFlags(fs, args, false); code >= 0 {
		return code
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	cfg, err := f.configure()
	if err != nil {
		return badInput(fs, err)
	}
	soak := f.set["soak"] || f.set["runs"]
	if soak && f.soak < 1 {
		name := "soak"
		if !f.set["soak"] {
			name = "runs"
		}
		return badInput(fs, fmt.Sprintf("-%s %d: want a number of campaigns, at least 1", name, f.soak))
	}
	if err := existingDir(f.out); err != nil {
		return badInput(fs, fmt.Sprintf("-out %s: %v (want an existing directory)", quoteValue(f.out), err))
	}
	if f.printConfig {
		// The configuration the campaign would run: the embedded
		// default, with -config and the flags applied.
		if !f.set["config"] && len(f.set) == 1 {
			stdout.Write(stress.DefaultConfigJSON()) // as written, comments of layout and all
			return exitOK
		}
		b, err := json.MarshalIndent(cfg, "", "  ")
		if err != nil {
			return badInput(fs, err)
		}
		stdout.Write(append(b, '\n'))
		return exitOK
	}
	ctx, stop := interruptContext(stderr)
	defer stop()
	s := &stressCmd{f: &f, stdout: stdout, stderr: stderr}
	if !soak {
		return s.once(ctx, cfg)
	}
	return s.soakRun(ctx, cfg)
}

// existingDir checks that path is a directory.
func existingDir(path string) error {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return errReason(err)
	case !st.IsDir():
		return errors.New("not a directory")
	}
	return nil
}

// errReason is the reason of a file system error, without the path the
// message names already.
func errReason(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readRegular reads a regular file (a FIFO or a device would block or
// never end).
func readRegular(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, errReason(err)
	}
	if !st.Mode().IsRegular() {
		if st.IsDir() {
			return nil, errors.New("is a directory")
		}
		return nil, errors.New("not a regular file")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errReason(err)
	}
	return data, nil
}

// coverKindList lists the kinds of outcome, comma-separated.
func coverKindList() string {
	var names []string
	for _, k := range stress.CoverKinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// parseWaive reads -waive's list of kinds of outcome.
func parseWaive(list string) ([]stress.CoverKind, error) {
	var kinds []stress.CoverKind
	for _, name := range strings.Split(list, ",") {
		k := stress.CoverKind(strings.TrimSpace(name))
		if !slices.Contains(stress.CoverKinds(), k) {
			return nil, fmt.Errorf("unknown kind %q (known: %s)", k, coverKindList())
		}
		kinds = append(kinds, k)
	}
	return kinds, nil
}

func faultNames() string {
	var names []string
	for _, k := range stress.FaultKinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// fieldFlags maps the configuration's fields to the flags that set them.
var fieldFlags = map[string]string{"duration": "duration", "backends": "backends", "careful": "backends",
	"slots": "slots", "static_workers": "slots", "flaw": "flaw"}

// configure builds the configuration from -config and the flags given.
// Its errors say where: a flag ("-backends 0: want 1..64") or the file
// ("FILE:LINE: field: reason").
func (f *stressFlags) configure() (stress.Config, error) {
	cfg := stress.DefaultConfig()
	if f.config != "" {
		data, err := readRegular(f.config)
		if err != nil {
			return cfg, fmt.Errorf("-config %s: %w (want a JSON file; see -print-config)", quoteValue(f.config), err)
		}
		if cfg, err = stress.ParseConfig(f.config, data); err != nil {
			var ce *stress.ConfigError
			if errors.As(err, &ce) && ce.Field == "" {
				return cfg, fmt.Errorf("%w (want a JSON object such as -print-config prints)", err)
			}
			return cfg, err
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
		cfg.Slots, cfg.Vary.Slots = f.slots, false
	}
	if f.set["faults"] {
		if err := cfg.SetFaults(f.faults); err != nil {
			return cfg, fmt.Errorf("-faults %s: %s", quoteValue(f.faults), trimPackage(err.Error()))
		}
	}
	if f.set["flaw"] {
		set, err := flaw.ParseSet(f.flaw)
		if err != nil {
			return cfg, fmt.Errorf("-flaw %s: %s", quoteValue(f.flaw), trimPackage(err.Error()))
		}
		for _, fl := range set.Flaws() {
			if e, _ := fl.Entry(); e.Weak {
				which := ""
				if len(set.Flaws()) > 1 {
					which = fl.String() + " "
				}
				return cfg, fmt.Errorf("-flaw %s: %sshows only under a weak memory model (%s), and x86 is too strong for stress to see it: "+
					"run the explorer instead: bgw explore -flaw %s -model view", quoteValue(f.flaw), which, strings.TrimPrefix(e.Shows, "weak memory: "), fl)
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
	if f.set["waive"] {
		kinds, err := parseWaive(f.waive)
		if err != nil {
			return cfg, fmt.Errorf("-waive %s: %w", quoteValue(f.waive), err)
		}
		cfg.Check.Waive = append(cfg.Check.Waive, kinds...)
	}
	if err := cfg.Validate(); err != nil {
		var ce *stress.ConfigError
		if errors.As(err, &ce) {
			if name := fieldFlags[ce.Field]; f.set[name] {
				reason, _, _ := strings.Cut(ce.Err.Error(), ", got ")
				return cfg, fmt.Errorf("-%s %s: %s", name, quoteValue(f.fs.Lookup(name).Value.String()), reason)
			}
			if f.config != "" {
				return cfg, fmt.Errorf("%s: %s: %w (with the flags given)", f.config, ce.Field, ce.Err)
			}
		}
		return cfg, err
	}
	return cfg, nil
}

// interruptSignals end a campaign early: the first in order (the
// campaign stops, is checked as far as it ran, and its directory is kept
// as -keep and the verdict say), the second at once.
var interruptSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// interruptContext returns a context cancelled by the first of
// interruptSignals; the second ends the program with exit 2 (the
// cluster's supervisor then kills the cluster, and removes the run
// directory unless -keep or a violation says to keep it). stop undoes it.
func interruptContext(stderr io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, interruptSignals...)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "bgw stress: %v: ending the campaign in order and checking what ran; again to give up at once\n", sig)
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "bgw stress: %v again: giving up at once, without a verdict\n", sig)
			os.Exit(exitUsage)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// reserveDir creates and returns a new directory under parent named
// bgw-out-SEED, or bgw-out-SEED-2, -3, ... if that is taken: mkdir is
// atomic, so two runs with the same seed and -out never share one.
func reserveDir(parent string, seed int64) (string, error) {
	base := filepath.Join(parent, fmt.Sprintf("bgw-out-%d", seed))
	dir := base
	for k := 2; ; k++ {
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		dir = fmt.Sprintf("%s-%d", base, k)
	}
}

// holdsViolation reports whether the run directory dir was marked as
// holding a violation while the campaign ran.
func holdsViolation(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, stress.KeepFile))
	return err == nil
}

// The campaign watchdog. Tests shrink the bounds and stand in a wedged
// campaign for stress.Run.
var (
	// hangBound is how long a campaign may run before it is a hang: its
	// duration plus generous budgets for its start, its stop (bounded by
	// the cluster) and its checks (check.timeout).
	hangBound = func(cfg stress.Config) time.Duration {
		return cfg.Duration.D() + cfg.Check.Timeout.D() + 3*time.Minute
	}
	// hangGrace is how long a hung campaign has to return once
	// cancelled; after that bgw gives up on the process.
	hangGrace = time.Minute
	// runCampaign runs one campaign.
	runCampaign = stress.Run
	// inflight counts the campaigns running, which a wedged one outlives.
	inflight sync.WaitGroup
)

// goroutinesFile is the goroutine dump written into the run directory of
// a campaign that hung.
const goroutinesFile = "goroutines.txt"

// stressCmd runs bgw stress's campaigns.
type stressCmd struct {
	f              *stressFlags
	stdout, stderr io.Writer
}

// ran is what runCampaign returned.
type ran struct {
	res *stress.Result
	err error
}

// outcome is how one campaign went.
type outcome struct {
	res    *stress.Result // nil on an infrastructure failure or a hang
	dir    string         // the run directory kept, or ""
	err    error          // the infrastructure failure, what hung, or what cut short a run with a violation
	hang   bool           // it did not return within hangBound
	wedged bool           // nor within hangGrace once cancelled
	// violation says a violation was found before err: it is the
	// verdict, and dir holds the evidence.
	violation bool
}

// campaign runs one campaign, under the watchdog, in a run directory it
// reserves under -out (see reserveDir), and keeps the directory if it
// holds a violation, an undecided check or a hang, or with -keep. An
// infrastructure failure leaves nothing behind, unless a violation was
// found first: a run directory holding a violation is never deleted.
func (s *stressCmd) campaign(ctx context.Context, cfg stress.Config, progress func(stress.Progress)) outcome {
	dir, err := reserveDir(s.f.out, cfg.Seed)
	if err != nil {
		return outcome{err: fmt.Errorf("-out %s: cannot create the run directory: %w", s.f.out, errReason(err))}
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan ran, 1)
	inflight.Add(1)
	go func() {
		defer inflight.Done()
		res, err := runCampaign(cctx, cfg, stress.Options{Dir: dir, RemoveIfOrphaned: !s.f.keep, Progress: progress})
		done <- ran{res, err}
	}()
	bound := hangBound(cfg)
	watchdog := time.NewTimer(bound)
	defer watchdog.Stop()
	var r ran
	select {
	case r = <-done:
	case <-watchdog.C:
		return s.hung(cfg, bound, dir, cancel, done)
	}
	switch {
	case r.err != nil && (r.res != nil || holdsViolation(dir)):
		return outcome{res: r.res, dir: dir, err: r.err, violation: true}
	case r.err != nil:
		os.RemoveAll(dir)
		return outcome{err: r.err}
	}
	if o := r.res.Outcome(); (o == stress.Pass || (r.res.Interrupted && o != stress.Fail)) && !s.f.keep {
		os.RemoveAll(dir)
		return outcome{res: r.res}
	}
	return outcome{res: r.res, dir: dir}
}

// hung handles a campaign that did not return within bound: it writes
// the harness's goroutines into the run directory, cancels the campaign,
// gives it hangGrace to return, and keeps the directory.
func (s *stressCmd) hung(cfg stress.Config, bound time.Duration, dir string, cancel func(), done <-chan ran) outcome {
	dumpErr := writeGoroutines(filepath.Join(dir, goroutinesFile), cfg.Seed, bound)
	cancel()
	o := outcome{hang: true, dir: dir, violation: holdsViolation(dir)}
	grace := time.NewTimer(hangGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		o.wedged = true
	}
	what := fmt.Sprintf("goroutine dump in %s", filepath.Join(o.dir, goroutinesFile))
	if dumpErr != nil {
		what = fmt.Sprintf("no goroutine dump: %v", dumpErr)
	}
	o.err = fmt.Errorf("a hang: the campaign did not return within %v and was cancelled; %s", bound, what)
	if o.wedged {
		o.err = fmt.Errorf("%w; it was still running %v after the cancel: giving up", o.err, hangGrace)
	}
	return o
}

// writeGoroutines writes every goroutine's stack (pprof's goroutine
// profile, debug=2) to path.
func writeGoroutines(path string, seed int64, bound time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "bgw stress: seed %d did not return within %v; the harness's goroutines then:\n\n", seed, bound)
	err = pprof.Lookup("goroutine").WriteTo(f, 2)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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

// once runs one campaign and prints its verdict.
func (s *stressCmd) once(ctx context.Context, cfg stress.Config) int {
	stdout := s.stdout
	if cfg.Seed == 0 {
		cfg.Seed = stress.NewSeed()
	}
	cfg = cfg.Resolve()
	fmt.Fprintf(stdout, "bgw stress: seed %d (%v, %d backends, %d slots, faults %s, flaw %s)\n", cfg.Seed, cfg.Duration,
		cfg.Backends, cfg.Slots, cfg.FaultList(), orNone(cfg.Flaw))
	var line *progressLine
	var progress func(stress.Progress)
	if isTerminal(stdout) {
		line = &progressLine{w: stdout}
		progress = line.draw
	}
	o := s.campaign(ctx, cfg, progress)
	if line != nil {
		line.clear()
	}
	if o.err != nil {
		fmt.Fprintf(s.stderr, "bgw stress: seed %d: %s\n", cfg.Seed, oneLine(trimPackage(o.err.Error())))
		if !o.violation {
			return exitUsage
		}
		// A violation was found before the failure or the hang: it is
		// the verdict.
		fmt.Fprintf(stdout, "FAIL: seed %d: a violation was found, but the run could not finish; the evidence so far is in %s\n", cfg.Seed, shellquote.Quote(o.dir))
		if o.res != nil {
			fmt.Fprintf(stdout, "  first violation after %v: %s\n", o.res.DetectedAfter.Round(time.Millisecond), o.res.FirstViolation)
			fmt.Fprintf(stdout, "repro: %s\n", stress.ReproCommand(o.res.Config, o.dir))
		}
		return exitViolation
	}
	res, dir := o.res, o.dir
	fmt.Fprint(stdout, stress.Summary(res))
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, res.Verdict)
	outcome := res.Outcome()
	if dir != "" {
		fmt.Fprintf(stdout, "\nwrote %s: histories (history/), record log (records.jsonl), verdict.txt", dir)
		if _, err := os.Stat(filepath.Join(dir, stress.HTMLFile)); err == nil {
			fmt.Fprintf(stdout, ", %s", stress.HTMLFile)
		}
		if _, err := os.Stat(filepath.Join(dir, stress.PolicyFile)); err == nil {
			fmt.Fprintf(stdout, ", %s", stress.PolicyFile)
		}
		fmt.Fprintln(stdout)
		fmt.Fprintf(stdout, "re-check: bgw check %s\n", shellquote.Quote(dir))
	}
	switch {
	case outcome == stress.Fail:
		fmt.Fprintf(stdout, "repro: %s\n", stress.ReproCommand(res.Config, dir))
	case res.Interrupted:
		fmt.Fprintf(stdout, "UNKNOWN: interrupted: a campaign cut short is no pass\n")
	case outcome == stress.Undecided:
		fmt.Fprintf(stdout, "UNKNOWN: a check could not decide (a timeout is never a pass); re-check with a longer timeout: bgw check -timeout 10m %s\n", shellquote.Quote(dir))
	}
	return exitFor(outcome)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// soakTotals are a soak's totals.
type soakTotals struct {
	campaigns, ops, faults, restarts     int
	violations, hangs, undecided, failed int
	timeouts                             stress.Timeouts
	elapsed                              time.Duration
}

// line is the totals line.
func (t *soakTotals) line() string {
	return fmt.Sprintf("campaigns %d, operations %d (%.0f/s), faults %d, crash restarts %d, violations %d, "+
		"timeouts %d (operations %d, waits %d, checks %d), hangs %d, undecided %d, infrastructure failures %d",
		t.campaigns, t.ops, float64(t.ops)/max(t.elapsed.Seconds(), 1e-9), t.faults, t.restarts, t.violations,
		t.timeouts.Total(), t.timeouts.Ops, t.timeouts.Waits, t.timeouts.Checks, t.hangs, t.undecided, t.failed)
}

// soakRun runs -soak campaigns with consecutive seeds, one line each,
// then the totals; every run directory with a violation, an undecided
// check or a hang is kept. It gives up at once on a campaign that does
// not return once cancelled.
func (s *stressCmd) soakRun(ctx context.Context, cfg stress.Config) int {
	n, stdout := s.f.soak, s.stdout
	if cfg.Seed == 0 {
		cfg.Seed = stress.NewSeed()
	}
	first := cfg.Seed
	fmt.Fprintf(stdout, "bgw stress: soak of %d campaigns, seeds %d..%d (%v each, %d backends, %d slots, faults %s, flaw %s)\n",
		n, first, first+int64(n)-1, cfg.Duration, cfg.Backends, cfg.Slots, cfg.FaultList(), orNone(cfg.Flaw))
	var t soakTotals
	interrupted := false
	for i := range n {
		if ctx.Err() != nil {
			interrupted = true
			break
		}
		c := cfg
		c.Seed = first + int64(i)
		c = c.Resolve()
		o := s.campaign(ctx, c, nil)
		t.campaigns++
		switch {
		case o.hang:
			t.hangs++
			what := ""
			if o.violation {
				t.violations++
				what = " after a violation"
			}
			fmt.Fprintf(stdout, "  seed %d: HANG%s, kept in %s\n", c.Seed, what, shellquote.Quote(o.dir))
			fmt.Fprintf(s.stderr, "bgw stress: seed %d: %s\n", c.Seed, oneLine(o.err.Error()))
			if o.wedged {
				fmt.Fprintln(stdout, t.line())
				return exitUsage
			}
			continue
		case o.violation:
			t.violations++
			msg := oneLine(trimPackage(o.err.Error()))
			fmt.Fprintf(stdout, "  seed %d: FAIL, a violation, but the run could not finish: %s; kept in %s\n", c.Seed, msg, shellquote.Quote(o.dir))
			fmt.Fprintf(s.stderr, "bgw stress: seed %d: %s\n", c.Seed, msg)
			continue
		case o.err != nil:
			t.failed++
			msg := oneLine(trimPackage(o.err.Error()))
			fmt.Fprintf(stdout, "  seed %d: ERROR, infrastructure failure: %s\n", c.Seed, msg)
			fmt.Fprintf(s.stderr, "bgw stress: seed %d: %s\n", c.Seed, msg)
			continue
		}
		res := o.res
		faults := 0
		for _, k := range res.Faults {
			faults += k
		}
		t.ops += res.Ops
		t.faults += faults
		t.restarts += res.Restarts
		t.elapsed += res.Elapsed
		t.timeouts.Ops += res.Timeouts.Ops
		t.timeouts.Waits += res.Timeouts.Waits
		t.timeouts.Checks += res.Timeouts.Checks
		status := res.Outcome().String()
		if res.Interrupted {
			status += " (interrupted)"
			interrupted = true
		}
		switch res.Outcome() {
		case stress.Fail:
			t.violations++
			status += fmt.Sprintf(" %v", res.Verdict.Failed())
		case stress.Undecided:
			if !res.Interrupted {
				t.undecided++
			}
		}
		where := ""
		if o.dir != "" {
			where = ", kept in " + shellquote.Quote(o.dir)
		}
		to := res.Timeouts
		fmt.Fprintf(stdout, "  seed %d: %s, %d operations, %d faults, %d crash restarts, %d timeouts (operations %d, waits %d, checks %d)%s\n",
			c.Seed, status, res.Ops, faults, res.Restarts, to.Total(), to.Ops, to.Waits, to.Checks, where)
	}
	fmt.Fprintln(stdout, t.line())
	if interrupted {
		fmt.Fprintf(s.stderr, "bgw stress: interrupted after %d of %d campaigns\n", t.campaigns, n)
	}
	switch {
	case t.violations > 0:
		return exitViolation
	case t.hangs > 0 || t.undecided > 0 || t.failed > 0 || t.campaigns < n || interrupted:
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
