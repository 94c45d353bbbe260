package live

import (
	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/report"
)

// The numbers as the text report prints them (report.FormatRate, …): "-"
// when unknown.

// fmtFraction prints a 0..1 fraction as a percentage.
func fmtFraction(v *float64) string {
	if v == nil {
		return "-"
	}
	p := 100 * *v
	return report.FormatPercent(&p)
}

// queueSet prints a feed's queues as ranges ("0-3").
func queueSet(qs []int) string {
	return cpuset.NewCPUSet(qs...).String()
}
