package shellquote

import (
	"os/exec"
	"testing"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"out/bgw-out-42", "out/bgw-out-42"},
		{"", "''"},
		{"my runs/bgw-out-1", "'my runs/bgw-out-1'"},
		{"it's", `'it'\''s'`},
		{"$HOME;rm -rf x", "'$HOME;rm -rf x'"},
		{"a\nb", "'a\nb'"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := Quote(tc.in)
			if got != tc.want {
				t.Fatalf("Quote(%q) = %q, want %q", tc.in, got, tc.want)
			}
			// The shell reads it back as the one word it was.
			out, err := exec.Command("sh", "-c", "printf %s "+got).Output()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.in {
				t.Fatalf("sh read %q back as %q", got, out)
			}
		})
	}
}
