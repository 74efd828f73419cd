package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/stress"
)

const checkSynopsis = "check [-timeout D] [-memory SIZE] [-slots N] [-static N] [-html FILE] [-waive LIST] DIR|FILE..."

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", checkSynopsis, stderr)
	timeout := fs.Duration("timeout", 2*time.Minute, "bound on the linearizability check (a timeout is UNKNOWN, never a pass)")
	slots := fs.Int("slots", 0, "max_worker_processes, 1..1024 (default: the run's campaign.json, else 8)")
	static := fs.Int("static", 0, "number of static workers in slots 0.. (default: the run's record log, else 0)")
	html := fs.String("html", "", "write porcupine's view of a linearizability violation to FILE")
	memory := fs.String("memory", "", "bound on the heap the linearizability check may grow by, such as 512MiB or 4GiB (default: the run's, else 2GiB; a check past it is UNKNOWN)")
	waive := fs.String("waive", "", "kinds of outcome the coverage check need not see decided, comma-separated: "+coverKindList())
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: bgw %s\n\n", checkSynopsis)
		fmt.Fprintf(stderr, "Re-checks saved runs. Each DIR is a run directory of bgw stress (or a directory of\n"+
			"history files), checked on its own; the FILEs, history files (JSON lines) and at most one\n"+
			"record log (records.jsonl), are checked together.\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nexit codes: 0 every check passed, 1 a violation, 2 bad usage, a bad file, a run directory\n"+
			"that is not whole (unsealed, cut or changed), or an undecided check (a timeout, a vacuous run)\n")
	}
	if code := parseFlags(fs, args, true); code >= 0 {
		return code
	}
	switch {
	case fs.NArg() == 0:
		return badUsage(fs, "no run directory or file given: want DIR or FILE arguments")
	case *timeout <= 0:
		return badInput(fs, fmt.Sprintf("-timeout %v: want more than 0", *timeout))
	case *slots < 0 || *slots > bgworker.MaxWorkerProcesses:
		return badInput(fs, fmt.Sprintf("-slots %d: want 1..%d, or 0 for the run's", *slots, bgworker.MaxWorkerProcesses))
	case *static < 0:
		return badInput(fs, fmt.Sprintf("-static %d: want 0 or more", *static))
	case *slots > 0 && *static > *slots:
		return badInput(fs, fmt.Sprintf("-static %d: want at most -slots (%d)", *static, *slots))
	}
	if *html != "" {
		if st, err := os.Stat(*html); err == nil && !st.Mode().IsRegular() {
			return badInput(fs, fmt.Sprintf("-html %s: not a regular file (want a file to write)", quoteValue(*html)))
		}
		if err := existingDir(filepath.Dir(*html)); err != nil {
			return badInput(fs, fmt.Sprintf("-html %s: %s: %v (want a file in an existing directory)", quoteValue(*html), filepath.Dir(*html), err))
		}
	}
	opts := stress.CheckOptions{Timeout: *timeout, Slots: *slots, Static: *static}
	if *memory != "" {
		n, err := parseBytes(*memory)
		if err != nil {
			return badInput(fs, fmt.Sprintf("-memory %s: %v", quoteValue(*memory), err))
		}
		opts.MemoryBudget = n
	}
	if *waive != "" {
		kinds, err := parseWaive(*waive)
		if err != nil {
			return badInput(fs, fmt.Sprintf("-waive %s: %v", quoteValue(*waive), err))
		}
		opts.Waive = kinds
	}
	var dirs, files []string
	for _, a := range fs.Args() {
		st, err := os.Stat(a)
		switch {
		case err != nil:
			return badInput(fs, fmt.Sprintf("%s: %v (want a run directory or a history file)", a, errReason(err)))
		case st.IsDir():
			dirs = append(dirs, a)
		case st.Mode().IsRegular():
			files = append(files, a)
		default:
			return badInput(fs, fmt.Sprintf("%s: not a regular file or a directory (want a run directory or a history file)", a))
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
	// A bad input is exit 2 with one line and no verdict, whatever else
	// happened; then a violation is exit 1; then an undecided check is
	// exit 2.
	var out bytes.Buffer
	var toDraw *stress.Verdict
	var failed, undecided bool
	for _, in := range inputs {
		v, err := in.check()
		if err != nil {
			return badInput(fs, err)
		}
		fmt.Fprintf(&out, "%v: %s\n", v.Outcome(), in.name)
		fmt.Fprint(&out, v)
		if v.Report.Violation() != nil && toDraw == nil {
			toDraw = v
		}
		switch v.Outcome() {
		case stress.Fail:
			failed = true
		case stress.Undecided:
			undecided = true
		}
	}
	if *html != "" && toDraw != nil {
		if err := stress.WriteHTML(toDraw, *html); err != nil {
			fmt.Fprintf(stderr, "bgw check: -html %s: %s\n", *html, oneLine(err.Error()))
			return exitUsage
		}
		fmt.Fprintf(&out, "wrote %s\n", *html)
	}
	stdout.Write(out.Bytes())
	switch {
	case failed:
		return exitViolation
	case undecided:
		return exitUsage
	}
	return exitOK
}

// byteUnits are the suffixes parseBytes reads.
var byteUnits = []struct {
	suffix string
	n      int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}}

// parseBytes reads a size such as 512MiB, 4GiB or 1048576: at least 1 MiB.
func parseBytes(s string) (int64, error) {
	for _, u := range byteUnits {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || n <= 0 || n > (1<<62)/u.n {
			break
		}
		if n*u.n < 1<<20 {
			return 0, errors.New("want at least 1MiB")
		}
		return n * u.n, nil
	}
	return 0, errors.New("want a size such as 512MiB or 4GiB")
}
