package explore

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// event is one scheduling alternative: run a thread's next step, flush a
// thread's oldest buffered store, or kill a thread.
type event struct {
	kind ChoiceKind // ChooseThread, ChooseFlush or ChooseKill
	tid  ThreadID
}

func (e event) choice() Choice { return Choice{Kind: e.kind, N: int(e.tid)} }

// recordMode is how a recorder decides.
type recordMode uint8

const (
	modeDFS    recordMode = iota // follow prefix, then take alternative 0
	modeRandom                   // uniform random
	modeTrace                    // follow a trace's tokens
)

// point is a DFS choice point (one with more than one alternative).
type point struct {
	n, chosen int
}

// recorder makes every choice of one execution and records it, both as DFS
// points (for backtracking) and as trace tokens (for replay).
type recorder struct {
	mode    recordMode
	prefix  []int
	rng     *rand.Rand
	tokens  []Choice
	next    int  // next token (modeTrace)
	lenient bool // modeTrace: a token that does not fit becomes the default
	points  []point
	trace   []Choice
	err     error // a trace that does not fit, or a nondeterministic scenario
}

// decide picks among n > 1 alternatives; match maps a trace token to an
// alternative.
func (r *recorder) decide(n int, what string, match func(Choice) (int, bool)) int {
	i := 0
	switch r.mode {
	case modeDFS:
		if d := len(r.points); d < len(r.prefix) {
			i = r.prefix[d]
			if i >= n && r.err == nil {
				r.err = fmt.Errorf("explore: nondeterministic scenario: choice point %d took alternative %d on an earlier run but has only %d now (thread code must depend only on what the explorer returns)", d, i, n)
				i = 0
			}
		}
	case modeRandom:
		i = r.rng.IntN(n)
	case modeTrace:
		if r.next < len(r.tokens) {
			tok := r.tokens[r.next]
			r.next++
			if j, ok := match(tok); ok {
				i = j
			} else if !r.lenient && r.err == nil {
				r.err = fmt.Errorf("%w: choice %d %q: %s", ErrTraceMismatch, r.next, tok.String(), what)
			}
		}
	}
	r.points = append(r.points, point{n: n, chosen: i})
	return i
}

// pick is a model choice among n alternatives (0 = newest).
func (r *recorder) pick(kind ChoiceKind, n int) int {
	if n <= 1 {
		return 0
	}
	i := r.decide(n, fmt.Sprintf("wanted a %s choice among %d alternatives (%c0..%c%d)", kind, n, kind, kind, n-1),
		func(c Choice) (int, bool) {
			if c.Kind == kind && c.N < n {
				return c.N, true
			}
			return 0, false
		})
	r.trace = append(r.trace, Choice{Kind: kind, N: i})
	return i
}

// sched picks the next event; alts is non-empty and its first element is
// the default. Every scheduling step is recorded as a token, even with one
// alternative, so a trace stays aligned whatever bounds filtered the
// alternatives when it was made.
func (r *recorder) sched(alts []event) int {
	i := 0
	match := func(c Choice) (int, bool) {
		for j, e := range alts {
			if e.choice() == c {
				return j, true
			}
		}
		return 0, false
	}
	switch {
	case len(alts) > 1:
		i = r.decide(len(alts), "that step cannot be taken here; possible: "+fmtEvents(alts), match)
	case r.mode == modeTrace && r.next < len(r.tokens):
		tok := r.tokens[r.next]
		r.next++
		if _, ok := match(tok); !ok && !r.lenient && r.err == nil {
			r.err = fmt.Errorf("%w: choice %d %q: that step cannot be taken here; possible: %s",
				ErrTraceMismatch, r.next, tok.String(), fmtEvents(alts))
		}
	}
	r.trace = append(r.trace, alts[i].choice())
	return i
}

// leftover reports trace tokens a strict replay did not use.
func (r *recorder) leftover() error {
	if r.mode != modeTrace || r.lenient || r.err != nil || r.next >= len(r.tokens) {
		return nil
	}
	return fmt.Errorf("%w: the execution ended after choice %d but the trace has %d more (next %q)",
		ErrTraceMismatch, r.next, len(r.tokens)-r.next, r.tokens[r.next].String())
}

func fmtEvents(alts []event) string {
	s := make([]string, len(alts))
	for i, e := range alts {
		s[i] = e.choice().String()
	}
	return strings.Join(s, " ")
}

// nextPrefix is the DFS successor of an execution's points: the deepest
// point with an untried alternative, advanced by one. ok is false when the
// tree is exhausted.
func nextPrefix(points []point) (prefix []int, ok bool) {
	for d := len(points) - 1; d >= 0; d-- {
		if points[d].chosen+1 < points[d].n {
			prefix = make([]int, d+1)
			for i := range d {
				prefix[i] = points[i].chosen
			}
			prefix[d] = points[d].chosen + 1
			return prefix, true
		}
	}
	return nil, false
}
