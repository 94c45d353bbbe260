package collector

import (
	"strconv"

	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/prometheus/client_golang/prometheus"
)

// The netdev qstats counters beyond packets and bytes (Linux 6.10+;
// nic.QStatCounters), one counter family each, per queue and only for the
// queues whose driver reports the counter.
//
// Cardinality: a driver that keeps them all (mlx5 keeps about 7 per RX
// and 6 per TX queue) adds a dozen series per queue pair. The loss and
// back-pressure counters (drops, allocation failures, tx stop/wake) are
// exported by default: they are mostly zero but say where a queue loses
// packets, and they are what the rx_ring_below_max_with_drops check reads.
// The offload accounting (checksum, hardware GRO and GSO: 14 of the 23)
// doubles the per-queue series of such a NIC and says how packets were
// handled, not where work or loss went, so it is exported only with
// --collector.queuestats.offloads.

type qstatMetric struct {
	desc    *prometheus.Desc
	offload bool // exported only with --collector.queuestats.offloads
}

func qstatDesc(name, help string) *prometheus.Desc {
	return netDesc("queue_"+name, help, "device", "queue")
}

// qstatMetrics maps nic.QStatCounter.Name to its metric; the help texts
// follow Documentation/netlink/specs/netdev.yaml.
var qstatMetrics = map[string]qstatMetric{
	"rx-alloc-fail":          {qstatDesc("rx_alloc_failures_total", "Buffer (skb or page) allocations that failed on the queue's RX path; each may or may not have cost a packet (netdev qstats rx-alloc-fail)."), false},
	"rx-hw-drops":            {qstatDesc("rx_hw_drops_total", "Packets that reached the device for this RX queue and never left it, whatever the reason (netdev qstats rx-hw-drops)."), false},
	"rx-hw-drop-overruns":    {qstatDesc("rx_hw_drop_overruns_total", "Of those, packets dropped for a transient lack of buffers or descriptors: the RX ring ran empty (rx-hw-drop-overruns)."), false},
	"rx-hw-drop-ratelimits":  {qstatDesc("rx_hw_drop_ratelimits_total", "RX packets the device dropped for exceeding its rate limit (rx-hw-drop-ratelimits)."), false},
	"tx-hw-drops":            {qstatDesc("tx_hw_drops_total", "Packets that reached the device on this TX queue and never left it (tx-hw-drops)."), false},
	"tx-hw-drop-errors":      {qstatDesc("tx_hw_drop_errors_total", "TX packets dropped as invalid or malformed (tx-hw-drop-errors)."), false},
	"tx-hw-drop-ratelimits":  {qstatDesc("tx_hw_drop_ratelimits_total", "TX packets the device dropped for exceeding its rate limit (tx-hw-drop-ratelimits)."), false},
	"tx-stop":                {qstatDesc("tx_stops_total", "Times the driver stopped the TX queue because its ring was full (tx-stop)."), false},
	"tx-wake":                {qstatDesc("tx_wakes_total", "Times the driver restarted the TX queue (tx-wake)."), false},
	"rx-csum-complete":       {qstatDesc("rx_csum_complete_total", "RX packets marked CHECKSUM_COMPLETE (rx-csum-complete)."), true},
	"rx-csum-unnecessary":    {qstatDesc("rx_csum_unnecessary_total", "RX packets marked CHECKSUM_UNNECESSARY (rx-csum-unnecessary)."), true},
	"rx-csum-none":           {qstatDesc("rx_csum_none_total", "RX packets the device did not checksum (rx-csum-none)."), true},
	"rx-csum-bad":            {qstatDesc("rx_csum_bad_total", "RX packets with a bad checksum, delivered all the same (rx-csum-bad)."), true},
	"rx-hw-gro-packets":      {qstatDesc("rx_hw_gro_packets_total", "Packets the device built by hardware GRO (rx-hw-gro-packets)."), true},
	"rx-hw-gro-bytes":        {qstatDesc("rx_hw_gro_bytes_total", "Bytes of those packets (rx-hw-gro-bytes)."), true},
	"rx-hw-gro-wire-packets": {qstatDesc("rx_hw_gro_wire_packets_total", "Wire packets hardware GRO coalesced (rx-hw-gro-wire-packets)."), true},
	"rx-hw-gro-wire-bytes":   {qstatDesc("rx_hw_gro_wire_bytes_total", "Bytes of those wire packets (rx-hw-gro-wire-bytes)."), true},
	"tx-csum-none":           {qstatDesc("tx_csum_none_total", "TX packets that needed no checksum from the device (tx-csum-none)."), true},
	"tx-needs-csum":          {qstatDesc("tx_needs_csum_total", "TX packets the device had to checksum (tx-needs-csum)."), true},
	"tx-hw-gso-packets":      {qstatDesc("tx_hw_gso_packets_total", "TX packets the device segmented (tx-hw-gso-packets)."), true},
	"tx-hw-gso-bytes":        {qstatDesc("tx_hw_gso_bytes_total", "Bytes of those packets (tx-hw-gso-bytes)."), true},
	"tx-hw-gso-wire-packets": {qstatDesc("tx_hw_gso_wire_packets_total", "Wire packets that segmentation made (tx-hw-gso-wire-packets)."), true},
	"tx-hw-gso-wire-bytes":   {qstatDesc("tx_hw_gso_wire_bytes_total", "Bytes of those wire packets (tx-hw-gso-wire-bytes)."), true},
}

// sendQStatCounters sends the counters of one queue that the
// configuration exports.
func sendQStatCounters(ch chan<- prometheus.Metric, s nic.QueueStats, offloads bool) {
	queue := strconv.Itoa(s.Queue)
	for _, c := range s.Counters {
		m, ok := qstatMetrics[c.Name]
		if !ok || m.offload && !offloads {
			continue
		}
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.CounterValue, float64(c.Value), s.Device, queue)
	}
}
