package collector

import (
	"regexp"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The netqueues collector exports /sys/class/net/<dev>: queue counts, each
// RX queue's RPS mask and flow count, each TX queue's XPS masks, threaded
// nic.NAPI, driver and NUMA node, and the queue → IRQ → effective CPU map.
// Virtual devices (veth, bond, VLAN) have no queue IRQs but are real users
// of RPS, so their queues are exported too.
func init() {
	register(factory{
		name: "netqueues", help: "NIC queues, RPS/XPS masks, threaded NAPI and the queue to IRQ map from /sys/class/net",
		defaultEnabled: true, parts: snapshot.PartNetDevices | snapshot.PartInterrupts | snapshot.PartAffinity | snapshot.PartTopology,
		build: func(cfg *Config) Collector { return netQueuesCollector{exclude: cfg.DeviceExclude} },
	})
}

func netDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "net", name), help, labels, nil)
}

var (
	netDeviceInfoDesc = netDesc("device_info",
		"A net device: its driver, bus address and virtio device (all empty for virtual devices).",
		"device", "driver", "bus_address", "virtio_device")
	netDeviceNodeDesc = netDesc("device_numa_node",
		"NUMA node of the device's bus device (device/numa_node); -1 when unknown or virtual.", "device")
	netDeviceThreadedDesc = netDesc("device_threaded",
		"/sys/class/net/<dev>/threaded: 1 when NAPI runs in napi/<dev>-<id> kernel threads instead of softirq context.", "device")
	netDevicePacketsDesc = netDesc("device_packets_total",
		"Packets the device received (direction rx) or sent (tx): statistics/rx_packets and tx_packets, virtual devices included.",
		"device", "direction")
	netRxQueuesDesc = netDesc("rx_queues", "Number of RX queues (queues/rx-N) the device has.", "device")
	netTxQueuesDesc = netDesc("tx_queues", "Number of TX queues (queues/tx-N) the device has.", "device")
	netRPSInfoDesc  = netDesc("rx_queue_rps_info",
		"An RX queue's rps_cpus as a CPU list (empty: RPS off for this queue).", "device", "queue", "rps_cpus")
	netRPSCPUsDesc = netDesc("rx_queue_rps_cpus",
		"Number of CPUs in an RX queue's rps_cpus mask; 0 means RPS is off for the queue.", "device", "queue")
	netRPSFlowsDesc = netDesc("rx_queue_rps_flow_entries",
		"An RX queue's rps_flow_cnt (RFS flow table size; 0: RFS off for the queue).", "device", "queue")
	netXPSInfoDesc = netDesc("tx_queue_xps_info",
		"A TX queue's xps_cpus (CPU list) and xps_rxqs (RX queue list); empty when unset or absent.", "device", "queue", "xps_cpus", "xps_rxqs")
	netXPSCPUsDesc = netDesc("tx_queue_xps_cpus",
		"Number of CPUs in a TX queue's xps_cpus mask (absent on single-queue devices).", "device", "queue")
	netRPSSockFlowDesc = netDesc("rps_sock_flow_entries",
		"/proc/sys/net/core/rps_sock_flow_entries: the global RFS socket flow table size (0: RFS off).")
	netQueueIRQDesc = netDesc("queue_irq_info",
		"Which IRQ serves which queue, and where it fires: effective CPU list and their NUMA nodes.",
		"device", "queue", "kind", "irq", "effective_cpus", "effective_nodes")
)

type netQueuesCollector struct {
	exclude *regexp.Regexp
}

func (c netQueuesCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	if snap.NetDevices == nil && snap.NetDevicesErr != nil {
		return snap.NetDevicesErr
	}
	for _, d := range snap.NetDevices {
		if c.excluded(d.Name) {
			continue
		}
		dev := d.Name
		ch <- prometheus.MustNewConstMetric(netDeviceInfoDesc, prometheus.GaugeValue, 1, dev, d.Driver, d.BusAddress, d.VirtioName)
		ch <- prometheus.MustNewConstMetric(netDeviceNodeDesc, prometheus.GaugeValue, float64(d.NUMANode), dev)
		if d.Threaded >= 0 {
			ch <- prometheus.MustNewConstMetric(netDeviceThreadedDesc, prometheus.GaugeValue, float64(d.Threaded), dev)
		}
		if d.HasStats {
			ch <- prometheus.MustNewConstMetric(netDevicePacketsDesc, prometheus.CounterValue, float64(d.RxPackets), dev, "rx")
			ch <- prometheus.MustNewConstMetric(netDevicePacketsDesc, prometheus.CounterValue, float64(d.TxPackets), dev, "tx")
		}
		ch <- prometheus.MustNewConstMetric(netRxQueuesDesc, prometheus.GaugeValue, float64(len(d.RxQueues)), dev)
		ch <- prometheus.MustNewConstMetric(netTxQueuesDesc, prometheus.GaugeValue, float64(len(d.TxQueues)), dev)
		for _, q := range d.RxQueues {
			queue := strconv.Itoa(q.Index)
			if q.HasRPS {
				ch <- prometheus.MustNewConstMetric(netRPSInfoDesc, prometheus.GaugeValue, 1, dev, queue, q.RPSCPUs.String())
				ch <- prometheus.MustNewConstMetric(netRPSCPUsDesc, prometheus.GaugeValue, float64(q.RPSCPUs.Count()), dev, queue)
			}
			if q.RPSFlowCount >= 0 {
				ch <- prometheus.MustNewConstMetric(netRPSFlowsDesc, prometheus.GaugeValue, float64(q.RPSFlowCount), dev, queue)
			}
		}
		for _, q := range d.TxQueues {
			queue := strconv.Itoa(q.Index)
			if q.HasXPSCPUs || q.HasXPSRxQs {
				ch <- prometheus.MustNewConstMetric(netXPSInfoDesc, prometheus.GaugeValue, 1, dev, queue, q.XPSCPUs.String(), q.XPSRxQs.String())
			}
			if q.HasXPSCPUs {
				ch <- prometheus.MustNewConstMetric(netXPSCPUsDesc, prometheus.GaugeValue, float64(q.XPSCPUs.Count()), dev, queue)
			}
		}
	}
	if snap.RPSSockFlowEntries >= 0 {
		ch <- prometheus.MustNewConstMetric(netRPSSockFlowDesc, prometheus.GaugeValue, float64(snap.RPSSockFlowEntries))
	}
	c.queueIRQs(snap, ch)
	return snap.NetDevicesErr
}

// queueIRQs sends the queue → IRQ map for every IRQ classified as a queue's.
func (c netQueuesCollector) queueIRQs(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) {
	if snap.Interrupts == nil {
		return
	}
	for _, line := range snap.Interrupts.IRQs {
		class := snap.IRQClasses[line.IRQ]
		if class.Queue < 0 || !class.IsNIC() || class.Kind == kernel.KindOther || c.excluded(class.Device) {
			continue
		}
		var cpus, nodes string
		if aff, ok := snap.Affinity[line.IRQ]; ok && aff.HasEffective {
			cpus = aff.Effective.String()
			nodes = snap.Topology.Nodes(aff.Effective).String()
		}
		ch <- prometheus.MustNewConstMetric(netQueueIRQDesc, prometheus.GaugeValue, 1,
			class.Device, strconv.Itoa(class.Queue), string(class.Kind), strconv.Itoa(line.IRQ), cpus, nodes)
	}
}

func (c netQueuesCollector) excluded(dev string) bool {
	return c.exclude != nil && c.exclude.MatchString(dev)
}
