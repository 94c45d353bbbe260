package collector

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The softirqs collector exports /proc/softirqs per CPU: NET_RX and NET_TX
// by default, every vector with --collector.softirqs.all.
func init() {
	register(factory{
		name: "softirqs", help: "Per-CPU softirq counts from /proc/softirqs",
		defaultEnabled: true, parts: PartSoftirqs,
		build: func(cfg *Config) Collector { return softirqsCollector{all: cfg.SoftirqsAll} },
	})
}

var softirqsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "softirqs_total"),
	"Softirqs raised per CPU and vector (NET_RX: receive processing incl. RPS, NET_TX: transmit completion).",
	[]string{"vector", "cpu"}, nil)

type softirqsCollector struct{ all bool }

func (c softirqsCollector) Update(snap *Snapshot, ch chan<- prometheus.Metric) error {
	t := snap.Softirqs
	if t == nil {
		return orMissing(snap.SoftirqsErr, "/proc/softirqs")
	}
	cpus := cpuLabels(t.CPUs)
	for _, v := range t.Vectors {
		if !c.all && v.Name != "NET_RX" && v.Name != "NET_TX" {
			continue
		}
		for i, n := range v.Counts {
			if i < len(cpus) {
				ch <- prometheus.MustNewConstMetric(softirqsDesc, prometheus.CounterValue, float64(n), v.Name, cpus[i])
			}
		}
	}
	return snap.SoftirqsErr
}
