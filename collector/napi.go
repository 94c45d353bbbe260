package collector

import (
	"regexp"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The napi collector exports each NAPI instance the netdev family lists
// (napi-get, read with the queue stats: internal/kernel/nic/netdev.go):
// its IRQ and thread, and its own settings, which since Linux 6.13 are per
// instance (napi-set) rather than per device. One series per instance and
// setting: the kernel keeps them per NAPI, and a NAPI is about one per
// queue. Settings an older kernel does not report are left out.
//
// The irq label is empty when the driver never names one
// (netif_napi_set_irq): virtio_net, veth and ifb do not, so their
// queue → IRQ map comes from /proc/interrupts (netirq_net_queue_irq_info).
func init() {
	register(factory{
		name: "napi", help: "NAPI instances from netdev netlink: IRQ, thread and per-NAPI settings (defer-hard-irqs, gro-flush-timeout, irq-suspend-timeout, threaded)",
		defaultEnabled: true, parts: snapshot.PartNetDevices | snapshot.PartQueueStats,
		build: func(cfg *Config) Collector { return napiCollector{exclude: cfg.DeviceExclude} },
	})
}

func napiDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "napi", name), help, labels, nil)
}

var (
	napiInfoDesc = napiDesc("info",
		"A NAPI instance (netdev napi-get): its IRQ (empty when the driver names none) and, in threaded mode, the PID of its napi/<dev>-<id> thread (empty otherwise).",
		"device", "napi_id", "irq", "thread_pid")
	napiInstDeferHardIRQsDesc = napiDesc("defer_hard_irqs",
		"The instance's defer-hard-irqs (Linux 6.13+): empty polls before its IRQ is re-enabled; it only takes effect with a non-zero gro-flush-timeout.",
		"device", "napi_id")
	napiInstGROFlushTimeoutDesc = napiDesc("gro_flush_timeout_seconds",
		"The instance's gro-flush-timeout (Linux 6.13+): the NAPI watchdog timer that re-polls while IRQs are deferred.",
		"device", "napi_id")
	napiIRQSuspendTimeoutDesc = napiDesc("irq_suspend_timeout_seconds",
		"The instance's irq-suspend-timeout (Linux 6.13+): how long epoll busy polling that finds events keeps its IRQ suspended.",
		"device", "napi_id")
	napiThreadedDesc = napiDesc("threaded",
		"How the instance polls (Linux 6.17+): 0 softirq, 1 its own kthread, 2 that kthread busy-polls (6.19).",
		"device", "napi_id")
)

type napiCollector struct {
	exclude *regexp.Regexp
}

func (c napiCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	// Devices are named through sysfs; without its device list nothing
	// the kernel answers can be attributed.
	if snap.NetDevices == nil && snap.NetDevicesErr != nil {
		return snap.NetDevicesErr
	}
	for _, n := range snap.NAPIs {
		if c.exclude != nil && c.exclude.MatchString(n.Device) {
			continue
		}
		id := strconv.FormatUint(uint64(n.ID), 10)
		ch <- prometheus.MustNewConstMetric(napiInfoDesc, prometheus.GaugeValue, 1,
			n.Device, id, positiveOrEmpty(n.IRQ), positiveOrEmpty(n.ThreadPID))
		napiSettings(ch, n, id)
	}
	return snap.QueueStatsErr
}

// napiSettings sends the settings the kernel reported for n.
func napiSettings(ch chan<- prometheus.Metric, n nic.NAPI, id string) {
	s := n.Settings
	for _, m := range []struct {
		desc *prometheus.Desc
		has  bool
		v    float64
	}{
		{napiInstDeferHardIRQsDesc, s.HasDeferHardIRQs, float64(s.DeferHardIRQs)},
		{napiInstGROFlushTimeoutDesc, s.HasGROFlushTimeout, float64(s.GROFlushTimeout) / 1e9},
		{napiIRQSuspendTimeoutDesc, s.HasIRQSuspendTimeout, float64(s.IRQSuspendTimeout) / 1e9},
		{napiThreadedDesc, s.HasThreaded, float64(s.Threaded)},
	} {
		if m.has {
			ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, m.v, n.Device, id)
		}
	}
}
