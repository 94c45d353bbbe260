package cpuset

import (
	"slices"
	"strings"
	"testing"
)

func TestCPUSetParseCPUMask(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
	}{
		{"3", []int{0, 1}},
		{"3\n", []int{0, 1}},
		{"00000003", []int{0, 1}},
		{"0", []int{}},
		{"", []int{}},
		{"00000000,00000000", []int{}},
		{"f0", []int{4, 5, 6, 7}},
		{"ff,ffffffff", cpuSeq(0, 39)},
		{"00000000,00000000,00000001", []int{0}},
		{"00000001,00000000,00000000", []int{64}},
		{"80000000,00000000", []int{63}},
		{"00000000,000000f0", []int{4, 5, 6, 7}},
	} {
		got, err := ParseCPUMask(tc.in)
		if err != nil {
			t.Errorf("ParseCPUMask(%q): %v", tc.in, err)
			continue
		}
		if l := got.List(); !slices.Equal(l, tc.want) {
			t.Errorf("ParseCPUMask(%q) = %v, want %v", tc.in, l, tc.want)
		}
	}
}

func TestCPUSetParseCPUMaskGarbage(t *testing.T) {
	for _, in := range []string{
		"xyz",
		"0x3",
		"-1",
		"3,",
		",3",
		"123456789",                             // a group wider than 32 bits
		"ff ff",                                 // blank inside
		strings.Repeat("ffffffff,", 300) + "ff", // wider than maxCPUs
	} {
		if got, err := ParseCPUMask(in); err == nil {
			t.Errorf("ParseCPUMask(%q) = %v, want an error", clip(in), got.List())
		}
	}
}

// TestParseErrorsQuoteNothing: an error says which element or group is
// wrong, never what the text holds (a mask file may be a symlink to a
// secret in a tree that is not the kernel's).
func TestParseErrorsQuoteNothing(t *testing.T) {
	const secret = "hunter2secret"
	for _, in := range []string{secret, "0-3," + secret, secret + "-4", "3-" + secret, "ff," + secret, secret + ",ff"} {
		if _, err := ParseCPUList(in); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseCPUList(%q): error %v", in, err)
		}
		if _, err := ParseCPUMask(in); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseCPUMask(%q): error %v", in, err)
		}
	}
	_, err := ParseCPUList("0-3," + secret)
	if err == nil || err.Error() != "cpu list: element 2: not a cpu number (13 bytes)" {
		t.Errorf("ParseCPUList: error %v, want it to name element 2", err)
	}
	_, err = ParseCPUMask(secret + ",ff")
	if err == nil || err.Error() != "cpu mask: group 1 of 2 is not 1 to 8 hex digits" {
		t.Errorf("ParseCPUMask: error %v, want it to name group 1 of 2", err)
	}
}

func TestCPUSetParseCPUMask1024(t *testing.T) {
	// A host with NR_CPUS=1024 online prints 32 groups of 8 digits.
	groups := make([]string, 32)
	for i := range groups {
		groups[i] = "ffffffff"
	}
	s, err := ParseCPUMask(strings.Join(groups, ","))
	if err != nil {
		t.Fatal(err)
	}
	if s.Count() != 1024 || !s.Contains(0) || !s.Contains(1023) || s.Contains(1024) {
		t.Errorf("count %d, String %q", s.Count(), s.String())
	}
	if s.String() != "0-1023" {
		t.Errorf("String = %q, want 0-1023", s.String())
	}
	// Only CPU 1000 set: group 31 (most significant first) holds 992-1023.
	groups = make([]string, 32)
	for i := range groups {
		groups[i] = "00000000"
	}
	groups[0] = "00000100"
	s, err = ParseCPUMask(strings.Join(groups, ","))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.List(); !slices.Equal(got, []int{1000}) {
		t.Errorf("List = %v, want [1000]", got)
	}
}

func TestCPUSetParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
	}{
		{"0-3,8,10-11", []int{0, 1, 2, 3, 8, 10, 11}},
		{"0-3,8,10-11\n", []int{0, 1, 2, 3, 8, 10, 11}},
		{"", []int{}},
		{"\n", []int{}},
		{"(null)\n", []int{}}, // isolated on some 4.19 kernels
		{"7", []int{7}},
		{"5-5", []int{5}},
		{"0-1", []int{0, 1}},
		{"1,0", []int{0, 1}},
	} {
		got, err := ParseCPUList(tc.in)
		if err != nil {
			t.Errorf("ParseCPUList(%q): %v", tc.in, err)
			continue
		}
		if l := got.List(); !slices.Equal(l, tc.want) {
			t.Errorf("ParseCPUList(%q) = %v, want %v", tc.in, l, tc.want)
		}
	}
}

func TestCPUSetParseCPUListBad(t *testing.T) {
	for _, in := range []string{
		"3-1",     // backwards
		"0-",      // open range
		"-3",      // no start
		"1-2-3",   // two dashes
		"a",       // not a number
		"0,,1",    // empty element
		"0-7:2",   // strided, never printed by the kernel
		"-1",      // negative
		"0-99999", // beyond maxCPUs: must not expand
		"8192",
	} {
		if got, err := ParseCPUList(in); err == nil {
			t.Errorf("ParseCPUList(%q) = %v, want an error", in, got.List())
		}
	}
}

func TestCPUSetStringRoundTrip(t *testing.T) {
	for _, in := range []string{"", "0", "0-3,8,10-11", "1,3,5,7", "0-1023", "63-64", "4095"} {
		s, err := ParseCPUList(in)
		if err != nil {
			t.Fatalf("ParseCPUList(%q): %v", in, err)
		}
		if s.String() != in {
			t.Errorf("ParseCPUList(%q).String() = %q", in, s.String())
		}
		back, err := ParseCPUList(s.String())
		if err != nil || !back.Equal(s) {
			t.Errorf("round trip of %q: %v, %v", in, back.List(), err)
		}
	}
	// A mask and the list it stands for are the same set.
	m, _ := ParseCPUMask("ff,ffffffff")
	l, _ := ParseCPUList("0-39")
	if !m.Equal(l) || m.String() != "0-39" {
		t.Errorf("mask ff,ffffffff = %q, want 0-39", m.String())
	}
}

func TestCPUSetOps(t *testing.T) {
	a := NewCPUSet(0, 1, 2, 70)
	b := NewCPUSet(2, 3, 70, -5)
	if got := a.Intersect(b).List(); !slices.Equal(got, []int{2, 70}) {
		t.Errorf("Intersect = %v", got)
	}
	if b.Count() != 3 || b.Contains(-5) || a.Contains(64) || !a.Contains(70) {
		t.Errorf("Count/Contains wrong: %v %v", a.List(), b.List())
	}
	var zero CPUSet
	if !zero.IsEmpty() || zero.String() != "" || !zero.Equal(NewCPUSet()) || !zero.Equal(CPUSet{words: []uint64{0, 0}}) {
		t.Errorf("zero set misbehaves")
	}
}

// cpuSeq returns lo..hi.
func cpuSeq(lo, hi int) []int {
	var out []int
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}
