package diagnosis

import (
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel/netbsd"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// bsdSnap is a NetBSD snapshot of ncpu CPUs whose interrupts named
// devices are assigned to the CPUs cpus.
func bsdSnap(ncpu int, devices []string, cpus []int) *snapshot.Snapshot {
	var lines []netbsd.IntrLine
	for i, d := range devices {
		lines = append(lines, netbsd.IntrLine{ID: "msix0 vec " + string(rune('0'+i)), Devices: d,
			Counts: make([]uint64, ncpu), Assigned: cpuset.NewCPUSet(cpus[i])})
	}
	nics := irqclass.NetBSDNICs{Interfaces: map[string]bool{"wm0": true, "aq0": true}}
	return &snapshot.Snapshot{IntrList: &netbsd.IntrList{NCPU: ncpu, Lines: lines}, IntrClasses: irqclass.ClassifyNetBSD(lines, nics)}
}

// TestNetBSDQueueStacks: wm0's four queues on CPU 0 of 4 give three
// findings, each to its own free CPU; the link vector does not count; a
// transmit and a receive queue of aq0 on one CPU are not a stack.
func TestNetBSDQueueStacks(t *testing.T) {
	snap := bsdSnap(4, []string{"wm0TXRX0", "wm0TXRX1", "wm0TXRX2", "wm0TXRX3", "wm0LINK", "aq0 RX0", "aq0 TX0"},
		[]int{0, 0, 0, 0, 0, 3, 3})
	got := NetBSDQueueStacks(snap)
	want := []string{"intrctl affinity -i 'msix0 vec 1' -c 1", "intrctl affinity -i 'msix0 vec 2' -c 2", "intrctl affinity -i 'msix0 vec 3' -c 3"}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i, f := range got {
		if f.Fix != want[i] || f.Check != "queue_irqs_share_cpu" || f.Severity != "warning" || f.Device != "wm0" || f.CPU != "0" {
			t.Errorf("finding %d: %+v", i, f)
		}
	}
	if got[0].Message != "wm0 queue 1's receive interrupt msix0 vec 1 is assigned to CPU 0 with msix0 vec 0 (queue 0), msix0 vec 2 (queue 2), msix0 vec 3 (queue 3); CPU 1 takes none of wm0's receive queue interrupts" {
		t.Errorf("message %q", got[0].Message)
	}
	// Two CPUs for four queues: one can move, then there is no free CPU.
	if got := NetBSDQueueStacks(bsdSnap(2, []string{"wm0TXRX0", "wm0TXRX1", "wm0TXRX2"}, []int{0, 0, 0})); len(got) != 1 {
		t.Errorf("2 CPUs: %+v", got)
	}
	if got := NetBSDQueueStacks(&snapshot.Snapshot{}); got != nil {
		t.Errorf("no list: %+v", got)
	}
}
