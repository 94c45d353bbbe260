package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// The cputime collector exports the per-CPU time of /proc/stat, so that
// "one core at 100% softirq" is rate(netirq_cpu_seconds_total{mode="softirq"})
// on that core rather than a host average that hides it.
func init() {
	register(factory{
		name: "cputime", help: "Per-CPU time by mode (irq, softirq, ...) from /proc/stat",
		defaultEnabled: true, parts: PartCPUTime,
		build: func(*Config) Collector { return cpuTimeCollector{} },
	})
}

var cpuSecondsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "cpu", "seconds_total"),
	"Seconds each CPU spent in each mode (guest time is included in user, as the kernel counts it).",
	[]string{"cpu", "mode"}, nil)

type cpuTimeCollector struct{}

func (cpuTimeCollector) Update(snap *Snapshot, ch chan<- prometheus.Metric) error {
	for _, t := range snap.CPUTime {
		cpu := strconv.Itoa(t.CPU)
		for _, m := range []struct {
			mode string
			v    float64
		}{
			{"user", t.User}, {"nice", t.Nice}, {"system", t.System}, {"idle", t.Idle},
			{"iowait", t.Iowait}, {"irq", t.IRQ}, {"softirq", t.SoftIRQ}, {"steal", t.Steal},
		} {
			ch <- prometheus.MustNewConstMetric(cpuSecondsDesc, prometheus.CounterValue, m.v, cpu, m.mode)
		}
	}
	if snap.CPUTime == nil && snap.CPUTimeErr == nil {
		return orMissing(nil, "/proc/stat")
	}
	return snap.CPUTimeErr
}
