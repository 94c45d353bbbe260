package diagnosis

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
)

// veth adds a virtual device with rx RX queues whose rps_cpus are masks[i]
// ("" for RPS off) and rate received packets/s since the last snapshot.
func veth(t testing.TB, snap *snapshot.Snapshot, name string, rate float64, masks ...string) {
	t.Helper()
	d := sysfs.NetDevice{Name: name, NUMANode: -1, Threaded: 0, HasStats: true}
	for i, m := range masks {
		d.RxQueues = append(d.RxQueues, sysfs.RxQueue{Index: i, HasRPS: true, RPSCPUs: snaptest.CPUs(t, m), RPSFlowCount: 0})
	}
	snap.NetDevices = append(snap.NetDevices, d)
	if snap.DeviceRxRates == nil {
		snap.DeviceRxRates = map[string]float64{}
	}
	snap.DeviceRxRates[name] = rate
}

func feedStrings(fs []Feed) []string {
	var out []string
	for _, f := range fs {
		out = append(out, strings.Join([]string{strconv.Itoa(f.CPU), f.Device, f.QueueLabel(), string(f.Kind), f.Via}, " "))
	}
	return out
}

func TestFeeds(t *testing.T) {
	snap := snaptest.Host(t, []string{"0-3"}, "")
	snaptest.NIC(snap, "eth0", 0, 2, 2)
	snaptest.IRQ(t, snap, 40, "eth0", 0, kernel.KindCombined, "0-3", "2", "")
	snaptest.IRQ(t, snap, 41, "eth0", 1, kernel.KindCombined, "0-3", "3", "")
	snaptest.IRQ(t, snap, 42, "eth0", -1, kernel.KindOther, "0-3", "0", "") // misc vector: no queue, no edge
	veth(t, snap, "vA", 1e5, "1", "1", "1", "1")
	veth(t, snap, "vWide", 10, "0-3") // 4 CPUs: narrow enough (≤ 16)
	snap.QueueNAPIs = []nic.QueueNAPI{{Device: "vN", Queue: 0, Kind: kernel.KindRx, NAPIID: 9}}
	snap.Threads = []procfs.KernelThread{
		{Name: "napi/vN-9", Device: "vN", NAPIID: 9, CPU: -1, LastCPU: 2, Allowed: snaptest.CPUs(t, "1")},     // pinned
		{Name: "napi/vN-10", Device: "vN", NAPIID: 10, CPU: -1, LastCPU: 3, Allowed: snaptest.CPUs(t, "0-3")}, // free: last CPU
		{Name: "ksoftirqd/1", CPU: 1, LastCPU: 1, Allowed: snaptest.CPUs(t, "1")},
	}
	got := feedStrings(Feeds(snap))
	want := []string{
		"0 vWide 0 rx rps",
		"1 vA 0 rx rps", "1 vA 1 rx rps", "1 vA 2 rx rps", "1 vA 3 rx rps",
		"1 vN 0 rx napi_thread",
		"1 vWide 0 rx rps",
		"2 eth0 0 combined irq",
		"2 vWide 0 rx rps",
		"3 eth0 1 combined irq",
		"3 vN  rx napi_thread",
		"3 vWide 0 rx rps",
	}
	if !slices.Equal(got, want) {
		t.Errorf("feeds:\n got %q\nwant %q", got, want)
	}
	if n := len(FeedsOf(Feeds(snap), 1)); n != 6 {
		t.Errorf("FeedsOf(1): %d edges, want 6", n)
	}
}

// TestFeedsWideMaskBounded: a mask wider than maxFeedCPUs adds no edges, so
// RPS on every CPU of a 1,024-CPU host costs no queues × CPUs series.
func TestFeedsWideMaskBounded(t *testing.T) {
	snap := snaptest.Host(t, []string{"0-1023"}, "")
	veth(t, snap, "v0", 0, "0-1023", "0-15")
	if n := len(Feeds(snap)); n != maxFeedCPUs {
		t.Fatalf("%d edges, want %d (only the 16-CPU mask)", n, maxFeedCPUs)
	}
}

func TestFeedsNilSnapshot(t *testing.T) {
	if Feeds(nil) != nil || Feeds(&snapshot.Snapshot{}) != nil {
		t.Fatal("want no edges")
	}
}
