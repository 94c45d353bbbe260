package collector

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// TestThisMachine runs the exporter on the real /proc and /sys: every
// collector succeeds, the virtio NIC's queue IRQs are classified by device,
// queue and kind, and its queues' RPS masks match sysfs.
func TestThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/interrupts"); err != nil {
		t.Skip("no /proc/interrupts: not Linux")
	}
	e := newTestExporter(t, DefaultConfig())
	start := time.Now()
	mfs := gather(t, e)
	elapsed := time.Since(start)
	for name, ok := range successes(mfs) {
		if ok != 1 {
			t.Errorf("collector %s failed on this machine", name)
		}
	}
	t.Logf("this machine: %d series in one scrape, %v", seriesCount(mfs), elapsed)

	snap := e.Source().Snapshot()
	var nic *sysfs.NetDevice
	for i, d := range snap.NetDevices {
		if len(d.MSIIRQs) > 0 && d.Driver != "" {
			nic = &snap.NetDevices[i]
			break
		}
	}
	if nic == nil {
		t.Skip("no PCI/virtio NIC with MSI IRQs on this machine")
	}
	// Every MSI vector of the NIC must be classified as that NIC's, and its
	// RX queue 0 must have an IRQ of kind rx or combined.
	rxFound := false
	for _, irq := range nic.MSIIRQs {
		class, ok := snap.IRQClasses[irq]
		if !ok {
			continue // vector allocated but not requested
		}
		if class.Device != nic.Name {
			t.Errorf("IRQ %d is in %s's msi_irqs but classified as %+v", irq, nic.Name, class)
		}
		if class.Queue == 0 && (class.Kind == kernel.KindRx || class.Kind == kernel.KindCombined) {
			rxFound = true
			if len(find(mfs, "netirq_net_queue_irq_info", map[string]string{"device": nic.Name, "queue": "0", "irq": strconv.Itoa(irq)})) != 1 {
				t.Errorf("queue 0 → IRQ %d of %s missing from netirq_net_queue_irq_info", irq, nic.Name)
			}
		}
	}
	if !rxFound {
		t.Errorf("no IRQ of %s classified as its RX queue 0: %v", nic.Name, snap.IRQClasses)
	}
	// The RPS mask the exporter reports equals the file's content.
	raw, err := os.ReadFile(filepath.Join("/sys/class/net", nic.Name, "queues/rx-0/rps_cpus"))
	if err == nil {
		want, _ := cpuset.ParseCPUMask(strings.TrimSpace(string(raw)))
		got := find(mfs, "netirq_net_rx_queue_rps_info", map[string]string{"device": nic.Name, "queue": "0", "rps_cpus": want.String()})
		if len(got) != 1 {
			t.Errorf("rx-0 rps_cpus %q (%s) not reported", strings.TrimSpace(string(raw)), want)
		}
	}
	// CPUs in softirqs, softnet and stat agree with the online CPU count.
	online := snap.Topology.Online.Count()
	if n := len(find(mfs, "netirq_softirqs_total", map[string]string{"vector": "NET_RX"})); n != len(snap.Softirqs.CPUs) || n < online {
		t.Errorf("NET_RX series: %d, softirqs CPUs %d, online %d", n, len(snap.Softirqs.CPUs), online)
	}
	if n := len(find(mfs, "netirq_softnet_processed_packets_total", nil)); n != online {
		t.Errorf("softnet rows: %d, online CPUs %d", n, online)
	}
}
