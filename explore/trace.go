package explore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ChoiceKind is the kind of one choice in a trace; its value is the letter
// that starts the choice's token.
type ChoiceKind byte

const (
	// ChooseThread runs thread N's next step ("t3").
	ChooseThread ChoiceKind = 't'
	// ChooseFlush flushes the oldest store in thread N's store buffer
	// (TSO; "f3").
	ChooseFlush ChoiceKind = 'f'
	// ChooseKill kills thread N at its current scheduling point ("k3").
	ChooseKill ChoiceKind = 'k'
	// ChooseRead picks the message a load or RMW reads (view model): N
	// counts back from the newest readable candidate, so "r0" is the
	// newest.
	ChooseRead ChoiceKind = 'r'
	// ChooseWrite picks where a store goes in modification order (view
	// model): N counts back from the newest free slot, so "w0" is after
	// the newest message.
	ChooseWrite ChoiceKind = 'w'
)

// String returns the kind's name.
func (k ChoiceKind) String() string {
	switch k {
	case ChooseThread:
		return "thread"
	case ChooseFlush:
		return "flush"
	case ChooseKill:
		return "kill"
	case ChooseRead:
		return "read"
	case ChooseWrite:
		return "write"
	}
	return fmt.Sprintf("ChoiceKind(%q)", byte(k))
}

// Choice is one choice of an execution.
type Choice struct {
	Kind ChoiceKind
	// N is a thread ID for ChooseThread, ChooseFlush and ChooseKill, and an
	// alternative index (0 = newest) for ChooseRead and ChooseWrite.
	N int
}

// String returns the choice's token, as "t3".
func (c Choice) String() string { return string(rune(c.Kind)) + strconv.Itoa(c.N) }

// Trace is an execution as the list of its choices under a model. Every
// scheduling step has one thread, flush or kill choice; read and write
// choices appear only where there was more than one alternative.
//
// Its string form is MODEL ":" TOKENS, where TOKENS are choice tokens
// separated by ".", and a token followed by "*K" stands for K copies of
// it: "tso:t0*2.t1.f0.t1" (see the package documentation).
type Trace struct {
	Model   ModelKind
	Choices []Choice
}

// ErrBadTrace is wrapped by every trace parse error.
var ErrBadTrace = errors.New("explore: bad trace")

// ErrTraceMismatch is wrapped by a replay error when a trace does not fit
// the scenario (a choice names a thread that cannot run, or an alternative
// that does not exist).
var ErrTraceMismatch = errors.New("explore: trace does not fit the scenario")

// maxTraceChoices bounds a parsed trace's length.
const maxTraceChoices = 1 << 20

// String formats the trace, run-length encoding repeated tokens.
func (t Trace) String() string {
	var b strings.Builder
	b.WriteString(string(t.Model))
	b.WriteByte(':')
	for i := 0; i < len(t.Choices); {
		j := i + 1
		for j < len(t.Choices) && t.Choices[j] == t.Choices[i] {
			j++
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t.Choices[i].String())
		if j-i > 1 {
			b.WriteByte('*')
			b.WriteString(strconv.Itoa(j - i))
		}
		i = j
	}
	return b.String()
}

// ParseTrace parses a trace string made by [Trace.String]. Errors wrap
// [ErrBadTrace] and say where the trace went wrong.
func ParseTrace(s string) (Trace, error) {
	s = strings.TrimSpace(s)
	model, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Trace{}, fmt.Errorf("%w: %q has no model prefix (want MODEL:CHOICES, e.g. \"view:t0.r1\")", ErrBadTrace, s)
	}
	m, err := ParseModel(model)
	if err != nil {
		return Trace{}, fmt.Errorf("%w: %v", ErrBadTrace, err)
	}
	t := Trace{Model: m}
	if rest == "" {
		return t, nil
	}
	pos := len(model) + 1
	for i, tok := range strings.Split(rest, ".") {
		c, n, err := parseToken(tok)
		if err != nil {
			return Trace{}, fmt.Errorf("%w: token %d %q at offset %d: %v", ErrBadTrace, i+1, tok, pos, err)
		}
		if len(t.Choices)+n > maxTraceChoices {
			return Trace{}, fmt.Errorf("%w: more than %d choices", ErrBadTrace, maxTraceChoices)
		}
		for range n {
			t.Choices = append(t.Choices, c)
		}
		pos += len(tok) + 1
	}
	return t, nil
}

// parseToken parses "t3" or "t3*5".
func parseToken(tok string) (Choice, int, error) {
	if tok == "" {
		return Choice{}, 0, errors.New("empty token")
	}
	k := ChoiceKind(tok[0])
	switch k {
	case ChooseThread, ChooseFlush, ChooseKill, ChooseRead, ChooseWrite:
	default:
		return Choice{}, 0, fmt.Errorf("unknown choice kind %q (want t, f, k, r or w)", tok[0])
	}
	num, rep, hasRep := strings.Cut(tok[1:], "*")
	n, err := parseNat(num)
	if err != nil {
		return Choice{}, 0, fmt.Errorf("bad number %q: %v", num, err)
	}
	count := 1
	if hasRep {
		count, err = parseNat(rep)
		if err != nil || count < 2 {
			return Choice{}, 0, fmt.Errorf("bad repeat count %q (want an integer ≥ 2)", rep)
		}
	}
	return Choice{Kind: k, N: n}, count, nil
}

// parseNat parses a non-negative decimal integer without sign or leading
// zeros.
func parseNat(s string) (int, error) {
	if s == "" {
		return 0, errors.New("missing")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errors.New("leading zero")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, errors.New("not a decimal number")
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > maxTraceChoices {
		return 0, errors.New("too large")
	}
	return n, nil
}
