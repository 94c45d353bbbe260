package kernel

import (
	"strings"
	"testing"
)

// TestDescribe: the length and the class of the first byte, never the
// text (not even its first byte).
func TestDescribe(t *testing.T) {
	for text, want := range map[string]string{
		"":                    "empty",
		"7":                   "1 byte starting with a digit",
		"root:$6$saltsalt$x":  "18 bytes starting with a letter",
		"-1":                  "2 bytes starting with punctuation",
		" 3":                  "2 bytes starting with a blank",
		"\x00\x01":            "2 bytes starting with a control byte",
		"\xff\xfe":            "2 bytes starting with a non-ASCII byte",
		"$6$hash-of-a-secret": "19 bytes starting with punctuation",
	} {
		got := Describe(text)
		if got != want {
			t.Errorf("Describe(%q) = %q, want %q", text, got, want)
		}
		if len(text) > 1 && strings.Contains(got, text) {
			t.Errorf("Describe(%q) = %q quotes the text", text, got)
		}
	}
}
