package htmlreport

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// MarkKind says what part an [Event] plays in the violation.
type MarkKind uint8

// The marks.
const (
	// MarkNone: an event shown for context.
	MarkNone MarkKind = iota
	// MarkViolation: one of the events that make the violation, such as
	// the read that saw a stale value, the write it missed, or the wait
	// that never ended.
	MarkViolation
	// MarkNote: an event worth a look that is not part of the violation,
	// such as a fault injected or a crash.
	MarkNote
)

// String returns the mark's name: none, violation or note. It is also the
// mark's CSS class suffix and data-mark attribute in the page.
func (m MarkKind) String() string {
	switch m {
	case MarkNone:
		return "none"
	case MarkViolation:
		return "violation"
	case MarkNote:
		return "note"
	}
	return "MarkKind(" + strconv.Itoa(int(m)) + ")"
}

// Page is one violation report.
type Page struct {
	// Title names the check, the seed and the flaw; see [Title]. It must
	// not be empty.
	Title string
	// Summary is one paragraph saying what went wrong, shown in the
	// summary box above the marked events. It may be empty.
	Summary string
	// Facts are key and value lines under the title: the repro command,
	// the run directory, the verdict.
	Facts []Fact
	// Legend explains the notation of the events' text, after the marks'
	// own legend.
	Legend []LegendEntry
	// Lanes orders the lanes, left to right. A lane of an event that is
	// not listed comes after these, in the order it first appears. Names
	// must be unique and not empty.
	Lanes []string
	// Events are the timeline. They are shown in time order; events at
	// the same time keep their order.
	Events []Event
}

// Fact is one key and value line of a [Page]'s header.
type Fact struct {
	Key, Value string
	// Code shows Value in a monospace font, for a command or a path.
	Code bool
}

// LegendEntry explains one term of the notation, such as "s5/g2/e0".
type LegendEntry struct {
	Term, Meaning string
}

// Event is one thing that happened in one process.
type Event struct {
	// At is the time of the event since the run (or the window shown)
	// began; it must not be negative.
	At time.Duration
	// Stamp is an optional second clock shown under the time, such as
	// the logical stamps "call 17 / return 21".
	Stamp string
	// Lane is the process, such as "postmaster", "backend 3" or
	// "worker 4242"; it must not be empty.
	Lane string
	// Text says what happened.
	Text string
	// Mark is the event's part in the violation.
	Mark MarkKind
	// Why says why the event is marked, such as "read a stale value". It
	// is shown with the event and in the summary.
	Why string
}

// Title returns the title of a report on a violation of check, in a run
// with seed and flaw (empty for none), for a [Page] and for
// [RetitlePorcupine]:
//
//	bgw: policy violation, seed 42, flaw none
func Title(check string, seed int64, flaw string) string {
	if flaw == "" {
		flaw = "none"
	}
	return fmt.Sprintf("bgw: %s violation, seed %d, flaw %s", check, seed, flaw)
}

// ErrInvalid is wrapped by every error of [Page.Validate].
var ErrInvalid = errors.New("htmlreport: invalid page")

// Validate returns an error wrapping [ErrInvalid] naming the first thing
// wrong with p, or nil.
func (p Page) Validate() error {
	if isBlank(p.Title) {
		return fmt.Errorf("%w: no title", ErrInvalid)
	}
	seen := map[string]bool{}
	for i, l := range p.Lanes {
		if isBlank(l) {
			return fmt.Errorf("%w: lane %d: empty name", ErrInvalid, i)
		}
		if seen[l] {
			return fmt.Errorf("%w: lane %q listed twice", ErrInvalid, l)
		}
		seen[l] = true
	}
	for i, e := range p.Events {
		switch {
		case isBlank(e.Lane):
			return fmt.Errorf("%w: event %d: no lane", ErrInvalid, i)
		case e.At < 0:
			return fmt.Errorf("%w: event %d: negative time %v", ErrInvalid, i, e.At)
		case e.Mark > MarkNote:
			return fmt.Errorf("%w: event %d: unknown mark %v", ErrInvalid, i, e.Mark)
		}
	}
	return nil
}

func isBlank(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// The view the template renders.
type view struct {
	Page
	Lanes      []string
	Rows       []row
	Violations []row
	Notes      []row
	Marks      []markLegend
}

type row struct {
	ID    string
	Time  string
	Mark  string
	Event Event
	Cells []bool // one per lane: whether the event is in it
}

type markLegend struct {
	Class, Name, Meaning string
}

// seconds formats d as seconds with microseconds, so that times line up
// in one unit down the column.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 6, 64)
}

func (p Page) view() view {
	v := view{Page: p, Lanes: slices.Clone(p.Lanes)}
	index := map[string]int{}
	for i, l := range v.Lanes {
		index[l] = i
	}
	events := slices.Clone(p.Events)
	slices.SortStableFunc(events, func(a, b Event) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
	for _, e := range events {
		if _, ok := index[e.Lane]; !ok {
			index[e.Lane] = len(v.Lanes)
			v.Lanes = append(v.Lanes, e.Lane)
		}
	}
	for i, e := range events {
		r := row{ID: "ev-" + strconv.Itoa(i), Time: seconds(e.At), Mark: e.Mark.String(), Event: e,
			Cells: make([]bool, len(v.Lanes))}
		r.Cells[index[e.Lane]] = true
		v.Rows = append(v.Rows, r)
		switch e.Mark {
		case MarkViolation:
			v.Violations = append(v.Violations, r)
		case MarkNote:
			v.Notes = append(v.Notes, r)
		}
	}
	v.Marks = []markLegend{
		{"mark-violation", "violation", "an event that makes the violation"},
		{"mark-note", "note", "worth a look, not part of the violation (a fault, a crash)"},
		{"mark-none", "unmarked", "context"},
	}
	return v
}

//go:embed page.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("page").Parse(pageSource))

// Render validates p and writes it to w as one HTML document. Nothing is
// written if p is invalid.
func (p Page) Render(w io.Writer) error {
	if err := p.Validate(); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p.view()); err != nil {
		return fmt.Errorf("htmlreport: render: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("htmlreport: write: %w", err)
	}
	return nil
}

// WriteFile renders p to path atomically: to a temporary file in the same
// directory, synced, then renamed over path. The file's mode is 0644.
func WriteFile(path string, p Page) error {
	var buf bytes.Buffer
	if err := p.Render(&buf); err != nil {
		return err
	}
	return writeAtomic(path, buf.Bytes())
}

func writeAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	return nil
}
