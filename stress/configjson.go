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
)

// decodeStrict decodes data over v (a pointer to a struct): unknown
// fields, wrong types, bad durations and trailing data are errors; a
// *ConfigError names the field when one is to blame.
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
			return fmt.Errorf("%s: data after the configuration object", lineCol(data, off+1))
		}
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("%s: %v", lineCol(data, syn.Offset), syn)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("unexpected end of the file: not a whole JSON object")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return fmt.Errorf("%s: want a JSON object, got %s", lineCol(data, typ.Offset), typ.Value)
		}
		return &ConfigError{Field: field, Err: fmt.Errorf("want %s, got %s", typeName(typ.Type), typ.Value)}
	}
	// An unknown field or a bad duration: find where, on the generic
	// form of the document.
	var raw any
	if json.Unmarshal(data, &raw) == nil {
		if field, reason := locate(raw, reflect.TypeOf(v).Elem(), ""); field != "" {
			return &ConfigError{Field: field, Err: errors.New(reason)}
		}
	}
	return err
}

// lineCol turns the offset just after a character into the character's
// "line L, column C" (both 1-based), as json.SyntaxError.Offset is.
func lineCol(data []byte, off int64) string {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return fmt.Sprintf("line %d, column %d", line, col)
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
