//go:build linux

package collector

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/netlab"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

func TestQueueStatsCollector(t *testing.T) {
	snap := &snapshot.Snapshot{
		QueueStats: []nic.QueueStats{
			{Device: "eth0", Queue: 0, Kind: kernel.KindRx, Packets: 19626, Bytes: 315299743, Source: "netlink"},
			{Device: "eth0", Queue: 0, Kind: kernel.KindTx, Packets: 13749, Bytes: 1483981, Source: "netlink"},
			{Device: "ifb0", Queue: 1, Kind: kernel.KindRx, Packets: 5, Bytes: 320, Source: "ethtool"},
		},
		QueueNAPIs: []nic.QueueNAPI{
			{Device: "eth0", Queue: 0, Kind: kernel.KindRx, NAPIID: 257},
			{Device: "eth0", Queue: 0, Kind: kernel.KindTx},
			{Device: "lo", Queue: 0, Kind: kernel.KindRx},
			// mlx5-like: one combined vector per channel, RX and TX share it.
			{Device: "ens1", Queue: 0, Kind: kernel.KindRx, NAPIID: 8193},
			{Device: "ens1", Queue: 0, Kind: kernel.KindTx, NAPIID: 8193},
			{Device: "ens1", Queue: 1, Kind: kernel.KindRx, NAPIID: 8194},
			{Device: "ens1", Queue: 2, Kind: kernel.KindRx, NAPIID: 8195},
			{Device: "ens1", Queue: 3, Kind: kernel.KindRx, NAPIID: 8196},
		},
		NAPIs: []nic.NAPI{
			{ID: 257, Device: "eth0"}, // virtio_net: no IRQ reported
			{ID: 8193, Device: "ens1", IRQ: 130, ThreadPID: 901},
			{ID: 8194, Device: "ens1", IRQ: 131},
			{ID: 8195, Device: "ens1", IRQ: 132},
			{ID: 8196, Device: "ens1", IRQ: 140},
		},
		Interrupts: &procfs.InterruptTable{},
		IRQClasses: map[int]irqclass.IRQClass{
			130: {IRQ: 130, Device: "ens1", Queue: 0, Kind: kernel.KindCombined},
			131: {IRQ: 131, Device: "ens1", Queue: 1, Kind: kernel.KindCombined},
			132: {IRQ: 132, Device: "ens1", Queue: 3, Kind: kernel.KindCombined}, // the naming rule got the index wrong
			// 140 is not a NIC IRQ per /proc/interrupts.
		},
	}
	got, err := collectSamples(t, queueStatsCollector{}, snap)
	if err != nil {
		t.Fatal(err)
	}
	want := `netirq_net_queue_bytes_total{device="eth0",kind="rx",queue="0"} 3.15299743e+08
netirq_net_queue_bytes_total{device="eth0",kind="tx",queue="0"} 1.483981e+06
netirq_net_queue_bytes_total{device="ifb0",kind="rx",queue="1"} 320
netirq_net_queue_irq_mismatch{device="ens1",kind="rx",queue="0"} 0
netirq_net_queue_irq_mismatch{device="ens1",kind="rx",queue="1"} 0
netirq_net_queue_irq_mismatch{device="ens1",kind="rx",queue="2"} 1
netirq_net_queue_irq_mismatch{device="ens1",kind="rx",queue="3"} 1
netirq_net_queue_irq_mismatch{device="ens1",kind="tx",queue="0"} 0
netirq_net_queue_napi_info{device="ens1",irq="130",kind="rx",napi_id="8193",queue="0",thread_pid="901"} 1
netirq_net_queue_napi_info{device="ens1",irq="130",kind="tx",napi_id="8193",queue="0",thread_pid="901"} 1
netirq_net_queue_napi_info{device="ens1",irq="131",kind="rx",napi_id="8194",queue="1",thread_pid=""} 1
netirq_net_queue_napi_info{device="ens1",irq="132",kind="rx",napi_id="8195",queue="2",thread_pid=""} 1
netirq_net_queue_napi_info{device="ens1",irq="140",kind="rx",napi_id="8196",queue="3",thread_pid=""} 1
netirq_net_queue_napi_info{device="eth0",irq="",kind="rx",napi_id="257",queue="0",thread_pid=""} 1
netirq_net_queue_packets_total{device="eth0",kind="rx",queue="0"} 19626
netirq_net_queue_packets_total{device="eth0",kind="tx",queue="0"} 13749
netirq_net_queue_packets_total{device="ifb0",kind="rx",queue="1"} 5
netirq_net_queue_stats_info{device="eth0",source="netlink"} 1
netirq_net_queue_stats_info{device="ifb0",source="ethtool"} 1
`
	if got != want {
		t.Errorf("metrics:\n%s\nwant:\n%s", got, want)
	}

	// Without /proc/interrupts there is nothing to cross-check against.
	snap.Interrupts = nil
	got, _ = collectSamples(t, queueStatsCollector{}, snap)
	if strings.Contains(got, "irq_mismatch") {
		t.Errorf("mismatch without /proc/interrupts:\n%s", got)
	}
	snap.QueueStatsErr = errors.New("netdev qstats: boom")
	got, err = collectSamples(t, queueStatsCollector{exclude: regexp.MustCompile(`^ifb`)}, snap)
	if err == nil || strings.Contains(got, "ifb0") || !strings.Contains(got, `device="eth0"`) {
		t.Errorf("exclude + error: %v\n%s", err, got)
	}
}

func TestQueueStatsIRQMismatch(t *testing.T) {
	classes := map[int]irqclass.IRQClass{
		10: {Device: "eth0", Queue: 0, Kind: kernel.KindRx},
		11: {Device: "eth0", Queue: 0, Kind: kernel.KindTx},
		12: {Device: "eth1", Queue: 2, Kind: kernel.KindCombined},
		13: {Device: "eth2", Queue: -1, Kind: kernel.KindCombined}, // one vector for all queues
		14: {Device: "eth3", Queue: -1, Kind: kernel.KindOther},
		15: {Device: "virtio3", Queue: 0, Kind: kernel.KindRx}, // netdev name unknown to the classifier
	}
	for _, c := range []struct {
		q    nic.QueueNAPI
		irq  int
		want bool
	}{
		{nic.QueueNAPI{Device: "eth0", Queue: 0, Kind: kernel.KindRx}, 10, false},
		{nic.QueueNAPI{Device: "eth0", Queue: 0, Kind: kernel.KindTx}, 10, true},
		{nic.QueueNAPI{Device: "eth0", Queue: 0, Kind: kernel.KindTx}, 11, false},
		{nic.QueueNAPI{Device: "eth1", Queue: 2, Kind: kernel.KindTx}, 12, false},
		{nic.QueueNAPI{Device: "eth1", Queue: 3, Kind: kernel.KindRx}, 12, true},
		{nic.QueueNAPI{Device: "eth2", Queue: 5, Kind: kernel.KindRx}, 13, false},
		{nic.QueueNAPI{Device: "eth3", Queue: 0, Kind: kernel.KindRx}, 14, true},
		{nic.QueueNAPI{Device: "eth9", Queue: 0, Kind: kernel.KindRx}, 15, true},
		{nic.QueueNAPI{Device: "eth0", Queue: 0, Kind: kernel.KindRx}, 99, true},
	} {
		if got := queueIRQMismatch(c.q, c.irq, classes); got != c.want {
			t.Errorf("queueIRQMismatch(%+v, %d) = %v, want %v", c.q, c.irq, got, c.want)
		}
	}
}

// TestQueueStatsExporterLive scrapes the exporter on the host (eth0:
// virtio_net qstats over netlink, RX queue → nic.NAPI) and, as root, on a lab
// whose receiver namespace has a 4-queue ifb behind an ingress redirect:
// its per-queue counters (ethtool -S) rise by the flood.
func TestQueueStatsExporterLive(t *testing.T) {
	mfs := gather(t, newTestExporter(t, DefaultConfig()))
	if s := successes(mfs)["queuestats"]; s != 1 {
		t.Errorf("queuestats collector failed on the host")
	}
	devs, _ := sysfs.ReadNetDevices("/sys", nil)
	for _, d := range devs {
		if d.Driver != "virtio_net" {
			continue
		}
		rx := map[string]string{"device": d.Name, "queue": "0", "kind": "rx"}
		if got := find(mfs, "netirq_net_queue_packets_total", rx); len(got) != 1 || value(got[0]) <= 0 {
			t.Errorf("netirq_net_queue_packets_total%v = %v", rx, got)
		}
		if got := find(mfs, "netirq_net_queue_stats_info", map[string]string{"device": d.Name, "source": "netlink"}); len(got) != 1 {
			t.Errorf("%s stats not from netlink qstats: %v", d.Name, find(mfs, "netirq_net_queue_stats_info", nil))
		}
		if got := find(mfs, "netirq_net_queue_napi_info", rx); len(got) != 1 || label(got[0], "napi_id") == "0" {
			t.Errorf("netirq_net_queue_napi_info%v = %v", rx, got)
		}
	}

	testutil.NeedRoot(t)
	lab := netlab.New(t, netlab.Options{Queues: 4})
	ifb := lab.AddIFB(t)
	cfg := labConfig(lab)
	e := newTestExporter(t, cfg)
	before := gather(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	res, err := lab.Flood(ctx, netlab.FloodOptions{Duration: 2 * time.Second, Rate: 20000, Flows: 32})
	if err != nil {
		t.Fatal(err)
	}
	after := gather(t, e)
	if s := successes(after)["queuestats"]; s != 1 {
		t.Errorf("queuestats collector failed on the lab")
	}
	var rose float64
	for q := range 4 {
		l := map[string]string{"device": ifb, "queue": strconv.Itoa(q), "kind": "rx"}
		b, a := find(before, "netirq_net_queue_packets_total", l), find(after, "netirq_net_queue_packets_total", l)
		if len(b) != 1 || len(a) != 1 {
			t.Fatalf("%v: %d series before, %d after", l, len(b), len(a))
		}
		rose += value(a[0]) - value(b[0])
	}
	if rose < 0.9*float64(res.Sent) {
		t.Errorf("ifb rx packets rose by %.0f over its queues, want about the %d sent", rose, res.Sent)
	}
	if got := find(after, "netirq_net_queue_stats_info", map[string]string{"device": ifb, "source": "ethtool"}); len(got) != 1 {
		t.Errorf("ifb stats source: %v", find(after, "netirq_net_queue_stats_info", nil))
	}
	if got := find(after, "netirq_net_queue_packets_total", map[string]string{"device": lab.RxDevice()}); len(got) != 0 {
		t.Errorf("veth per-queue packets exported: %v", got)
	}
	t.Logf("flood: sent %d; ifb rx queues rose by %.0f in total", res.Sent, rose)
}

// labConfig reads the lab's receiver: its sysfs, and its network
// namespace for the netlink/ioctl readers.
func labConfig(lab *netlab.Lab) Config {
	cfg := DefaultConfig()
	cfg.SysPath = lab.SysfsRoot()
	cfg.NetNS = filepath.Join("/run/netns", lab.ReceiverNS())
	return cfg
}
