package snapshot

import (
	"regexp"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
)

// IRQSelector decides which numbered IRQs are exported one by one (with
// their per-CPU counts and affinity) and which are only summed per CPU.
// By default that is every NIC IRQ: on a 256-CPU host the full matrix is
// ~165,000 series, most of them zeros of IRQs nobody asked about.
type IRQSelector struct {
	// All exports every IRQ ("dense" mode, as node_exporter does).
	All bool
	// Include also exports IRQs whose number, name or device matches.
	Include *regexp.Regexp
	// Exclude drops matching IRQs, even NIC ones; it wins over Include.
	Exclude *regexp.Regexp
}

// Detailed reports whether line is exported one by one.
func (s *IRQSelector) Detailed(line procfs.IRQLine, class irqclass.IRQClass) bool {
	if s == nil {
		return class.IsNIC()
	}
	if s.Exclude != nil && s.matches(s.Exclude, line, class) {
		return false
	}
	return s.All || class.IsNIC() || (s.Include != nil && s.matches(s.Include, line, class))
}

func (s *IRQSelector) matches(re *regexp.Regexp, line procfs.IRQLine, class irqclass.IRQClass) bool {
	return re.MatchString(line.Name) || re.MatchString(strconv.Itoa(line.IRQ)) ||
		(class.Device != "" && re.MatchString(class.Device))
}
