package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"bgwmodel/explore"
	"bgwmodel/explore/litmus"
	"bgwmodel/explore/protocol"
)

const replaySynopsis = "replay [-scenario NAME] [-flaw NAME[,NAME]] [-mutant NAME[,NAME]] TRACE | -file FILE"

func runReplay(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("replay", replaySynopsis, stderr)
	scenario := fs.String("scenario", "", "the scenario the trace was made in (bgw explore -list), or a litmus test (bgw litmus); if omitted, the one scenario the whole trace fits")
	flaws := fs.String("flaw", "", "comma-separated seed flaws the trace was made with")
	mutants := fs.String("mutant", "", "comma-separated mutants the trace was made with")
	file := fs.String("file", "", "read the trace from FILE instead of the argument: one line (blank lines and # comments are ignored)")
	if code := parseFlags(fs, args, true); code >= 0 {
		return code
	}
	var trace, where string // where: "FILE:LINE: " for a trace read from a file
	switch {
	case *file != "" && fs.NArg() > 0:
		return badUsage(fs, fmt.Sprintf("unexpected argument %s: give the TRACE as an argument or with -file, not both", quoteValue(fs.Arg(0))))
	case *file != "":
		t, line, err := readTraceFile(*file)
		if err != nil {
			return badInput(fs, err)
		}
		trace, where = t, fmt.Sprintf("%s:%d: ", *file, line)
	case fs.NArg() != 1:
		return badUsage(fs, fmt.Sprintf("want exactly one TRACE argument (as \"view:t0*3.t1.r1\") or -file FILE, got %d arguments", fs.NArg()))
	default:
		trace = fs.Arg(0)
	}
	tr, err := explore.ParseTrace(trace)
	if err != nil {
		return badInput(fs, where+trimPackage(err.Error()))
	}
	if *scenario == "" {
		name, err := findScenario(trace, *flaws, *mutants)
		if err != nil {
			return badInput(fs, where+err.Error())
		}
		*scenario = name
	}
	es, label, err := replayScenario(*scenario, *flaws, *mutants)
	if err != nil {
		return badInput(fs, err)
	}
	r, err := explore.Replay(es, trace)
	if err != nil {
		// The trace does not fit the scenario, or is bad: bad input.
		return badInput(fs, where+trimPackage(err.Error()))
	}
	fmt.Fprintf(stdout, "replaying %s under %s: %d steps, %d preemptions\n\n", label, tr.Model, r.Steps, r.Preemptions)
	fmt.Fprint(stdout, readable(r.Table).String())
	switch {
	case r.Failure != nil:
		fmt.Fprintf(stdout, "\nFAIL: %s\n", indent(r.Failure.Error(), "  ")[2:])
		return exitViolation
	case r.Truncated:
		fmt.Fprintf(stdout, "\nthe execution was cut at the step limit\n")
	default:
		fmt.Fprintf(stdout, "\nok: the execution ends normally and passes every check\n")
	}
	return exitOK
}

// readTraceFile reads the one trace of a file and returns it with its
// line number; blank lines and lines starting with # are ignored.
func readTraceFile(path string) (string, int, error) {
	data, err := readRegular(path)
	if err != nil {
		return "", 0, fmt.Errorf("-file %s: %w (want a file holding a trace)", quoteValue(path), err)
	}
	trace, at := "", 0
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if at != 0 {
			return "", 0, fmt.Errorf("%s:%d: a second trace (the first is on line %d): want one trace per file", path, i+1, at)
		}
		trace, at = line, i+1
	}
	if at == 0 {
		return "", 0, fmt.Errorf("%s: no trace in the file: want one line such as \"view:t0*3.t1.r1\"", path)
	}
	return trace, at, nil
}

// findScenario returns the one scenario or litmus test whose execution the
// whole trace fits exactly (traces printed by bgw explore are complete).
func findScenario(trace, flaws, mutants string) (string, error) {
	var names, fits []string
	names = append(names, protocol.Names()...)
	if flaws == "" && mutants == "" {
		for _, lt := range litmus.Tests() {
			names = append(names, lt.Name)
		}
	}
	for _, name := range names {
		es, _, err := replayScenario(name, flaws, mutants)
		if err != nil {
			return "", err
		}
		if _, err := explore.Replay(es, trace); err == nil {
			fits = append(fits, name)
		}
	}
	switch len(fits) {
	case 0:
		return "", fmt.Errorf("the trace fits no scenario%s: give -scenario (see bgw explore -list, bgw litmus)", withVariant(flaws, mutants))
	case 1:
		return fits[0], nil
	}
	more := ""
	if len(fits) > 8 {
		fits, more = fits[:8], fmt.Sprintf(" and %d more", len(fits)-8)
	}
	return "", fmt.Errorf("the trace fits several scenarios (%s%s): give -scenario", strings.Join(fits, ", "), more)
}

func withVariant(flaws, mutants string) string {
	if flaws == "" && mutants == "" {
		return " or litmus test"
	}
	return " with -flaw " + flaws + " -mutant " + mutants
}

// replayScenario finds the scenario (or litmus test) called name.
func replayScenario(name, flaws, mutants string) (explore.Scenario, string, error) {
	for _, lt := range litmus.Tests() {
		if lt.Name == name {
			if flaws != "" || mutants != "" {
				return explore.Scenario{}, "", fmt.Errorf("-flaw and -mutant do not apply to litmus test %s", name)
			}
			return lt.Scenario(), "litmus test " + name + " (" + lt.Prog + ")", nil
		}
	}
	x, err := newTarget(name, "sc", flaws, mutants, false)
	if err != nil {
		return explore.Scenario{}, "", err
	}
	es, err := x.scenarios[0].Build(x.variant)
	if err != nil {
		return explore.Scenario{}, "", err
	}
	return es, "scenario " + name + " (" + x.variant.String() + ")", nil
}

// readable shows pids as the signed numbers they are (-1 is InvalidPid)
// and worker blocks by the worker's name.
func readable(t explore.Table) explore.Table {
	out := append(explore.Table(nil), t...)
	for i := range out {
		s := &out[i]
		switch {
		case strings.HasSuffix(s.Loc, ".pid") && s.Size == 4 &&
			(s.Op == explore.OpLoad || s.Op == explore.OpStore || s.Op == explore.OpFlush):
			s.Text = strconv.Itoa(int(int32(uint32(s.Value))))
		case strings.HasSuffix(s.Loc, ".worker") && s.Bytes != "":
			name, _, _ := strings.Cut(s.Bytes, "\x00")
			if name == "" {
				s.Text = "(empty)"
			} else {
				s.Text = "{name " + strconv.Quote(name) + " …}"
			}
		}
	}
	return out
}
