package collector

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The softnet collector exports /proc/net/softnet_stat: per CPU, the packets
// the NET_RX softirq processed, the ones dropped because the backlog was
// full, and the times it ran out of budget (time_squeeze). Only the columns
// the running kernel prints are exported.
func init() {
	register(factory{
		name: "softnet", help: "Per-CPU packet processing, drops and squeezes from /proc/net/softnet_stat",
		defaultEnabled: true, parts: PartSoftnet,
		build: func(*Config) Collector { return softnetCollector{} },
	})
}

// softnetColumn is one exported column and the width from which the
// kernel prints it.
type softnetColumn struct {
	desc      *prometheus.Desc
	kind      prometheus.ValueType
	minWidth  int
	valueFrom func(SoftnetRow) uint64
}

func softnetDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "softnet", name), help, []string{"cpu"}, nil)
}

var softnetColumns = []softnetColumn{
	{softnetDesc("processed_packets_total", "Packets processed by this CPU's NET_RX softirq (32-bit in the kernel: wraps)."),
		prometheus.CounterValue, 9, func(r SoftnetRow) uint64 { return r.Processed }},
	{softnetDesc("dropped_packets_total", "Packets dropped because this CPU's backlog queue was full (netdev_max_backlog)."),
		prometheus.CounterValue, 9, func(r SoftnetRow) uint64 { return r.Dropped }},
	{softnetDesc("times_squeezed_total", "Times net_rx_action stopped with work left because netdev_budget or netdev_budget_usecs ran out."),
		prometheus.CounterValue, 9, func(r SoftnetRow) uint64 { return r.TimeSqueeze }},
	{softnetDesc("cpu_collisions_total", "Transmit lock collisions (always 0 since Linux 4.x, still printed)."),
		prometheus.CounterValue, 9, func(r SoftnetRow) uint64 { return r.CPUCollision }},
	{softnetDesc("received_rps_total", "Times this CPU was woken by an inter-processor interrupt to process packets steered to it by RPS/RFS."),
		prometheus.CounterValue, 10, func(r SoftnetRow) uint64 { return r.ReceivedRPS }},
	{softnetDesc("flow_limit_count_total", "Times the flow limit (flow_limit_cpu_bitmap) dropped packets of a heavy flow."),
		prometheus.CounterValue, 11, func(r SoftnetRow) uint64 { return r.FlowLimitCount }},
	{softnetDesc("backlog_packets", "Packets waiting in this CPU's backlog at the time of the read (input + process queues)."),
		prometheus.GaugeValue, 13, func(r SoftnetRow) uint64 { return r.BacklogLen }},
	{softnetDesc("input_queue_packets", "Packets in this CPU's input_pkt_queue at the time of the read."),
		prometheus.GaugeValue, 15, func(r SoftnetRow) uint64 { return r.InputQueueLen }},
	{softnetDesc("process_queue_packets", "Packets in this CPU's process_queue at the time of the read."),
		prometheus.GaugeValue, 15, func(r SoftnetRow) uint64 { return r.ProcessQueueLen }},
}

type softnetCollector struct{}

func (softnetCollector) Update(snap *Snapshot, ch chan<- prometheus.Metric) error {
	if snap.Softnet == nil && snap.SoftnetErr != nil {
		return snap.SoftnetErr
	}
	cpus := make([]int, len(snap.Softnet))
	for i, row := range snap.Softnet {
		cpus[i] = row.CPU
	}
	_, cpuPairs, order := cpuLabelPairs(cpus)
	slab := &cellSlab{}
	for _, col := range softnetColumns {
		for _, i := range order {
			row := snap.Softnet[i]
			if row.Columns < col.minWidth {
				continue
			}
			if col.kind == prometheus.GaugeValue {
				ch <- slab.newGaugeCell(col.desc, float64(col.valueFrom(row)), cpuPairs[i])
			} else {
				ch <- slab.newCellMetric(col.desc, float64(col.valueFrom(row)), cpuPairs[i])
			}
		}
	}
	return snap.SoftnetErr
}
