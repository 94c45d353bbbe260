// Package snaptest builds snapshots for the tests of the packages that
// read them (diagnosis, collector, report).
package snaptest

import (
	"fmt"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// CPUs parses a CPU list or fails the test.
func CPUs(t testing.TB, list string) cpuset.CPUSet {
	t.Helper()
	s, err := cpuset.ParseCPUList(list)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Host is a snapshot of a host whose NUMA node i holds the CPUs
// nodes[i], all online, with isolated (isolcpus) CPUs and nothing else.
func Host(t testing.TB, nodes []string, isolated string) *snapshot.Snapshot {
	t.Helper()
	topo := &sysfs.CPUTopology{NodeOf: map[int]int{}, Isolated: CPUs(t, isolated)}
	for n, list := range nodes {
		for _, c := range CPUs(t, list).List() {
			topo.Online.Add(c)
			topo.NodeOf[c] = n
		}
	}
	topo.Possible = topo.Online
	return &snapshot.Snapshot{Topology: topo, Interrupts: &procfs.InterruptTable{}, IRQClasses: map[int]irqclass.IRQClass{},
		Affinity: map[int]procfs.IRQAffinity{}, RPSSockFlowEntries: -1}
}

// NIC adds a PCI NIC with rx RX and tx TX queues, RPS and XPS off.
func NIC(snap *snapshot.Snapshot, name string, node, rx, tx int) *sysfs.NetDevice {
	d := sysfs.NetDevice{Name: name, Driver: "mlx5_core", BusAddress: "0000:3b:00.0", NUMANode: node, Threaded: 0}
	for i := range rx {
		d.RxQueues = append(d.RxQueues, sysfs.RxQueue{Index: i, HasRPS: true, RPSFlowCount: 0})
	}
	for i := range tx {
		d.TxQueues = append(d.TxQueues, sysfs.TxQueue{Index: i, HasXPSCPUs: true})
	}
	snap.NetDevices = append(snap.NetDevices, d)
	return &snap.NetDevices[len(snap.NetDevices)-1]
}

// IRQ adds a NIC IRQ of dev's queue with its smp_affinity_list,
// effective_affinity_list and affinity_hint ("" for none).
func IRQ(t testing.TB, snap *snapshot.Snapshot, irq int, dev string, queue int, kind kernel.IRQKind, smp, eff, hint string) {
	t.Helper()
	snap.Interrupts.IRQs = append(snap.Interrupts.IRQs, procfs.IRQLine{IRQ: irq, Name: fmt.Sprintf("%s-%d", dev, queue)})
	snap.IRQClasses[irq] = irqclass.IRQClass{IRQ: irq, Device: dev, Queue: queue, Kind: kind, Driver: "test"}
	snap.Affinity[irq] = procfs.IRQAffinity{IRQ: irq, SMPAffinity: CPUs(t, smp), Effective: CPUs(t, eff), HasEffective: eff != "",
		Hint: CPUs(t, hint), HasHint: true, Node: -1}
}
