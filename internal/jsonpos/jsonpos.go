// Package jsonpos finds where things are in a JSON document, so that an
// error about a configuration file can name the line: [FieldLine] for a
// field given by its path, [Position] for a byte offset (a
// json.SyntaxError's).
package jsonpos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Position returns the 1-based line and column of the character just
// before offset off of data, as json.SyntaxError.Offset counts (the
// offending character); off is clamped to data. It does not block.
func Position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

// FieldLine returns the 1-based line at which the JSON document data gives
// the field at path — a dotted path with indexes, such as
// "faults.kill_worker.every" or "static_workers[0].bgw_name" — or 0 if
// it does not give it before the end or a syntax error. It does not
// block.
func FieldLine(data []byte, path string) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	found := int64(-1)
	var walk func(p string) bool // reads the value at p; false on an error
	walk = func(p string) bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		delim, ok := tok.(json.Delim)
		if !ok {
			return true
		}
		for i := 0; dec.More(); i++ {
			var sub string
			if delim == '{' {
				k, err := dec.Token()
				key, ok := k.(string)
				if err != nil || !ok {
					return false
				}
				sub = key
				if p != "" {
					sub = p + "." + key
				}
			} else {
				sub = fmt.Sprintf("%s[%d]", p, i)
			}
			if sub == path && found < 0 {
				found = dec.InputOffset()
				if delim == '[' { // just after the previous element: skip to this one
					for found < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n,["), data[found]) >= 0 {
						found++
					}
				}
			}
			if !walk(sub) {
				return false
			}
		}
		_, err = dec.Token() // the closing delimiter
		return err == nil
	}
	walk("")
	if found < 0 {
		return 0
	}
	return bytes.Count(data[:min(found, int64(len(data)))], []byte("\n")) + 1
}

// NearestLine is [FieldLine] of path, or else of the nearest enclosing
// value the document gives ("static_workers[0]" for a missing
// "static_workers[0].bgw_name", then "static_workers"), or 0. It does not
// block.
func NearestLine(data []byte, path string) int {
	for path != "" {
		if line := FieldLine(data, path); line > 0 {
			return line
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}
