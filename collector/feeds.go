package collector

import (
	"errors"
	"regexp"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// The feeds collector exports what feeds each CPU (internal/diagnosis,
// feeds.go): one netirq_cpu_feed_info series per edge queue → CPU,
// labelled with how the edge is made (via irq, rps or napi_thread). No
// rates: the recording rules weigh the edges with each device's packet
// rate, and the alerts name the edges of the CPU they fire for.
// Cardinality: at most 16 edges per queue and via; wider RPS masks and
// NAPI threads free on many CPUs add none (or the thread's last CPU).
func init() {
	register(factory{
		name: "feeds", help: "What feeds each CPU: queue to CPU edges by IRQ affinity, RPS mask or NAPI thread",
		defaultEnabled: true,
		parts: snapshot.PartTopology | snapshot.PartNetDevices | snapshot.PartInterrupts | snapshot.PartAffinity |
			snapshot.PartQueueStats | snapshot.PartThreads,
		build: func(cfg *Config) Collector { return feedsCollector{exclude: cfg.DeviceExclude} },
	})
}

var feedInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "cpu", "feed_info"),
	"1 for each device queue whose work reaches the CPU, and how: via irq (the queue's IRQ fires there), rps (the RX queue's rps_cpus names it) or napi_thread (the queue's NAPI kthread may run only on a few CPUs including it, or last ran there). queue is empty when the kernel maps the NAPI thread to no queue.",
	[]string{"cpu", "device", "queue", "kind", "via"}, nil)

type feedsCollector struct {
	exclude *regexp.Regexp
}

func (c feedsCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	for _, f := range diagnosis.Feeds(snap) {
		if c.exclude != nil && c.exclude.MatchString(f.Device) {
			continue
		}
		ch <- prometheus.MustNewConstMetric(feedInfoDesc, prometheus.GaugeValue, 1,
			strconv.Itoa(f.CPU), f.Device, f.QueueLabel(), string(f.Kind), f.Via)
	}
	// Edges need the devices and where their IRQs fire: without either
	// (not read, or /proc/interrupts masked), an empty answer would read as
	// "nothing feeds any CPU".
	if snap.NetDevices == nil || snap.Interrupts == nil {
		return errors.Join(errors.New("feeds need /sys/class/net and /proc/interrupts"), snap.NetDevicesErr, snap.InterruptsErr)
	}
	var errs []error
	for _, p := range []snapshot.Part{snapshot.PartNetDevices, snapshot.PartInterrupts} {
		if why := snap.Unknown(p); why != "" {
			errs = append(errs, errors.New("feeds unknown: "+why))
		}
	}
	return errors.Join(errs...)
}
