package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Result is what one gate made of a mutant.
type Result string

// The results.
const (
	Killed   Result = "killed"   // exit 1 (stress, explore) or a failing test
	Survived Result = "survived" // exit 0
	// Tripped: the gate failed the run without a verdict on the
	// protocol: exit 2 (undecided, vacuous, an infrastructure failure) or
	// its time ran out. A CI gate fails on it all the same.
	Tripped Result = "tripped"
	NotRun  Result = "-"
)

// Verdict is the gates' judgement of one mutant (nil Mutant: the
// unmutated tree).
type Verdict struct {
	Mutant    *Mutant `json:"mutant,omitempty"`
	Stillborn string  `json:"stillborn,omitempty"` // why it does not compile
	Tests     Result  `json:"tests"`
	Explore   Result  `json:"explore"`
	// Models are the memory models under which the explorer found a
	// counterexample.
	Models []string `json:"models,omitempty"`
	Stress Result   `json:"stress"`
	// StressSaid is the stress campaign's first violation, or the checks
	// that failed or could not decide.
	StressSaid string `json:"stress_said,omitempty"`
}

// clean reports whether every gate passed.
func (v Verdict) clean() bool {
	return v.Stillborn == "" && v.Tests == Survived && v.Explore == Survived && v.Stress == Survived
}

// Killed reports whether some gate failed the mutant.
func (v Verdict) Killed() bool {
	return v.Stillborn == "" && (v.Tests != Survived || v.Explore != Survived || v.Stress != Survived)
}

// Summary is one line.
func (v Verdict) Summary() string {
	if v.Stillborn != "" {
		return "stillborn"
	}
	return fmt.Sprintf("tests %s, explore %s%s, stress %s %s", v.Tests, v.Explore, models(v.Models), v.Stress, v.StressSaid)
}

func models(ms []string) string {
	if len(ms) == 0 {
		return ""
	}
	return " (" + strings.Join(ms, ",") + ")"
}

// judge runs the gates in a scratch copy of the module.
type judge struct {
	root, scratch string
	stressFor     time.Duration
	seed          int64
}

// newJudge copies the module's tracked files to a scratch directory.
func newJudge(root string, stressFor time.Duration, seed int64) (*judge, error) {
	scratch, err := os.MkdirTemp("", "bgw-mutate-")
	if err != nil {
		return nil, err
	}
	files, err := exec.Command("git", "-C", root, "ls-files").Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %w", err)
	}
	for _, rel := range strings.Split(strings.TrimSpace(string(files)), "\n") {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			return nil, err
		}
		dst := filepath.Join(scratch, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return nil, err
		}
	}
	return &judge{root: root, scratch: scratch, stressFor: stressFor, seed: seed}, nil
}

func (j *judge) close() { os.RemoveAll(j.scratch) }

// judge applies m (nil: none), runs every gate, and restores the file.
func (j *judge) judge(m *Mutant) Verdict {
	v := Verdict{Mutant: m, Tests: NotRun, Explore: NotRun, Stress: NotRun}
	if m != nil {
		path := filepath.Join(j.scratch, m.File)
		orig, err := os.ReadFile(path)
		if err != nil {
			v.Stillborn = err.Error()
			return v
		}
		defer os.WriteFile(path, orig, 0o644)
		mutated, err := Apply(orig, *m)
		if err == nil {
			err = os.WriteFile(path, mutated, 0o644)
		}
		if err != nil {
			v.Stillborn = err.Error()
			return v
		}
	}
	bin := filepath.Join(j.scratch, "bgw.bin")
	if out, err := j.run(5*time.Minute, "go", "build", "-o", bin, "./cmd/bgw"); err != nil {
		v.Stillborn = firstLine(out)
		return v
	}
	if out, err := j.run(5*time.Minute, "go", "vet", "./impl/..."); err != nil {
		v.Stillborn = "vet: " + firstLine(out)
		return v
	}
	_, err := j.run(testLimit+time.Minute, "go", "test", "-short", "-count=1", "-timeout", testLimit.String(), "./impl/...", "./proptest")
	v.Tests = testResult(err)
	out, err := j.run(exploreLimit, bin, "explore")
	v.Explore = exitResult(err)
	v.Models = failedModels(out)
	runs, rerr := os.MkdirTemp("", "bgw-mutate-runs-")
	if rerr != nil {
		v.Stress, v.StressSaid = Tripped, rerr.Error()
		return v
	}
	defer os.RemoveAll(runs)
	out, err = j.run(j.stressFor+6*time.Minute, bin, "stress", "-duration", j.stressFor.String(),
		"-seed", fmt.Sprint(j.seed), "-out", runs)
	v.Stress, v.StressSaid = exitResult(err), stressSaid(out)
	return v
}

// Bounds on the tests and the explorer: the unmutated tree takes about
// one and half a minute under load; a mutant that hangs fails the gate
// (go test's timeout is a failure) or trips it.
const (
	testLimit    = 4 * time.Minute
	exploreLimit = 5 * time.Minute
)

// maxProcs bounds the processes a gate may run at once: a mutant that
// spawns without end (a postmaster restarting a worker in a loop) is cut
// short as a failure of the gate, not left to exhaust the machine.
const maxProcs = 300

// run runs a command in the scratch copy, bounded by limit and by
// maxProcs descendants, and returns its combined output.
func (j *judge) run(limit time.Duration, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = j.scratch
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exploded := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if d := descendants(cmd.Process.Pid); len(d) > maxProcs {
				close(exploded)
				for _, pid := range append(d, cmd.Process.Pid) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
				return
			}
		}
	}()
	err := cmd.Wait()
	close(stop)
	select {
	case <-exploded:
		return b.Bytes(), errExploded
	default:
	}
	if ctx.Err() != nil {
		return b.Bytes(), errTimeout
	}
	return b.Bytes(), err
}

var (
	errTimeout  = errors.New("time ran out")
	errExploded = fmt.Errorf("more than %d processes at once", maxProcs)
)

// descendants lists the processes below pid, from /proc.
func descendants(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parent := map[int]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		if len(f) > 1 {
			parent[p], _ = strconv.Atoi(f[1])
		}
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// testResult: a failing test kills; its time running out, or its
// processes exploding, trips.
func testResult(err error) Result {
	switch {
	case err == nil:
		return Survived
	case errors.Is(err, errTimeout), errors.Is(err, errExploded):
		return Tripped
	}
	return Killed
}

// exitResult reads bgw's exit code: 0 survived, 1 killed, else tripped.
func exitResult(err error) Result {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return Survived
	case !errors.Is(err, errExploded) && errors.As(err, &ee) && ee.ExitCode() == 1:
		return Killed
	}
	return Tripped
}

var failLine = regexp.MustCompile(`(?m)^FAIL\s+\S+/(sc|tso|view)\b`)

// failedModels lists the models of the explorer's FAIL lines.
func failedModels(out []byte) []string {
	var ms []string
	for _, m := range failLine.FindAllSubmatch(out, -1) {
		if s := string(m[1]); !slices.Contains(ms, s) {
			ms = append(ms, s)
		}
	}
	slices.Sort(ms)
	return ms
}

var (
	firstViolation = regexp.MustCompile(`(?m)^\s*first violation after [^:]+: (.*)$`)
	checkLine      = regexp.MustCompile(`(?m)^\s{2}(\S+)\s+(FAIL|UNKNOWN)\s`)
	stressError    = regexp.MustCompile(`(?m)^bgw stress: (?:seed \d+: )?((?:[^s]|s[^e]|se[^e]).*)$`)
)

// stressSaid is what a campaign's output says of its failure.
func stressSaid(out []byte) string {
	if m := firstViolation.FindSubmatch(out); m != nil {
		return oneLine(string(m[1]))
	}
	var checks []string
	for _, m := range checkLine.FindAllSubmatch(out, -1) {
		checks = append(checks, string(m[1])+" "+string(m[2]))
	}
	if len(checks) > 0 {
		return strings.Join(checks, ", ")
	}
	if m := stressError.FindSubmatch(out); m != nil {
		return oneLine(string(m[1]))
	}
	return ""
}

func firstLine(out []byte) string {
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return oneLine(s)
}
