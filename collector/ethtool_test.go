//go:build linux

package collector

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/netlab"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// snapshotCollector runs one Collector's Update on a fixed snapshot, so
// that its output can be gathered through a pedantic registry.
type snapshotCollector struct {
	c    Collector
	snap *snapshot.Snapshot
	err  error
}

func (s *snapshotCollector) Describe(chan<- *prometheus.Desc) {}
func (s *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	s.err = s.c.Update(s.snap, ch)
}

// collectSamples returns the sample lines (no # HELP/TYPE) c sends for snap.
func collectSamples(t *testing.T, c Collector, snap *snapshot.Snapshot) (string, error) {
	t.Helper()
	sc := &snapshotCollector{c: c, snap: snap}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(sc)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var lines []string
	for _, l := range strings.Split(exposition(t, mfs, nil), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n") + "\n", sc.err
}

func TestEthtoolCollector(t *testing.T) {
	indir := make([]uint32, 16)
	for i := range indir {
		indir[i] = uint32(i % 3) // 6 entries for queue 0, 5 for 1 and 2
	}
	snap := &snapshot.Snapshot{
		Channels: map[string]nic.Channels{
			"eth0":      {Device: "eth0", MaxCombined: 1, Combined: 1},
			"ens1f0np0": {Device: "ens1f0np0", MaxCombined: 63, Combined: 8, MaxOther: 1, Other: 1},
			"veth9":     {Device: "veth9", MaxRx: 4, MaxTx: 4, Rx: 2, Tx: 4},
		},
		RSS: map[string]nic.RSSTable{
			"ens1f0np0": {Device: "ens1f0np0", HashFunc: "toeplitz", Indirection: indir},
			"veth9":     {Device: "veth9", Indirection: []uint32{0, 1}},
		},
	}
	got, err := collectSamples(t, ethtoolCollector{}, snap)
	if err != nil {
		t.Fatal(err)
	}
	want := `netirq_net_channels{device="ens1f0np0",type="combined"} 8
netirq_net_channels{device="ens1f0np0",type="other"} 1
netirq_net_channels{device="eth0",type="combined"} 1
netirq_net_channels{device="veth9",type="rx"} 2
netirq_net_channels{device="veth9",type="tx"} 4
netirq_net_channels_max{device="ens1f0np0",type="combined"} 63
netirq_net_channels_max{device="ens1f0np0",type="other"} 1
netirq_net_channels_max{device="eth0",type="combined"} 1
netirq_net_channels_max{device="veth9",type="rx"} 4
netirq_net_channels_max{device="veth9",type="tx"} 4
netirq_net_rss_indirection_table_size{device="ens1f0np0"} 16
netirq_net_rss_indirection_table_size{device="veth9"} 2
netirq_net_rss_info{device="ens1f0np0",hash_function="toeplitz"} 1
netirq_net_rss_info{device="veth9",hash_function=""} 1
netirq_net_rss_queue_indirection_entries{device="ens1f0np0",queue="0"} 6
netirq_net_rss_queue_indirection_entries{device="ens1f0np0",queue="1"} 5
netirq_net_rss_queue_indirection_entries{device="ens1f0np0",queue="2"} 5
netirq_net_rss_queue_indirection_entries{device="veth9",queue="0"} 1
netirq_net_rss_queue_indirection_entries{device="veth9",queue="1"} 1
`
	if got != want {
		t.Errorf("metrics:\n%s\nwant:\n%s", got, want)
	}

	// --collector.device-exclude applies; a read error is returned
	// with the rest still exported.
	snap.EthtoolErr = errors.New("ethtool channels: netlink receive: no buffer space available")
	got, err = collectSamples(t, ethtoolCollector{exclude: regexp.MustCompile(`^veth`)}, snap)
	if err == nil || strings.Contains(got, "veth9") || !strings.Contains(got, `device="eth0"`) {
		t.Errorf("exclude + error: err %v, metrics:\n%s", err, got)
	}
	// Nothing read (no support anywhere): nothing sent, no failure.
	if got, err := collectSamples(t, ethtoolCollector{}, &snapshot.Snapshot{}); err != nil || got != "\n" {
		t.Errorf("empty snapshot: %q, %v", got, err)
	}
}

// TestEthtoolExporterLive scrapes the exporter: on the host (eth0,
// virtio_net: one combined channel, rings as `ethtool -g` shows), and pointed at a lab's receiver
// namespace and sysfs (root), where the veth reports 4 rx and 4 tx channels.
func TestEthtoolExporterLive(t *testing.T) {
	mfs := gather(t, newTestExporter(t, DefaultConfig()))
	if s := successes(mfs)["ethtool"]; s != 1 {
		t.Errorf("ethtool collector failed on the host")
	}
	devs, _ := sysfs.ReadNetDevices("/sys", nil)
	for _, d := range devs {
		if d.Driver == "virtio_net" {
			got := find(mfs, "netirq_net_channels", map[string]string{"device": d.Name, "type": "combined"})
			if len(got) != 1 || value(got[0]) != float64(len(d.RxQueues)) {
				t.Errorf("netirq_net_channels{device=%q,type=\"combined\"} = %v, want %d", d.Name, got, len(d.RxQueues))
			}
			if got := find(mfs, "netirq_net_rss_info", map[string]string{"device": d.Name}); len(got) != 0 {
				t.Errorf("RSS reported for %s without RSS: %v", d.Name, got)
			}
			compareRingsWithEthtool(t, mfs, d.Name)
		}
	}

	testutil.NeedRoot(t)
	lab := netlab.New(t, netlab.Options{Queues: 4})
	cfg := labConfig(lab)
	mfs = gather(t, newTestExporter(t, cfg))
	if s := successes(mfs)["ethtool"]; s != 1 {
		t.Errorf("ethtool collector failed on the lab")
	}
	for _, typ := range []string{"rx", "tx"} {
		for _, m := range []string{"netirq_net_channels", "netirq_net_channels_max"} {
			got := find(mfs, m, map[string]string{"device": lab.RxDevice(), "type": typ})
			if len(got) != 1 || value(got[0]) != 4 {
				t.Errorf("%s{device=%q,type=%q} = %v, want 4", m, lab.RxDevice(), typ, got)
			}
		}
	}
	if got := find(mfs, "netirq_net_channels", map[string]string{"type": "combined"}); len(got) != 0 {
		t.Errorf("combined channels on a veth: %v", got)
	}
	if got := find(mfs, "netirq_net_ring_descriptors", nil); len(got) != 0 {
		t.Errorf("rings of a veth (it has no get_ringparam): %v", got)
	}
}
