package diagnosis

import "github.com/netirq/netirq_exporter/internal/snapshot"

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
//   - A check runs only when the parts it needs (Needs) are known: an
//     unread /sys/class/net, or a masked /proc/interrupts, makes its
//     result unknown (Results), never "no finding".
var Checks = []Check{
	{"interrupts_masked", "warning",
		"an empty /proc/interrupts (a container runtime masks it) hides every IRQ: the IRQ checks cannot run and the alerts on IRQ rates cannot fire",
		0, checkInterruptsMasked},
	{"queue_irqs_share_cpu", "warning",
		"two queue IRQs of one device on one CPU halve that CPU's capacity per queue while a CPU of the same node has none",
		irqs | top, checkQueueIRQsShareCPU},
	{"irq_remote_numa", "warning",
		"a queue IRQ on another NUMA node than the NIC makes every packet's descriptors and data cross the interconnect",
		irqs | top | devs, checkIRQRemoteNUMA},
	{"rps_remote_numa", "info",
		"RPS to a CPU on another NUMA node than the NIC processes packets in memory of the far node",
		devs | top, checkRPSRemoteNUMA},
	{"irq_on_isolated_cpu", "warning",
		"a NIC IRQ allowed on or firing on an isolated/nohz_full CPU interrupts the workload the CPU was isolated for",
		irqs | top, checkIRQOnIsolatedCPU},
	{"rps_on_isolated_cpu", "warning",
		"RPS steering packets to an isolated/nohz_full CPU runs NET_RX there; newer kernels refuse to write such a mask",
		devs | top, checkRPSOnIsolatedCPU},
	{"xps_on_isolated_cpu", "info",
		"an XPS map naming an isolated/nohz_full CPU ties a TX queue (its qdisc lock, its completions) to the isolated CPU's sends",
		devs | top, checkXPSOnIsolatedCPU},
	{"rps_funnel", "warning",
		"RX queues of one device steered by RPS into fewer CPUs than queues make those CPUs process the whole device's traffic",
		devs | top, checkRPSFunnel},
	{"single_queue_no_rps", "info",
		"a single-RX-queue device without RPS does all receive processing on one CPU: the one its IRQ fires on, or for a virtual device the sender's",
		devs | top, checkSingleQueueNoRPS},
	{"channels_below_max_and_cpus", "info",
		"fewer channels than both the NIC supports and the host has CPUs leaves receive capacity unused",
		snapshot.PartEthtool | top, checkChannelsBelowMax},
	{"rss_unequal_shares", "info",
		"an RSS indirection table that gives queues unequal shares loads their CPUs unequally",
		snapshot.PartEthtool, checkRSSUnequalShares},
	{"affinity_differs_from_hint", "info",
		"an IRQ moved off the CPU its driver spread it to (affinity_hint), usually by irqbalance or a script",
		irqs | top, checkAffinityDiffersFromHint},
	{"napi_thread_unpinned", "info",
		"a threaded-NAPI kthread free on all CPUs while its IRQ is pinned polls on whatever CPU the scheduler picks",
		irqs | top | snapshot.PartThreads, checkNAPIThreadUnpinned},
	{"rx_ring_below_max_with_drops", "warning",
		"an RX ring below its maximum while its queues overrun or fail allocations loses packets a deeper ring would have held",
		snapshot.PartEthtool | snapshot.PartQueueStats, checkRxRingBelowMax},
	{"napi_defer_without_gro_flush", "info",
		"defer-hard-irqs without a gro-flush-timeout defers nothing: no timer re-polls, the IRQ is re-enabled at once",
		0, checkDeferWithoutGROFlush},
	{"napi_settings_differ", "info",
		"NAPI instances of one device with different settings give its queues different latency and CPU cost",
		snapshot.PartQueueStats, checkNAPISettingsDiffer},
	{"bql_tx_stalls", "warning",
		"TX completions that stop for longer than BQL's stall threshold while packets wait mean a stuck queue: the NIC, its driver or a starved completion IRQ",
		snapshot.PartBQL, checkBQLTxStalls},
}

// The parts most checks need (Check.Needs): the NIC IRQs with their
// affinities, the CPU topology (housekeeping CPUs, nodes), the devices.
const (
	irqs = snapshot.PartInterrupts | snapshot.PartAffinity
	top  = snapshot.PartTopology
	devs = snapshot.PartNetDevices
)

// checkByName returns the table entry called name.
func checkByName(name string) (Check, bool) {
	for _, c := range Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// waitsFor names, for the checks that compare two snapshots (rates), why
// a snapshot cannot be judged yet ("" when it can): the first after a
// start. Such a check's result is unknown then, like one whose files
// could not be read, but nothing failed (Result.Waiting).
var waitsFor = map[string]func(*snapshot.Snapshot) string{
	"rx_ring_below_max_with_drops": rxRingUnknown,
}
