package junit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// This file is a strict reader of JUnit XML for the tests: it decodes a
// document into a tree that keeps element order and every attribute, and
// checks it against what the two published schemas require (see doc.go):
// Jenkins' junit-10.xsd and Ant's JUnit.xsd. Where they differ the stricter
// rule is checked, except that <testsuites> may carry junit-10's
// attributes.

type node struct {
	name     string
	attrs    map[string]string
	children []*node
	text     strings.Builder
}

// parse decodes data strictly: well-formed, one root, no namespaces, no
// duplicate attributes, nothing after the root but white space.
func parse(data []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Space != "" {
				return nil, fmt.Errorf("element %s in namespace %q", tok.Name.Local, tok.Name.Space)
			}
			n := &node{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				if a.Name.Space != "" {
					return nil, fmt.Errorf("<%s>: attribute %s in namespace %q", n.name, a.Name.Local, a.Name.Space)
				}
				if _, dup := n.attrs[a.Name.Local]; dup {
					return nil, fmt.Errorf("<%s>: attribute %s twice", n.name, a.Name.Local)
				}
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("two root elements")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(tok)) != 0 {
					return nil, errors.New("text outside the root")
				}
				continue
			}
			stack[len(stack)-1].text.Write(tok)
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

var (
	// Ant: ISO8601_DATETIME_PATTERN, no time zone.
	timestampRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$`)
	// Ant: xs:decimal, unsigned here.
	decimalRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	// junit-10: SUREFIRE_TIME.
	surefireTimeRE = regexp.MustCompile(`^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?$`)
	// xs:int
	intRE = regexp.MustCompile(`^[+-]?[0-9]+$`)
)

// attrs checks that n has every attribute in required and none outside
// required and optional.
func attrs(n *node, required, optional []string) error {
	allowed := map[string]bool{}
	for _, a := range required {
		if _, ok := n.attrs[a]; !ok {
			return fmt.Errorf("<%s>: no %s attribute", n.name, a)
		}
		allowed[a] = true
	}
	for _, a := range optional {
		allowed[a] = true
	}
	for a := range n.attrs {
		if !allowed[a] {
			return fmt.Errorf("<%s>: attribute %s is not in the schema", n.name, a)
		}
	}
	return nil
}

func checkInt(n *node, a string) (int, error) {
	v := n.attrs[a]
	if !intRE.MatchString(v) {
		return 0, fmt.Errorf("<%s %s=%q>: not an xs:int", n.name, a, v)
	}
	i, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("<%s %s=%q>: %v", n.name, a, v, err)
	}
	if i < 0 {
		return 0, fmt.Errorf("<%s %s=%q>: negative", n.name, a, v)
	}
	return i, nil
}

func checkTime(n *node) error {
	v := n.attrs["time"]
	if !decimalRE.MatchString(v) || !surefireTimeRE.MatchString(v) {
		return fmt.Errorf("<%s time=%q>: not a time in both schemas", n.name, v)
	}
	return nil
}

func checkToken(n *node, a string) error {
	if isBlank(n.attrs[a]) {
		return fmt.Errorf("<%s>: empty %s", n.name, a)
	}
	return nil
}

func noChildren(n *node) error {
	if len(n.children) != 0 {
		return fmt.Errorf("<%s>: has child <%s>", n.name, n.children[0].name)
	}
	return nil
}

// checkSchema checks a whole document and that every count agrees with the
// test cases it counts.
func checkSchema(root *node) error {
	if root.name != "testsuites" {
		return fmt.Errorf("root is <%s>, not <testsuites>", root.name)
	}
	if err := attrs(root, nil, []string{"name", "time", "tests", "failures", "errors"}); err != nil {
		return err
	}
	var total Counts
	for i, s := range root.children {
		if s.name != "testsuite" {
			return fmt.Errorf("<testsuites>: child <%s>", s.name)
		}
		c, err := checkSuite(s, i)
		if err != nil {
			return fmt.Errorf("testsuite %d: %w", i, err)
		}
		total.Tests += c.Tests
		total.Failures += c.Failures
		total.Errors += c.Errors
	}
	for a, want := range map[string]int{"tests": total.Tests, "failures": total.Failures, "errors": total.Errors} {
		if _, ok := root.attrs[a]; !ok {
			continue
		}
		got, err := checkInt(root, a)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("<testsuites %s=%d>: the suites hold %d", a, got, want)
		}
	}
	if _, ok := root.attrs["time"]; ok {
		if err := checkTime(root); err != nil {
			return err
		}
	}
	return nil
}

func checkSuite(s *node, index int) (Counts, error) {
	var c Counts
	err := attrs(s,
		[]string{"name", "tests", "failures", "errors", "time", "timestamp", "hostname", "package", "id"},
		[]string{"skipped"})
	if err != nil {
		return c, err
	}
	for _, a := range []string{"name", "hostname"} {
		if err := checkToken(s, a); err != nil {
			return c, err
		}
	}
	if !timestampRE.MatchString(s.attrs["timestamp"]) {
		return c, fmt.Errorf("<testsuite timestamp=%q>: not Ant's ISO 8601 pattern", s.attrs["timestamp"])
	}
	if err := checkTime(s); err != nil {
		return c, err
	}
	if id, err := checkInt(s, "id"); err != nil {
		return c, err
	} else if id != index {
		return c, fmt.Errorf("<testsuite id=%d>: is suite %d", id, index)
	}
	if strings.TrimSpace(s.text.String()) != "" {
		return c, errors.New("<testsuite>: has text")
	}

	// Ant's sequence: properties, testcase*, system-out, system-err.
	kids := s.children
	if len(kids) < 3 || kids[0].name != "properties" ||
		kids[len(kids)-2].name != "system-out" || kids[len(kids)-1].name != "system-err" {
		var names []string
		for _, k := range kids {
			names = append(names, k.name)
		}
		return c, fmt.Errorf("<testsuite>: children %v, not properties, testcase*, system-out, system-err", names)
	}
	if err := checkProperties(kids[0]); err != nil {
		return c, err
	}
	for _, k := range kids[len(kids)-2:] {
		if err := attrs(k, nil, nil); err != nil {
			return c, err
		}
		if err := noChildren(k); err != nil {
			return c, err
		}
	}
	for _, tc := range kids[1 : len(kids)-2] {
		if tc.name != "testcase" {
			return c, fmt.Errorf("<testsuite>: child <%s> among the test cases", tc.name)
		}
		o, err := checkCase(tc)
		if err != nil {
			return c, err
		}
		c.Tests++
		switch o {
		case Failed:
			c.Failures++
		case Errored:
			c.Errors++
		case Skipped:
			c.Skipped++
		}
	}
	for a, want := range map[string]int{"tests": c.Tests, "failures": c.Failures, "errors": c.Errors, "skipped": c.Skipped} {
		if _, ok := s.attrs[a]; !ok {
			continue
		}
		got, err := checkInt(s, a)
		if err != nil {
			return c, err
		}
		if got != want {
			return c, fmt.Errorf("<testsuite %s=%d>: it holds %d", a, got, want)
		}
	}
	return c, nil
}

func checkProperties(p *node) error {
	if err := attrs(p, nil, nil); err != nil {
		return err
	}
	for _, q := range p.children {
		if q.name != "property" {
			return fmt.Errorf("<properties>: child <%s>", q.name)
		}
		if err := attrs(q, []string{"name", "value"}, nil); err != nil {
			return err
		}
		if err := checkToken(q, "name"); err != nil {
			return err
		}
		if err := noChildren(q); err != nil {
			return err
		}
	}
	return nil
}

func checkCase(tc *node) (Outcome, error) {
	if err := attrs(tc, []string{"name", "classname", "time"}, nil); err != nil {
		return 0, err
	}
	for _, a := range []string{"name", "classname"} {
		if err := checkToken(tc, a); err != nil {
			return 0, err
		}
	}
	if err := checkTime(tc); err != nil {
		return 0, err
	}
	if strings.TrimSpace(tc.text.String()) != "" {
		return 0, errors.New("<testcase>: has text")
	}
	switch len(tc.children) {
	case 0:
		return Passed, nil
	case 1:
	default:
		return 0, fmt.Errorf("<testcase name=%q>: %d children, Ant allows one of skipped, error, failure", tc.attrs["name"], len(tc.children))
	}
	r := tc.children[0]
	if err := noChildren(r); err != nil {
		return 0, err
	}
	switch r.name {
	case "failure", "error":
		if err := attrs(r, []string{"type"}, []string{"message"}); err != nil {
			return 0, err
		}
		if r.name == "failure" {
			return Failed, nil
		}
		return Errored, nil
	case "skipped":
		if err := attrs(r, nil, []string{"type", "message"}); err != nil {
			return 0, err
		}
		return Skipped, nil
	}
	return 0, fmt.Errorf("<testcase>: child <%s>", r.name)
}
