package collector

import (
	"regexp"
	"sort"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The ethtool collector exports what `ethtool -l` and `ethtool -x` show,
// read over ethtool netlink (internal/kernel/nic/ethtool.go): how many channels (queue
// sets, each usually with its own IRQ) a device has and could have, and
// how its RSS indirection table shares the hash space among its RX queues.
// Devices or kernels that do not support a request are left out; that is
// not a failure.
func init() {
	register(factory{
		name: "ethtool", help: "Channel counts (ethtool -l) and the RSS indirection table (ethtool -x) per device, over ethtool netlink",
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
