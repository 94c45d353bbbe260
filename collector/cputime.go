package collector

import (
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The cputime collector exports the per-CPU time of /proc/stat, so that
// "one core at 100% softirq" is rate(netirq_cpu_seconds_total{mode="softirq"})
// on that core rather than a host average that hides it.
func init() {
	register(factory{
		name: "cputime", help: "Per-CPU time by mode (irq, softirq, ...) from /proc/stat",
		defaultEnabled: true, parts: snapshot.PartCPUTime,
		build: func(*Config) Collector { return cpuTimeCollector{} },
	})
}

const (
	cpuSecondsName = namespace + "_cpu_seconds_total"
	cpuSecondsHelp = "Seconds each CPU spent in each mode (guest time is included in user, as the kernel counts it)."
)

var cpuSecondsDesc = prometheus.NewDesc(cpuSecondsName, cpuSecondsHelp, []string{"cpu", "mode"}, nil)

type cpuTimeCollector struct{}

// cpuModes are the exported modes of a /proc/stat cpu line.
var cpuModes = []struct {
	name  string
	value func(procfs.CPUTime) float64
}{
	{"user", func(t procfs.CPUTime) float64 { return t.User }},
	{"nice", func(t procfs.CPUTime) float64 { return t.Nice }},
	{"system", func(t procfs.CPUTime) float64 { return t.System }},
	{"idle", func(t procfs.CPUTime) float64 { return t.Idle }},
	{"iowait", func(t procfs.CPUTime) float64 { return t.Iowait }},
	{"irq", func(t procfs.CPUTime) float64 { return t.IRQ }},
	{"softirq", func(t procfs.CPUTime) float64 { return t.SoftIRQ }},
	{"steal", func(t procfs.CPUTime) float64 { return t.Steal }},
}

func (c cpuTimeCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	return sendMatrices(c, snap, ch)
}

// updateMatrices returns one matrix: a row per mode.
func (cpuTimeCollector) updateMatrices(snap *snapshot.Snapshot, _ chan<- prometheus.Metric) ([]*cpuMatrix, error) {
	if snap.CPUTime == nil {
		return nil, orMissing(snap.CPUTimeErr, "/proc/stat")
	}
	cpus := make([]int, len(snap.CPUTime))
	for i, t := range snap.CPUTime {
		cpus[i] = t.CPU
	}
	m := &cpuMatrix{desc: cpuSecondsDesc, name: cpuSecondsName, help: cpuSecondsHelp, cpus: newCPUColumns(cpus)}
	for _, mode := range cpuModes {
		values := make([]float64, len(snap.CPUTime))
		for i, t := range snap.CPUTime {
			values[i] = mode.value(t)
		}
		m.rows = append(m.rows, matrixRow{pairs: []*dto.LabelPair{labelPair(&labelMode, mode.name)}, values: values})
	}
	sortRows(m.rows)
	return []*cpuMatrix{m}, snap.CPUTimeErr
}
