package collector

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The softirqs collector exports /proc/softirqs per CPU: NET_RX and NET_TX
// by default, every vector with --collector.softirqs.all.
func init() {
	register(factory{
		name: "softirqs", help: "Per-CPU softirq counts from /proc/softirqs",
		defaultEnabled: true, parts: snapshot.PartSoftirqs,
		build: func(cfg *Config) Collector { return softirqsCollector{all: cfg.SoftirqsAll} },
	})
}

const (
	softirqsName = namespace + "_softirqs_total"
	softirqsHelp = "Softirqs raised per CPU and vector (NET_RX: receive processing incl. RPS, NET_TX: transmit completion)."
)

var softirqsDesc = prometheus.NewDesc(softirqsName, softirqsHelp, []string{"vector", "cpu"}, nil)

type softirqsCollector struct{ all bool }

func (c softirqsCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	return sendMatrices(c, snap, ch)
}

// updateMatrices returns one matrix: a row per vector.
func (c softirqsCollector) updateMatrices(snap *snapshot.Snapshot, _ chan<- prometheus.Metric) ([]*cpuMatrix, error) {
	t := snap.Softirqs
	if t == nil {
		return nil, orMissing(snap.SoftirqsErr, "/proc/softirqs")
	}
	m := &cpuMatrix{desc: softirqsDesc, name: softirqsName, help: softirqsHelp, cpus: newCPUColumns(t.CPUs)}
	var errs []error
	for _, v := range t.Vectors {
		if !c.all && v.Name != procfs.SoftirqNetRX && v.Name != procfs.SoftirqNetTX {
			continue
		}
		if !utf8.ValidString(v.Name) {
			errs = append(errs, fmt.Errorf("a softirq vector (%s) left out: not UTF-8", kernel.Describe(v.Name)))
			continue
		}
		m.rows = append(m.rows, matrixRow{counts: v.Counts, pairs: []*dto.LabelPair{labelPair(&labelVector, v.Name)}})
	}
	sortRows(m.rows)
	return []*cpuMatrix{m}, errors.Join(append([]error{snap.SoftirqsErr}, errs...)...)
}
