package diagnosis

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
	{"rps_funnel", "warning",
		"RX queues of one device steered by RPS into fewer CPUs than queues make those CPUs process the whole device's traffic",
		checkRPSFunnel},
	{"single_queue_no_rps", "info",
		"a single-RX-queue device without RPS does all receive processing on one CPU: the one its IRQ fires on, or for a virtual device the sender's",
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
