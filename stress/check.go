package stress

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"bgwmodel/impl/postmaster"
	"bgwmodel/internal/jsonpos"
	"bgwmodel/internal/safefile"
	"bgwmodel/linearizability"
	"bgwmodel/policy"
	"bgwmodel/spec"
)

// Files of a run directory besides the cluster's (records.jsonl,
// server.log, postmaster.json) and [HistoryDir].
const (
	// CampaignFile is the configuration run, with its seed.
	CampaignFile = "campaign.json"
	// FaultsFile lists the faults injected ([FaultEvent], JSON lines).
	FaultsFile = "faults.jsonl"
	// StopFile is the stop check's result, which only the campaign can
	// establish.
	StopFile = "stop.json"
	// RecordsFile is the postmaster's record log (cluster.RecordsFile).
	RecordsFile = "records.jsonl"
	// LiveViolationFile is the snapshot of the histories (the postmaster's
	// operations included) in which the campaign found a linearizability
	// violation while it ran, if it did.
	LiveViolationFile = "live-violation.jsonl"
)

// CheckOptions configure [CheckDir] and [CheckFiles].
type CheckOptions struct {
	// Timeout bounds the linearizability check; 0 means 2 minutes.
	Timeout time.Duration
	// Slots and Static, if > 0, override the run's max_worker_processes
	// and number of static workers (from campaign.json and the record
	// log). Without either, Slots is 8 and Static 0.
	Slots, Static int
	// Waive adds kinds of outcome the coverage check does not require to
	// the run's own check.waive.
	Waive []CoverKind
	// MemoryBudget bounds the heap the linearizability check may grow
	// by, past which it is undecided (linearizability.Options); 0 means
	// the run's check.memory_budget, else linearizability's default.
	MemoryBudget int64
}

// defaults fills in what o leaves to the run (cfg, nil if unknown) or to
// the defaults: a 2-minute timeout, the run's memory budget.
func (o CheckOptions) defaults(cfg *Config) CheckOptions {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.MemoryBudget == 0 && cfg != nil {
		o.MemoryBudget = cfg.Check.MemoryBudget
	}
	return o
}

// linOptions are the linearizability check's options for a run of slots
// slots, static of them static.
func (o CheckOptions) linOptions(slots, static int) linearizability.Options {
	return linearizability.Options{Slots: slots, Static: static, Mode: linearizability.ModeAuto,
		Timeout: o.Timeout, MemoryBudget: o.MemoryBudget}
}

// input is what a check runs on.
type input struct {
	h       linearizability.History
	recs    []postmaster.Record
	hasRecs bool
	// recsPath is the record log's file; tornRecs says its last line was
	// cut in the middle of a record (dropped).
	recsPath string
	tornRecs bool
	waits    []WaitRecord
	faults   []FaultEvent
	cuts     []CutRecord // nil: no cuts file (not a run directory)
	stop     *CheckResult
	ran      ranFor
	exit     *PostmasterExit
	cfg      *Config
	slots    int
	static   int
}

// CheckDir checks a directory: a run directory as a campaign leaves it,
// or a directory of history files.
//
// A run directory (one holding any of the files a campaign writes, or a
// [HistoryDir]) must be whole: sealed by its [ManifestFile] with every
// part unchanged (see [SealRunDir]), else the error wraps
// [ErrIncompleteRun] and names the part, and there is no verdict. It is
// then checked as the campaign checked it: the histories of [HistoryDir],
// with the postmaster's operations derived from the record log
// ([PostmasterHistory]), the waits, the recorded stop check, and how the
// postmaster ended ([PostmasterExitFile]); max_worker_processes and the
// policy's bounds come from campaign.json. A run whose postmaster failed
// on an I/O error of the run directory has no verdict either.
//
// Any other directory is read as history files: its *.jsonl files, which
// must then hold the postmaster's operations too.
//
// A file that is not a regular file, or cannot be read or decoded, is an
// error naming it (and the line); a violation is in the Verdict. It blocks
// while it reads and checks.
func CheckDir(dir string, opts CheckOptions) (*Verdict, error) {
	if !isRunDir(dir) {
		paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		if err != nil {
			return nil, fmt.Errorf("stress: %w", err)
		}
		if len(paths) == 0 {
			return nil, fmt.Errorf("stress: %s: not a run directory: no %s/, no %s and no *.jsonl history file", dir, HistoryDir, ManifestFile)
		}
		in := input{static: -1}
		if err := in.readFiles(paths); err != nil {
			return nil, err
		}
		return in.check(opts)
	}
	if err := verifyRunDir(dir); err != nil {
		return nil, err
	}
	in := input{static: -1}
	path := filepath.Join(dir, CampaignFile)
	data, err := safefile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("stress: %w", err)
	}
	cfg, err := ParseConfig(path, data)
	if err != nil {
		return nil, err
	}
	in.cfg, in.slots, in.static = &cfg, cfg.Slots, len(cfg.Static)
	if in.h, err = linearizability.ReadDir(filepath.Join(dir, HistoryDir)); err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(in.h, func(op linearizability.Operation) bool { return op.Process == postmasterProcess }); i >= 0 {
		return nil, fmt.Errorf("stress: %s: a history file holds the postmaster's operations (client %d), which come from %s only",
			filepath.Join(dir, HistoryDir), in.h[i].Client, RecordsFile)
	}
	if err := in.readRecords(filepath.Join(dir, RecordsFile)); err != nil {
		return nil, err
	}
	if in.waits, err = ReadWaits(filepath.Join(dir, WaitsFile)); err != nil {
		return nil, err
	}
	if in.faults, err = readJSONLines[FaultEvent](filepath.Join(dir, FaultsFile)); err != nil {
		return nil, err
	}
	if in.cuts, err = readJSONLines[CutRecord](filepath.Join(dir, CutsFile)); err != nil {
		return nil, err
	}
	path = filepath.Join(dir, StopFile)
	if data, err = safefile.ReadFile(path); err != nil {
		return nil, fmt.Errorf("stress: %w", err)
	}
	r, ran, err := decodeStopCheck(path, data)
	if err != nil {
		return nil, err
	}
	in.stop, in.ran = &r, ran
	e, err := readPostmasterExit(filepath.Join(dir, PostmasterExitFile))
	if err != nil {
		return nil, err
	}
	if err := infraFailure(e, dir); err != nil {
		return nil, fmt.Errorf("%w: the run has no verdict", err)
	}
	in.exit = &e
	v, err := in.check(opts)
	if err != nil {
		return nil, err
	}
	if live := filepath.Join(dir, LiveViolationFile); fileExists(live) {
		r, err := liveResult(live, opts.defaults(in.cfg).linOptions(in.slots, in.static))
		if err != nil {
			return nil, err
		}
		v.Checks = append(v.Checks, r)
	}
	return v, nil
}

// fileExists reports whether path names something (a non-regular file is
// refused by whoever reads it).
func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// liveResult checks again the history in which the campaign found a
// linearizability violation while it ran: a violation is a violation,
// whether or not the check of the whole, larger history finds it again
// (its windows differ). It fails only if the violation is found again.
func liveResult(path string, lo linearizability.Options) (CheckResult, error) {
	h, err := linearizability.ReadFile(path)
	if err != nil {
		return CheckResult{}, err
	}
	rep := linearizability.Check(h, lo)
	r := linResult(rep)
	r.Name = CheckLive
	switch r.Outcome {
	case Pass: // found once, not again: no verdict either way
		r.Outcome, r.Summary = Undecided, "the violation found while the campaign ran is not found again: "+r.Summary
	case Fail:
		r.Summary = "found while the campaign ran, and again: " + r.Summary
	}
	return r, nil
}

// CheckFiles checks history files and at most one record log (told apart
// by their first line), as `bgw check FILE...` does. With a record log,
// the postmaster's operations come from it, and the history files must
// not hold any. It blocks while it reads and checks.
func CheckFiles(paths []string, opts CheckOptions) (*Verdict, error) {
	in := input{static: -1}
	var hist []string
	for _, p := range paths {
		isRec, err := isRecordLog(p)
		if err != nil {
			return nil, err
		}
		if !isRec {
			hist = append(hist, p)
			continue
		}
		if in.hasRecs {
			return nil, fmt.Errorf("stress: %s: a second record log", p)
		}
		if err := in.readRecords(p); err != nil {
			return nil, err
		}
	}
	if err := in.readFiles(hist); err != nil {
		return nil, err
	}
	if in.hasRecs {
		if i := slices.IndexFunc(in.h, func(op linearizability.Operation) bool { return op.Process == postmasterProcess }); i >= 0 {
			return nil, fmt.Errorf("stress: the history files hold the postmaster's operations (client %d) and so does the record log %s: give one of them",
				in.h[i].Client, in.recsPath)
		}
	}
	return in.check(opts)
}

// isRecordLog reports whether the file's first line is a postmaster record
// (it has a "kind").
func isRecordLog(path string) (bool, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return false, fmt.Errorf("stress: %w", err)
	}
	defer f.Close()
	line, err := safefile.ReadLine(bufio.NewReader(f))
	if err != nil && len(line) == 0 {
		return false, nil // empty or a line too long: the history decoder reports it
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimSpace(line), &probe) != nil {
		return false, nil
	}
	_, ok := probe["kind"]
	return ok, nil
}

// readFiles reads and merges history files; a malformed merge is reported
// at the file and line of the operation to blame.
func (in *input) readFiles(paths []string) error {
	type pos struct {
		file string
		line int
	}
	var where []pos
	for _, p := range paths {
		h, err := linearizability.ReadFile(p)
		if err != nil {
			return err
		}
		for i := range h {
			where = append(where, pos{p, i + 1})
		}
		in.h = append(in.h, h...)
	}
	order := make([]int, len(in.h))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return in.h[order[a]].Call < in.h[order[b]].Call })
	sorted := make(linearizability.History, len(in.h))
	for i, j := range order {
		sorted[i] = in.h[j]
	}
	if err := sorted.Validate(); err != nil {
		var oe *linearizability.OpError
		if errors.As(err, &oe) {
			w := where[order[oe.Index]]
			return &linearizability.DecodeError{File: w.file, Line: w.line, Err: err}
		}
		return err
	}
	in.h = sorted
	return nil
}

// readRecords reads a record log, which must start as the postmaster
// starts it. A torn last line is noted, and judged by check.
func (in *input) readRecords(path string) error {
	recs, torn, err := readRecords(path)
	if err != nil {
		return err
	}
	if _, _, err := PostmasterHistory(recs); err != nil {
		return fmt.Errorf("stress: %s: %s", path, strings.TrimPrefix(err.Error(), "stress: records: "))
	}
	in.recs, in.hasRecs, in.recsPath, in.tornRecs = recs, true, path, torn
	return nil
}

// wholeRecords checks that the record log is whole: it ends as an orderly
// stop ends it (with shutdown-done), unless the postmaster was killed or
// ended badly, and only then may its last line be torn. A record log cut
// short could hide the records that show a violation, so it gets no
// verdict.
func (in *input) wholeRecords(died *linearizability.Operation) error {
	if died != nil || (in.exit != nil && (in.exit.Ended != EndedStopped || in.exit.Code != 0)) {
		return nil
	}
	if in.tornRecs {
		return fmt.Errorf("stress: %s: %w: its last line is cut in the middle of a record, and the postmaster was not killed",
			in.recsPath, ErrIncompleteRun)
	}
	n := len(in.recs)
	if n > 0 && in.recs[n-1].Kind == postmaster.RecordDeathPipeClosed {
		n-- // logged after shutdown-done, as the pipe closes
	}
	if n == 0 || in.recs[n-1].Kind != postmaster.RecordShutdownDone {
		return fmt.Errorf("stress: %s: %w: it does not end with %s, and the postmaster was not killed: records are missing at its end",
			in.recsPath, ErrIncompleteRun, postmaster.RecordShutdownDone)
	}
	return nil
}

// check runs every check the input allows.
func (in *input) check(opts CheckOptions) (*Verdict, error) {
	opts = opts.defaults(in.cfg)
	if opts.Slots > 0 {
		in.slots = opts.Slots
	}
	if in.slots <= 0 {
		in.slots = 8
	}
	died := diedOp(in.h)
	if in.hasRecs {
		if err := in.wholeRecords(died); err != nil {
			return nil, err
		}
		pmh, static, err := PostmasterHistory(in.recs)
		if err != nil {
			return nil, err
		}
		if in.static < 0 {
			in.static = static
		}
		in.h = append(in.h, pmh...)
		in.h.SortByCall()
	}
	if opts.Static > 0 {
		in.static = opts.Static
	}
	in.static = max(in.static, 0)
	v := &Verdict{}
	if len(in.h) == 0 {
		v.Checks = append(v.Checks, CheckResult{Name: CheckLinearizability, Outcome: Skipped, Summary: "no history"})
	} else {
		h := in.h
		if died != nil {
			h = deathCut(h, in.recs)
		}
		v.History = h
		v.Report = linearizability.Check(h, opts.linOptions(in.slots, in.static))
		v.Checks = append(v.Checks, linResult(v.Report))
	}
	if !in.hasRecs {
		v.Checks = append(v.Checks, CheckResult{Name: CheckPolicy, Outcome: Skipped, Summary: "no record log"})
	} else {
		var end time.Duration
		if len(in.recs) > 0 {
			end = in.recs[len(in.recs)-1].Now
		}
		po := policy.Options{End: end}
		if in.cfg != nil {
			po = policyOptions(in.cfg, end)
		}
		v.Policy = policy.Validate(in.recs, po)
		v.Checks = append(v.Checks, policyResult(len(in.recs), v.Policy))
	}
	switch {
	case in.waits == nil:
		v.Checks = append(v.Checks, CheckResult{Name: CheckWaiters, Outcome: Skipped, Summary: "no waits file"})
	case !in.hasRecs:
		v.Checks = append(v.Checks, CheckResult{Name: CheckWaiters, Outcome: Skipped, Summary: "no record log to judge the waits against"})
	default:
		v.Waiters = JudgeWaits(in.waits, in.recs, died)
		v.Checks = append(v.Checks, waitersResult(len(in.waits), v.Waiters))
	}
	if in.cuts != nil {
		v.Checks = append(v.Checks, recordingResult(in.h, in.cuts, in.faults, in.recs, died))
	}
	v.Coverage = measureCoverage(in.h, in.recs, in.slots, in.static)
	if in.cfg != nil {
		registers := v.Coverage.Counts[CoverRegisterOK] + v.Coverage.Counts[CoverRegisterNoFreeSlot] +
			v.Coverage.Counts[CoverRegisterInvalid]
		reach := in.cfg.Reachable(registers)
		if in.ran.interrupted {
			reach = in.cfg.reachable(in.ran.d, registers)
		}
		v.Checks = append(v.Checks, coverageResult(v.Coverage, reach, append(in.cfg.Check.Waive, opts.Waive...)))
	}
	if in.stop != nil {
		v.Checks = append(v.Checks, *in.stop)
	}
	if in.exit != nil {
		v.Checks = append(v.Checks, postmasterResult(*in.exit))
	}
	return v, nil
}

// diedOp returns the postmaster's death in h, if any.
func diedOp(h linearizability.History) *linearizability.Operation {
	for i := range h {
		if h[i].Input.Kind == spec.OpDied {
			return &h[i]
		}
	}
	return nil
}

// deathCut makes a history whose postmaster was killed safe to check. The
// kill may land after a step's shared accesses but before its records are
// written, so a backend may have seen effects no record shows. Such an
// effect happened after the last record's Return stamp R, so only
// operations returning after R can have seen it: each of those (except a
// WaitForStartup answering POSTMASTER_DIED, which only the death decides)
// is checked as cut short, under a fresh client id. Unknown outputs only
// weaken a history, so a violation found after the cut is still real.
func deathCut(h linearizability.History, recs []postmaster.Record) linearizability.History {
	var cut linearizability.Stamp
	for _, r := range recs {
		cut = max(cut, linearizability.Stamp(r.Return))
	}
	next := 0
	for _, op := range h {
		if op.Process == postmasterProcess && len(recs) == 0 {
			cut = max(cut, op.Return)
		}
		next = max(next, op.Client+1)
	}
	out := make(linearizability.History, len(h))
	copy(out, h)
	for i := range out {
		op := &out[i]
		if op.Process == postmasterProcess || op.Input.Kind == spec.OpDied || op.Return == linearizability.Infinity || op.Return <= cut {
			continue
		}
		if op.Input.Kind == spec.OpWaitForStartup && op.Output.Status == spec.PostmasterDied {
			continue
		}
		op.Output, op.Return, op.Client = spec.Output{Unknown: true}, linearizability.Infinity, next
		next++
	}
	return out
}

// stopJSON is stop.json: the stop check, and how long the workload ran
// (less than its duration if the campaign was interrupted).
type stopJSON struct {
	Outcome     string        `json:"outcome"`
	Summary     string        `json:"summary"`
	Detail      string        `json:"detail,omitempty"`
	Ran         time.Duration `json:"ran_ns"`
	Interrupted bool          `json:"interrupted,omitempty"`
}

// ranFor is how long a campaign's workload ran, as stop.json says.
type ranFor struct {
	d           time.Duration
	interrupted bool
}

func writeStopCheck(path string, r CheckResult, ran ranFor) error {
	b, err := json.MarshalIndent(stopJSON{r.Outcome.String(), r.Summary, r.Detail, ran.d, ran.interrupted}, "", "  ")
	if err == nil {
		err = os.WriteFile(path, append(b, '\n'), 0o600)
	}
	if err != nil {
		return fmt.Errorf("stress: %w", err)
	}
	return nil
}

// decodeStopCheck decodes stop.json (path, for errors): a refused file is
// a *ConfigError naming the line.
func decodeStopCheck(path string, data []byte) (CheckResult, ranFor, error) {
	var j stopJSON
	if err := decodeStrict(data, &j); err != nil {
		return CheckResult{}, ranFor{}, inFile(path, data, err)
	}
	ran := ranFor{j.Ran, j.Interrupted}
	r := CheckResult{Name: CheckStop, Summary: j.Summary + " (recorded by the campaign)", Detail: j.Detail}
	switch j.Outcome {
	case Pass.String():
		r.Outcome = Pass
	case Fail.String():
		r.Outcome = Fail
	default:
		return CheckResult{}, ranFor{}, &ConfigError{File: path, Line: jsonpos.FieldLine(data, "outcome"), Field: "outcome",
			Err: fmt.Errorf("want %q or %q, got %q", Pass, Fail, j.Outcome)}
	}
	return r, ran, nil
}
