package collector

import (
	"regexp"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The bql collector exports each TX queue's byte queue limits
// (queues/tx-N/byte_queue_limits) and tx_maxrate, in base units (the
// kernel's are in internal/kernel/sysfs/bql.go).
//
// Cardinality: a series per family per TX queue, so a 64-queue NIC adds 64
// per family. By default only what is worth that: the current limit (what
// BQL lets the driver hold, the queue's latency/throughput trade-off), the
// stall counter (6.9+, the TX completion stall detector) and tx_maxrate of queues that have one (most
// have none, so this costs nothing until someone rate-limits a queue).
// --collector.bql.all adds inflight (an instant sample, noisy at scrape
// intervals), the limit bounds, hold_time and the stall detector's
// threshold, which are configuration and rarely differ between queues, and
// tx_maxrate of every queue; and reads the files they need (six more
// reads per queue).
func init() {
	register(factory{
		name: "bql", help: "Byte queue limits (limit, stall counter) and tx_maxrate of each TX queue from /sys/class/net/*/queues/tx-N",
		defaultEnabled: true, parts: snapshot.PartBQL | snapshot.PartKernel, // the kernel's HZ for stall_max
		build: func(cfg *Config) Collector { return bqlCollector{exclude: cfg.DeviceExclude, all: cfg.BQLAll} },
	})
}

func bqlDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "net", name), help, []string{"device", "queue"}, nil)
}

var (
	bqlLimitDesc = bqlDesc("tx_queue_bql_limit_bytes",
		"Byte queue limit of a TX queue now (byte_queue_limits/limit): bytes the driver may hold before the stack stops the queue.")
	bqlStallsDesc = bqlDesc("tx_queue_bql_stalls_total",
		"TX completion stalls BQL detected on the queue (byte_queue_limits/stall_cnt, Linux 6.9+); counts only while stall_thrs > 0.")
	bqlMaxRateDesc = bqlDesc("tx_queue_maxrate_bytes_per_second",
		"tx_maxrate of a TX queue in bytes/s (the file is in Mbit/s: x 125000); 0: no limit. By default only queues with a limit.")
	bqlInflightDesc = bqlDesc("tx_queue_bql_inflight_bytes",
		"Bytes queued to the driver and not yet completed (byte_queue_limits/inflight); --collector.bql.all.")
	bqlLimitMinDesc = bqlDesc("tx_queue_bql_limit_min_bytes",
		"Lower bound of the byte queue limit (byte_queue_limits/limit_min); --collector.bql.all.")
	bqlLimitMaxDesc = bqlDesc("tx_queue_bql_limit_max_bytes",
		"Upper bound of the byte queue limit (byte_queue_limits/limit_max); --collector.bql.all.")
	bqlHoldTimeDesc = bqlDesc("tx_queue_bql_hold_time_seconds",
		"Time BQL waits before lowering the limit (byte_queue_limits/hold_time, in ms); --collector.bql.all.")
	bqlStallThrsDesc = bqlDesc("tx_queue_bql_stall_threshold_seconds",
		"Stall detector threshold (byte_queue_limits/stall_thrs, in ms); 0: detector off; --collector.bql.all.")
	bqlStallMaxDesc = bqlDesc("tx_queue_bql_stall_max_seconds",
		"Longest TX completion stall detected since the counter was cleared (byte_queue_limits/stall_max, in jiffies: exported only when /proc/config.gz gives HZ); --collector.bql.all.")
)

type bqlCollector struct {
	exclude *regexp.Regexp
	all     bool
}

func (c bqlCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	for _, q := range snap.BQL {
		if c.exclude != nil && c.exclude.MatchString(q.Device) {
			continue
		}
		labels := []string{q.Device, strconv.Itoa(q.Queue)}
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
		}
		if q.Limit >= 0 {
			gauge(bqlLimitDesc, float64(q.Limit))
		}
		if q.StallCount >= 0 {
			ch <- prometheus.MustNewConstMetric(bqlStallsDesc, prometheus.CounterValue, float64(q.StallCount), labels...)
		}
		if q.MaxRateMbps > 0 || (c.all && q.MaxRateMbps == 0) {
			gauge(bqlMaxRateDesc, float64(q.MaxRateMbps)*1e6/8) // bytes, the base unit promtool wants
		}
		if c.all {
			c.config(q, gauge)
			if hz := kernelHZ(snap); hz > 0 && q.StallMaxJiffies >= 0 {
				gauge(bqlStallMaxDesc, float64(q.StallMaxJiffies)/float64(hz))
			}
		}
	}
	return snap.BQLErr
}

// kernelHZ is CONFIG_HZ from /proc/config.gz, 0 when unknown.
func kernelHZ(snap *snapshot.Snapshot) int {
	if snap.Kernel == nil {
		return 0
	}
	return snap.Kernel.Config.HZ
}

// config sends the --collector.bql.all families.
func (c bqlCollector) config(q sysfs.TxQueueBQL, gauge func(*prometheus.Desc, float64)) {
	for _, v := range []struct {
		d     *prometheus.Desc
		raw   int64
		scale float64
	}{
		{bqlInflightDesc, q.Inflight, 1}, {bqlLimitMinDesc, q.LimitMin, 1}, {bqlLimitMaxDesc, q.LimitMax, 1},
		{bqlHoldTimeDesc, q.HoldTimeMS, 1e-3}, {bqlStallThrsDesc, q.StallThresholdMS, 1e-3},
	} {
		if v.raw >= 0 {
			gauge(v.d, float64(v.raw)*v.scale)
		}
	}
}
