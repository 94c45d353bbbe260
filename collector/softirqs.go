package collector

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
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
	// Sent CPU by CPU, in each by vector: the registry's order.
	cpus, cpuPairs, order := cpuLabelPairs(t.CPUs)
	type vectorRow struct {
		name   string
		pair   *dto.LabelPair // nil when the name is not UTF-8
		counts []uint64
	}
	var vectors []vectorRow
	for _, v := range t.Vectors {
		if !c.all && v.Name != "NET_RX" && v.Name != "NET_TX" {
			continue
		}
		row := vectorRow{name: v.Name, counts: v.Counts}
		if utf8.ValidString(v.Name) {
			row.pair = labelPair(&labelVector, v.Name)
		}
		vectors = append(vectors, row)
	}
	slices.SortStableFunc(vectors, func(a, b vectorRow) int { return strings.Compare(a.name, b.name) })
	slab := &cellSlab{}
	for _, i := range order {
		for _, v := range vectors {
			if i >= len(v.counts) {
				continue
			}
			if v.pair == nil { // fails the collector, as it always did
				ch <- prometheus.MustNewConstMetric(softirqsDesc, prometheus.CounterValue, float64(v.counts[i]), v.name, cpus[i])
			}
			ch <- slab.newCellMetric(softirqsDesc, float64(v.counts[i]), cpuPairs[i], v.pair)
		}
	}
	return snap.SoftirqsErr
}
