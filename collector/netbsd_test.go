package collector

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel/netbsd"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// onOS makes the collectors believe they run on os until the test ends,
// with the NetBSD collectors registered as on NetBSD (register_netbsd.go).
func onOS(t *testing.T, os string) {
	saved := hostOS
	hostOS = os
	var added []string
	for _, f := range []factory{intrctlFactory, evcntFactory} {
		if _, ok := factories[f.name]; !ok {
			register(f)
			added = append(added, f.name)
		}
	}
	t.Cleanup(func() {
		hostOS = saved
		for _, n := range added {
			delete(factories, n)
		}
	})
}

// bsdHost is a snapshot of a 4-CPU NetBSD host whose wm0 has four queue
// vectors (wm0TXRX0-3) and a link vector, all assigned to CPU 0, and an
// ixg0 with two queues spread over CPUs 2 and 3; interrupt names and
// event counter names in the drivers' formats
// (internal/kernel/netbsd/testdata/README.md).
func bsdHost() *snapshot.Snapshot {
	on := func(cpu int) cpuset.CPUSet { return cpuset.NewCPUSet(cpu) }
	lines := []netbsd.IntrLine{
		{ID: "ioapic0 pin 9", Devices: "acpi0", Counts: []uint64{12, 0, 0, 0}, Assigned: on(0)},
		{ID: "ioapic0 pin 17", Devices: "uhci0, ehci0", Counts: []uint64{0, 0, 0, 0}, Assigned: on(0)},
		{ID: "msix0 vec 0", Devices: "wm0TXRX0", Counts: []uint64{91823, 0, 0, 0}, Assigned: on(0)},
		{ID: "msix0 vec 1", Devices: "wm0TXRX1", Counts: []uint64{88012, 0, 0, 0}, Assigned: on(0)},
		{ID: "msix0 vec 2", Devices: "wm0TXRX2", Counts: []uint64{90441, 0, 0, 0}, Assigned: on(0)},
		{ID: "msix0 vec 3", Devices: "wm0TXRX3", Counts: []uint64{87550, 0, 0, 0}, Assigned: on(0)},
		{ID: "msix0 vec 4", Devices: "wm0LINK", Counts: []uint64{2, 0, 0, 0}, Assigned: on(0)},
		{ID: "msix1 vec 0", Devices: "ixg0 TXRX0", Counts: []uint64{0, 0, 5000, 0}, Assigned: on(2)},
		{ID: "msix1 vec 1", Devices: "ixg0 TXRX1", Counts: []uint64{0, 0, 0, 4800}, Assigned: on(3)},
		{ID: "msix1 vec 2", Devices: "ixg0 link", Counts: []uint64{3, 0, 0, 0}, Assigned: on(0)},
	}
	list := &netbsd.IntrList{NCPU: 4, Lines: lines}
	nics := irqclass.NetBSDNICs{Interfaces: map[string]bool{"wm0": true, "ixg0": true, "lo0": true}}
	return &snapshot.Snapshot{IntrList: list, IntrClasses: irqclass.ClassifyNetBSD(lines, nics), RPSSockFlowEntries: -1,
		Evcnts: []netbsd.Evcnt{
			{Group: "softint", Name: "net/0", Type: netbsd.EvcntMisc, Count: 357000},
			{Group: "softint", Name: "net/2", Type: netbsd.EvcntMisc, Count: 4900},
			{Group: "softint", Name: "net block/0", Type: netbsd.EvcntMisc, Count: 12},
			{Group: "softint", Name: "clk/1", Type: netbsd.EvcntMisc, Count: 800},
			{Group: "wm0", Name: "rxq00intr", Type: netbsd.EvcntIntr, Count: 91800},
			{Group: "wm0", Name: "txq00txdw", Type: netbsd.EvcntIntr, Count: 40210},
			{Group: "wm0", Name: "txq00txseg1", Type: netbsd.EvcntMisc, Count: 40000},
			{Group: "wm0", Name: "Rx xoff", Type: netbsd.EvcntMisc, Count: 4},
			{Group: "ixg0 q1", Name: "IRQs on queue", Type: netbsd.EvcntIntr, Count: 4800},
			{Group: "ixg0 q1", Name: "Handled queue in softint", Type: netbsd.EvcntMisc, Count: 4790},
			{Group: "msix0", Name: "vec 0", Type: netbsd.EvcntIntr, Count: 91823},
			{Group: "cpu0", Name: "TLB shootdown", Type: netbsd.EvcntMisc, Count: 17},
		}}
}

// bsdGather runs e's collectors over snap through a pedantic registry.
func bsdGather(t *testing.T, e *Exporter, snap *snapshot.Snapshot) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(snapCollector{e, snap, nil})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// TestNetBSDGolden: on NetBSD the default collectors are intrctl and
// evcnt, and they turn the host above into exactly the /metrics text in
// testdata/golden/netbsd-wm-ixg-4cpu.metrics (-update rewrites it); the
// text writer writes what the registry would.
func TestNetBSDGolden(t *testing.T) {
	onOS(t, "netbsd")
	e := newTestExporter(t, DefaultConfig())
	if got := strings.Join(e.Collectors(), ","); got != "evcnt,intrctl" {
		t.Fatalf("collectors on NetBSD: %s", got)
	}
	snap := bsdHost()
	mfs := bsdGather(t, e, snap)
	for c, ok := range successes(mfs) {
		if ok != 1 {
			t.Errorf("collector %s failed", c)
		}
	}
	got := exposition(t, mfs, volatile)
	golden := filepath.Join("../testdata/golden", "netbsd-wm-ixg-4cpu.metrics")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("/metrics differs from %s (rerun with -update after checking):\n%s", golden, lineDiff(string(want), got))
	}
	var text bytes.Buffer
	if err := e.WriteSnapshotText(&text, snap, nil); err != nil {
		t.Fatal(err)
	}
	if g, w := durationLine.ReplaceAll(text.Bytes(), nil), durationLine.ReplaceAll([]byte(exposition(t, mfs, nil)), nil); !bytes.Equal(g, w) {
		t.Errorf("text differs from the registry's:\n%s", lineDiff(string(w), string(g)))
	}
}

// TestNetBSDSelection: what is exported one by one and what is summed;
// the cells that never counted are left out; the evcnt include flag and
// --collector.softirqs.all widen the event counters.
func TestNetBSDSelection(t *testing.T) {
	onOS(t, "netbsd")
	cfg := DefaultConfig()
	cfg.SoftirqsAll = true
	cfg.EvcntInclude = regexp.MustCompile(`^cpu0 TLB`)
	mfs := bsdGather(t, newTestExporter(t, cfg), bsdHost())
	for _, c := range []struct {
		metric string
		labels map[string]string
		n      int
	}{
		{"netirq_irq_interrupts_total", map[string]string{"device": "wm0", "kind": "combined"}, 4},
		{"netirq_irq_interrupts_total", map[string]string{"irq": "msix0 vec 0", "cpu": "1"}, 0}, // never counted
		{"netirq_irq_interrupts_total", map[string]string{"irq": "ioapic0 pin 9"}, 0},           // summed
		{"netirq_irq_summed_interrupts_total", map[string]string{"cpu": "0"}, 1},
		{"netirq_irq_effective_cpu", map[string]string{"cpu": "0"}, 6}, // wm0's five, ixg0 link
		{"netirq_irq_info", map[string]string{"chip": "msix1", "hwirq": "vec 1", "queue": "1", "rule": "txrx"}, 1},
		{"netirq_softirqs_total", map[string]string{"vector": "clk", "cpu": "1"}, 1},
		{"netirq_evcnt_total", map[string]string{"group": "cpu0", "name": "TLB shootdown", "device": ""}, 1},
		{"netirq_evcnt_total", map[string]string{"name": "txq00txseg1"}, 0},
		{"netirq_evcnt_total", map[string]string{"name": "Rx xoff"}, 0},
		{"netirq_evcnt_total", map[string]string{"device": "ixg0", "queue": "1", "kind": "combined"}, 2},
	} {
		if got := len(find(mfs, c.metric, c.labels)); got != c.n {
			t.Errorf("%s%v: %d series, want %d", c.metric, c.labels, got, c.n)
		}
	}
}

// TestCollectorsOfOtherSystems: a collector of another system is off by
// default and, enabled, reads nothing and fails with "not on <os>"; on
// NetBSD the roots need not exist.
func TestCollectorsOfOtherSystems(t *testing.T) {
	onOS(t, "netbsd")
	cfg := DefaultConfig()
	cfg.Enabled = map[string]bool{"softnet": true}
	if ReadsFiles(cfg) {
		t.Error("the Linux softnet collector, enabled on NetBSD, would need --path.procfs")
	}
	e := newTestExporter(t, cfg)
	mfs := bsdGather(t, e, bsdHost())
	if ok := successes(mfs); ok["softnet"] != 0 || ok["intrctl"] != 1 {
		t.Errorf("successes %v", ok)
	}
	if err := (notHere{name: "softnet"}).Update(nil, nil); err == nil || !strings.Contains(err.Error(), "reads Linux's kernel interfaces: not on netbsd") {
		t.Errorf("error %v", err)
	}
	if ReadsFiles(DefaultConfig()) {
		t.Error("the default NetBSD collectors read files under --path.procfs")
	}
	onOS(t, "linux")
	if ok := successes(bsdGather(t, newTestExporter(t, onlyNetBSD()), bsdHost())); ok["intrctl"] != 0 {
		t.Errorf("intrctl on Linux: %v", ok)
	}
	if !ReadsFiles(DefaultConfig()) {
		t.Error("the default Linux collectors read no files")
	}
}

func onlyNetBSD() Config {
	cfg := DefaultConfig()
	for name := range factories {
		cfg.Enabled[name] = osOf(name) == "netbsd"
	}
	return cfg
}
