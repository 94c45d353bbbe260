package cpuset

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"0-3,8,10-11", "", "\n", "(null)", "0-7:2", "8191", "0-8191", "3-1", " 1 , 2 - 4 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseCPUList(text)
		checkErrLen(t, err)
		if err != nil {
			if len(err.Error()) > 1024 {
				t.Fatalf("error text is %d bytes: garbage must be clipped", len(err.Error()))
			}
			if !s.IsEmpty() {
				t.Fatalf("error %v with a non-empty set %q", err, clip(s.String()))
			}
			return
		}
		checkCPUSet(t, s)
		// Every number in the text is a member: nothing is dropped silently.
		for part := range strings.SplitSeq(strings.TrimSpace(text), ",") {
			lo, _, _ := strings.Cut(part, "-")
			if n, err := strconv.Atoi(strings.TrimSpace(lo)); err == nil && !s.Contains(n) {
				t.Fatalf("%d of %q is not in the set %q", n, clip(text), clip(s.String()))
			}
		}
	})
}

func FuzzParseCPUMask(f *testing.F) {
	for _, s := range []string{"3", "00000003\n", "ff,ffffffff", "00000000,00000000,00000001", "0x3", "-1", "3,", "",
		strings.Repeat("ffffffff,", 255) + "ffffffff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseCPUMask(text)
		checkErrLen(t, err)
		if err != nil {
			if len(err.Error()) > 1024 {
				t.Fatalf("error text is %d bytes: garbage must be clipped", len(err.Error()))
			}
			if !s.IsEmpty() {
				t.Fatalf("error %v with a non-empty set", err)
			}
			return
		}
		checkCPUSet(t, s)
	})
}

// fuzzMaxErr bounds the text of any parse error: garbage must not turn into
// a flood of log text (the parsers quote none of it).
const fuzzMaxErr = 16 << 10

func checkErrLen(t *testing.T, err error) {
	t.Helper()
	if err != nil && len(err.Error()) > fuzzMaxErr {
		t.Fatalf("error text is %d bytes (limit %d): %.200q…", len(err.Error()), fuzzMaxErr, err.Error())
	}
}

// formatCPUMask renders s in the kernel's mask format (32-bit groups, most
// significant first), for the mask round trip.
func formatCPUMask(s CPUSet) string {
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

// checkCPUSet holds for every set a parser returns: members in range, the
// list form round-trips through ParseCPUList, the mask form through
// ParseCPUMask.
func checkCPUSet(t *testing.T, s CPUSet) {
	t.Helper()
	list := s.List()
	if len(list) != s.Count() || s.Count() > MaxCPUs {
		t.Fatalf("List has %d members, Count %d", len(list), s.Count())
	}
	for _, c := range list {
		if c < 0 || c >= MaxCPUs {
			t.Fatalf("member %d out of range [0,%d)", c, MaxCPUs)
		}
	}
	str := s.String()
	back, err := ParseCPUList(str)
	if err != nil {
		t.Fatalf("ParseCPUList(String()=%q): %v", clip(str), err)
	}
	if !back.Equal(s) || back.String() != str {
		t.Fatalf("list round trip: %q became %q", clip(str), clip(back.String()))
	}
	mask := formatCPUMask(s)
	back, err = ParseCPUMask(mask)
	if err != nil {
		t.Fatalf("ParseCPUMask(%q): %v", clip(mask), err)
	}
	if !back.Equal(s) {
		t.Fatalf("mask round trip: %q became %q", clip(str), clip(back.String()))
	}
}

// clip shortens text for test failure messages.
func clip(text string) string {
	if len(text) > 64 {
		return text[:64] + "…"
	}
	return text
}
