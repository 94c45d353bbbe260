package diagnosis

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
)

// shapeHost is a snapshot of one /proc/interrupts shape written for the
// parser (its testdata/interrupts/README.md), classified without sysfs,
// each NIC IRQ firing on the CPU that counted most of it.
func shapeHost(t *testing.T, name string) *snapshot.Snapshot {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../kernel/procfs/testdata/interrupts", name))
	if err != nil {
		t.Fatal(err)
	}
	tab, err := procfs.ParseInterrupts(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	snap := snaptest.Host(t, []string{"0-" + strconv.Itoa(tab.CPUs[len(tab.CPUs)-1])}, "")
	snap.Interrupts, snap.IRQClasses = tab, irqclass.ClassifyIRQs(tab, nil)
	for _, l := range tab.IRQs {
		if snap.IRQClasses[l.IRQ].IsNIC() {
			top := tab.CPUs[slices.Index(l.Counts, slices.Max(l.Counts))]
			snap.Affinity[l.IRQ] = procfs.IRQAffinity{IRQ: l.IRQ, SMPAffinity: cpuset.NewCPUSet(top),
				Effective: cpuset.NewCPUSet(top), HasEffective: true, Node: -1}
		}
	}
	return snap
}

// TestFeedsQlcnicTx0OnLastRing: qlcnic's "eth0-tx-0-rx-3" vector feeds its
// CPU with rx queue 3 and tx queue 0 (before, the name was not classified
// and neither queue had an edge); "eth2-tx-0-rx-0" is one combined queue.
func TestFeedsQlcnicTx0OnLastRing(t *testing.T) {
	got := feedStrings(FeedsOf(Feeds(shapeHost(t, "qlcnic-8cpu-tx0-on-last-rx-ring.txt")), 3))
	if want := []string{"3 eth0 0 tx irq", "3 eth0 3 rx irq"}; !slices.Equal(got, want) {
		t.Errorf("CPU 3 feeds %q, want %q", got, want)
	}
	got = feedStrings(FeedsOf(Feeds(shapeHost(t, "qlcnic-8cpu-tx0-on-last-rx-ring.txt")), 0))
	if want := []string{"0 eth0 0 rx irq", "0 eth2 0 combined irq"}; !slices.Equal(got, want) {
		t.Errorf("CPU 0 feeds %q, want %q", got, want)
	}
}

// TestFeedsSharedINTxTwoNICs: the CPU a legacy line shared by eth0 and
// eth1 fires on is fed by both NICs (before, by eth0 only).
func TestFeedsSharedINTxTwoNICs(t *testing.T) {
	got := feedStrings(FeedsOf(Feeds(shapeHost(t, "qemu-2cpu-two-nics-shared-intx.txt")), 0))
	if want := []string{"0 eth0 0 combined irq", "0 eth1 0 combined irq"}; !slices.Equal(got, want) {
		t.Errorf("CPU 0 feeds %q, want %q", got, want)
	}
}
