package diagnosis

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// Checks is the table of misconfiguration checks Evaluate runs, in order.
// Each name has a section of the same name in alerts/RUNBOOK.md (what it
// means, how to confirm, fix, what not to do); checks_test.go enforces it.
//
// Conventions shared by the checks:
//   - "housekeeping CPUs" are the online CPUs that are neither isolated
//     (isolcpus) nor nohz_full; fixes only ever point at those.
//   - An IRQ "fires on" its effective_affinity_list, or, on kernels without
//     that file, its smp_affinity_list when that names a single CPU.
//   - A device's NUMA node is device/numa_node; -1 (virtual, or a firmware
//     that does not say) turns the NUMA checks off for the device.
//   - Fixes of different checks about the same IRQ or RX queue suggest the
//     same command (irqTarget, rpsTarget), so following one never makes
//     another fire.
var Checks = []Check{
	{"queue_irqs_share_cpu", "warning",
		"two queue IRQs of one device on one CPU halve that CPU's capacity per queue while a CPU of the same node has none",
		checkQueueIRQsShareCPU},
	{"irq_remote_numa", "warning",
		"a queue IRQ on another NUMA node than the NIC makes every packet's descriptors and data cross the interconnect",
		checkIRQRemoteNUMA},
	{"rps_remote_numa", "info",
		"RPS to a CPU on another NUMA node than the NIC processes packets in memory of the far node",
		checkRPSRemoteNUMA},
	{"irq_on_isolated_cpu", "warning",
		"a NIC IRQ allowed on or firing on an isolated/nohz_full CPU interrupts the workload the CPU was isolated for",
		checkIRQOnIsolatedCPU},
	{"rps_on_isolated_cpu", "warning",
		"RPS steering packets to an isolated/nohz_full CPU runs NET_RX there; newer kernels refuse to write such a mask",
		checkRPSOnIsolatedCPU},
	{"xps_on_isolated_cpu", "info",
		"an XPS map naming an isolated/nohz_full CPU ties a TX queue (its qdisc lock, its completions) to the isolated CPU's sends",
		checkXPSOnIsolatedCPU},
	{"single_queue_no_rps", "info",
		"a single-RX-queue NIC without RPS does all receive processing on the one CPU its IRQ fires on",
		checkSingleQueueNoRPS},
	{"channels_below_max_and_cpus", "info",
		"fewer channels than both the NIC supports and the host has CPUs leaves receive capacity unused",
		checkChannelsBelowMax},
	{"rss_unequal_shares", "info",
		"an RSS indirection table that gives queues unequal shares loads their CPUs unequally",
		checkRSSUnequalShares},
	{"affinity_differs_from_hint", "info",
		"an IRQ moved off the CPU its driver spread it to (affinity_hint), usually by irqbalance or a script",
		checkAffinityDiffersFromHint},
	{"napi_thread_unpinned", "info",
		"a threaded-NAPI kthread free on all CPUs while its IRQ is pinned polls on whatever CPU the scheduler picks",
		checkNAPIThreadUnpinned},
}

// checkByName returns the table entry called name.
func checkByName(name string) (Check, bool) {
	for _, c := range Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// --- shared helpers --------------------------------------------------------

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
	return fmt.Sprintf("echo %s > /sys/class/net/%s/queues/rx-%d/rps_cpus", hexMask(cpus), dev, queue)
}

func xpsFix(dev string, queue int, cpus cpuset.CPUSet) string {
	return fmt.Sprintf("echo %s > /sys/class/net/%s/queues/tx-%d/xps_cpus", hexMask(cpus), dev, queue)
}

// irqbalanceNote warns that irqbalance undoes a hand-set affinity.
func irqbalanceNote(snap *snapshot.Snapshot, irq int) string {
	if snap.Tunables == nil || !snap.Tunables.IRQBalanceRunning {
		return ""
	}
	return fmt.Sprintf(" irqbalance is running and moves the IRQ again unless it is banned (IRQBALANCE_ARGS=\"--banirq=%d\").", irq)
}

func queueString(q int) string {
	if q < 0 {
		return ""
	}
	return strconv.Itoa(q)
}

func cpuWord(cpus cpuset.CPUSet) string {
	if cpus.Count() == 1 {
		return "CPU " + cpus.String()
	}
	return "CPUs " + cpus.String()
}

// --- the checks ------------------------------------------------------------

// checkQueueIRQsShareCPU: queue IRQs of one device firing on one CPU while
// housekeeping CPUs of that CPU's node serve none of the device's queue
// IRQs. Receive IRQs (rx, combined) and transmit IRQs (tx) are counted
// apart: an rx and a tx IRQ of the same queue pair on one CPU is the normal
// layout of drivers with separate vectors (virtio-net input.N/output.N).
// The first IRQ (lowest queue) of a stack stays; each further one is a
// finding whose fix moves it to the next free CPU of the node, so the fixes
// together spread the stack without creating a new one.
func checkQueueIRQsShareCPU(snap *snapshot.Snapshot) []Finding {
	if housekeeping(snap).IsEmpty() {
		return nil
	}
	type group struct {
		dev string
		tx  bool
	}
	var order []group
	byGroup := map[group][]nicIRQ{}
	for _, q := range nicIRQs(snap) {
		if !q.isQueue() || !q.HasAff || firesOn(q.Aff).Count() != 1 {
			continue
		}
		g := group{q.Class.Device, q.Class.Kind == kernel.KindTx}
		if _, seen := byGroup[g]; !seen {
			order = append(order, g)
		}
		byGroup[g] = append(byGroup[g], q)
	}
	var out []Finding
	for _, g := range order {
		side := "receive"
		if g.tx {
			side = "transmit"
		}
		var used cpuset.CPUSet
		byCPU := map[int][]nicIRQ{}
		for _, q := range byGroup[g] {
			cpu := firesOn(q.Aff).List()[0]
			byCPU[cpu] = append(byCPU[cpu], q)
			used.Add(cpu)
		}
		for _, cpu := range used.List() {
			stack := byCPU[cpu]
			if len(stack) < 2 {
				continue
			}
			sort.SliceStable(stack, func(i, j int) bool { return stack[i].Class.Queue < stack[j].Class.Queue })
			node := nodeOf(snap, cpu)
			for _, q := range stack[1:] {
				free := without(nodeCPUs(snap, node), used)
				if free.IsEmpty() {
					break
				}
				target := cpuset.NewCPUSet(free.List()[0])
				used = used.Union(target)
				others := make([]string, 0, len(stack)-1)
				for _, o := range stack {
					if o.IRQ != q.IRQ {
						others = append(others, fmt.Sprintf("IRQ %d (queue %d)", o.IRQ, o.Class.Queue))
					}
				}
				out = append(out, Finding{
					Device: g.dev, Queue: queueString(q.Class.Queue), IRQ: strconv.Itoa(q.IRQ), CPU: strconv.Itoa(cpu),
					Message: fmt.Sprintf("%s fires on CPU %d together with %s, while NUMA node %d has %s serving no %s queue IRQ of %s.%s",
						q.describe(), cpu, strings.Join(others, ", "), node, cpuWord(free), side, g.dev, irqbalanceNote(snap, q.IRQ)),
					Fix: irqFix(q.IRQ, target),
				})
			}
		}
	}
	return out
}

// checkIRQRemoteNUMA: a queue IRQ firing on a CPU of another NUMA node than
// its device (devices with a known node only).
func checkIRQRemoteNUMA(snap *snapshot.Snapshot) []Finding {
	devs := devices(snap)
	var out []Finding
	for _, q := range nicIRQs(snap) {
		node := deviceNode(devs, q.Class.Device)
		if !q.isQueue() || !q.HasAff || node < 0 {
			continue
		}
		remote := remoteCPUs(snap, firesOn(q.Aff), node)
		if remote.IsEmpty() {
			continue
		}
		target := irqTarget(snap, q.Aff, node)
		if target.IsEmpty() || !remoteCPUs(snap, target, node).IsEmpty() {
			continue // no housekeeping CPU on the device's node to move it to
		}
		out = append(out, Finding{
			Device: q.Class.Device, Queue: queueString(q.Class.Queue), IRQ: strconv.Itoa(q.IRQ), CPU: remote.String(),
			Message: fmt.Sprintf("%s fires on %s of NUMA node %d, but %s is on node %d.%s",
				q.describe(), cpuWord(remote), nodeOf(snap, remote.List()[0]), q.Class.Device, node, irqbalanceNote(snap, q.IRQ)),
			Fix: irqFix(q.IRQ, target),
		})
	}
	return out
}

// checkRPSRemoteNUMA: an RX queue's RPS mask naming CPUs of another NUMA
// node than its device (devices with a known node only).
func checkRPSRemoteNUMA(snap *snapshot.Snapshot) []Finding {
	var out []Finding
	for _, d := range snap.NetDevices {
		if d.NUMANode < 0 {
			continue
		}
		for _, q := range d.RxQueues {
			remote := remoteCPUs(snap, q.RPSCPUs, d.NUMANode)
			if !q.HasRPS || remote.IsEmpty() {
				continue
			}
			target := rpsTarget(snap, q.RPSCPUs, d.NUMANode)
			if target.IsEmpty() || !remoteCPUs(snap, target, d.NUMANode).IsEmpty() {
				continue
			}
			out = append(out, Finding{
				Device: d.Name, Queue: strconv.Itoa(q.Index), CPU: remote.String(),
				Message: fmt.Sprintf("rx-%d of %s (NUMA node %d) steers packets with RPS to %s (rps_cpus %s), which are on another node.",
					q.Index, d.Name, d.NUMANode, cpuWord(remote), q.RPSCPUs),
				Fix: rpsFix(d.Name, q.Index, target),
			})
		}
	}
	return out
}

// checkIRQOnIsolatedCPU: a NIC IRQ (any vector) whose smp_affinity or
// effective affinity includes an isolated or nohz_full CPU. Non-NIC IRQs
// are not checked: the snapshot only has /proc/irq/N of NIC IRQs unless the
// selector asks for more, and they are not this exporter's business.
func checkIRQOnIsolatedCPU(snap *snapshot.Snapshot) []Finding {
	iso := isolatedCPUs(snap)
	if iso.IsEmpty() {
		return nil
	}
	devs := devices(snap)
	var out []Finding
	for _, q := range nicIRQs(snap) {
		if !q.HasAff {
			continue
		}
		fires := firesOn(q.Aff).Intersect(iso)
		allowed := q.Aff.SMPAffinity.Intersect(iso)
		bad := fires.Union(allowed)
		if bad.IsEmpty() {
			continue
		}
		target := irqTarget(snap, q.Aff, deviceNode(devs, q.Class.Device))
		if target.IsEmpty() {
			continue
		}
		what := fmt.Sprintf("may fire on isolated/nohz_full %s (smp_affinity_list %s)", cpuWord(allowed), q.Aff.SMPAffinity)
		if !fires.IsEmpty() {
			what = fmt.Sprintf("fires on isolated/nohz_full %s", cpuWord(fires))
		}
		out = append(out, Finding{
			Device: q.Class.Device, Queue: queueString(q.Class.Queue), IRQ: strconv.Itoa(q.IRQ), CPU: bad.String(),
			Message: fmt.Sprintf("%s %s.%s", q.describe(), what, irqbalanceNote(snap, q.IRQ)),
			Fix:     irqFix(q.IRQ, target),
		})
	}
	return out
}

// checkRPSOnIsolatedCPU: an RX queue's RPS mask including an isolated or
// nohz_full CPU (virtual devices too: veth RPS is common on container hosts).
func checkRPSOnIsolatedCPU(snap *snapshot.Snapshot) []Finding {
	iso := isolatedCPUs(snap)
	if iso.IsEmpty() {
		return nil
	}
	var out []Finding
	for _, d := range snap.NetDevices {
		for _, q := range d.RxQueues {
			bad := q.RPSCPUs.Intersect(iso)
			if !q.HasRPS || bad.IsEmpty() {
				continue
			}
			target := rpsTarget(snap, q.RPSCPUs, d.NUMANode)
			if target.IsEmpty() {
				continue
			}
			out = append(out, Finding{
				Device: d.Name, Queue: strconv.Itoa(q.Index), CPU: bad.String(),
				Message: fmt.Sprintf("rx-%d of %s steers packets with RPS to isolated/nohz_full %s (rps_cpus %s).",
					q.Index, d.Name, cpuWord(bad), q.RPSCPUs),
				Fix: rpsFix(d.Name, q.Index, target),
			})
		}
	}
	return out
}

// checkXPSOnIsolatedCPU: a TX queue's xps_cpus including an isolated or
// nohz_full CPU. The fix drops the isolated CPUs from the map (an empty map,
// "0", turns XPS off for the queue: the CPU's sends pick a queue by hash).
func checkXPSOnIsolatedCPU(snap *snapshot.Snapshot) []Finding {
	iso := isolatedCPUs(snap)
	if iso.IsEmpty() {
		return nil
	}
	var out []Finding
	for _, d := range snap.NetDevices {
		for _, q := range d.TxQueues {
			bad := q.XPSCPUs.Intersect(iso)
			if !q.HasXPSCPUs || bad.IsEmpty() {
				continue
			}
			rest := without(q.XPSCPUs, iso)
			msg := fmt.Sprintf("tx-%d of %s is mapped by XPS to isolated/nohz_full %s (xps_cpus %s)",
				q.Index, d.Name, cpuWord(bad), q.XPSCPUs)
			if rest.IsEmpty() {
				msg += ": the queue serves isolated CPUs only. If that is by design, silence this finding."
			} else {
				msg += fmt.Sprintf(", shared with housekeeping %s: their sends contend for one queue.", cpuWord(rest))
			}
			out = append(out, Finding{
				Device: d.Name, Queue: strconv.Itoa(q.Index), CPU: bad.String(),
				Message: msg,
				Fix:     xpsFix(d.Name, q.Index, rest),
			})
		}
	}
	return out
}

// checkSingleQueueNoRPS: a non-virtual device with one RX queue, RPS off on
// it, on a host with more than one housekeeping CPU. Virtual devices (lo,
// bridges, veth, ifb) are left out: they have no IRQ, their receive work
// runs on the sending CPU, and RPS on them is a deliberate choice.
func checkSingleQueueNoRPS(snap *snapshot.Snapshot) []Finding {
	hk := housekeeping(snap)
	if hk.Count() < 2 {
		return nil
	}
	rxIRQ := map[string]nicIRQ{}
	for _, q := range nicIRQs(snap) {
		if q.Class.Queue == 0 && (q.Class.Kind == kernel.KindRx || q.Class.Kind == kernel.KindCombined) {
			if _, dup := rxIRQ[q.Class.Device]; !dup {
				rxIRQ[q.Class.Device] = q
			}
		}
	}
	var out []Finding
	for _, d := range snap.NetDevices {
		if d.IsVirtual() || len(d.RxQueues) != 1 {
			continue
		}
		q := d.RxQueues[0]
		if !q.HasRPS || !q.RPSCPUs.IsEmpty() {
			continue
		}
		// RPS to the CPUs of the node the packets arrive on (scaling.rst:
		// "the CPUs in the same memory domain of the interrupting CPU").
		node := d.NUMANode
		var irq, cpu, where string
		if i, ok := rxIRQ[d.Name]; ok {
			irq = strconv.Itoa(i.IRQ)
			if fires := firesOn(i.Aff); !fires.IsEmpty() {
				cpu = fires.String()
				where = fmt.Sprintf(" (IRQ %d, %s)", i.IRQ, cpuWord(fires))
				if node < 0 {
					node = nodeOf(snap, fires.List()[0])
				}
			}
		}
		target := rpsTarget(snap, cpuset.CPUSet{}, node)
		if target.Count() < 2 {
			target = hk
		}
		out = append(out, Finding{
			Device: d.Name, Queue: strconv.Itoa(q.Index), IRQ: irq, CPU: cpu,
			Message: fmt.Sprintf("%s has one RX queue and RPS is off: all its receive processing runs on one CPU%s of %d housekeeping CPUs.",
				d.Name, where, hk.Count()),
			Fix: rpsFix(d.Name, q.Index, target),
		})
	}
	return out
}

// checkChannelsBelowMax: a device whose combined channels (or RX channels,
// for drivers without combined ones) are below both its maximum and the
// number of housekeeping CPUs. Needs snapshot.Snapshot.Channels; finds nothing
// without it.
func checkChannelsBelowMax(snap *snapshot.Snapshot) []Finding {
	hk := housekeeping(snap).Count()
	if len(snap.Channels) == 0 || hk == 0 {
		return nil
	}
	names := make([]string, 0, len(snap.Channels))
	for name := range snap.Channels {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Finding
	for _, name := range names {
		ch := snap.Channels[name]
		kind, cur, maxCh := "combined", ch.Combined, ch.MaxCombined
		if ch.MaxCombined == 0 {
			kind, cur, maxCh = "rx", ch.Rx, ch.MaxRx
		}
		want := min(int(maxCh), hk)
		if maxCh == 0 || int(cur) >= want {
			continue
		}
		out = append(out, Finding{
			Device: name,
			Message: fmt.Sprintf("%s uses %d %s channels of a maximum of %d on a host with %d housekeeping CPUs.",
				name, cur, kind, maxCh, hk),
			Fix: fmt.Sprintf("ethtool -L %s %s %d", name, kind, want),
		})
	}
	return out
}

// checkRSSUnequalShares: an RSS indirection table that gives an active RX
// channel no entry, or gives the most-served queue over 1.5 times the
// entries of the least-served one (and at least 2 more: a table of 128
// entries over 100 queues cannot be fairer than 2:1). Active channels are
// the current combined+rx channels (snapshot.Snapshot.Channels), else the device's
// RX queue count. Needs snapshot.Snapshot.RSS; finds nothing without it.
func checkRSSUnequalShares(snap *snapshot.Snapshot) []Finding {
	if len(snap.RSS) == 0 {
		return nil
	}
	devs := devices(snap)
	names := make([]string, 0, len(snap.RSS))
	for name := range snap.RSS {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Finding
	for _, name := range names {
		table := snap.RSS[name]
		if len(table.Indirection) == 0 {
			continue
		}
		active := 0
		if ch, ok := snap.Channels[name]; ok && ch.Combined+ch.Rx > 0 {
			active = int(ch.Combined + ch.Rx)
		} else if d, ok := devs[name]; ok {
			active = len(d.RxQueues)
		}
		if active < 2 {
			continue
		}
		share := table.QueueShare()
		minQ, maxQ := 0, 0
		for q := 1; q < active; q++ {
			if share[uint32(q)] < share[uint32(minQ)] {
				minQ = q
			}
			if share[uint32(q)] > share[uint32(maxQ)] {
				maxQ = q
			}
		}
		lo, hi := share[uint32(minQ)], share[uint32(maxQ)]
		if lo > 0 && (hi-lo < 2 || float64(hi) <= 1.5*float64(lo)) {
			continue
		}
		out = append(out, Finding{
			Device: name, Queue: strconv.Itoa(minQ),
			Message: fmt.Sprintf("The RSS indirection table of %s (%d entries, %d active RX channels) gives queue %d %d entries and queue %d %d.",
				name, len(table.Indirection), active, minQ, lo, maxQ, hi),
			Fix: fmt.Sprintf("ethtool -X %s equal %d", name, active),
		})
	}
	return out
}

// checkAffinityDiffersFromHint: a NIC IRQ whose smp_affinity differs from
// its non-empty affinity_hint. A hint that names an isolated/nohz_full or
// offline CPU, or a CPU on another node than the device, is not followed
// (the other checks would flag the result), so it is no finding.
func checkAffinityDiffersFromHint(snap *snapshot.Snapshot) []Finding {
	devs := devices(snap)
	iso, on := isolatedCPUs(snap), online(snap)
	var out []Finding
	for _, q := range nicIRQs(snap) {
		if !q.HasAff || !q.Aff.HasHint || q.Aff.Hint.IsEmpty() || q.Aff.SMPAffinity.Equal(q.Aff.Hint) {
			continue
		}
		node := deviceNode(devs, q.Class.Device)
		if !q.Aff.Hint.Intersect(iso).IsEmpty() || (!on.IsEmpty() && !subsetOf(q.Aff.Hint, on)) ||
			!remoteCPUs(snap, q.Aff.Hint, node).IsEmpty() {
			continue
		}
		out = append(out, Finding{
			Device: q.Class.Device, Queue: queueString(q.Class.Queue), IRQ: strconv.Itoa(q.IRQ), CPU: q.Aff.SMPAffinity.String(),
			Message: fmt.Sprintf("%s is allowed on %s, but its driver's affinity_hint is %s.%s",
				q.describe(), cpuWord(q.Aff.SMPAffinity), cpuWord(q.Aff.Hint), irqbalanceNote(snap, q.IRQ)),
			Fix: irqFix(q.IRQ, q.Aff.Hint),
		})
	}
	return out
}

// checkNAPIThreadUnpinned: a napi/<dev>-<id> kthread allowed on every online
// CPU while the IRQ of its NAPI instance is allowed on fewer. The NAPI → IRQ
// map comes from snapshot.Snapshot.NAPIs (netdev netlink, by thread PID or by device
// and NAPI ID); without it the thread is matched by device only: when every
// queue IRQ of the device is pinned, one finding per device names all its
// unpinned threads and pins them to the union of those IRQs' CPUs.
func checkNAPIThreadUnpinned(snap *snapshot.Snapshot) []Finding {
	on := online(snap)
	if on.Count() < 2 {
		return nil
	}
	type napiKey struct {
		dev string
		id  uint32
	}
	byPID, byID := map[int]nic.NAPI{}, map[napiKey]nic.NAPI{}
	for _, n := range snap.NAPIs {
		if n.ThreadPID > 0 {
			byPID[n.ThreadPID] = n
		}
		byID[napiKey{n.Device, n.ID}] = n
	}
	irqs := nicIRQs(snap)
	irqByNum := map[int]nicIRQ{}
	for _, q := range irqs {
		irqByNum[q.IRQ] = q
	}
	var out []Finding
	var unresolved []procfs.KernelThread
	for _, t := range snap.Threads {
		if !strings.HasPrefix(t.Name, "napi/") || t.Device == "" || t.Allowed.IsEmpty() || !subsetOf(on, t.Allowed) {
			continue
		}
		n, ok := byPID[t.PID]
		if !ok {
			n, ok = byID[napiKey{t.Device, t.NAPIID}]
		}
		if !ok || n.IRQ <= 0 {
			unresolved = append(unresolved, t)
			continue
		}
		q, ok := irqByNum[n.IRQ]
		if !ok || !q.HasAff || q.Aff.SMPAffinity.IsEmpty() || q.Aff.SMPAffinity.Count() >= on.Count() {
			continue
		}
		out = append(out, Finding{
			Device: t.Device, Queue: queueString(q.Class.Queue), IRQ: strconv.Itoa(n.IRQ), CPU: q.Aff.SMPAffinity.String(),
			Message: fmt.Sprintf("%s (PID %d) may run on all %d online CPUs, while IRQ %d of its NAPI instance %d is pinned to %s.",
				t.Name, t.PID, on.Count(), n.IRQ, n.ID, cpuWord(q.Aff.SMPAffinity)),
			Fix: fmt.Sprintf("taskset -pc %s %d", q.Aff.SMPAffinity, t.PID),
		})
	}
	// Fallback: by device.
	var devOrder []string
	byDev := map[string][]procfs.KernelThread{}
	for _, t := range unresolved {
		if _, seen := byDev[t.Device]; !seen {
			devOrder = append(devOrder, t.Device)
		}
		byDev[t.Device] = append(byDev[t.Device], t)
	}
	for _, dev := range devOrder {
		var union cpuset.CPUSet
		pinned, seen := true, false
		for _, q := range irqs {
			if q.Class.Device != dev || !q.isQueue() {
				continue
			}
			seen = true
			if !q.HasAff || q.Aff.SMPAffinity.IsEmpty() || q.Aff.SMPAffinity.Count() >= on.Count() {
				pinned = false
				break
			}
			union = union.Union(q.Aff.SMPAffinity)
		}
		if !seen || !pinned || union.Count() >= on.Count() {
			continue
		}
		threads := byDev[dev]
		slices.SortFunc(threads, func(a, b procfs.KernelThread) int { return a.PID - b.PID })
		names, pids := make([]string, 0, len(threads)), make([]string, 0, len(threads))
		for _, t := range threads {
			names = append(names, fmt.Sprintf("%s (PID %d)", t.Name, t.PID))
			pids = append(pids, strconv.Itoa(t.PID))
		}
		fix := fmt.Sprintf("taskset -pc %s %s", union, pids[0])
		if len(pids) > 1 {
			fix = fmt.Sprintf("for pid in %s; do taskset -pc %s $pid; done", strings.Join(pids, " "), union)
		}
		out = append(out, Finding{
			Device: dev, CPU: union.String(),
			Message: fmt.Sprintf("%s may run on all %d online CPUs, while every queue IRQ of %s is pinned, together to %s (NAPI → IRQ map unknown: matched by device).",
				strings.Join(names, ", "), on.Count(), dev, cpuWord(union)),
			Fix: fix,
		})
	}
	return out
}
