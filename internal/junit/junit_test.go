package junit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var start = time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)

func suite(name string, cases ...Case) Suite {
	return Suite{Name: name, Timestamp: start, Time: 25 * time.Second, Cases: cases}
}

// decoded is the document read back with encoding/xml, to compare with
// what was written.
type decoded struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Errors     int    `xml:"errors,attr"`
		Skipped    int    `xml:"skipped,attr"`
		Time       string `xml:"time,attr"`
		Timestamp  string `xml:"timestamp,attr"`
		Hostname   string `xml:"hostname,attr"`
		Package    string `xml:"package,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Result    []struct {
				XMLName xml.Name
				Type    string `xml:"type,attr"`
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"testcase"`
		SystemOut string `xml:"system-out"`
		SystemErr string `xml:"system-err"`
	} `xml:"testsuite"`
}

// clean is what s reads back as: characters XML cannot hold become U+FFFD,
// and a carriage return in text is read back as a newline unless escaped.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r != 0xFFFE && r != 0xFFFF {
			return r
		}
		return '\uFFFD'
	}, s)
}

func TestEncode(t *testing.T) {
	hostile := "<a href=\"x\">&amp;</a> ]]> 'q' \x1b[31mred\x1b[0m \x00 \ufffe tab\there\nline2"
	for _, tc := range []struct {
		name string
		r    Report
	}{
		{"empty", Report{}},
		{"suite without cases", Report{Name: "bgw check", Suites: []Suite{suite("bgw check")}}},
		{"all passed", Report{Name: "bgw stress", Suites: []Suite{suite("bgw stress",
			Case{Name: "linearizability", Outcome: Passed, Time: 3100 * time.Millisecond},
			Case{Name: "policy", Outcome: Passed},
			Case{Name: "survival", Outcome: Passed})}}},
		{"one of each outcome", Report{Name: "bgw stress", Suites: []Suite{{
			Name: "bgw stress", Package: "bgw", Hostname: "ci-7", Timestamp: start, Time: time.Minute,
			Properties: []Property{{"seed", "42"}, {"flaw", ""}, {"faults", "kill,stop"}},
			Cases: []Case{
				{Name: "linearizability", Classname: "bgw.stress", Outcome: Passed, Time: time.Second},
				{Name: "policy", Classname: "bgw.stress", Outcome: Failed, Type: "violation",
					Message: "worker started twice in slot 3", Detail: "record 17: ...\nrecord 18: ..."},
				{Name: "waiters", Classname: "bgw.stress", Outcome: Errored, Message: "timed out"},
				{Name: "coverage", Classname: "bgw.stress", Outcome: Skipped, Message: "-waive coverage"},
			},
			SystemOut: "repro: bgw stress -seed 42\nrun: out/bgw-out-42\n",
			SystemErr: "warning: slow disk",
		}}}},
		{"several suites", Report{Name: "bgw explore", Suites: []Suite{
			suite("explore sc", Case{Name: "handoff", Outcome: Passed}, Case{Name: "crash", Outcome: Failed}),
			suite("explore tso", Case{Name: "handoff", Outcome: Errored}),
			suite("explore view", Case{Name: "handoff", Outcome: Skipped}),
		}}},
		{"hostile text", Report{Name: hostile, Suites: []Suite{{
			Name: hostile, Package: hostile, Hostname: hostile, Timestamp: start,
			Properties: []Property{{hostile, hostile}},
			Cases: []Case{{Name: hostile, Classname: hostile, Outcome: Failed,
				Type: hostile, Message: hostile, Detail: hostile}},
			SystemOut: hostile, SystemErr: hostile,
		}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.r.Encode(&buf); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte(xml.Header)) {
				t.Errorf("no XML declaration: %.60q", buf.String())
			}
			root, err := parse(buf.Bytes())
			if err != nil {
				t.Fatalf("strict parse: %v\n%s", err, buf.String())
			}
			if err := checkSchema(root); err != nil {
				t.Fatalf("schema: %v\n%s", err, buf.String())
			}

			var d decoded
			if err := xml.Unmarshal(buf.Bytes(), &d); err != nil {
				t.Fatal(err)
			}
			want := tc.r.Counts()
			if d.Tests != want.Tests || d.Failures != want.Failures || d.Errors != want.Errors {
				t.Errorf("testsuites counts %d/%d/%d, want %+v", d.Tests, d.Failures, d.Errors, want)
			}
			if d.Name != clean(tc.r.Name) {
				t.Errorf("testsuites name %q, want %q", d.Name, clean(tc.r.Name))
			}
			if len(d.Suites) != len(tc.r.Suites) {
				t.Fatalf("%d suites, want %d", len(d.Suites), len(tc.r.Suites))
			}
			for i, s := range tc.r.Suites {
				ds := d.Suites[i]
				sc := s.Counts()
				if ds.Name != clean(s.Name) || ds.Tests != sc.Tests || ds.Failures != sc.Failures ||
					ds.Errors != sc.Errors || ds.Skipped != sc.Skipped {
					t.Errorf("suite %d: %q %d/%d/%d/%d, want %q %+v", i, ds.Name,
						ds.Tests, ds.Failures, ds.Errors, ds.Skipped, s.Name, sc)
				}
				if ds.Timestamp != "2026-01-02T03:04:05" {
					t.Errorf("suite %d: timestamp %q", i, ds.Timestamp)
				}
				if ds.Time != seconds(s.Time) {
					t.Errorf("suite %d: time %q, want %q", i, ds.Time, seconds(s.Time))
				}
				if want := clean(s.Hostname); s.Hostname == "" && ds.Hostname != DefaultHostname || s.Hostname != "" && ds.Hostname != want {
					t.Errorf("suite %d: hostname %q", i, ds.Hostname)
				}
				if want := clean(s.Package); s.Package == "" && ds.Package != clean(s.Name) || s.Package != "" && ds.Package != want {
					t.Errorf("suite %d: package %q", i, ds.Package)
				}
				if ds.SystemOut != clean(s.SystemOut) || ds.SystemErr != clean(s.SystemErr) {
					t.Errorf("suite %d: system-out %q system-err %q", i, ds.SystemOut, ds.SystemErr)
				}
				if len(ds.Properties) != len(s.Properties) {
					t.Fatalf("suite %d: %d properties, want %d", i, len(ds.Properties), len(s.Properties))
				}
				for j, p := range s.Properties {
					if ds.Properties[j].Name != clean(p.Name) || ds.Properties[j].Value != clean(p.Value) {
						t.Errorf("suite %d property %d: %+v, want %+v", i, j, ds.Properties[j], p)
					}
				}
				if len(ds.Cases) != len(s.Cases) {
					t.Fatalf("suite %d: %d cases, want %d", i, len(ds.Cases), len(s.Cases))
				}
				for j, c := range s.Cases {
					dc := ds.Cases[j]
					wantClass := clean(c.Classname)
					if c.Classname == "" {
						wantClass = clean(s.Name)
					}
					if dc.Name != clean(c.Name) || dc.Classname != wantClass || dc.Time != seconds(c.Time) {
						t.Errorf("suite %d case %d: %q %q %q", i, j, dc.Name, dc.Classname, dc.Time)
					}
					wantElem := map[Outcome]string{Failed: "failure", Errored: "error", Skipped: "skipped"}[c.Outcome]
					if wantElem == "" {
						if len(dc.Result) != 0 {
							t.Errorf("suite %d case %d passed but has <%s>", i, j, dc.Result[0].XMLName.Local)
						}
						continue
					}
					if len(dc.Result) != 1 || dc.Result[0].XMLName.Local != wantElem {
						t.Fatalf("suite %d case %d: results %+v, want one <%s>", i, j, dc.Result, wantElem)
					}
					res := dc.Result[0]
					wantType := clean(c.Type)
					if c.Type == "" {
						wantType = c.Outcome.String()
					}
					if res.Type != wantType || res.Message != clean(c.Message) || res.Text != clean(c.Detail) {
						t.Errorf("suite %d case %d: <%s type=%q message=%q>%q", i, j, wantElem, res.Type, res.Message, res.Text)
					}
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := suite("s", Case{Name: "c", Outcome: Passed})
	for _, tc := range []struct {
		name string
		edit func(s *Suite)
		want string
	}{
		{"blank suite name", func(s *Suite) { s.Name = " \n" }, "empty name"},
		{"no timestamp", func(s *Suite) { s.Timestamp = time.Time{} }, "no timestamp"},
		{"negative suite time", func(s *Suite) { s.Time = -1 }, "negative time"},
		{"blank property name", func(s *Suite) { s.Properties = []Property{{"", "v"}} }, "property 0: empty name"},
		{"blank case name", func(s *Suite) { s.Cases[0].Name = "" }, "case 0: empty name"},
		{"negative case time", func(s *Suite) { s.Cases[0].Time = -time.Second }, "negative time"},
		{"zero outcome", func(s *Suite) { s.Cases[0].Outcome = 0 }, "unknown outcome Outcome(0)"},
		{"outcome out of range", func(s *Suite) { s.Cases[0].Outcome = Skipped + 1 }, "unknown outcome"},
		{"passed with a message", func(s *Suite) { s.Cases[0].Message = "m" }, "passed has a type"},
		{"passed with a detail", func(s *Suite) { s.Cases[0].Detail = "d" }, "passed has a type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			s.Cases = append([]Case(nil), ok.Cases...)
			tc.edit(&s)
			r := Report{Suites: []Suite{ok, s}}
			err := r.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) ||
				!strings.HasPrefix(err.Error(), "junit: invalid report: suite 1: ") {
				t.Fatalf("Validate() = %v, want ErrInvalid for suite 1 naming %q", err, tc.want)
			}
			var buf bytes.Buffer
			if err := r.Encode(&buf); !errors.Is(err, ErrInvalid) || buf.Len() != 0 {
				t.Fatalf("Encode() = %v and wrote %d bytes, want ErrInvalid and nothing", err, buf.Len())
			}
		})
	}
}

// TestCheckerRejects shows that the strict reader the other tests rely on
// refuses documents that break the schemas, so its passing them means
// something.
func TestCheckerRejects(t *testing.T) {
	const good = `<testsuites tests="1" failures="1" errors="0"><testsuite name="s" tests="1" failures="1" errors="0" time="1.000" timestamp="2026-01-02T03:04:05" hostname="h" id="0" package="p"><properties></properties><testcase name="c" classname="k" time="0.500"><failure type="t">x</failure></testcase><system-out></system-out><system-err></system-err></testsuite></testsuites>`
	root, err := parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSchema(root); err != nil {
		t.Fatalf("the good document: %v", err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"no hostname", ` hostname="h"`, ``, "no hostname"},
		{"no timestamp", ` timestamp="2026-01-02T03:04:05"`, ``, "no timestamp"},
		{"timestamp with a zone", `03:04:05"`, `03:04:05Z"`, "ISO 8601"},
		{"no suite time", ` time="1.000"`, ``, "no time"},
		{"no classname", ` classname="k"`, ``, "no classname"},
		{"no case time", ` time="0.500"`, ``, "no time"},
		{"time with an exponent", `time="0.500"`, `time="5e-1"`, "not a time"},
		{"failure without type", ` type="t"`, ``, "no type"},
		{"unknown attribute", `<testcase name="c"`, `<testcase flaky="1" name="c"`, "not in the schema"},
		{"skipped on testsuites", `<testsuites tests="1"`, `<testsuites skipped="0" tests="1"`, "not in the schema"},
		{"suite count wrong", `<testsuite name="s" tests="1"`, `<testsuite name="s" tests="2"`, "tests=2"},
		{"failure count wrong", `errors="0" time="1.000"`, `errors="1" time="1.000"`, "errors=1"},
		{"total wrong", `<testsuites tests="1"`, `<testsuites tests="3"`, "tests=3"},
		{"two results", `x</failure>`, `x</failure><skipped/>`, "2 children"},
		{"no properties", `<properties></properties>`, ``, "not properties"},
		{"system-err before system-out", `<system-out></system-out><system-err></system-err>`, `<system-err></system-err><system-out></system-out>`, "not properties"},
		{"wrong id", ` id="0"`, ` id="1"`, "is suite 0"},
		{"not well formed", `</failure>`, `</fail>`, "element <failure> closed by </fail>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(good, tc.old, tc.new, 1)
			if doc == good {
				t.Fatalf("%q is not in the good document", tc.old)
			}
			root, err := parse([]byte(doc))
			if err == nil {
				err = checkSchema(root)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "junit.xml")
	r := Report{Name: "bgw stress", Suites: []Suite{suite("bgw stress", Case{Name: "policy", Outcome: Failed})}}
	if err := WriteFile(path, r); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	root, err := parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSchema(root); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", fi.Mode(), err)
	}

	// An invalid report leaves the old file whole and no temporary file.
	bad := r
	bad.Suites = []Suite{{Name: "no timestamp"}}
	if err := WriteFile(path, bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("WriteFile(invalid) = %v, want ErrInvalid", err)
	}
	again, _ := os.ReadFile(path)
	if !bytes.Equal(again, data) {
		t.Error("an invalid report changed the file")
	}
	// A directory that does not exist is an error that says so.
	if err := WriteFile(filepath.Join(dir, "missing", "junit.xml"), r); !errors.Is(err, os.ErrNotExist) ||
		!strings.HasPrefix(err.Error(), "junit: ") {
		t.Errorf("WriteFile into a missing directory = %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only junit.xml", names)
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Passed: "passed", Failed: "failed", Errored: "errored", Skipped: "skipped", 9: "Outcome(9)"} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", o, got, want)
		}
	}
}
