//go:build linux

package collector

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
)

// The metrics of the netlink families this machine cannot show (loss and
// offload qstats, per-NAPI IRQs, page pools, a ring below its maximum),
// from a snapshot holding what the synthetic replies of testdata/netlink
// decode to (internal/kernel/nic TestFixture*: ens1f0np0, 4 queues).

func netlinkSnapshot(t *testing.T) *snapshot.Snapshot {
	s := snaptest.Host(t, []string{"0-3"}, "")
	snaptest.NIC(s, "ens1f0np0", 0, 4, 4)
	s.Rings = map[string]nic.Rings{"ens1f0np0": {Device: "ens1f0np0", RxMax: 8192, TxMax: 8192, Rx: 1024, Tx: 1024}}
	s.QueueStats = []nic.QueueStats{
		{Device: "ens1f0np0", Queue: 2, Kind: kernel.KindRx, Packets: 5_000_000_002, Bytes: 7_500_000_000_002, Source: "netlink",
			Counters: []nic.QueueCounter{{Name: "rx-alloc-fail", Value: 40_012}, {Name: "rx-hw-drops", Value: 40_013}, {Name: "rx-hw-drop-overruns", Value: 40_014}, {Name: "rx-csum-complete", Value: 215}}},
		{Device: "ens1f0np0", Queue: 1, Kind: kernel.KindTx, Packets: 3_000_001, Bytes: 4_500_000_001, Source: "netlink",
			Counters: []nic.QueueCounter{{Name: "tx-hw-drops", Value: 124}, {Name: "tx-hw-gso-packets", Value: 128}, {Name: "tx-stop", Value: 133}, {Name: "tx-wake", Value: 134}}},
	}
	s.NAPIs = []nic.NAPI{
		{ID: 8193, Device: "ens1f0np0", IRQ: 120, ThreadPID: 4242, Settings: nic.NAPISettings{DeferHardIRQs: 2, GROFlushTimeout: 200_000,
			HasDeferHardIRQs: true, HasGROFlushTimeout: true, HasIRQSuspendTimeout: true, Threaded: nic.NAPIThreadedBusyPoll, HasThreaded: true}},
		{ID: 8196, Device: "ens1f0np0", IRQ: 123, Settings: nic.NAPISettings{DeferHardIRQs: 2,
			HasDeferHardIRQs: true, HasGROFlushTimeout: true, IRQSuspendTimeout: 20_000_000, HasIRQSuspendTimeout: true, HasThreaded: true}},
		{ID: 257, Device: "eth0"}, // a 6.8 kernel: no settings, no IRQ
	}
	var stats [nic.NumPagePoolStats]uint64
	for i := range stats {
		stats[i] = 11_000_000_000 + uint64(i)
	}
	s.PagePools = []nic.PagePool{
		{ID: 11, Device: "ens1f0np0", NAPIID: 8193, Inflight: 1024, InflightMem: 1024 * 4096, Stats: stats, HasStats: true},
		{ID: 15, Device: "ens1f0np0", Detached: true, Inflight: 1028, InflightMem: 1028 * 4096}, // no CONFIG_PAGE_POOL_STATS
	}
	return s
}

func TestNAPICollector(t *testing.T) {
	got, err := collectSamples(t, napiCollector{}, netlinkSnapshot(t))
	if err != nil {
		t.Fatal(err)
	}
	want := `netirq_napi_defer_hard_irqs{device="ens1f0np0",napi_id="8193"} 2
netirq_napi_defer_hard_irqs{device="ens1f0np0",napi_id="8196"} 2
netirq_napi_gro_flush_timeout_seconds{device="ens1f0np0",napi_id="8193"} 0.0002
netirq_napi_gro_flush_timeout_seconds{device="ens1f0np0",napi_id="8196"} 0
netirq_napi_info{device="ens1f0np0",irq="120",napi_id="8193",thread_pid="4242"} 1
netirq_napi_info{device="ens1f0np0",irq="123",napi_id="8196",thread_pid=""} 1
netirq_napi_info{device="eth0",irq="",napi_id="257",thread_pid=""} 1
netirq_napi_irq_suspend_timeout_seconds{device="ens1f0np0",napi_id="8193"} 0
netirq_napi_irq_suspend_timeout_seconds{device="ens1f0np0",napi_id="8196"} 0.02
netirq_napi_threaded{device="ens1f0np0",napi_id="8193"} 2
netirq_napi_threaded{device="ens1f0np0",napi_id="8196"} 0
`
	if got != want {
		t.Errorf("metrics:\n%s\nwant:\n%s", got, want)
	}
	got, _ = collectSamples(t, napiCollector{exclude: regexp.MustCompile(`^ens`)}, netlinkSnapshot(t))
	if strings.Contains(got, "ens1f0np0") {
		t.Errorf("excluded device exported:\n%s", got)
	}
}

// The loss and back-pressure counters by default, the offload ones only
// with --collector.queuestats.offloads; only the counters a queue reports.
func TestQueueStatsExtendedCounters(t *testing.T) {
	got, err := collectSamples(t, queueStatsCollector{}, netlinkSnapshot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`netirq_net_queue_rx_alloc_failures_total{device="ens1f0np0",queue="2"} 40012`,
		`netirq_net_queue_rx_hw_drops_total{device="ens1f0np0",queue="2"} 40013`,
		`netirq_net_queue_rx_hw_drop_overruns_total{device="ens1f0np0",queue="2"} 40014`,
		`netirq_net_queue_tx_hw_drops_total{device="ens1f0np0",queue="1"} 124`,
		`netirq_net_queue_tx_stops_total{device="ens1f0np0",queue="1"} 133`,
		`netirq_net_queue_tx_wakes_total{device="ens1f0np0",queue="1"} 134`,
		`netirq_net_queue_packets_total{device="ens1f0np0",kind="rx",queue="2"} 5.000000002e+09`,
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("missing %s in:\n%s", line, got)
		}
	}
	if strings.Contains(got, "csum") || strings.Contains(got, "gso") || strings.Contains(got, `queue_rx_hw_drops_total{device="ens1f0np0",queue="1"}`) {
		t.Errorf("offload counters without the flag, or a counter the queue does not report:\n%s", got)
	}
	got, _ = collectSamples(t, queueStatsCollector{offloads: true}, netlinkSnapshot(t))
	for _, line := range []string{
		`netirq_net_queue_rx_csum_complete_total{device="ens1f0np0",queue="2"} 215`,
		`netirq_net_queue_tx_hw_gso_packets_total{device="ens1f0np0",queue="1"} 128`,
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("with offloads: missing %s", line)
		}
	}
	for _, c := range nic.QStatCounters {
		if _, ok := qstatMetrics[c.Name]; !ok {
			t.Errorf("qstats counter %s has no metric", c.Name)
		}
	}
	if len(qstatMetrics) != len(nic.QStatCounters) {
		t.Errorf("%d metrics for %d counters", len(qstatMetrics), len(nic.QStatCounters))
	}
}

func TestEthtoolRingsCollector(t *testing.T) {
	s := netlinkSnapshot(t)
	s.Rings["eth0"] = nic.Rings{Device: "eth0", RxMax: 256, Rx: 256, TxMax: 256, Tx: 256}
	s.Rings["odd"] = nic.Rings{Device: "odd", RxMax: 4096, Rx: 512, RxJumboMax: 1024, RxJumbo: 256}
	got, err := collectSamples(t, ethtoolCollector{exclude: regexp.MustCompile(`^eth`)}, s)
	if err != nil {
		t.Fatal(err)
	}
	want := `netirq_net_ring_descriptors{device="ens1f0np0",ring="rx"} 1024
netirq_net_ring_descriptors{device="ens1f0np0",ring="tx"} 1024
netirq_net_ring_descriptors{device="odd",ring="rx"} 512
netirq_net_ring_descriptors{device="odd",ring="rx_jumbo"} 256
netirq_net_ring_descriptors_max{device="ens1f0np0",ring="rx"} 8192
netirq_net_ring_descriptors_max{device="ens1f0np0",ring="tx"} 8192
netirq_net_ring_descriptors_max{device="odd",ring="rx"} 4096
netirq_net_ring_descriptors_max{device="odd",ring="rx_jumbo"} 1024
`
	if got != want {
		t.Errorf("metrics:\n%s\nwant:\n%s", got, want)
	}
}

func TestPagePoolCollector(t *testing.T) {
	got, err := collectSamples(t, pagePoolCollector{}, netlinkSnapshot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`netirq_page_pool_info{detached="0",device="ens1f0np0",napi_id="8193",pool_id="11"} 1`,
		`netirq_page_pool_info{detached="1",device="ens1f0np0",napi_id="",pool_id="15"} 1`,
		`netirq_page_pool_inflight_pages{device="ens1f0np0",pool_id="15"} 1028`,
		`netirq_page_pool_inflight_bytes{device="ens1f0np0",pool_id="11"} 4.194304e+06`,
		`netirq_page_pool_alloc_fast_total{device="ens1f0np0",pool_id="11"} 1.1e+10`,
		`netirq_page_pool_recycle_released_refcnt_total{device="ens1f0np0",pool_id="11"} 1.100000001e+10`,
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("missing %s in:\n%s", line, got)
		}
	}
	if strings.Contains(got, `_total{device="ens1f0np0",pool_id="15"}`) {
		t.Errorf("counters of a pool without stats:\n%s", got)
	}
	if n := strings.Count(got, "\n"); n != 3+nic.NumPagePoolStats+3 {
		t.Errorf("%d series, want 3 + %d for pool 11 and 3 for pool 15", n, nic.NumPagePoolStats)
	}
	if factories["pagepools"].defaultEnabled {
		t.Error("pagepools is on by default: it multiplies series by RX queues")
	}
}

// TestREADMEListsNetlinkMetrics: the families only the synthetic
// snapshot shows (TestREADMEListsEveryMetric sees what this host and the
// fixture trees export) have their README row too.
func TestREADMEListsNetlinkMetrics(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := netlinkSnapshot(t)
	s.RxQueueLoss = []snapshot.QueueLossRate{}
	names := map[string]bool{}
	for _, c := range []Collector{napiCollector{}, queueStatsCollector{offloads: true}, ethtoolCollector{}, pagePoolCollector{}, findingsCollector{}} {
		got, _ := collectSamples(t, c, s)
		for _, line := range strings.Split(got, "\n") {
			if name, _, ok := strings.Cut(line, "{"); ok {
				names[name] = true
			}
		}
	}
	for _, c := range nic.QStatCounters { // every counter, whatever the snapshot holds
		names[strings.Split(strings.Split(qstatMetrics[c.Name].desc.String(), `fqName: "`)[1], `"`)[0]] = true
	}
	for name := range names {
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("%s has no row in README.md's Metrics table", name)
		}
	}
	if len(names) < 40 {
		t.Errorf("only %d families: the test lost its input", len(names))
	}
}
