package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Score counts a set of verdicts.
type Score struct {
	Judged, Stillborn, Equivalent, Killed int
	ByTests, ByExplore, ByStress          int
	ExploreSCTSO, StressOfExploreSCTSO    int
	StressTripped, Survivors              int
	SurvivorIDs, StressMissedExploreSCTSO []int
}

// Tally counts the verdicts; a mutant argued equivalent (equiv, by key)
// that survives counts apart, as no defect.
func Tally(vs []Verdict, equiv map[string]string) Score {
	var s Score
	for _, v := range vs {
		if v.Mutant == nil {
			continue
		}
		s.Judged++
		if v.Stillborn != "" {
			s.Stillborn++
			continue
		}
		if _, ok := equiv[v.Mutant.Key()]; ok && !v.Killed() {
			s.Equivalent++
			continue
		}
		if !v.Killed() {
			s.Survivors++
			s.SurvivorIDs = append(s.SurvivorIDs, v.Mutant.ID)
			continue
		}
		s.Killed++
		if v.Tests != Survived {
			s.ByTests++
		}
		if v.Explore != Survived {
			s.ByExplore++
		}
		if v.Stress != Survived {
			s.ByStress++
		}
		if v.Stress == Tripped {
			s.StressTripped++
		}
		if slices.Contains(v.Models, "sc") || slices.Contains(v.Models, "tso") {
			s.ExploreSCTSO++
			if v.Stress != Survived {
				s.StressOfExploreSCTSO++
			} else {
				s.StressMissedExploreSCTSO = append(s.StressMissedExploreSCTSO, v.Mutant.ID)
			}
		}
	}
	return s
}

// Table renders the verdicts as markdown: the score, then one row per
// mutant.
func Table(vs []Verdict, total int, stressFor time.Duration, equiv map[string]string) string {
	s := Tally(vs, equiv)
	var b strings.Builder
	live := s.Judged - s.Stillborn - s.Equivalent
	fmt.Fprintf(&b, "Mutants judged: %d", s.Judged)
	if total > 0 {
		fmt.Fprintf(&b, " of %d enumerated", total)
	}
	fmt.Fprintf(&b, "; %d stillborn (do not build or vet), %d argued equivalent, %d live (non-equivalent).\n\n",
		s.Stillborn, s.Equivalent, live)
	fmt.Fprintf(&b, "| gate | live mutants killed |\n|---|---|\n")
	fmt.Fprintf(&b, "| tests (`go test -short ./impl/... ./proptest`) | %d of %d |\n", s.ByTests, live)
	fmt.Fprintf(&b, "| explore (`bgw explore`, SC, TSO, view) | %d of %d |\n", s.ByExplore, live)
	fmt.Fprintf(&b, "| stress (`bgw stress -duration %v`, exit 1 or 2) | %d of %d (%d by exit 2) |\n", stressFor, s.ByStress, live, s.StressTripped)
	fmt.Fprintf(&b, "| any gate | %d of %d |\n\n", s.Killed, live)
	fmt.Fprintf(&b, "Stress kills %d of the %d live mutants the explorer kills under SC or TSO", s.StressOfExploreSCTSO, s.ExploreSCTSO)
	if len(s.StressMissedExploreSCTSO) > 0 {
		fmt.Fprintf(&b, " (missed: %v)", s.StressMissedExploreSCTSO)
	}
	fmt.Fprintf(&b, ". Survivors of every gate: %d %v.\n\n", s.Survivors, s.SurvivorIDs)
	fmt.Fprintf(&b, "| id | where | mutation | tests | explore | stress |\n|---|---|---|---|---|---|\n")
	for _, v := range vs {
		if v.Mutant == nil {
			continue
		}
		m := v.Mutant
		where := fmt.Sprintf("`%s:%d` %s", m.File, m.Line, m.Func)
		what := fmt.Sprintf("%s: `%s` → `%s`", m.Operator, cell(m.Old), cell(m.New))
		if v.Stillborn != "" {
			fmt.Fprintf(&b, "| %d | %s | %s | stillborn | | |\n", m.ID, where, what)
			continue
		}
		if why, ok := equiv[m.Key()]; ok && !v.Killed() {
			fmt.Fprintf(&b, "| %d | %s | %s | equivalent: %s | | |\n", m.ID, where, what,
				strings.ReplaceAll(strings.Join(strings.Fields(why), " "), "|", `\|`))
			continue
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s%s | %s %s |\n", m.ID, where, what, v.Tests, v.Explore, models(v.Models), v.Stress, cell(v.StressSaid))
	}
	return b.String()
}

// cell makes s safe in a markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}
