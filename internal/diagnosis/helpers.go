package diagnosis

// Helpers shared by the checks: which CPUs an IRQ fires on, NUMA nodes,
// housekeeping CPUs, the fix commands.

import (
	"fmt"
	"strings"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// nicIRQ is one NIC IRQ with its classification and /proc/irq/N.
type nicIRQ struct {
	IRQ    int
	Class  irqclass.IRQClass
	Aff    procfs.IRQAffinity
	HasAff bool
}

// isQueue reports whether the IRQ serves one data queue.
func (q nicIRQ) isQueue() bool {
	return q.Class.Queue >= 0 && (q.Class.Kind == kernel.KindRx || q.Class.Kind == kernel.KindTx || q.Class.Kind == kernel.KindCombined)
}

// describe is "IRQ 101 (ens1f0 queue 2, combined)".
func (q nicIRQ) describe() string {
	if q.Class.Queue < 0 {
		return fmt.Sprintf("IRQ %d (%s, %s vector)", q.IRQ, q.Class.Device, q.Class.Kind)
	}
	return fmt.Sprintf("IRQ %d (%s queue %d, %s)", q.IRQ, q.Class.Device, q.Class.Queue, q.Class.Kind)
}

// nicIRQs lists the NIC IRQs in /proc/interrupts order.
func nicIRQs(snap *snapshot.Snapshot) []nicIRQ {
	if snap.Interrupts == nil {
		return nil
	}
	var out []nicIRQ
	for _, line := range snap.Interrupts.IRQs {
		class, ok := snap.IRQClasses[line.IRQ]
		if !ok || !class.IsNIC() {
			continue
		}
		aff, has := snap.Affinity[line.IRQ]
		out = append(out, nicIRQ{IRQ: line.IRQ, Class: class, Aff: aff, HasAff: has})
	}
	return out
}

// firesOn is where an IRQ fires: its effective CPUs, or its only allowed
// CPU when the kernel has no effective_affinity_list; empty when unknown.
func firesOn(aff procfs.IRQAffinity) cpuset.CPUSet {
	if aff.HasEffective && !aff.Effective.IsEmpty() {
		return aff.Effective
	}
	if aff.SMPAffinity.Count() == 1 {
		return aff.SMPAffinity
	}
	return cpuset.CPUSet{}
}

// without returns the members of s not in o.
func without(s, o cpuset.CPUSet) cpuset.CPUSet {
	var out cpuset.CPUSet
	for _, c := range s.List() {
		if !o.Contains(c) {
			out.Add(c)
		}
	}
	return out
}

// subsetOf reports whether every member of s is in o.
func subsetOf(s, o cpuset.CPUSet) bool { return s.Intersect(o).Equal(s) }

// online is the online CPUs; empty when the topology was not read.
func online(snap *snapshot.Snapshot) cpuset.CPUSet {
	if snap.Topology == nil {
		return cpuset.CPUSet{}
	}
	return snap.Topology.Online
}

// isolatedCPUs is isolated ∪ nohz_full.
func isolatedCPUs(snap *snapshot.Snapshot) cpuset.CPUSet {
	if snap.Topology == nil {
		return cpuset.CPUSet{}
	}
	return snap.Topology.Isolated.Union(snap.Topology.NohzFull)
}

// housekeeping is the online CPUs that are neither isolated nor nohz_full.
func housekeeping(snap *snapshot.Snapshot) cpuset.CPUSet {
	return without(online(snap), isolatedCPUs(snap))
}

// nodeOf is cpu's NUMA node, -1 when unknown.
func nodeOf(snap *snapshot.Snapshot, cpu int) int {
	if snap.Topology == nil {
		return -1
	}
	if n, ok := snap.Topology.NodeOf[cpu]; ok {
		return n
	}
	return -1
}

// nodeCPUs is the housekeeping CPUs of node (node -1: those without a
// known node, which is all of them on a host without NUMA information).
func nodeCPUs(snap *snapshot.Snapshot, node int) cpuset.CPUSet {
	var out cpuset.CPUSet
	for _, c := range housekeeping(snap).List() {
		if nodeOf(snap, c) == node {
			out.Add(c)
		}
	}
	return out
}

// localCPUs is the housekeeping CPUs of a device on node devNode, or every
// housekeeping CPU when the device's node is unknown.
func localCPUs(snap *snapshot.Snapshot, devNode int) cpuset.CPUSet {
	if devNode < 0 {
		return housekeeping(snap)
	}
	return nodeCPUs(snap, devNode)
}

// remoteCPUs is the members of cpus on a known node other than devNode.
func remoteCPUs(snap *snapshot.Snapshot, cpus cpuset.CPUSet, devNode int) cpuset.CPUSet {
	var out cpuset.CPUSet
	if devNode < 0 {
		return out
	}
	for _, c := range cpus.List() {
		if n := nodeOf(snap, c); n >= 0 && n != devNode {
			out.Add(c)
		}
	}
	return out
}

// devices maps device name → device.
func devices(snap *snapshot.Snapshot) map[string]*sysfs.NetDevice {
	out := make(map[string]*sysfs.NetDevice, len(snap.NetDevices))
	for i := range snap.NetDevices {
		out[snap.NetDevices[i].Name] = &snap.NetDevices[i]
	}
	return out
}

// deviceNode is the NUMA node of a device by name; -1 when unknown.
func deviceNode(devs map[string]*sysfs.NetDevice, name string) int {
	if d, ok := devs[name]; ok {
		return d.NUMANode
	}
	return -1
}

// irqTarget is the CPU list an IRQ of a device on devNode should be
// allowed on: its hint when that is a set of local housekeeping CPUs,
// else its current mask trimmed to local housekeeping CPUs, else all local
// housekeeping CPUs, else all housekeeping CPUs. Empty when the host has no
// housekeeping CPU (no topology).
func irqTarget(snap *snapshot.Snapshot, aff procfs.IRQAffinity, devNode int) cpuset.CPUSet {
	local := localCPUs(snap, devNode)
	if aff.HasHint && !aff.Hint.IsEmpty() && subsetOf(aff.Hint, local) {
		return aff.Hint
	}
	if trimmed := aff.SMPAffinity.Intersect(local); !trimmed.IsEmpty() {
		return trimmed
	}
	if !local.IsEmpty() {
		return local
	}
	return housekeeping(snap)
}

// rpsTarget is the RPS mask an RX queue of a device on devNode should have:
// its current mask trimmed to local housekeeping CPUs, else all local
// housekeeping CPUs, else all housekeeping CPUs.
func rpsTarget(snap *snapshot.Snapshot, mask cpuset.CPUSet, devNode int) cpuset.CPUSet {
	local := localCPUs(snap, devNode)
	if trimmed := mask.Intersect(local); !trimmed.IsEmpty() {
		return trimmed
	}
	if !local.IsEmpty() {
		return local
	}
	return housekeeping(snap)
}

// hexMask renders cpus in the kernel's mask format for rps_cpus and
// xps_cpus: "f", "70", "1,00000000" (32-bit groups, most significant first);
// "0" for the empty set.
func hexMask(cpus cpuset.CPUSet) string {
	list := cpus.List()
	if len(list) == 0 {
		return "0"
	}
	groups := make([]uint32, list[len(list)-1]/32+1)
	for _, c := range list {
		groups[c/32] |= 1 << uint(c%32)
	}
	var b strings.Builder
	for i := len(groups) - 1; i >= 0; i-- {
		if i == len(groups)-1 {
			fmt.Fprintf(&b, "%x", groups[i])
		} else {
			fmt.Fprintf(&b, ",%08x", groups[i])
		}
	}
	return b.String()
}

func irqFix(irq int, cpus cpuset.CPUSet) string {
	return fmt.Sprintf("echo %s > /proc/irq/%d/smp_affinity_list", cpus, irq)
}

func rpsFix(dev string, queue int, cpus cpuset.CPUSet) string {
	return fmt.Sprintf("echo %s > /sys/class/net/%s/queues/rx-%d/rps_cpus", hexMask(cpus), ShellWord(dev), queue)
}

func xpsFix(dev string, queue int, cpus cpuset.CPUSet) string {
	return fmt.Sprintf("echo %s > /sys/class/net/%s/queues/tx-%d/xps_cpus", hexMask(cpus), ShellWord(dev), queue)
}

// irqbalanceNote warns that irqbalance undoes a hand-set affinity.
func irqbalanceNote(snap *snapshot.Snapshot, irq int) string {
	if snap.Tunables == nil || !snap.Tunables.IRQBalanceRunning {
		return ""
	}
	return fmt.Sprintf(" irqbalance is running and moves the IRQ again unless it is banned (IRQBALANCE_ARGS=\"--banirq=%d\").", irq)
}

func cpuWord(cpus cpuset.CPUSet) string {
	if cpus.Count() == 1 {
		return "CPU " + cpus.String()
	}
	return "CPUs " + cpus.String()
}

// trafficMinRate is the receive rate (packets/s) from which a virtual
// device counts as carrying traffic for the checks that only concern busy
// virtual devices: a container host has hundreds of veths, most of them
// quiet, and a finding for each would bury the one that matters.
const trafficMinRate = 1000

// carriesTraffic reports whether device name received at least
// trafficMinRate packets/s since the previous snapshot; false when that is
// unknown (the first snapshot).
func carriesTraffic(snap *snapshot.Snapshot, name string) bool {
	return snap.DeviceRxRates[name] >= trafficMinRate
}
