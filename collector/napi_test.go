//go:build linux

package collector

import (
	"os/exec"
	"strconv"
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/netlab"
	"github.com/netirq/netirq_exporter/internal/testutil"
	dto "github.com/prometheus/client_model/go"
)

// TestNAPIExporterLive scrapes the exporter: on the host, eth0's NAPI
// (virtio_net: linked to rx-0, no IRQ named, settings of Linux 6.13+ at
// their defaults); as root on a lab whose veth has GRO on (ethtool -K)
// and threaded NAPI, then per-NAPI settings changed with napi-set: each
// change comes back on its instance, and the two NAPI checks fire.
func TestNAPIExporterLive(t *testing.T) {
	mfs := gather(t, newTestExporter(t, DefaultConfig()))
	if s := successes(mfs)["napi"]; s != 1 {
		t.Errorf("napi collector failed on the host")
	}
	devs, _ := sysfs.ReadNetDevices("/sys", nil)
	for _, d := range devs {
		if d.Driver != "virtio_net" {
			continue
		}
		q := find(mfs, "netirq_net_queue_napi_info", map[string]string{"device": d.Name, "queue": "0", "kind": "rx"})
		if len(q) != 1 {
			t.Fatalf("%s rx-0 has no NAPI", d.Name)
		}
		id := label(q[0], "napi_id")
		info := find(mfs, "netirq_napi_info", map[string]string{"device": d.Name, "napi_id": id})
		if len(info) != 1 || label(info[0], "irq") != "" {
			t.Errorf("netirq_napi_info of %s NAPI %s: %v; want one, without IRQ (virtio_net names none)", d.Name, id, info)
		}
		for _, m := range []string{"netirq_napi_defer_hard_irqs", "netirq_napi_gro_flush_timeout_seconds", "netirq_napi_irq_suspend_timeout_seconds", "netirq_napi_threaded"} {
			if got := find(mfs, m, map[string]string{"device": d.Name, "napi_id": id}); len(got) != 1 || value(got[0]) != 0 {
				t.Errorf("%s of %s NAPI %s = %v, want 0 (the defaults)", m, d.Name, id, got)
			}
		}
	}

	testutil.NeedRoot(t)
	testutil.NeedTool(t, "ethtool", "ethtool")
	lab := netlab.New(t, netlab.Options{Queues: 4})
	if err := lab.SetGRO(true); err != nil {
		t.Fatal(err)
	}
	if err := lab.SetThreaded(true); err != nil {
		t.Fatal(err)
	}
	e := newTestExporter(t, labConfig(lab))
	mfs = gather(t, e)
	dev := lab.RxDevice()
	infos := find(mfs, "netirq_napi_info", map[string]string{"device": dev})
	if len(infos) != 4 {
		t.Fatalf("%d NAPIs of the veth, want 4", len(infos))
	}
	lowest := uint64(1 << 32)
	for _, m := range infos {
		id, _ := strconv.ParseUint(label(m, "napi_id"), 10, 32)
		lowest = min(lowest, id)
		if label(m, "thread_pid") == "" || label(m, "irq") != "" {
			t.Errorf("veth NAPI %v: want a thread, no IRQ", m)
		}
		if got := find(mfs, "netirq_napi_threaded", map[string]string{"device": dev, "napi_id": label(m, "napi_id")}); len(got) != 1 || value(got[0]) != 1 {
			t.Errorf("threaded of NAPI %s: %v, want 1", label(m, "napi_id"), got)
		}
	}
	two := uint32(2)
	if err := lab.SetNAPI(uint32(lowest), netlab.NAPISettings{DeferHardIRQs: &two}); err != nil {
		t.Fatal(err)
	}
	mfs = gather(t, e)
	id := strconv.FormatUint(lowest, 10)
	if got := find(mfs, "netirq_napi_defer_hard_irqs", map[string]string{"device": dev, "napi_id": id}); len(got) != 1 || value(got[0]) != 2 {
		t.Errorf("defer-hard-irqs of NAPI %s after napi-set: %v, want 2", id, got)
	}
	for _, check := range []string{"napi_defer_without_gro_flush", "napi_settings_differ"} {
		if got := find(mfs, "netirq_finding", map[string]string{"check": check, "device": dev}); len(got) != 1 {
			t.Errorf("finding %s for %s: %v", check, dev, got)
		}
	}
	t.Logf("lab %s: 4 threaded NAPIs; after napi-set NAPI %s defers IRQs without a timeout: both NAPI checks fire", dev, id)
}

// compareRingsWithEthtool checks the exporter's ring metrics of dev
// against `ethtool -g dev`.
func compareRingsWithEthtool(t *testing.T, mfs []*dto.MetricFamily, dev string) {
	t.Helper()
	bin := testutil.NeedTool(t, "ethtool", "ethtool")
	out, err := exec.Command(bin, "-g", dev).Output()
	if err != nil {
		t.Fatalf("ethtool -g %s: %v", dev, err)
	}
	g, err := testutil.ParseEthtoolG(string(out))
	if err != nil {
		t.Fatal(err)
	}
	for ring, key := range map[string]string{"rx": "RX", "rx_mini": "RX Mini", "rx_jumbo": "RX Jumbo", "tx": "TX"} {
		l := map[string]string{"device": dev, "ring": ring}
		cur, most := find(mfs, "netirq_net_ring_descriptors", l), find(mfs, "netirq_net_ring_descriptors_max", l)
		if g.Max[key] == 0 {
			if len(cur)+len(most) != 0 {
				t.Errorf("%s %s ring exported though ethtool -g says n/a", dev, ring)
			}
			continue
		}
		if len(cur) != 1 || len(most) != 1 || value(cur[0]) != float64(g.Cur[key]) || value(most[0]) != float64(g.Max[key]) {
			t.Errorf("%s %s ring: %v of %v, ethtool -g says %d of %d", dev, ring, cur, most, g.Cur[key], g.Max[key])
		}
	}
}
