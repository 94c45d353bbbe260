package collector

import (
	"regexp"
	"sort"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The ethtool collector exports what `ethtool -l`, `ethtool -x` and
// `ethtool -g` show, read over ethtool netlink (internal/kernel/nic/ethtool.go,
// rings.go): how many channels (queue sets, each usually with its own IRQ)
// a device has and could have, how its RSS indirection table shares the
// hash space among its RX queues, and how deep its rings are (a ring below
// its maximum is the first suspect when RX queues overrun).
// Devices or kernels that do not support a request are left out; that is
// not a failure.
func init() {
	register(factory{
		name: "ethtool", help: "Channel counts (ethtool -l), the RSS indirection table (ethtool -x) and ring sizes (ethtool -g) per device, over ethtool netlink",
		defaultEnabled: true, parts: snapshot.PartNetDevices | snapshot.PartEthtool,
		build: func(cfg *Config) Collector { return ethtoolCollector{exclude: cfg.DeviceExclude} },
	})
}

var (
	netChannelsDesc = netDesc("channels",
		"Channels the device uses now, by type (ethtool -l: rx, tx, combined RX+TX, other such as link/misc); a type is present when the driver supports it.",
		"device", "type")
	netChannelsMaxDesc = netDesc("channels_max",
		"Most channels of a type the device supports (ethtool -l pre-set maximums).", "device", "type")
	netRSSQueueEntriesDesc = netDesc("rss_queue_indirection_entries",
		"RSS indirection table entries that steer to this RX queue (ethtool -x); divided by netirq_net_rss_indirection_table_size it is the queue's share of the hash space.",
		"device", "queue")
	netRSSTableSizeDesc = netDesc("rss_indirection_table_size",
		"Entries in the device's RSS indirection table.", "device")
	netRSSInfoDesc = netDesc("rss_info",
		"The device's RSS hash function (toeplitz, xor, crc32; empty when the driver does not say).", "device", "hash_function")
	netRingDescriptorsDesc = netDesc("ring_descriptors",
		"Descriptors of each of the device's rings now (ethtool -g), by ring: rx, rx_mini, rx_jumbo, tx; a ring is present when the driver has it. One size for every queue of the device.",
		"device", "ring")
	netRingDescriptorsMaxDesc = netDesc("ring_descriptors_max",
		"Most descriptors a ring can have (ethtool -g pre-set maximums).", "device", "ring")
)

type ethtoolCollector struct {
	exclude *regexp.Regexp
}

func (c ethtoolCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	// Devices are named through sysfs; without its device list nothing
	// the kernel answers can be attributed.
	if snap.NetDevices == nil && snap.NetDevicesErr != nil {
		return snap.NetDevicesErr
	}
	for _, dev := range nicSortedKeys(snap.Channels) {
		if c.excluded(dev) {
			continue
		}
		chans := snap.Channels[dev]
		for _, t := range []struct {
			name       string
			count, max uint32
		}{
			{"rx", chans.Rx, chans.MaxRx},
			{"tx", chans.Tx, chans.MaxTx},
			{"combined", chans.Combined, chans.MaxCombined},
			{"other", chans.Other, chans.MaxOther},
		} {
			// The kernel reports a type only when its maximum is non-zero.
			if t.max == 0 && t.count == 0 {
				continue
			}
			ch <- prometheus.MustNewConstMetric(netChannelsDesc, prometheus.GaugeValue, float64(t.count), dev, t.name)
			ch <- prometheus.MustNewConstMetric(netChannelsMaxDesc, prometheus.GaugeValue, float64(t.max), dev, t.name)
		}
	}
	c.rings(snap, ch)
	for _, dev := range nicSortedKeys(snap.RSS) {
		if c.excluded(dev) {
			continue
		}
		t := snap.RSS[dev]
		ch <- prometheus.MustNewConstMetric(netRSSInfoDesc, prometheus.GaugeValue, 1, dev, t.HashFunc)
		ch <- prometheus.MustNewConstMetric(netRSSTableSizeDesc, prometheus.GaugeValue, float64(len(t.Indirection)), dev)
		share := t.QueueShare()
		queues := make([]uint32, 0, len(share))
		for q := range share {
			queues = append(queues, q)
		}
		sort.Slice(queues, func(i, j int) bool { return queues[i] < queues[j] })
		for _, q := range queues {
			ch <- prometheus.MustNewConstMetric(netRSSQueueEntriesDesc, prometheus.GaugeValue, float64(share[q]),
				dev, strconv.FormatUint(uint64(q), 10))
		}
	}
	return snap.EthtoolErr
}

// rings sends what ethtool -g shows, per device and ring type.
func (c ethtoolCollector) rings(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) {
	for _, dev := range nicSortedKeys(snap.Rings) {
		if c.excluded(dev) {
			continue
		}
		r := snap.Rings[dev]
		for _, t := range []struct {
			name       string
			size, most uint32
		}{
			{"rx", r.Rx, r.RxMax}, {"rx_mini", r.RxMini, r.RxMiniMax},
			{"rx_jumbo", r.RxJumbo, r.RxJumboMax}, {"tx", r.Tx, r.TxMax},
		} {
			if t.most == 0 { // the kernel sends a ring only when its maximum is non-zero
				continue
			}
			ch <- prometheus.MustNewConstMetric(netRingDescriptorsDesc, prometheus.GaugeValue, float64(t.size), dev, t.name)
			ch <- prometheus.MustNewConstMetric(netRingDescriptorsMaxDesc, prometheus.GaugeValue, float64(t.most), dev, t.name)
		}
	}
}

func (c ethtoolCollector) excluded(dev string) bool {
	return c.exclude != nil && c.exclude.MatchString(dev)
}

func nicSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
