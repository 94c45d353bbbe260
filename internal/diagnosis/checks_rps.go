package diagnosis

// The checks about RPS and XPS masks and single-queue devices.

import (
	"fmt"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

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

// checkSingleQueueNoRPS: a device with one RX queue, RPS off on it, on a
// host with more than one housekeeping CPU. A virtual device (lo, bridge,
// veth, ifb) counts only while it carries traffic (carriesTraffic): it has
// no IRQ, its receive work runs on the CPU that sends into it, and a
// container host has hundreds of idle ones.
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
		if len(d.RxQueues) != 1 || (d.IsVirtual() && !carriesTraffic(snap, d.Name)) {
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
		if d.IsVirtual() {
			where = fmt.Sprintf(" (the CPU that sends into it; %.0f packets/s received)", snap.DeviceRxRates[d.Name])
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
