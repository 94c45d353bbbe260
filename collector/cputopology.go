package collector

import (
	"strconv"

	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The cputopology collector exports, per CPU, its NUMA node and whether it
// is online, isolated (isolcpus) or nohz_full: the facts that decide which
// CPUs should serve NIC interrupts and RPS and which must not.
func init() {
	register(factory{
		name: "cputopology", help: "CPU to NUMA node, online, isolated and nohz_full from /sys/devices/system",
		defaultEnabled: true, parts: snapshot.PartTopology,
		build: func(*Config) Collector { return cpuTopologyCollector{} },
	})
}

var cpuInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "cpu", "info"),
	"One series per possible CPU: NUMA node (empty when unknown), online, isolated (isolcpus) and nohz_full, as \"true\"/\"false\".",
	[]string{"cpu", "node", "online", "isolated", "nohz_full"}, nil)

type cpuTopologyCollector struct{}

func (cpuTopologyCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	t := snap.Topology
	if t == nil {
		return orMissing(snap.TopologyErr, "/sys/devices/system/cpu")
	}
	all := t.Possible.Union(t.Online)
	for c := range t.NodeOf {
		all.Add(c)
	}
	for _, cpu := range all.List() {
		node := ""
		if n, ok := t.NodeOf[cpu]; ok {
			node = strconv.Itoa(n)
		}
		ch <- prometheus.MustNewConstMetric(cpuInfoDesc, prometheus.GaugeValue, 1, strconv.Itoa(cpu), node,
			strconv.FormatBool(t.Online.Contains(cpu)), strconv.FormatBool(t.Isolated.Contains(cpu)),
			strconv.FormatBool(t.NohzFull.Contains(cpu)))
	}
	return snap.TopologyErr
}
