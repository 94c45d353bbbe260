package testutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
)

// FuzzMaxErr bounds the text of any parse error: garbage must not turn into
// a flood of log text (the parsers quote none of it).
const FuzzMaxErr = 16 << 10

func CheckErrLen(t *testing.T, err error) {
	t.Helper()
	if err != nil && len(err.Error()) > FuzzMaxErr {
		t.Fatalf("error text is %d bytes (limit %d): %.200q…", len(err.Error()), FuzzMaxErr, err.Error())
	}
}

// ErrMentions reports whether err, or any error it wraps (a combined
// error spells out only the first few), has s in its text.
func ErrMentions(err error, s string) bool {
	if err == nil {
		return false
	}
	if strings.Contains(err.Error(), s) {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if ErrMentions(e, s) {
				return true
			}
		}
	case interface{ Unwrap() error }:
		return ErrMentions(u.Unwrap(), s)
	}
	return false
}

// FormatCPUMask renders s in the kernel's mask format (32-bit groups, most
// significant first), for the mask round trip.
func FormatCPUMask(s cpuset.CPUSet) string {
	list := s.List()
	if len(list) == 0 {
		return "0"
	}
	groups := make([]uint32, list[len(list)-1]/32+1)
	for _, c := range list {
		groups[c/32] |= 1 << uint(c%32)
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[len(groups)-1-i] = fmt.Sprintf("%08x", g)
	}
	return strings.Join(parts, ",")
}

// CheckCPUSet holds for every set a parser returns: members in range, the
// list form round-trips through cpuset.ParseCPUList, the mask form through
// cpuset.ParseCPUMask.
func CheckCPUSet(t *testing.T, s cpuset.CPUSet) {
	t.Helper()
	list := s.List()
	if len(list) != s.Count() || s.Count() > cpuset.MaxCPUs {
		t.Fatalf("List has %d members, Count %d", len(list), s.Count())
	}
	for _, c := range list {
		if c < 0 || c >= cpuset.MaxCPUs {
			t.Fatalf("member %d out of range [0,%d)", c, cpuset.MaxCPUs)
		}
	}
	str := s.String()
	back, err := cpuset.ParseCPUList(str)
	if err != nil {
		t.Fatalf("ParseCPUList(String()=%q): %v", Clip(str), err)
	}
	if !back.Equal(s) || back.String() != str {
		t.Fatalf("list round trip: %q became %q", Clip(str), Clip(back.String()))
	}
	mask := FormatCPUMask(s)
	back, err = cpuset.ParseCPUMask(mask)
	if err != nil {
		t.Fatalf("ParseCPUMask(%q): %v", Clip(mask), err)
	}
	if !back.Equal(s) {
		t.Fatalf("mask round trip: %q became %q", Clip(str), Clip(back.String()))
	}
}

// FuzzFile writes content to dir/name when present, removes it otherwise.
func FuzzFile(t *testing.T, dir, name string, present bool, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if !present {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		return
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// NonBlankLines counts the lines (split at '\n') that hold more than the
// blanks isBlank accepts.
func NonBlankLines(data []byte, blank func(string) bool) int {
	n := 0
	for line := range strings.SplitSeq(string(data), "\n") {
		if !blank(line) {
			n++
		}
	}
	return n
}

// ScannerBlank is how bufio.Scanner + strings.TrimSpace (softirqs,
// softnet) see a blank line: ScanLines drops one trailing '\r'.
func ScannerBlank(line string) bool {
	return strings.TrimSpace(strings.TrimSuffix(line, "\r")) == ""
}

// Clip shortens text for a test's failure message. The readers never
// quote file contents in their errors (kernel.Describe); tests may.
func Clip(text string) string {
	if len(text) > 64 {
		return text[:64] + "…"
	}
	return text
}
