package jsonpos

import "testing"

const doc = `{
  "max": 3,
  "workers": [
    {"name": "a"},
    {
      "name": "b",
      "tags": ["x",
        "y"]
    }
  ],
  "check": {"grace": "1s"}
}`

func TestFieldLine(t *testing.T) {
	for _, c := range []struct {
		path           string
		field, nearest int
	}{
		{"max", 2, 2},
		{"workers", 3, 3},
		{"workers[0]", 4, 4},
		{"workers[0].name", 4, 4},
		{"workers[1]", 5, 5},
		{"workers[1].name", 6, 6},
		{"workers[1].tags[1]", 8, 8},
		{"workers[1].flags", 0, 5},
		{"workers[2].name", 0, 3},
		{"check.grace", 11, 11},
		{"check.slack", 0, 11},
		{"nothing", 0, 0},
		{"", 0, 0},
	} {
		t.Run(c.path, func(t *testing.T) {
			if got := FieldLine([]byte(doc), c.path); got != c.field {
				t.Errorf("FieldLine = %d, want %d", got, c.field)
			}
			if got := NearestLine([]byte(doc), c.path); got != c.nearest {
				t.Errorf("NearestLine = %d, want %d", got, c.nearest)
			}
		})
	}
	// A field before a syntax error is found; one after it is not.
	broken := []byte("{\"a\": 1,\n\"b\": [2,")
	if got := FieldLine(broken, "a"); got != 1 {
		t.Errorf("FieldLine(a) of a broken document = %d, want 1", got)
	}
	if got := FieldLine(broken, "c"); got != 0 {
		t.Errorf("FieldLine(c) of a broken document = %d, want 0", got)
	}
}

func TestPosition(t *testing.T) {
	data := []byte("{\n  \"a\": 1,\n}")
	for _, c := range []struct {
		off       int64
		line, col int
	}{{1, 1, 1}, {3, 2, 1}, {13, 3, 1}, {-5, 1, 1}, {99, 3, 1}} {
		if line, col := Position(data, c.off); line != c.line || col != c.col {
			t.Errorf("Position(%d) = %d:%d, want %d:%d", c.off, line, col, c.line, c.col)
		}
	}
}
