package diagnosis

import (
	"fmt"
	"strings"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// checkRPSFunnel: a multi-queue device whose RX queues with RPS on are
// steered into fewer CPUs than there are such queues, while the device's
// node has more housekeeping CPUs to spread them over. The worst case,
// every queue's rps_cpus naming one CPU, makes that CPU process the whole
// device's traffic however many queues and CPUs the host has. The fix
// gives every RX queue the RPS target the other checks use (rpsTarget), so
// following it never makes rps_remote_numa or rps_on_isolated_cpu fire.
func checkRPSFunnel(snap *snapshot.Snapshot) []Finding {
	var out []Finding
	for _, d := range snap.NetDevices {
		var steered int
		var union cpuset.CPUSet
		for _, q := range d.RxQueues {
			if !q.RPSCPUs.IsEmpty() {
				steered++
				union = union.Union(q.RPSCPUs)
			}
		}
		if steered < 2 || union.Count() >= steered {
			continue
		}
		target := rpsTarget(snap, cpuset.CPUSet{}, d.NUMANode)
		if target.Count() <= union.Count() {
			continue // nowhere wider to spread to
		}
		out = append(out, Finding{
			Device: d.Name, CPU: union.String(),
			Message: fmt.Sprintf("%d RX queues of %s steer their packets by RPS into %s: that receive work cannot use the other %d CPUs it could run on.",
				steered, d.Name, cpuWord(union), target.Count()-union.Count()),
			Fix: rpsFunnelFix(d, target),
		})
	}
	return out
}

// rpsFunnelFix sets every RPS-enabled RX queue of d to target, one command
// per queue so that each can be pasted alone.
func rpsFunnelFix(d sysfs.NetDevice, target cpuset.CPUSet) string {
	var cmds []string
	for _, q := range d.RxQueues {
		if !q.RPSCPUs.IsEmpty() {
			cmds = append(cmds, rpsFix(d.Name, q.Index, target))
		}
	}
	return strings.Join(cmds, "; ")
}
