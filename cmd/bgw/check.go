package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"bgwmodel/stress"
)

const checkSynopsis = "check [-timeout D] [-slots N] [-static N] [-html FILE] DIR|FILE..."

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", checkSynopsis, stderr)
	timeout := fs.Duration("timeout", 2*time.Minute, "bound on the linearizability check (a timeout is UNKNOWN, never a pass)")
	slots := fs.Int("slots", 0, "max_worker_processes (default: the run's campaign.json, else 8)")
	static := fs.Int("static", 0, "number of static workers in slots 0.. (default: the run's record log, else 0)")
	html := fs.String("html", "", "write porcupine's view of a linearizability violation to FILE")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: bgw %s\n\n", checkSynopsis)
		fmt.Fprintf(stderr, "Re-checks saved runs. Each DIR is a run directory of bgw stress (or a directory of\n"+
			"history files), checked on its own; the FILEs, history files (JSON lines) and at most one\n"+
			"record log (records.jsonl), are checked together.\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nexit codes: 0 every check passed, 1 a violation, 2 bad usage, a bad file, or an undecided check\n")
	}
	if code := parseFlags(fs, args, true); code >= 0 {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(stderr, "bgw check: no run directory or file given\n")
		fs.Usage()
		return exitUsage
	}
	if *timeout <= 0 || *slots < 0 || *static < 0 {
		fmt.Fprintf(stderr, "bgw check: -timeout must be > 0, -slots and -static >= 0\n")
		return exitUsage
	}
	opts := stress.CheckOptions{Timeout: *timeout, Slots: *slots, Static: *static}
	var dirs, files []string
	for _, a := range fs.Args() {
		st, err := os.Stat(a)
		if err != nil {
			fmt.Fprintf(stderr, "bgw check: %v\n", err)
			return exitUsage
		}
		if st.IsDir() {
			dirs = append(dirs, a)
		} else {
			files = append(files, a)
		}
	}
	type input struct {
		name  string
		check func() (*stress.Verdict, error)
	}
	var inputs []input
	for _, d := range dirs {
		inputs = append(inputs, input{d, func() (*stress.Verdict, error) { return stress.CheckDir(d, opts) }})
	}
	if len(files) > 0 {
		name := files[0]
		if len(files) > 1 {
			name = fmt.Sprintf("%s and %d more files", files[0], len(files)-1)
		}
		inputs = append(inputs, input{name, func() (*stress.Verdict, error) { return stress.CheckFiles(files, opts) }})
	}
	// A bad file is exit 2 whatever else happened; then a violation is
	// exit 1; then an undecided check is exit 2.
	var bad, failed, undecided bool
	for _, in := range inputs {
		v, err := in.check()
		if err != nil {
			fmt.Fprintf(stderr, "bgw check: %v\n", err)
			bad = true
			continue
		}
		fmt.Fprintf(stdout, "%v: %s\n", v.Outcome(), in.name)
		fmt.Fprint(stdout, v)
		if *html != "" && v.Report.Violation() != nil {
			if err := stress.WriteHTML(v, *html); err != nil {
				fmt.Fprintf(stderr, "bgw check: %v\n", err)
				bad = true
			} else {
				fmt.Fprintf(stdout, "wrote %s\n", *html)
			}
		}
		switch v.Outcome() {
		case stress.Fail:
			failed = true
		case stress.Undecided:
			undecided = true
		}
	}
	switch {
	case bad:
		return exitUsage
	case failed:
		return exitViolation
	case undecided:
		return exitUsage
	}
	return exitOK
}
