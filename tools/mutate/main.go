// Command mutate measures the gates' mutation score: it makes source
// mutants of the protocol's code (impl/bgworker and the postmaster's pure
// core) and judges each by the three gates a change must pass, recording
// which of them kill it:
//
//   - tests: go test -short of impl/... and proptest;
//   - explore: bgw explore, every scenario under SC, x86-TSO and the C11
//     view model;
//   - stress: a bgw stress campaign (30 s by default, the default
//     configuration, a fixed seed).
//
// A mutant that does not compile is stillborn and not counted. The
// unmutated tree is judged first and must pass every gate. Usage:
//
//	go run ./tools/mutate -list              # the mutants, one per line
//	go run ./tools/mutate -n 40 -out docs/mutants.md -json /tmp/mutants.jsonl
//	go run ./tools/mutate -ids 12,40         # judge these mutants only
//
// Each mutant is built and run in a scratch copy of the module, so the
// working tree is never touched. It takes about two minutes a mutant on
// two cores.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// targets are the files mutated: the protocol, one function per seed
// function, and the postmaster's pure core.
var targets = []string{
	"impl/bgworker/backend.go", "impl/bgworker/postmaster.go", "impl/bgworker/restart.go", "impl/bgworker/worker.go",
	"impl/postmaster/core.go", "impl/postmaster/start.go", "impl/postmaster/exit.go", "impl/postmaster/crash.go",
	"impl/postmaster/shutdown.go", "impl/postmaster/pmsignal.go",
}

func main() {
	list := flag.Bool("list", false, "list the mutants and exit")
	n := flag.Int("n", 0, "judge a sample of `N` mutants (0: all), drawn with -seed")
	seed := flag.Uint64("seed", 1, "seed of the sample, and of each stress campaign")
	ids := flag.String("ids", "", "judge these mutants only (comma-separated ids, as -list prints them)")
	stressFor := flag.Duration("stress", 30*time.Second, "each stress campaign's duration")
	out := flag.String("out", "", "write the markdown table of verdicts to `FILE`")
	jsonOut := flag.String("json", "", "append one JSON line per judged mutant to `FILE`")
	table := flag.String("table", "", "print the table of the verdicts already in `FILE` (as -json writes them), judging nothing")
	flag.Parse()

	equiv, err := readEquivalent(equivalentFile)
	if err != nil {
		fail(err)
	}
	if *table != "" {
		vs, err := readVerdicts(*table)
		if err != nil {
			fail(err)
		}
		if root, err := os.Getwd(); err == nil {
			if all, err := Enumerate(root, targets); err == nil {
				fillNth(vs, all)
			}
		}
		fmt.Print(Table(vs, 0, *stressFor, equiv))
		return
	}

	root, err := os.Getwd()
	if err != nil {
		fail(err)
	}
	all, err := Enumerate(root, targets)
	if err != nil {
		fail(err)
	}
	if *list {
		for _, m := range all {
			fmt.Printf("%4d  %s\n", m.ID, m)
		}
		return
	}
	chosen, err := choose(all, *n, *seed, *ids)
	if err != nil {
		fail(err)
	}
	if *jsonOut != "" {
		// Resume: a mutant already judged in the -json file is not judged again.
		done, err := readVerdicts(*jsonOut)
		if err != nil && !os.IsNotExist(err) {
			fail(err)
		}
		judged := map[string]bool{}
		for _, v := range done {
			if v.Mutant != nil {
				judged[v.Mutant.Key()] = true
			}
		}
		chosen = slices.DeleteFunc(chosen, func(m Mutant) bool { return judged[m.Key()] })
	}
	j, err := newJudge(root, *stressFor, int64(*seed))
	if err != nil {
		fail(err)
	}
	defer j.close()
	fmt.Fprintf(os.Stderr, "mutate: %d mutants of %d; judging the unmutated tree first\n", len(chosen), len(all))
	if base := j.judge(nil); !base.clean() {
		fail(fmt.Errorf("the unmutated tree does not pass every gate: %+v", base))
	}
	var verdicts []Verdict
	for i, m := range chosen {
		v := j.judge(&m)
		verdicts = append(verdicts, v)
		fmt.Fprintf(os.Stderr, "mutate: %d/%d #%d %s: %s\n", i+1, len(chosen), m.ID, m, v.Summary())
		if *jsonOut != "" {
			if err := appendJSON(*jsonOut, v); err != nil {
				fail(err)
			}
		}
	}
	md := Table(verdicts, len(all), *stressFor, equiv)
	fmt.Print(md)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
			fail(err)
		}
	}
}

// choose picks the mutants to judge: the ids given, or a seeded sample of
// n, or all, in id order.
func choose(all []Mutant, n int, seed uint64, ids string) ([]Mutant, error) {
	if ids != "" {
		var out []Mutant
		for _, s := range strings.Split(ids, ",") {
			id, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || id < 1 || id > len(all) {
				return nil, fmt.Errorf("-ids: %q: want ids 1..%d", s, len(all))
			}
			out = append(out, all[id-1])
		}
		return out, nil
	}
	if n <= 0 || n >= len(all) {
		return all, nil
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	picked := rng.Perm(len(all))[:n]
	out := make([]Mutant, 0, n)
	for id := range all {
		for _, p := range picked {
			if p == id {
				out = append(out, all[id])
			}
		}
	}
	return out, nil
}

// equivalentFile lists the mutants argued equivalent to the original:
// one per line, its Key, then " # " and the argument.
const equivalentFile = "tools/mutate/equivalent.txt"

// readEquivalent reads equivalentFile: the argument of each mutant key.
func readEquivalent(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for n, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		key, why, ok := strings.Cut(line, " # ")
		if !ok || strings.TrimSpace(why) == "" {
			return nil, fmt.Errorf("%s:%d: want KEY # ARGUMENT", path, n+1)
		}
		out[strings.TrimSpace(key)] = strings.TrimSpace(why)
	}
	return out, nil
}

// fillNth gives verdicts read from an older -json file (without Nth) the
// Nth of the mutant at the same place in all, the current enumeration.
func fillNth(vs []Verdict, all []Mutant) {
	type place struct {
		file, old, new string
		line           int
		op             Operator
	}
	nth := map[place]int{}
	for _, m := range all {
		nth[place{m.File, m.Old, m.New, m.Line, m.Operator}] = m.Nth
	}
	for _, v := range vs {
		if m := v.Mutant; m != nil && m.Nth == 0 {
			m.Nth = nth[place{m.File, m.Old, m.New, m.Line, m.Operator}]
		}
	}
}

// readVerdicts reads the JSON lines -json wrote.
func readVerdicts(path string) ([]Verdict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var vs []Verdict
	dec := json.NewDecoder(f)
	for dec.More() {
		var v Verdict
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		vs = append(vs, v)
	}
	return vs, nil
}

func appendJSON(path string, v Verdict) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	return json.NewEncoder(f).Encode(v)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "mutate: %v\n", err)
	os.Exit(2)
}
