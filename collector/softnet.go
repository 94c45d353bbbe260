package collector

import (
	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The softnet collector exports /proc/net/softnet_stat: per CPU, the packets
// the NET_RX softirq processed, the ones dropped because the backlog was
// full, and the times it ran out of budget (time_squeeze). Only the columns
// the running kernel prints are exported.
func init() {
	register(factory{
		name: "softnet", help: "Per-CPU packet processing, drops and squeezes from /proc/net/softnet_stat",
		defaultEnabled: true, parts: snapshot.PartSoftnet,
		build: func(*Config) Collector { return softnetCollector{} },
	})
}

// softnetColumn is one exported column and the width from which the
// kernel prints it.
type softnetColumn struct {
	name      string
	help      string
	desc      *prometheus.Desc
	kind      prometheus.ValueType
	minWidth  int
	valueFrom func(procfs.SoftnetRow) uint64
}

func softnetDesc(name, help string) (string, string, *prometheus.Desc) {
	name = prometheus.BuildFQName(namespace, "softnet", name)
	return name, help, prometheus.NewDesc(name, help, []string{"cpu"}, nil)
}

func softnetCol(name, help string, kind prometheus.ValueType, minWidth int, valueFrom func(procfs.SoftnetRow) uint64) softnetColumn {
	c := softnetColumn{kind: kind, minWidth: minWidth, valueFrom: valueFrom}
	c.name, c.help, c.desc = softnetDesc(name, help)
	return c
}

var softnetColumns = []softnetColumn{
	softnetCol("processed_packets_total", "Packets processed by this CPU's NET_RX softirq (32-bit in the kernel: wraps).",
		prometheus.CounterValue, 9, func(r procfs.SoftnetRow) uint64 { return r.Processed }),
	softnetCol("dropped_packets_total", "Packets dropped because this CPU's backlog queue was full (netdev_max_backlog).",
		prometheus.CounterValue, 9, func(r procfs.SoftnetRow) uint64 { return r.Dropped }),
	softnetCol("times_squeezed_total", "Times net_rx_action stopped with work left because netdev_budget or netdev_budget_usecs ran out.",
		prometheus.CounterValue, 9, func(r procfs.SoftnetRow) uint64 { return r.TimeSqueeze }),
	softnetCol("cpu_collisions_total", "Transmit lock collisions (always 0 since Linux 4.x, still printed).",
		prometheus.CounterValue, 9, func(r procfs.SoftnetRow) uint64 { return r.CPUCollision }),
	softnetCol("received_rps_total", "Times this CPU was woken by an inter-processor interrupt to process packets steered to it by RPS/RFS.",
		prometheus.CounterValue, 10, func(r procfs.SoftnetRow) uint64 { return r.ReceivedRPS }),
	softnetCol("flow_limit_count_total", "Times the flow limit (flow_limit_cpu_bitmap) dropped packets of a heavy flow.",
		prometheus.CounterValue, 11, func(r procfs.SoftnetRow) uint64 { return r.FlowLimitCount }),
	softnetCol("backlog_packets", "Packets waiting in this CPU's backlog at the time of the read (input + process queues).",
		prometheus.GaugeValue, 13, func(r procfs.SoftnetRow) uint64 { return r.BacklogLen }),
	softnetCol("input_queue_packets", "Packets in this CPU's input_pkt_queue at the time of the read.",
		prometheus.GaugeValue, 15, func(r procfs.SoftnetRow) uint64 { return r.InputQueueLen }),
	softnetCol("process_queue_packets", "Packets in this CPU's process_queue at the time of the read.",
		prometheus.GaugeValue, 15, func(r procfs.SoftnetRow) uint64 { return r.ProcessQueueLen }),
}

type softnetCollector struct{}

func (c softnetCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	return sendMatrices(c, snap, ch)
}

// updateMatrices returns a matrix per column the kernel prints, of one row.
func (softnetCollector) updateMatrices(snap *snapshot.Snapshot, _ chan<- prometheus.Metric) ([]*cpuMatrix, error) {
	if snap.Softnet == nil {
		return nil, snap.SoftnetErr
	}
	cpus := make([]int, len(snap.Softnet))
	for i, row := range snap.Softnet {
		cpus[i] = row.CPU
	}
	columns := newCPUColumns(cpus)
	var matrices []*cpuMatrix
	for _, col := range softnetColumns {
		counts := make([]uint64, len(snap.Softnet))
		kept := &cpuset.CPUSet{} // rows of mixed widths: a CPU without the column has no series
		for i, row := range snap.Softnet {
			if row.Columns >= col.minWidth {
				counts[i] = col.valueFrom(row)
				kept.Add(i)
			}
		}
		if kept.IsEmpty() {
			continue
		}
		matrices = append(matrices, &cpuMatrix{desc: col.desc, name: col.name, help: col.help,
			gauge: col.kind == prometheus.GaugeValue, cpus: columns, rows: []matrixRow{{counts: counts, kept: kept}}})
	}
	return matrices, snap.SoftnetErr
}
