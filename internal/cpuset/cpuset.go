package cpuset

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// MaxCPUs bounds the CPU numbers we accept from a mask or list, so that a
// garbage file cannot make us allocate gigabytes (the kernel's own
// NR_CPUS limit is 8192).
const MaxCPUs = 8192

// CPUSet is a set of CPU numbers (or, for xps_rxqs, queue numbers) as a
// bitset. The zero value is the empty set.
type CPUSet struct{ words []uint64 }

// NewCPUSet returns a set holding cpus.
func NewCPUSet(cpus ...int) CPUSet {
	var s CPUSet
	for _, c := range cpus {
		s.Add(c)
	}
	return s
}

// Add puts cpu in the set; negative numbers are ignored.
func (s *CPUSet) Add(cpu int) {
	if cpu < 0 {
		return
	}
	w := cpu / 64
	for len(s.words) <= w {
		s.words = append(s.words, 0)
	}
	s.words[w] |= 1 << uint(cpu%64)
}

// Contains reports whether cpu is in the set.
func (s CPUSet) Contains(cpu int) bool {
	w := cpu / 64
	return cpu >= 0 && w < len(s.words) && s.words[w]&(1<<uint(cpu%64)) != 0
}

// Count is the number of members.
func (s CPUSet) Count() int {
	n := 0
	for _, w := range s.words {
		n += bits.OnesCount64(w)
	}
	return n
}

// IsEmpty reports whether the set has no member.
func (s CPUSet) IsEmpty() bool { return s.Count() == 0 }

// List returns the members in ascending order.
func (s CPUSet) List() []int {
	out := make([]int, 0, s.Count())
	for i, w := range s.words {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			out = append(out, i*64+b)
			w &^= 1 << uint(b)
		}
	}
	return out
}

// Intersect returns the members in both sets.
func (s CPUSet) Intersect(o CPUSet) CPUSet {
	n := min(len(s.words), len(o.words))
	out := CPUSet{words: make([]uint64, n)}
	for i := range n {
		out.words[i] = s.words[i] & o.words[i]
	}
	return out
}

// Union returns the members of either set, leaving both unchanged.
func (s CPUSet) Union(o CPUSet) CPUSet {
	out := CPUSet{words: make([]uint64, max(len(s.words), len(o.words)))}
	copy(out.words, s.words)
	for i, w := range o.words {
		out.words[i] |= w
	}
	return out
}

// Equal reports whether both sets have the same members.
func (s CPUSet) Equal(o CPUSet) bool {
	n := max(len(s.words), len(o.words))
	for i := range n {
		var a, b uint64
		if i < len(s.words) {
			a = s.words[i]
		}
		if i < len(o.words) {
			b = o.words[i]
		}
		if a != b {
			return false
		}
	}
	return true
}

// String renders the set in the kernel's list format ("0-3,8,10-11"), the
// form a person types into smp_affinity_list; "" for the empty set.
func (s CPUSet) String() string {
	var b strings.Builder
	list := s.List()
	for i := 0; i < len(list); {
		j := i
		for j+1 < len(list) && list[j+1] == list[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(list[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(list[j]))
		}
		i = j + 1
	}
	return b.String()
}

// ParseCPUList parses the kernel's list format: "0-3,8,10-11", "" or "\n"
// for empty. Strided ranges ("0-7:2") are not printed by the kernel and are
// rejected. Errors say which element is wrong, not what it holds: the text
// comes from a file that may not be the kernel's (kernel.Describe).
func ParseCPUList(text string) (CPUSet, error) {
	var s CPUSet
	text = strings.TrimSpace(text)
	if text == "" || text == "(null)" {
		return s, nil
	}
	elem := 0
	for part := range strings.SplitSeq(text, ",") {
		elem++
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := parseCPUNumber(lo)
		if err != nil {
			return CPUSet{}, fmt.Errorf("cpu list: element %d: %w", elem, err)
		}
		last := first
		if isRange {
			if last, err = parseCPUNumber(hi); err != nil {
				return CPUSet{}, fmt.Errorf("cpu list: element %d: %w", elem, err)
			}
			if last < first {
				return CPUSet{}, fmt.Errorf("cpu list: element %d: range %d-%d runs backwards", elem, first, last)
			}
		}
		for c := first; c <= last; c++ {
			s.Add(c)
		}
	}
	return s, nil
}

func parseCPUNumber(text string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		return 0, fmt.Errorf("not a cpu number (%d bytes)", len(text))
	}
	if n < 0 || n >= MaxCPUs {
		return 0, fmt.Errorf("cpu number %d out of range [0,%d)", n, MaxCPUs)
	}
	return n, nil
}

// ParseCPUMask parses the kernel's hex mask format: "3", "00000003",
// "ff,ffffffff" (32-bit groups, most significant first, as on large hosts).
// Errors say which group is wrong, not what it holds (see ParseCPUList).
func ParseCPUMask(text string) (CPUSet, error) {
	var s CPUSet
	text = strings.TrimSpace(text)
	if text == "" {
		return s, nil
	}
	groups := strings.Split(text, ",")
	if len(groups)*32 > MaxCPUs+32 {
		return CPUSet{}, fmt.Errorf("cpu mask: %d groups, wider than %d cpus", len(groups), MaxCPUs)
	}
	bit := 0
	for i := len(groups) - 1; i >= 0; i-- {
		g := groups[i]
		v, err := strconv.ParseUint(g, 16, 32)
		if g == "" || len(g) > 8 || err != nil {
			return CPUSet{}, fmt.Errorf("cpu mask: group %d of %d is not 1 to 8 hex digits", i+1, len(groups))
		}
		for b := 0; b < 32; b++ {
			if v&(1<<uint(b)) != 0 {
				if bit+b >= MaxCPUs { // the 257th group a leading zero group may take
					return CPUSet{}, fmt.Errorf("cpu mask: cpu %d out of range [0,%d)", bit+b, MaxCPUs)
				}
				s.Add(bit + b)
			}
		}
		bit += 32
	}
	return s, nil
}
