package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"bgwmodel/explore"
	"bgwmodel/explore/protocol"
	"bgwmodel/impl/flaw"
)

// exploreTarget is what one explore or replay run is about: a scenario
// and the code under test.
type exploreTarget struct {
	scenarios []*protocol.Scenario
	models    []explore.ModelKind
	variant   protocol.Variant
	flawList  string // as given, for the replay command line
	mutList   string
}

// parseModels parses -model: one model or "all".
func parseModels(s string, allowAll bool) ([]explore.ModelKind, error) {
	if s == "all" && allowAll {
		return explore.Models(), nil
	}
	m, err := explore.ParseModel(s)
	if err != nil {
		want := "sc, tso or view"
		if allowAll {
			want = "sc, tso, view or all"
		}
		return nil, fmt.Errorf("-model %s: unknown model (want %s)", quoteValue(s), want)
	}
	return []explore.ModelKind{m}, nil
}

// parseVariant parses -flaw and -mutant.
func parseVariant(flaws, mutants string) (protocol.Variant, error) {
	fs, err := flaw.ParseSet(flaws)
	if err != nil {
		return protocol.Variant{}, fmt.Errorf("-flaw %s: unknown flaw (known: %s)", quoteValue(flaws), strings.Join(flaw.Names(), ", "))
	}
	ms, err := protocol.ParseMutants(mutants)
	if err != nil {
		return protocol.Variant{}, fmt.Errorf("-mutant %s: %s", quoteValue(mutants), trimPackage(err.Error()))
	}
	return protocol.Variant{Flaws: fs, Mutants: ms}, nil
}

// replayCommand is the command line that replays trace.
func (x *exploreTarget) replayCommand(scenario, trace string) string {
	cmd := "bgw replay -scenario " + scenario
	if x.flawList != "" && x.flawList != "none" {
		cmd += " -flaw " + x.flawList
	}
	if x.mutList != "" && x.mutList != "none" {
		cmd += " -mutant " + x.mutList
	}
	return cmd + " '" + trace + "'"
}

// found is one failing scenario/model with its shrunk counterexample.
type found struct {
	scenario string
	model    explore.ModelKind
	failure  *explore.Failure
	shrunk   *explore.Shrunk
}

func runExplore(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("explore", "explore [-model sc|tso|view|all] [-scenario NAME|all] [-flaw NAME[,NAME]] [-mutant NAME[,NAME]] [-bound N] [-budget D] [-random N] [-seed N] [-list]", stderr)
	model := fs.String("model", "all", "memory model: sc, tso, view or all")
	scenario := fs.String("scenario", "all", "scenario to explore, or all (see -list)")
	flaws := fs.String("flaw", "", "comma-separated seed flaws to bring back (see bgw flaws)")
	mutants := fs.String("mutant", "", "comma-separated mutants to apply (see -list)")
	bound := fs.Int("bound", protocol.DefaultBound, "preemption bound, for DFS and -random (-1: unbounded)")
	budget := fs.Duration("budget", 0, "wall-clock budget per scenario and model (0: none)")
	random := fs.Int("random", 0, "run N random executions per scenario and model instead of DFS")
	seed := fs.Uint64("seed", 1, "seed of -random")
	list := fs.Bool("list", false, "list the scenarios, flaws and mutants, and exit")
	if code := parseFlags(fs, args, false); code >= 0 {
		return code
	}
	if *list {
		printExploreList(stdout)
		return exitOK
	}
	x, err := newTarget(*scenario, *model, *flaws, *mutants, true)
	switch {
	case err != nil:
		return badInput(fs, err)
	case *bound < explore.Unbounded:
		return badInput(fs, fmt.Sprintf("-bound %d: want -1 for unbounded, or N >= 0", *bound))
	case *budget < 0:
		return badInput(fs, fmt.Sprintf("-budget %v: want 0 (none) or more", *budget))
	case *random < 0:
		return badInput(fs, fmt.Sprintf("-random %d: want 0 (DFS) or more executions", *random))
	}
	opt := explore.Options{PreemptionBound: *bound, Budget: *budget}
	how := fmt.Sprintf("DFS, preemption bound %d", *bound)
	if *bound == explore.Unbounded {
		how = "DFS, no preemption bound"
	}
	if *random > 0 {
		opt.Strategy, opt.MaxExecutions, opt.Seed = explore.Random, *random, *seed
		how = fmt.Sprintf("%d random executions, seed %d", *random, *seed)
	}
	fmt.Fprintf(stdout, "exploring %s: %s\n", x.variant, how)
	var failures []found
	total := 0
	for _, s := range x.scenarios {
		es, err := s.Build(x.variant)
		if err != nil {
			return badInput(fs, fmt.Sprintf("scenario %s with %s: %s", s.Name, x.variant, trimPackage(err.Error())))
		}
		for _, m := range x.models {
			opt.Model = m
			rep, err := explore.Explore(es, opt)
			if err != nil {
				fmt.Fprintf(stderr, "bgw explore: %s/%s: %s\n", s.Name, m, oneLine(trimPackage(err.Error())))
				return exitUsage
			}
			total += rep.Executions
			name := s.Name + "/" + string(m)
			if len(rep.Failures) == 0 {
				state := "exhausted"
				switch {
				case opt.Strategy == explore.Random:
					state = "random"
				case !rep.Exhausted:
					state = "NOT exhausted (budget)"
				}
				fmt.Fprintf(stdout, "ok    %-28s %7d executions, max depth %d, %s, %v\n",
					name, rep.Executions, rep.MaxDepth, state, rep.Elapsed.Round(time.Millisecond))
				continue
			}
			f := rep.Failures[0]
			fmt.Fprintf(stdout, "FAIL  %-28s %s (execution %d, %d steps)\n", name, firstLine(f.Error()), rep.Executions, f.Steps)
			sh, err := explore.Shrink(es, f.Trace, 0)
			if err != nil {
				fmt.Fprintf(stderr, "bgw explore: shrinking %s: %s\n", name, oneLine(trimPackage(err.Error())))
				return exitUsage
			}
			failures = append(failures, found{scenario: s.Name, model: m, failure: f, shrunk: sh})
		}
	}
	if len(failures) == 0 {
		fmt.Fprintf(stdout, "no counterexample: %d executions in %d scenario(s) x %d model(s)\n", total, len(x.scenarios), len(x.models))
		return exitOK
	}
	sort.SliceStable(failures, func(i, j int) bool { return failures[i].shrunk.Steps < failures[j].shrunk.Steps })
	best := failures[0]
	fmt.Fprintf(stdout, "\n%d counterexample(s); the shortest: scenario %s, model %s, %s\n", len(failures), best.scenario, best.model, x.variant)
	fmt.Fprintf(stdout, "%s\n", indent(best.shrunk.Failure.Error(), "  "))
	fmt.Fprintf(stdout, "trace (%d steps, %d preemptions; shrunk from %d steps in %d runs):\n  %s\n",
		best.shrunk.Steps, best.shrunk.Preemptions, best.shrunk.OriginalSteps, best.shrunk.Runs, best.shrunk.Trace)
	fmt.Fprintf(stdout, "replay:\n  %s\n", x.replayCommand(best.scenario, best.shrunk.Trace))
	return exitViolation
}

// newTarget parses the common flags of explore and replay.
func newTarget(scenario, model, flaws, mutants string, allowAll bool) (*exploreTarget, error) {
	x := &exploreTarget{flawList: flaws, mutList: mutants}
	var err error
	if x.models, err = parseModels(model, allowAll); err != nil {
		return nil, err
	}
	if x.variant, err = parseVariant(flaws, mutants); err != nil {
		return nil, err
	}
	if scenario == "all" && allowAll {
		x.scenarios = protocol.Scenarios()
		return x, nil
	}
	s, err := protocol.Lookup(scenario)
	if err != nil {
		want := strings.Join(protocol.Names(), ", ")
		if allowAll {
			want += " or all"
		}
		return nil, fmt.Errorf("-scenario %s: unknown scenario (want %s)", quoteValue(scenario), want)
	}
	x.scenarios = []*protocol.Scenario{s}
	return x, nil
}

func printExploreList(w io.Writer) {
	fmt.Fprintln(w, "scenarios:")
	for _, s := range protocol.Scenarios() {
		fmt.Fprintf(w, "  %-20s %s\n", s.Name, s.Summary)
	}
	fmt.Fprintf(w, "\nflaws (-flaw; see bgw flaws): %s\n", strings.Join(flaw.Names(), ", "))
	fmt.Fprintln(w, "\nmutants (-mutant): caught under the model named and every weaker one")
	for _, m := range protocol.Mutants() {
		fmt.Fprintf(w, "  %-24s %-4s %s\n", m.Name, m.Model, m.What)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func indent(s, pre string) string {
	return pre + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pre)
}
