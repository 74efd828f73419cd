// Package shellquote quotes words for a POSIX shell, so that a command
// line printed for a person to paste (a repro or re-check line) runs as
// printed whatever the paths in it hold.
package shellquote

import "strings"

// Quote returns s as one shell word: s itself if it holds only characters
// no shell treats specially, else s in single quotes, each single quote
// in it ending the quotes, escaped with a backslash, and quotes reopened.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
