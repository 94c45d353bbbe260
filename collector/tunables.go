package collector

import (
	"regexp"

	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The tunables collector exports the knobs that bound how much receive work
// one softirq run does and where it may queue (internal/kernel/procfs/tunables.go):
// net.core.netdev_budget (packets per net_rx_action), netdev_budget_usecs
// (its time bound, exported in seconds), netdev_max_backlog (the per-CPU
// backlog whose overflow is softnet's dropped count), dev_weight (the
// backlog nic.NAPI's weight), the flow limit (table size and the CPUs it is on
// for), each device's gro_flush_timeout (exported in seconds) and
// napi_defer_hard_irqs, and whether irqbalance runs (it rewrites IRQ
// affinities). A file the kernel does not have leaves its metric out.
// Per-device metrics follow --collector.device-exclude (the snapshot
// reads no excluded device).
func init() {
	register(factory{
		name: "tunables", help: "net.core receive-path sysctls, per-device gro_flush_timeout and napi_defer_hard_irqs, irqbalance",
		defaultEnabled: true, parts: snapshot.PartTunables,
		build: func(cfg *Config) Collector { return tunablesCollector{exclude: cfg.DeviceExclude} },
	})
}

func netCoreDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "net_core", name), help, labels, nil)
}

var (
	netdevBudgetDesc = netCoreDesc("netdev_budget",
		"net.core.netdev_budget: packets one net_rx_action run may process over all NAPI instances before it yields (time_squeeze).")
	netdevBudgetSecondsDesc = netCoreDesc("netdev_budget_seconds",
		"net.core.netdev_budget_usecs in seconds: the time bound of one net_rx_action run.")
	netdevMaxBacklogDesc = netCoreDesc("netdev_max_backlog",
		"net.core.netdev_max_backlog: packets the per-CPU backlog (RPS, netif_rx) holds before dropping.")
	devWeightDesc = netCoreDesc("dev_weight",
		"net.core.dev_weight: the NAPI weight (packets per poll) of the per-CPU backlog.")
	flowLimitTableLenDesc = netCoreDesc("flow_limit_table_len",
		"net.core.flow_limit_table_len: buckets of the per-CPU flow limit table.")
	flowLimitCPUsDesc = netCoreDesc("flow_limit_cpus",
		"Number of CPUs in net.core.flow_limit_cpu_bitmap (flow limit on for their backlog); 0: off.")
	flowLimitCPUsInfoDesc = netCoreDesc("flow_limit_cpus_info",
		"net.core.flow_limit_cpu_bitmap as a CPU list (empty: off).", "cpus")
	groFlushTimeoutDesc = netDesc("device_gro_flush_timeout_seconds",
		"/sys/class/net/<dev>/gro_flush_timeout in seconds: how long GRO holds packets, and with napi_defer_hard_irqs the timer that replaces the IRQ.", "device")
	napiDeferHardIRQsDesc = netDesc("device_napi_defer_hard_irqs",
		"/sys/class/net/<dev>/napi_defer_hard_irqs: empty NAPI polls before the device IRQ is re-enabled (0: off).", "device")
	irqbalanceRunningDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irqbalance", "running"),
		"1 when a process named irqbalance runs (it rewrites IRQ affinities); checked by a /proc scan at most once a minute while it is not running.",
		nil, nil)
)

type tunablesCollector struct {
	exclude *regexp.Regexp
}

func (c tunablesCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	t := snap.Tunables
	if t == nil {
		return snap.TunablesErr
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, f := range []struct {
		desc *prometheus.Desc
		v    int64
		div  float64
	}{
		{netdevBudgetDesc, t.NetdevBudget, 1},
		{netdevBudgetSecondsDesc, t.NetdevBudgetUsecs, 1e6},
		{netdevMaxBacklogDesc, t.NetdevMaxBacklog, 1},
		{devWeightDesc, t.DevWeight, 1},
		{flowLimitTableLenDesc, t.FlowLimitTableLen, 1},
	} {
		if f.v >= 0 {
			gauge(f.desc, float64(f.v)/f.div)
		}
	}
	if t.HasFlowLimitCPUs {
		gauge(flowLimitCPUsDesc, float64(t.FlowLimitCPUs.Count()))
		gauge(flowLimitCPUsInfoDesc, 1, t.FlowLimitCPUs.String())
	}
	for dev, v := range t.GROFlushTimeout {
		if v >= 0 && !c.excluded(dev) {
			gauge(groFlushTimeoutDesc, float64(v)/1e9, dev)
		}
	}
	for dev, v := range t.NAPIDeferHardIRQs {
		if v >= 0 && !c.excluded(dev) {
			gauge(napiDeferHardIRQsDesc, float64(v), dev)
		}
	}
	irqbalance := 0.0
	if t.IRQBalanceRunning {
		irqbalance = 1
	}
	gauge(irqbalanceRunningDesc, irqbalance)
	return snap.TunablesErr
}

func (c tunablesCollector) excluded(dev string) bool {
	return c.exclude != nil && c.exclude.MatchString(dev)
}
