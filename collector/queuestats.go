package collector

import (
	"regexp"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The queuestats collector exports per-queue traffic, from the netdev
// netlink family's qstats or, for drivers without them, the per-queue
// counters of ethtool -S (internal/kernel/nic), and the kernel's own
// queue → NAPI → IRQ map. The per-queue packet rate next to the per-IRQ
// per-CPU interrupt counts shows whether an uneven CPU load comes from
// uneven RSS (one queue gets the traffic) or from IRQ placement.
//
// netirq_net_queue_irq_mismatch cross-checks the IRQ the kernel names for
// a queue's NAPI instance against the queue the /proc/interrupts naming
// rules (internal/irqclass) gave that IRQ. It is a metric rather than a test
// only: the classifier is a set of heuristics over driver naming, and a
// fleet is where unknown drivers and naming changes show up; the series
// exists only for queues whose NAPI reports an IRQ (Linux 6.8+, drivers
// calling netif_napi_set_irq), so it costs nothing elsewhere.
func init() {
	register(factory{
		name: "queuestats", help: "Per-queue packets and bytes (netdev qstats or ethtool -S) and the queue to NAPI to IRQ map from netdev netlink",
		defaultEnabled: true, parts: snapshot.PartNetDevices | snapshot.PartInterrupts | snapshot.PartQueueStats,
		build: func(cfg *Config) Collector {
			return queueStatsCollector{exclude: cfg.DeviceExclude, offloads: cfg.QueueStatsOffloads}
		},
	})
}

var (
	netQueuePacketsDesc = netDesc("queue_packets_total",
		"Packets a queue received (kind rx) or sent (kind tx), from netdev qstats or the driver's ethtool -S counters (see netirq_net_queue_stats_info).",
		"device", "queue", "kind")
	netQueueBytesDesc = netDesc("queue_bytes_total",
		"Bytes a queue received (kind rx) or sent (kind tx).", "device", "queue", "kind")
	netQueueStatsInfoDesc = netDesc("queue_stats_info",
		"Where a device's per-queue counters come from: netlink (netdev qstats) or ethtool (the driver's ethtool -S names).",
		"device", "source")
	netQueueNAPIDesc = netDesc("queue_napi_info",
		"The kernel's map of a queue to its NAPI instance, that instance's IRQ (empty: none reported) and, in threaded mode, its napi/<dev>-<id> thread.",
		"device", "queue", "kind", "napi_id", "irq", "thread_pid")
	netQueueIRQMismatchDesc = netDesc("queue_irq_mismatch",
		"1 when the IRQ the kernel reports for a queue's NAPI instance is not the IRQ /proc/interrupts naming classified as that queue's (netirq_net_queue_irq_info); 0 when they agree.",
		"device", "queue", "kind")
)

type queueStatsCollector struct {
	exclude  *regexp.Regexp
	offloads bool // also the checksum/GRO/GSO qstats counters (queuestats_counters.go)
}

func (c queueStatsCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	// Devices are named through sysfs; without its device list nothing
	// the kernel answers can be attributed.
	if snap.NetDevices == nil && snap.NetDevicesErr != nil {
		return snap.NetDevicesErr
	}
	sources := map[string]string{}
	var devices []string
	for _, s := range snap.QueueStats {
		if c.excluded(s.Device) {
			continue
		}
		queue := strconv.Itoa(s.Queue)
		ch <- prometheus.MustNewConstMetric(netQueuePacketsDesc, prometheus.CounterValue, float64(s.Packets), s.Device, queue, string(s.Kind))
		ch <- prometheus.MustNewConstMetric(netQueueBytesDesc, prometheus.CounterValue, float64(s.Bytes), s.Device, queue, string(s.Kind))
		sendQStatCounters(ch, s, c.offloads)
		if _, ok := sources[s.Device]; !ok {
			devices = append(devices, s.Device)
		}
		sources[s.Device] = s.Source
	}
	for _, dev := range devices {
		ch <- prometheus.MustNewConstMetric(netQueueStatsInfoDesc, prometheus.GaugeValue, 1, dev, sources[dev])
	}

	napis := make(map[uint32]nic.NAPI, len(snap.NAPIs))
	for _, n := range snap.NAPIs {
		napis[n.ID] = n
	}
	for _, q := range snap.QueueNAPIs {
		if q.NAPIID == 0 || c.excluded(q.Device) {
			continue // lo, veth and tx queues of many drivers: no NAPI of their own
		}
		queue := strconv.Itoa(q.Queue)
		n := napis[q.NAPIID]
		ch <- prometheus.MustNewConstMetric(netQueueNAPIDesc, prometheus.GaugeValue, 1,
			q.Device, queue, string(q.Kind), strconv.FormatUint(uint64(q.NAPIID), 10), positiveOrEmpty(n.IRQ), positiveOrEmpty(n.ThreadPID))
		if n.IRQ > 0 && snap.Interrupts != nil {
			mismatch := 0.0
			if queueIRQMismatch(q, n.IRQ, snap.IRQClasses) {
				mismatch = 1
			}
			ch <- prometheus.MustNewConstMetric(netQueueIRQMismatchDesc, prometheus.GaugeValue, mismatch, q.Device, queue, string(q.Kind))
		}
	}
	return snap.QueueStatsErr
}

// queueIRQMismatch reports whether the /proc/interrupts classification of
// irq disagrees with netlink saying irq serves queue q. It agrees when the
// IRQ is classified as the same device and queue with the same kind or as
// a combined (RX+TX) vector; a classification without a single queue
// (Queue -1: a shared vector) agrees when device and kind fit.
func queueIRQMismatch(q nic.QueueNAPI, irq int, classes map[int]irqclass.IRQClass) bool {
	class, ok := classes[irq]
	if !ok || class.Device != q.Device {
		return true
	}
	if class.Kind != q.Kind && class.Kind != kernel.KindCombined {
		return true
	}
	return class.Queue >= 0 && class.Queue != q.Queue
}

func positiveOrEmpty(v int) string {
	if v <= 0 {
		return ""
	}
	return strconv.Itoa(v)
}

func (c queueStatsCollector) excluded(dev string) bool {
	return c.exclude != nil && c.exclude.MatchString(dev)
}
