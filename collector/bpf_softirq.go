package collector

import (
	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel/bpfprobes"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The bpf collector's softirq families: the exact time per CPU and
// vector, and the wait histograms.

const (
	bpfSoftirqSecondsName = namespace + "_softirq_seconds_total"
	bpfSoftirqSecondsHelp = "CPU time spent running each softirq vector, measured exactly from irq:softirq_entry to softirq_exit by the bpf collector's probes (/proc/stat's softirq time is tick-sampled unless CONFIG_IRQ_TIME_ACCOUNTING). Counts from when the probes were attached."
)

var (
	bpfSoftirqSecondsDesc = prometheus.NewDesc(bpfSoftirqSecondsName, bpfSoftirqSecondsHelp, []string{"cpu", "vector"}, nil)
	bpfWaitDesc           = prometheus.NewDesc(namespace+"_softirq_wait_seconds",
		"Time from a softirq's first raise (irq:softirq_raise) to its run (softirq_entry) on the CPU: how long NET_RX work waited behind other softirqs, hard IRQs and, once deferred, ksoftirqd's turn on the run queue. Buckets 1 µs to 131 ms. cpu is empty for a vector summed over CPUs (--collector.bpf.wait-per-cpu).",
		[]string{"cpu", "vector"}, nil)
	waitBounds = bpfprobes.WaitBucketBounds()
)

// timeMatrix is netirq_softirq_seconds_total: a row per exported vector,
// only the CPUs that ran it.
func (c bpfCollector) timeMatrix(s *bpfprobes.Stats) *cpuMatrix {
	cpus := make([]int, len(s.Softirqs))
	for i := range cpus {
		cpus[i] = i
	}
	m := &cpuMatrix{desc: bpfSoftirqSecondsDesc, name: bpfSoftirqSecondsName, help: bpfSoftirqSecondsHelp, cpus: newCPUColumns(cpus)}
	for vec, name := range bpfprobes.VectorNames {
		if !c.exported(vec) {
			continue
		}
		row := matrixRow{values: make([]float64, len(cpus)), pairs: []*dto.LabelPair{labelPair(&labelVector, name)}, kept: &cpuset.CPUSet{}}
		for cpu, v := range s.Softirqs {
			if v[vec].Runs > 0 {
				row.values[cpu] = v[vec].Time.Seconds()
				row.kept.Add(cpu)
			}
		}
		m.rows = append(m.rows, row)
	}
	sortRows(m.rows)
	return m
}

// perCPU says whether vector vec's wait histogram is kept per CPU.
func (c bpfCollector) perCPU(vec int) bool {
	switch c.waitPerCPU {
	case waitPerCPUAll:
		return true
	case waitPerCPUNone:
		return false
	}
	return vec == bpfprobes.VecNetRx
}

// sendWaits sends the wait histograms of the exported vectors, per CPU or
// summed over CPUs; CPUs that measured no wait are left out.
func (c bpfCollector) sendWaits(s *bpfprobes.Stats, ch chan<- prometheus.Metric) {
	for vec, name := range bpfprobes.VectorNames {
		if !c.exported(vec) {
			continue
		}
		var sum bpfprobes.Softirq
		for cpu, v := range s.Softirqs {
			w := v[vec]
			if w.Waits == 0 {
				continue
			}
			if c.perCPU(vec) {
				ch <- waitHistogram(w, cpuLabel(cpu), name)
				continue
			}
			sum.Waits, sum.WaitSum = sum.Waits+w.Waits, sum.WaitSum+w.WaitSum
			for b := range w.WaitBuckets {
				sum.WaitBuckets[b] += w.WaitBuckets[b]
			}
		}
		if !c.perCPU(vec) && sum.Waits > 0 {
			ch <- waitHistogram(sum, "", name)
		}
	}
}

// waitHistogram turns the probes' bucket counts (each bucket alone) into
// Prometheus' cumulative buckets.
func waitHistogram(w bpfprobes.Softirq, cpu, vector string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(waitBounds))
	var cum uint64
	for i, le := range waitBounds {
		cum += w.WaitBuckets[i]
		buckets[le] = cum
	}
	return prometheus.MustNewConstHistogram(bpfWaitDesc, w.Waits, w.WaitSum.Seconds(), buckets, cpu, vector)
}
