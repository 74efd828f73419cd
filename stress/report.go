package stress

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"bgwmodel/internal/safefile"
	"bgwmodel/internal/shellquote"
	"bgwmodel/linearizability"
)

// Report files a campaign writes in its run directory.
const (
	// VerdictFile is the human-readable verdict.
	VerdictFile = "verdict.txt"
	// ResultFile is the machine-readable summary ([Result] in JSON).
	ResultFile = "result.json"
	// PolicyFile lists the policy violations, one per line.
	PolicyFile = "policy.txt"
	// WaitersFile lists the waiters left waiting, one per line.
	WaitersFile = "waiters.txt"
	// HTMLFile is porcupine's view of a linearizability violation.
	HTMLFile = "violation.html"
	// ReproFile holds the command that re-runs the campaign.
	ReproFile = "repro.txt"
)

func writeConfig(path string, cfg *Config) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err == nil {
		err = os.WriteFile(path, append(b, '\n'), 0o600)
	}
	if err != nil {
		return fmt.Errorf("stress: %w", err)
	}
	return nil
}

// readJSONLines reads a file of JSON lines, each decoded strictly into a
// T (an unknown field is an error); errors name the file and line. It
// never returns nil: an empty file is an empty list.
func readJSONLines[T any](path string) ([]T, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("stress: %w", err)
	}
	defer f.Close()
	out := []T{}
	br := bufio.NewReader(safefile.Reader(f))
	for n := 1; ; n++ {
		line, err := safefile.ReadLine(br)
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("stress: %s:%d: %w", path, n, err)
		}
		if len(line) > 0 {
			if line[len(line)-1] != '\n' {
				return nil, fmt.Errorf("stress: %s:%d: %w: the last line has no end", path, n, ErrIncompleteRun)
			}
			var v T
			if derr := decodeStrict(line, &v); derr != nil {
				return nil, fmt.Errorf("stress: %s:%d: %w", path, n, derr)
			}
			out = append(out, v)
		}
		if err == io.EOF {
			return out, nil
		}
	}
}

// writeHistory writes h as a history file (linearizability's codec).
func writeHistory(path string, h linearizability.History) error {
	var b bytes.Buffer
	enc := linearizability.NewEncoder(&b)
	for _, op := range h {
		if err := enc.Encode(op); err != nil {
			return fmt.Errorf("stress: %s: %w", path, err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("stress: %w", err)
	}
	return nil
}

func writeJSONLines[T any](path string, items []T) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			return fmt.Errorf("stress: %s: %w", path, err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("stress: %w", err)
	}
	return nil
}

// ReproCommand returns the command line that re-runs the campaign of cfg
// (a resolved configuration, as [Run] runs it): flags only when they
// express the whole configuration, else -config with the campaign.json
// saved in dir. It does not block.
func ReproCommand(cfg Config, dir string) string {
	d := DefaultConfig()
	args := []string{"bgw", "stress", "-seed", fmt.Sprint(cfg.Seed)}
	if cfg.Duration != d.Duration {
		args = append(args, "-duration", cfg.Duration.String())
	}
	if cfg.Backends != d.Backends {
		args = append(args, "-backends", fmt.Sprint(cfg.Backends))
	}
	if f := cfg.FaultList(); f != d.FaultList() {
		args = append(args, "-faults", f)
	}
	if cfg.Flaw != "" {
		args = append(args, "-flaw", cfg.Flaw)
	}
	if cfg.Check.StopOnViolation != d.Check.StopOnViolation {
		args = append(args, fmt.Sprintf("-stop-on-violation=%v", cfg.Check.StopOnViolation))
	}
	// Would those flags rebuild cfg, with the seed's slots or with -slots?
	for _, slots := range []bool{false, true} {
		c := DefaultConfig()
		c.Seed, c.Duration, c.Flaw = cfg.Seed, cfg.Duration, cfg.Flaw
		c.Backends, c.Careful = cfg.Backends, min(c.Careful, max(cfg.Backends-1, 0))
		c.Check.StopOnViolation = cfg.Check.StopOnViolation
		a := args
		if slots {
			c.Slots, c.Vary.Slots = cfg.Slots, false
			a = append(a, "-slots", fmt.Sprint(cfg.Slots))
		}
		if c.SetFaults(cfg.FaultList()) == nil && reflect.DeepEqual(c.Resolve(), cfg) {
			return strings.Join(a, " ")
		}
	}
	return fmt.Sprintf("bgw stress -config %s", shellquote.Quote(filepath.Join(dir, CampaignFile)))
}

// resultJSON is result.json.
type resultJSON struct {
	Seed           int64             `json:"seed"`
	Flaw           string            `json:"flaw"`
	Outcome        string            `json:"outcome"`
	Failed         []CheckName       `json:"failed"`
	Checks         []checkJSON       `json:"checks"`
	ElapsedNS      time.Duration     `json:"elapsed_ns"`
	Ops            int               `json:"ops"`
	Records        int               `json:"records"`
	Restarts       int               `json:"restarts"`
	Launches       int               `json:"launches"`
	Faults         map[FaultKind]int `json:"faults"`
	Timeouts       Timeouts          `json:"timeouts"`
	Postmaster     PostmasterExit    `json:"postmaster"`
	FirstViolation string            `json:"first_violation,omitempty"`
	AfterViolation []string          `json:"after_violation,omitempty"`
	Interrupted    bool              `json:"interrupted,omitempty"`
	DetectedNS     time.Duration     `json:"detected_after_ns,omitempty"`
	Repro          string            `json:"repro"`
	Coverage       Coverage          `json:"coverage"`
}

type checkJSON struct {
	Name    CheckName `json:"name"`
	Outcome string    `json:"outcome"`
	Summary string    `json:"summary"`
}

// writeReports writes the verdict files of a finished campaign.
func writeReports(dir, reproDir string, res *Result) error {
	v := res.Verdict
	repro := ReproCommand(res.Config, reproDir)
	rj := resultJSON{Seed: res.Config.Seed, Flaw: res.Config.Flaw, Outcome: res.Outcome().String(), Failed: v.Failed(),
		ElapsedNS: res.Elapsed, Ops: res.Ops, Records: res.Records, Restarts: res.Restarts, Launches: res.Launches,
		Faults: res.Faults, Timeouts: res.Timeouts, Postmaster: res.Postmaster, FirstViolation: res.FirstViolation, DetectedNS: res.DetectedAfter, Repro: repro,
		AfterViolation: res.AfterViolation, Interrupted: res.Interrupted, Coverage: v.Coverage}
	for _, c := range v.Checks {
		rj.Checks = append(rj.Checks, checkJSON{c.Name, c.Outcome.String(), c.Summary})
	}
	b, err := json.MarshalIndent(rj, "", "  ")
	if err != nil {
		return fmt.Errorf("stress: %w", err)
	}
	files := map[string][]byte{
		ResultFile:  append(b, '\n'),
		VerdictFile: []byte(Summary(res) + "\n" + v.String()),
		ReproFile:   []byte(repro + "\n"),
	}
	if len(v.Policy) > 0 {
		var pb bytes.Buffer
		for _, p := range v.Policy {
			fmt.Fprintln(&pb, p)
		}
		files[PolicyFile] = pb.Bytes()
	}
	if len(v.Waiters) > 0 {
		var wb bytes.Buffer
		for _, f := range v.Waiters {
			fmt.Fprintln(&wb, f)
		}
		files[WaitersFile] = wb.Bytes()
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return fmt.Errorf("stress: %w", err)
		}
	}
	return WriteHTML(v, filepath.Join(dir, HTMLFile))
}

// WriteHTML writes porcupine's view of the verdict's linearizability
// violation to path, if there is one with something to show; otherwise it
// does nothing. It blocks writing the file.
func WriteHTML(v *Verdict, path string) error {
	lv := v.Report.Violation()
	if lv == nil || lv.Info == nil {
		return nil
	}
	return lv.WriteHTML(path, v.History)
}

// Summary returns the campaign's headline: the outcome, the seed, and
// what ran.
func Summary(res *Result) string {
	var b strings.Builder
	cfg := &res.Config
	flaws := cfg.Flaw
	if flaws == "" {
		flaws = "none"
	}
	fmt.Fprintf(&b, "%v: seed %d, flaw %s, %d backends, %d slots, %v of %v\n", res.Outcome(), cfg.Seed, flaws,
		cfg.Backends, cfg.Slots, res.Elapsed.Round(time.Millisecond), cfg.Duration)
	var faults []string
	for _, k := range FaultKinds() {
		if n := res.Faults[k]; n > 0 {
			faults = append(faults, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(faults) == 0 {
		faults = []string{"none"}
	}
	fmt.Fprintf(&b, "  %d operations (%.0f/s), %d records, %d workers launched, %d crash restarts\n",
		res.Ops, float64(res.Ops)/max(res.Elapsed.Seconds(), 1e-9), res.Records, res.Launches, res.Restarts)
	fmt.Fprintf(&b, "  faults: %s\n", strings.Join(faults, ", "))
	t := res.Timeouts
	fmt.Fprintf(&b, "  timeouts: %d (operations %d, waits %d, checks %d)\n", t.Total(), t.Ops, t.Waits, t.Checks)
	if res.Verdict != nil {
		for _, line := range strings.Split(strings.TrimSpace(res.Verdict.Coverage.String()), "\n") {
			fmt.Fprintf(&b, "  %s\n", line)
		}
	}
	if res.FirstViolation != "" {
		fmt.Fprintf(&b, "  first violation after %v: %s\n", res.DetectedAfter.Round(time.Millisecond), res.FirstViolation)
		if res.Verdict != nil && res.Verdict.Outcome() != Fail {
			fmt.Fprintf(&b, "  the checks at the end did not find it again; it is the verdict all the same\n")
		}
	}
	if n := len(res.AfterViolation); n > 0 {
		fmt.Fprintf(&b, "  after it, %d errors of the stop it caused (not failures of the run), the first: %s\n", n, res.AfterViolation[0])
	}
	if res.Interrupted {
		fmt.Fprintf(&b, "  INTERRUPTED after %v: the checks judge what ran; a campaign cut short is no pass\n", res.Elapsed.Round(time.Millisecond))
	}
	return b.String()
}
