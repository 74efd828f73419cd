package junit

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Outcome is how a [Case] ended.
type Outcome uint8

// The outcomes. The zero Outcome is not one: a case must say how it ended.
const (
	// Passed: the case has no <failure>, <error> or <skipped> child.
	Passed Outcome = iota + 1
	// Failed: the check ran and found what it looks for (a violation): a
	// <failure> child.
	Failed
	// Errored: the check could not decide (an infrastructure failure, a
	// timeout, a run too small to mean anything): an <error> child.
	Errored
	// Skipped: the check did not run: a <skipped> child.
	Skipped
)

// String returns the outcome's name: passed, failed, errored or skipped.
func (o Outcome) String() string {
	switch o {
	case Passed:
		return "passed"
	case Failed:
		return "failed"
	case Errored:
		return "errored"
	case Skipped:
		return "skipped"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// DefaultHostname is the hostname written for a [Suite] that names none, as
// Ant's schema asks when the host cannot be determined.
const DefaultHostname = "localhost"

// TimestampLayout is the layout of a suite's timestamp attribute: local
// time, to the second, without a time zone, as Ant's schema requires.
const TimestampLayout = "2006-01-02T15:04:05"

// Report is a whole JUnit document: a <testsuites> element.
type Report struct {
	// Name is the <testsuites> name attribute, such as "bgw stress". It
	// may be empty.
	Name string
	// Suites are the <testsuite> elements, numbered by their index.
	Suites []Suite
}

// Suite is one <testsuite>: one run of a command, such as one campaign of
// bgw stress, with a case per check.
type Suite struct {
	// Name is the suite's name; it must not be empty or only spaces.
	Name string
	// Package is the package attribute, such as "bgw"; empty means Name.
	Package string
	// Timestamp is when the suite started; it must be set.
	Timestamp time.Time
	// Hostname is the machine that ran it; empty means [DefaultHostname].
	Hostname string
	// Time is how long the suite ran; it must not be negative.
	Time time.Duration
	// Properties are name and value pairs, such as the seed and the flags.
	Properties []Property
	// Cases are the test cases, one per check.
	Cases []Case
	// SystemOut and SystemErr are free text, such as the repro command and
	// the paths of the evidence.
	SystemOut, SystemErr string
}

// Property is one <property> of a [Suite].
type Property struct {
	// Name must not be empty.
	Name  string
	Value string
}

// Case is one <testcase>: one check.
type Case struct {
	// Name is the check's name, such as "linearizability"; it must not be
	// empty or only spaces.
	Name string
	// Classname groups cases in a CI system's view, such as "bgw.stress";
	// empty means the suite's name.
	Classname string
	// Time is how long the check took; it must not be negative.
	Time time.Duration
	// Outcome is how it ended; it must be one of the [Outcome] constants.
	Outcome Outcome
	// Type is the type attribute of the <failure>, <error> or <skipped>
	// child, such as "violation" or "timeout"; empty means the outcome's
	// name. It must be empty for a case that passed.
	Type string
	// Message is the one-line message attribute of that child; it must
	// be empty for a case that passed.
	Message string
	// Detail is the child's text, such as the details of a violation; it
	// must be empty for a case that passed.
	Detail string
}

// Counts are the totals of a suite or a report.
type Counts struct {
	// Tests counts every case, whatever its outcome.
	Tests int
	// Failures, Errors and Skipped count the cases with that outcome.
	Failures, Errors, Skipped int
}

// Counts returns the suite's totals.
func (s Suite) Counts() Counts {
	var c Counts
	for _, tc := range s.Cases {
		c.Tests++
		switch tc.Outcome {
		case Failed:
			c.Failures++
		case Errored:
			c.Errors++
		case Skipped:
			c.Skipped++
		}
	}
	return c
}

// Counts returns the report's totals, the sums of its suites'.
func (r Report) Counts() Counts {
	var c Counts
	for _, s := range r.Suites {
		sc := s.Counts()
		c.Tests += sc.Tests
		c.Failures += sc.Failures
		c.Errors += sc.Errors
		c.Skipped += sc.Skipped
	}
	return c
}

// Time returns the sum of the suites' times.
func (r Report) Time() time.Duration {
	var d time.Duration
	for _, s := range r.Suites {
		d += s.Time
	}
	return d
}

// ErrInvalid is wrapped by every error of [Report.Validate].
var ErrInvalid = errors.New("junit: invalid report")

// Validate returns an error wrapping [ErrInvalid] that names the first
// thing in r that would make an invalid document, or nil.
func (r Report) Validate() error {
	for i, s := range r.Suites {
		if err := s.validate(); err != nil {
			return fmt.Errorf("%w: suite %d: %w", ErrInvalid, i, err)
		}
	}
	return nil
}

func (s Suite) validate() error {
	if isBlank(s.Name) {
		return errors.New("empty name")
	}
	if s.Timestamp.IsZero() {
		return fmt.Errorf("%q: no timestamp", s.Name)
	}
	if s.Time < 0 {
		return fmt.Errorf("%q: negative time %v", s.Name, s.Time)
	}
	for j, p := range s.Properties {
		if isBlank(p.Name) {
			return fmt.Errorf("%q: property %d: empty name", s.Name, j)
		}
	}
	for j, tc := range s.Cases {
		if err := tc.validate(); err != nil {
			return fmt.Errorf("%q: case %d: %w", s.Name, j, err)
		}
	}
	return nil
}

func (tc Case) validate() error {
	switch {
	case isBlank(tc.Name):
		return errors.New("empty name")
	case tc.Time < 0:
		return fmt.Errorf("%q: negative time %v", tc.Name, tc.Time)
	case tc.Outcome < Passed || tc.Outcome > Skipped:
		return fmt.Errorf("%q: unknown outcome %v", tc.Name, tc.Outcome)
	case tc.Outcome == Passed && (tc.Type != "" || tc.Message != "" || tc.Detail != ""):
		return fmt.Errorf("%q: a case that passed has a type, message or detail", tc.Name)
	}
	return nil
}

// isBlank reports whether s is empty once XML's token whitespace (space,
// tab, newline, carriage return) is collapsed, as xs:token does.
func isBlank(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// The document as encoding/xml writes it. Field order is element order.
type xmlTestsuites struct {
	XMLName  xml.Name       `xml:"testsuites"`
	Name     string         `xml:"name,attr,omitempty"`
	Tests    int            `xml:"tests,attr"`
	Failures int            `xml:"failures,attr"`
	Errors   int            `xml:"errors,attr"`
	Time     string         `xml:"time,attr"`
	Suites   []xmlTestsuite `xml:"testsuite"`
}

type xmlTestsuite struct {
	Name       string        `xml:"name,attr"`
	Tests      int           `xml:"tests,attr"`
	Failures   int           `xml:"failures,attr"`
	Errors     int           `xml:"errors,attr"`
	Skipped    int           `xml:"skipped,attr"`
	Time       string        `xml:"time,attr"`
	Timestamp  string        `xml:"timestamp,attr"`
	Hostname   string        `xml:"hostname,attr"`
	ID         int           `xml:"id,attr"`
	Package    string        `xml:"package,attr"`
	Properties xmlProperties `xml:"properties"`
	Cases      []xmlTestcase `xml:"testcase"`
	SystemOut  xmlText       `xml:"system-out"`
	SystemErr  xmlText       `xml:"system-err"`
}

type xmlProperties struct {
	Property []xmlProperty `xml:"property"`
}

type xmlProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type xmlTestcase struct {
	Name      string     `xml:"name,attr"`
	Classname string     `xml:"classname,attr"`
	Time      string     `xml:"time,attr"`
	Skipped   *xmlResult `xml:"skipped"`
	Error     *xmlResult `xml:"error"`
	Failure   *xmlResult `xml:"failure"`
}

type xmlResult struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr,omitempty"`
	Text    string `xml:",chardata"`
}

type xmlText struct {
	Text string `xml:",chardata"`
}

// seconds formats d as seconds with three decimals, a form both schemas'
// time types accept (no exponent, no sign).
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

func (r Report) document() xmlTestsuites {
	c := r.Counts()
	doc := xmlTestsuites{
		Name:     r.Name,
		Tests:    c.Tests,
		Failures: c.Failures,
		Errors:   c.Errors,
		Time:     seconds(r.Time()),
	}
	for i, s := range r.Suites {
		sc := s.Counts()
		xs := xmlTestsuite{
			Name:      s.Name,
			Tests:     sc.Tests,
			Failures:  sc.Failures,
			Errors:    sc.Errors,
			Skipped:   sc.Skipped,
			Time:      seconds(s.Time),
			Timestamp: s.Timestamp.Format(TimestampLayout),
			Hostname:  s.Hostname,
			ID:        i,
			Package:   s.Package,
			SystemOut: xmlText{s.SystemOut},
			SystemErr: xmlText{s.SystemErr},
		}
		if isBlank(xs.Hostname) {
			xs.Hostname = DefaultHostname
		}
		if isBlank(xs.Package) {
			xs.Package = s.Name
		}
		for _, p := range s.Properties {
			xs.Properties.Property = append(xs.Properties.Property, xmlProperty(p))
		}
		for _, tc := range s.Cases {
			xc := xmlTestcase{Name: tc.Name, Classname: tc.Classname, Time: seconds(tc.Time)}
			if isBlank(xc.Classname) {
				xc.Classname = s.Name
			}
			res := &xmlResult{Type: tc.Type, Message: tc.Message, Text: tc.Detail}
			if res.Type == "" {
				res.Type = tc.Outcome.String()
			}
			switch tc.Outcome {
			case Failed:
				xc.Failure = res
			case Errored:
				xc.Error = res
			case Skipped:
				xc.Skipped = res
			}
			xs.Cases = append(xs.Cases, xc)
		}
		doc.Suites = append(doc.Suites, xs)
	}
	return doc
}

// Encode validates r and writes it to w as an indented XML document with
// its declaration. Nothing is written if r is invalid.
func (r Report) Encode(w io.Writer) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("junit: write: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(r.document()); err != nil {
		return fmt.Errorf("junit: encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("junit: encode: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("junit: write: %w", err)
	}
	return nil
}

// WriteFile validates r and writes it to path atomically: to a temporary
// file in the same directory, synced, then renamed over path, so that a
// reader sees the old file or the whole new one, never a part. The file's
// mode is 0644.
func WriteFile(path string, r Report) (err error) {
	if err := r.Validate(); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := r.Encode(f); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	return nil
}
