package live

import (
	"strconv"

	"github.com/netirq/netirq_exporter/internal/cpuset"
)

// The numbers as the text report prints them: "-" when unknown.

func fmtRate(v *float64) string {
	switch {
	case v == nil:
		return "-"
	case *v < 10:
		return strconv.FormatFloat(*v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(*v, 'f', 0, 64)
	}
}

func fmtPercent(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

// fmtFraction prints a 0..1 fraction as a percentage.
func fmtFraction(v *float64) string {
	if v == nil {
		return "-"
	}
	p := 100 * *v
	return fmtPercent(&p)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// queueSet prints a feed's queues as ranges ("0-3").
func queueSet(qs []int) string {
	return cpuset.NewCPUSet(qs...).String()
}
