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
	"os"
	"sort"
	"strings"

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
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "bgw: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintf(w, "usage: bgw <command> [flags]\n\ncommands:\n")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
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
// go on. -h is not an error; a stray positional argument is.
func parseFlags(fs *flag.FlagSet, args []string, allowArgs bool) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if !allowArgs && fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), strings.Join(fs.Args(), " "))
		fs.Usage()
		return exitUsage
	}
	return -1
}
