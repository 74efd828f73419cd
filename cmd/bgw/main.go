// Command bgw is bgwmodel's one command: it stress-tests the reference
// implementation of PostgreSQL's background-worker slot handoff in real
// processes, re-checks saved histories, explores the real code under
// simulated memory models, replays counterexample traces, and lists the
// catalogue of the seed's known defects.
//
// Usage:
//
//	bgw <command> [flags]
//
// Exit codes, for every command:
//
//	0  correct: no violation found
//	1  a violation was found (evidence is printed or written)
//	2  bad usage, bad input, or an infrastructure failure
//
// Run "bgw <command> -h" for a command's flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"bgwmodel/impl/cluster"
	"bgwmodel/stress"
)

// Exit codes.
const (
	exitOK        = 0
	exitViolation = 1
	exitUsage     = 2
)

// command is one subcommand.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"flaws":   {"list the catalogue of the seed's known defects", runFlaws},
		"explore": {"explore the real protocol code under SC, x86-TSO and C11 models", runExplore},
		"replay":  {"re-run an explorer trace and print its interleaving", runReplay},
		"litmus":  {"compute the litmus tests' verdicts under each memory model", runLitmus},
		"stress":  {"run a stress campaign on a real cluster and check it", runStress},
		"check":   {"re-check saved histories and record logs", runCheck},
	}
}

func main() {
	// The cluster's processes (supervisor, postmaster, backends, workers)
	// are re-executions of this binary: run the role and exit, if any.
	cluster.Main(stress.Registry())
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 {
		fmt.Fprintf(stderr, "bgw: no command given (want %s; run \"bgw -h\" for usage)\n", commandList(cmds))
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		return exitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "bgw: unknown command %s (want %s; run \"bgw -h\" for usage)\n", quoteValue(args[0]), commandList(cmds))
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

// commandList returns "check, explore, ... or stress".
func commandList(cmds map[string]command) string {
	names := slices.Sorted(maps.Keys(cmds))
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintf(w, "usage: bgw <command> [flags]\n\ncommands:\n")
	names := slices.Sorted(maps.Keys(cmds))
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintf(w, "\nexit codes: 0 correct, 1 violation found, 2 bad usage or infrastructure failure\n"+
		"run \"bgw <command> -h\" for a command's flags\n")
}

// newFlags returns a flag set for a subcommand that reports errors on
// stderr and never exits by itself.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bgw "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: bgw %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and returns the exit code to stop with, or -1 to
// go on: -h prints the full usage (exit 0); a bad flag, or a stray
// argument unless allowArgs, is one line on stderr (exit 2).
func parseFlags(fs *flag.FlagSet, args []string, allowArgs bool) int {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage()
		return exitOK
	case err != nil:
		return badUsage(fs, flagProblem(fs, err))
	case !allowArgs && fs.NArg() > 0:
		return badUsage(fs, fmt.Sprintf("unexpected argument %s: %s takes flags only", quoteValue(fs.Arg(0)), fs.Name()))
	}
	return -1
}

// badUsage reports a problem with the command line as one line on
// stderr, with a hint, and returns exitUsage.
func badUsage(fs *flag.FlagSet, problem string) int {
	fmt.Fprintf(fs.Output(), "%s: %s (run \"%s -h\" for usage)\n", fs.Name(), oneLine(problem), fs.Name())
	return exitUsage
}

// badInput reports bad input (a flag's value, a file) as one line on
// stderr and returns exitUsage: the problem says what is wrong, where (a
// flag, FILE:LINE) and what is accepted.
func badInput(fs *flag.FlagSet, problem any) int {
	fmt.Fprintf(fs.Output(), "%s: %s\n", fs.Name(), oneLine(trimPackage(fmt.Sprint(problem))))
	return exitUsage
}

// Errors of the flag package, turned into "-NAME VALUE: want KIND".
var (
	flagUndefined = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	flagInvalid   = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-(\S+): (.*)$`)
	flagNoArg     = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
)

// flagProblem turns an error of fs.Parse into what went wrong and what is
// accepted.
func flagProblem(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if m := flagUndefined.FindStringSubmatch(msg); m != nil {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, "-"+f.Name) })
		return fmt.Sprintf("unknown flag -%s (known: %s)", m[1], strings.Join(names, ", "))
	}
	if m := flagInvalid.FindStringSubmatch(msg); m != nil {
		want := flagKind(fs.Lookup(m[2]))
		if strings.Contains(m[3], "out of range") {
			want += " in range"
		}
		return fmt.Sprintf("-%s %s: want %s", m[2], quoteValue(m[1]), want)
	}
	if m := flagNoArg.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("-%s: no value given: want %s", m[1], flagKind(fs.Lookup(m[1])))
	}
	return msg
}

// flagKind says what values a flag takes.
func flagKind(f *flag.Flag) string {
	if f == nil {
		return "a value"
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return "a value"
	}
	switch g.Get().(type) {
	case bool:
		return "true or false"
	case int, int64:
		return "an integer"
	case uint, uint64:
		return "an integer >= 0"
	case time.Duration:
		return `a duration such as "25s" or "500ms"`
	}
	return "a value"
}

// quoteValue returns v as typed, quoted only if it is empty or holds
// spaces or quotes.
func quoteValue(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\n\"':") {
		return strconv.Quote(v)
	}
	return v
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// trimPackage drops the package prefixes of an error from a library
// ("stress: ", "linearizability: ", ...), at its start and after a
// wrapping message's colon: the command's name prefixes the line.
func trimPackage(s string) string {
	for _, p := range []string{"stress: ", "linearizability: ", "explore: ", "protocol: ", "flaw: "} {
		s = strings.TrimPrefix(s, p)
		s = strings.ReplaceAll(s, ": "+p, ": ")
	}
	return s
}
