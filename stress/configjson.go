package stress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"bgwmodel/internal/jsonpos"
)

// decodeStrict decodes data over v (a pointer to a struct): unknown
// fields, wrong types, bad durations and trailing data are errors, each a
// *ConfigError with the line (and column) when the decoder knows it, and
// the field when one is to blame.
func decodeStrict(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	err := d.Decode(v)
	if err == nil {
		off := d.InputOffset()
		var extra json.RawMessage
		if d.Decode(&extra) != io.EOF {
			for off < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n"), data[off]) >= 0 {
				off++
			}
			return at(data, off+1, errors.New("data after the configuration object"))
		}
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return at(data, syn.Offset, syn)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return at(data, int64(len(data)), errors.New("unexpected end of the file: not a whole JSON object"))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return at(data, typ.Offset, fmt.Errorf("want a JSON object, got %s", typ.Value))
		}
		ce := at(data, typ.Offset, fmt.Errorf("want %s, got %s", typeName(typ.Type), typ.Value))
		ce.Field, ce.Col = field, 0
		return ce
	}
	// An unknown field or a bad duration: find where, on the generic
	// form of the document.
	var raw any
	if json.Unmarshal(data, &raw) == nil {
		if field, reason := locate(raw, reflect.TypeOf(v).Elem(), ""); field != "" {
			return &ConfigError{Field: field, Line: jsonpos.FieldLine(data, field), Err: errors.New(reason)}
		}
	}
	return &ConfigError{Err: err}
}

// inFile returns decodeStrict's error for the file at path (whose content
// is data), naming the file and the line.
func inFile(path string, data []byte, err error) error {
	var ce *ConfigError
	if !errors.As(err, &ce) {
		ce = &ConfigError{Err: err}
	}
	ce.File = path
	for _, f := range append([]string{ce.Field}, ce.related...) {
		if ce.Line == 0 && f != "" {
			ce.Line = jsonpos.FieldLine(data, f)
		}
	}
	return ce
}

// at returns a *ConfigError at the character just before offset off (as
// json.SyntaxError.Offset counts), with its 1-based line and column.
func at(data []byte, off int64, err error) *ConfigError {
	line, col := jsonpos.Position(data, off)
	return &ConfigError{Line: line, Col: col, Err: err}
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(Duration(0)):
		return "a duration string"
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		return "an object"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "an integer in range"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	}
	return t.String()
}

// locate walks the generic document raw against type t and returns the
// first unknown field or unparsable duration, as a dotted path, and why.
func locate(raw any, t reflect.Type, path string) (string, string) {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch {
	case t == reflect.TypeOf(Duration(0)):
		var d Duration
		b, _ := json.Marshal(raw)
		if d.UnmarshalJSON(b) != nil {
			return path, fmt.Sprintf("%v: got %s", errDuration, b)
		}
	case t.Kind() == reflect.Struct:
		obj, ok := raw.(map[string]any)
		if !ok {
			return "", ""
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = t.Field(i).Type
				names = append(names, name)
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				return join(k), fmt.Sprintf("unknown field (known: %s)", strings.Join(names, ", "))
			}
			if f, why := locate(obj[k], ft, join(k)); f != "" {
				return f, why
			}
		}
	case t.Kind() == reflect.Slice:
		list, ok := raw.([]any)
		if !ok {
			return "", ""
		}
		for i, e := range list {
			if f, why := locate(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); f != "" {
				return f, why
			}
		}
	case t.Kind() == reflect.Map:
		obj, ok := raw.(map[string]any)
		if !ok {
			return "", ""
		}
		for k, e := range obj {
			if f, why := locate(e, t.Elem(), join(k)); f != "" {
				return f, why
			}
		}
	}
	return "", ""
}
