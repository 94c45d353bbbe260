package diagnosis

// The checks about IRQs: stacked queue IRQs, remote NUMA, isolated CPUs,
// affinity against hint, unpinned NAPI threads.

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

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
					Device: g.dev, Queue: q.Class.QueueLabel(), IRQ: strconv.Itoa(q.IRQ), CPU: strconv.Itoa(cpu),
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
			Device: q.Class.Device, Queue: q.Class.QueueLabel(), IRQ: strconv.Itoa(q.IRQ), CPU: remote.String(),
			Message: fmt.Sprintf("%s fires on %s of NUMA node %d, but %s is on node %d.%s",
				q.describe(), cpuWord(remote), nodeOf(snap, remote.List()[0]), q.Class.Device, node, irqbalanceNote(snap, q.IRQ)),
			Fix: irqFix(q.IRQ, target),
		})
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
			Device: q.Class.Device, Queue: q.Class.QueueLabel(), IRQ: strconv.Itoa(q.IRQ), CPU: bad.String(),
			Message: fmt.Sprintf("%s %s.%s", q.describe(), what, irqbalanceNote(snap, q.IRQ)),
			Fix:     irqFix(q.IRQ, target),
		})
	}
	return out
}

// checkAffinityDiffersFromHint: a NIC IRQ whose smp_affinity differs from
// its non-empty affinity_hint. A hint that names an isolated/nohz_full or
// offline CPU, or a CPU on another node than the device, is not followed
// (the other checks would flag the result), so it is no finding; nor is a
// hint the driver itself does not apply (hints.go).
func checkAffinityDiffersFromHint(snap *snapshot.Snapshot) []Finding {
	devs := devices(snap)
	iso, on := isolatedCPUs(snap), online(snap)
	var out []Finding
	for _, q := range nicIRQs(snap) {
		if !q.HasAff || !q.Aff.HasHint || q.Aff.Hint.IsEmpty() || q.Aff.SMPAffinity.Equal(q.Aff.Hint) {
			continue
		}
		if d := devs[q.Class.Device]; hintNotApplied(snap, driverOf(d), q) {
			continue
		}
		node := deviceNode(devs, q.Class.Device)
		if !q.Aff.Hint.Intersect(iso).IsEmpty() || (!on.IsEmpty() && !subsetOf(q.Aff.Hint, on)) ||
			!remoteCPUs(snap, q.Aff.Hint, node).IsEmpty() {
			continue
		}
		out = append(out, Finding{
			Device: q.Class.Device, Queue: q.Class.QueueLabel(), IRQ: strconv.Itoa(q.IRQ), CPU: q.Aff.SMPAffinity.String(),
			Message: fmt.Sprintf("%s is allowed on %s, but its driver's affinity_hint is %s.%s",
				q.describe(), cpuWord(q.Aff.SMPAffinity), cpuWord(q.Aff.Hint), irqbalanceNote(snap, q.IRQ)),
			Fix: irqFix(q.IRQ, q.Aff.Hint),
		})
	}
	return out
}

// checkNAPIThreadUnpinned: a napi/<dev>-<id> kthread allowed on every online
// CPU while the IRQ of its NAPI instance is allowed on fewer. backlog_napi/N
// threads are never findings: the kernel binds each to CPU N for good. The NAPI → IRQ
// map comes from snapshot.Snapshot.NAPIs (netdev netlink, by thread PID or by device
// and NAPI ID); without it the thread is matched by device only: when every
// queue IRQ of the device is pinned, one finding per device names all its
// unpinned threads and pins them to the union of those IRQs' CPUs.
func checkNAPIThreadUnpinned(snap *snapshot.Snapshot) []Finding {
	on := online(snap)
	if on.Count() < 2 {
		return nil
	}
	irqs := nicIRQs(snap)
	out, unresolved := napiThreadsByMap(snap, on, irqs)
	return append(out, napiThreadsByDevice(unresolved, on, irqs)...)
}

// napiThreadsByMap checks the unpinned napi threads whose IRQ the NAPI map
// names; it returns the threads it could not resolve.
func napiThreadsByMap(snap *snapshot.Snapshot, on cpuset.CPUSet, irqs []nicIRQ) (out []Finding, unresolved []procfs.KernelThread) {
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
	irqByNum := map[int]nicIRQ{}
	for _, q := range irqs {
		irqByNum[q.IRQ] = q
	}
	for _, t := range snap.Threads {
		// Only napi/<dev>-<id> threads: backlog_napi/N and ksoftirqd/N are
		// bound to their CPU by the kernel (PF_NO_SETAFFINITY), so neither
		// free nor movable, and the backlog has no IRQ of its own.
		if t.Kind() != procfs.ThreadNAPI || t.Device == "" || t.Allowed.IsEmpty() || !subsetOf(on, t.Allowed) {
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
			Device: t.Device, Queue: q.Class.QueueLabel(), IRQ: strconv.Itoa(n.IRQ), CPU: q.Aff.SMPAffinity.String(),
			Message: fmt.Sprintf("%s (PID %d) may run on all %d online CPUs, while IRQ %d of its NAPI instance %d is pinned to %s.",
				t.Name, t.PID, on.Count(), n.IRQ, n.ID, cpuWord(q.Aff.SMPAffinity)),
			Fix: fmt.Sprintf("taskset -pc %s %d", q.Aff.SMPAffinity, t.PID),
		})
	}
	return out, unresolved
}

// napiThreadsByDevice is the fallback without a NAPI map: one finding per
// device whose queue IRQs are all pinned, naming its unpinned threads.
func napiThreadsByDevice(unresolved []procfs.KernelThread, on cpuset.CPUSet, irqs []nicIRQ) []Finding {
	var out []Finding
	var devOrder []string
	byDev := map[string][]procfs.KernelThread{}
	for _, t := range unresolved {
		if _, seen := byDev[t.Device]; !seen {
			devOrder = append(devOrder, t.Device)
		}
		byDev[t.Device] = append(byDev[t.Device], t)
	}
	for _, dev := range devOrder {
		union, ok := pinnedQueueCPUs(dev, on, irqs)
		if !ok {
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

// pinnedQueueCPUs is the union of the CPUs dev's queue IRQs are allowed
// on; ok is false unless dev has queue IRQs, each pinned to fewer than the
// online CPUs, and together still fewer.
func pinnedQueueCPUs(dev string, on cpuset.CPUSet, irqs []nicIRQ) (union cpuset.CPUSet, ok bool) {
	seen := false
	for _, q := range irqs {
		if q.Class.Device != dev || !q.isQueue() {
			continue
		}
		seen = true
		if !q.HasAff || q.Aff.SMPAffinity.IsEmpty() || q.Aff.SMPAffinity.Count() >= on.Count() {
			return union, false
		}
		union = union.Union(q.Aff.SMPAffinity)
	}
	return union, seen && union.Count() < on.Count()
}

// checkInterruptsMasked: /proc/interrupts was read but lists no interrupt
// (snapshot.Snapshot.InterruptsMasked): every check that needs IRQs is
// unknown, which this finding explains, and so are the alerts built on
// IRQ rates. One finding, about no device.
func checkInterruptsMasked(snap *snapshot.Snapshot) []Finding {
	if !snap.InterruptsMasked() {
		return nil
	}
	return []Finding{{
		Message: "/proc/interrupts lists no interrupt: it is empty or holds only its CPU header, as container runtimes make it in unprivileged containers (moby, containerd, Kubernetes 1.31+). " +
			"The checks that need IRQs did not run (netirq_check_evaluated 0) and the alerts on IRQ rates cannot fire.",
		Fix: "run the exporter on the host, or give its container the host's /proc read-only and read that: " +
			"docker run -v /proc:/host/proc:ro … --path.procfs=/host/proc (Kubernetes: a hostPath volume, as deploy/kubernetes/daemonset.yaml)",
	}}
}
