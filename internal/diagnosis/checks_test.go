package diagnosis

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// --- snapshot builders -----------------------------------------------------

// run evaluates the check called name.
func run(t testing.TB, name string, snap *snapshot.Snapshot) []Finding {
	t.Helper()
	c, ok := checkByName(name)
	if !ok {
		t.Fatalf("no check %q", name)
	}
	return c.Evaluate(snap)
}

func expectFindings(t *testing.T, got []Finding, want ...Finding) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d findings, want %d:\n%s", len(got), len(want), dumpFindings(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("finding %d:\n got %#v\nwant %#v", i, got[i], want[i])
		}
	}
}

func expectNone(t *testing.T, got []Finding) {
	t.Helper()
	if len(got) != 0 {
		t.Errorf("want no findings, got:\n%s", dumpFindings(got))
	}
}

func dumpFindings(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %#v\n", f)
	}
	return b.String()
}

// --- the check table --------------------------------------------------------

func TestChecksTable(t *testing.T) {
	name := regexp.MustCompile(`^[a-z]+(_[a-z]+)+$`)
	seen := map[string]bool{}
	for _, c := range Checks {
		if !name.MatchString(c.Name) {
			t.Errorf("check %q: want a snake_case name", c.Name)
		}
		if seen[c.Name] {
			t.Errorf("check %q listed twice", c.Name)
		}
		seen[c.Name] = true
		switch c.Severity {
		case "critical", "warning", "info":
		default:
			t.Errorf("check %s: severity %q, want critical, warning or info", c.Name, c.Severity)
		}
		if c.Why == "" || strings.Contains(c.Why, "\n") || c.Run == nil {
			t.Errorf("check %s: want a one-line Why and a Run function", c.Name)
		}
	}
	if len(Checks) < 11 {
		t.Errorf("%d checks, want at least 11", len(Checks))
	}
}

// TestChecksHaveRunbookSections: the NetIRQMisconfiguration alert links to
// RUNBOOK.md#{{ $labels.check }}, so every check needs a heading whose
// GitHub anchor is its name.
func TestChecksHaveRunbookSections(t *testing.T) {
	b, err := os.ReadFile("../../alerts/RUNBOOK.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{2,6} +(\S+) *$`).FindAllStringSubmatch(string(b), -1) {
		headings[m[1]] = true
	}
	for _, c := range Checks {
		if !headings[c.Name] {
			t.Errorf("alerts/RUNBOOK.md has no section \"### %s\"", c.Name)
		}
	}
}

func TestEvaluateEmptySnapshot(t *testing.T) {
	expectNone(t, Evaluate(&snapshot.Snapshot{}))
	expectNone(t, Evaluate(nil))
}

func TestHexMask(t *testing.T) {
	for list, want := range map[string]string{"": "0", "0-3": "f", "4-6": "70", "0,1": "3", "32": "1,00000000", "0,33": "2,00000001", "0-39": "ff,ffffffff"} {
		if got := hexMask(snaptest.CPUs(t, list)); got != want {
			t.Errorf("hexMask(%q) = %q, want %q", list, got, want)
		}
		if back, err := cpuset.ParseCPUMask(want); err != nil || !back.Equal(snaptest.CPUs(t, list)) {
			t.Errorf("ParseCPUMask(%q) = %v, %v; want %q", want, back, err, list)
		}
	}
}

// --- one fires / must-not pair per check ----------------------------------

func TestCheckQueueIRQsShareCPU(t *testing.T) {
	build := func() *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0-3", "4-7"}, "")
		snaptest.NIC(s, "eth0", 0, 4, 4)
		snaptest.IRQ(t, s, 10, "eth0", 0, kernel.KindCombined, "0", "0", "")
		snaptest.IRQ(t, s, 11, "eth0", 1, kernel.KindCombined, "0", "0", "")
		snaptest.IRQ(t, s, 12, "eth0", 2, kernel.KindCombined, "1", "1", "")
		snaptest.IRQ(t, s, 13, "eth0", 3, kernel.KindCombined, "0-3", "0", "")
		return s
	}
	t.Run("fires", func(t *testing.T) {
		// Three queue IRQs on CPU 0; CPUs 2 and 3 of node 0 serve none:
		// the second moves to CPU 2, the third to CPU 3.
		expectFindings(t, run(t, "queue_irqs_share_cpu", build()),
			Finding{Check: "queue_irqs_share_cpu", Severity: "warning", Device: "eth0", Queue: "1", IRQ: "11", CPU: "0",
				Message: "IRQ 11 (eth0 queue 1, combined) fires on CPU 0 together with IRQ 10 (queue 0), IRQ 13 (queue 3), while NUMA node 0 has CPUs 2-3 serving no receive queue IRQ of eth0.",
				Fix:     "echo 2 > /proc/irq/11/smp_affinity_list"},
			Finding{Check: "queue_irqs_share_cpu", Severity: "warning", Device: "eth0", Queue: "3", IRQ: "13", CPU: "0",
				Message: "IRQ 13 (eth0 queue 3, combined) fires on CPU 0 together with IRQ 10 (queue 0), IRQ 11 (queue 1), while NUMA node 0 has CPU 3 serving no receive queue IRQ of eth0.",
				Fix:     "echo 3 > /proc/irq/13/smp_affinity_list"})
	})
	t.Run("irqbalance note", func(t *testing.T) {
		s := build()
		s.Tunables = &procfs.Tunables{IRQBalanceRunning: true}
		got := run(t, "queue_irqs_share_cpu", s)
		if len(got) != 2 || !strings.HasSuffix(got[0].Message, `irqbalance is running and moves the IRQ again unless it is banned (IRQBALANCE_ARGS="--banirq=11").`) {
			t.Errorf("want the irqbalance note, got:\n%s", dumpFindings(got))
		}
	})
	t.Run("node full", func(t *testing.T) {
		// Every CPU of node 0 serves one: stacking is unavoidable without
		// going remote (the bigiron-8cpu fixture's CPU 1).
		s := build()
		s.Affinity[12] = procfs.IRQAffinity{IRQ: 12, SMPAffinity: snaptest.CPUs(t, "2"), Effective: snaptest.CPUs(t, "2"), HasEffective: true}
		snaptest.IRQ(t, s, 14, "eth0", 4, kernel.KindCombined, "3", "3", "")
		snaptest.IRQ(t, s, 15, "eth0", 5, kernel.KindCombined, "1", "1", "")
		expectNone(t, run(t, "queue_irqs_share_cpu", s))
	})
	t.Run("free CPU isolated or remote", func(t *testing.T) {
		s := snaptest.Host(t, []string{"0-2", "3"}, "2")
		snaptest.NIC(s, "eth0", 0, 3, 3)
		snaptest.IRQ(t, s, 10, "eth0", 0, kernel.KindCombined, "0", "0", "")
		snaptest.IRQ(t, s, 11, "eth0", 1, kernel.KindCombined, "1", "1", "")
		snaptest.IRQ(t, s, 12, "eth0", 2, kernel.KindCombined, "1", "1", "")
		expectNone(t, run(t, "queue_irqs_share_cpu", s))
	})
	t.Run("rx and tx of a pair", func(t *testing.T) {
		s := snaptest.Host(t, []string{"0-1"}, "")
		snaptest.NIC(s, "eth0", -1, 2, 2)
		snaptest.IRQ(t, s, 38, "eth0", 0, kernel.KindRx, "0-1", "0", "")
		snaptest.IRQ(t, s, 39, "eth0", 0, kernel.KindTx, "0-1", "0", "")
		snaptest.IRQ(t, s, 40, "eth0", 1, kernel.KindRx, "0-1", "1", "")
		snaptest.IRQ(t, s, 41, "eth0", 1, kernel.KindTx, "0-1", "1", "")
		expectNone(t, run(t, "queue_irqs_share_cpu", s))
	})
}

func TestCheckIRQRemoteNUMA(t *testing.T) {
	build := func(devNode int) *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0-1", "2-3"}, "")
		snaptest.NIC(s, "eth0", devNode, 2, 2)
		snaptest.IRQ(t, s, 20, "eth0", 0, kernel.KindCombined, "2-3", "2", "0")
		snaptest.IRQ(t, s, 21, "eth0", 1, kernel.KindCombined, "1", "1", "1")
		return s
	}
	t.Run("fires", func(t *testing.T) {
		expectFindings(t, run(t, "irq_remote_numa", build(0)),
			Finding{Check: "irq_remote_numa", Severity: "warning", Device: "eth0", Queue: "0", IRQ: "20", CPU: "2",
				Message: "IRQ 20 (eth0 queue 0, combined) fires on CPU 2 of NUMA node 1, but eth0 is on node 0.",
				Fix:     "echo 0 > /proc/irq/20/smp_affinity_list"})
	})
	t.Run("node unknown", func(t *testing.T) {
		expectNone(t, run(t, "irq_remote_numa", build(-1)))
	})
	t.Run("local", func(t *testing.T) {
		s := build(0)
		s.Affinity[20] = procfs.IRQAffinity{IRQ: 20, SMPAffinity: snaptest.CPUs(t, "0-3"), Effective: snaptest.CPUs(t, "0"), HasEffective: true}
		expectNone(t, run(t, "irq_remote_numa", s))
	})
}

func TestCheckRPSRemoteNUMA(t *testing.T) {
	build := func(devNode int, rps string) *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0-1", "2-3"}, "")
		d := snaptest.NIC(s, "eth0", devNode, 2, 2)
		d.RxQueues[1].RPSCPUs = snaptest.CPUs(t, rps)
		return s
	}
	t.Run("fires", func(t *testing.T) {
		expectFindings(t, run(t, "rps_remote_numa", build(0, "0-3")),
			Finding{Check: "rps_remote_numa", Severity: "info", Device: "eth0", Queue: "1", CPU: "2-3",
				Message: "rx-1 of eth0 (NUMA node 0) steers packets with RPS to CPUs 2-3 (rps_cpus 0-3), which are on another node.",
				Fix:     "echo 3 > /sys/class/net/eth0/queues/rx-1/rps_cpus"})
	})
	t.Run("local", func(t *testing.T) { expectNone(t, run(t, "rps_remote_numa", build(0, "0-1"))) })
	t.Run("node unknown", func(t *testing.T) { expectNone(t, run(t, "rps_remote_numa", build(-1, "0-3"))) })
}

func TestCheckIRQOnIsolatedCPU(t *testing.T) {
	build := func(isolated string) *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0-3"}, isolated)
		snaptest.NIC(s, "eth0", -1, 2, 2)
		snaptest.IRQ(t, s, 30, "eth0", 0, kernel.KindCombined, "0-3", "0", "")
		snaptest.IRQ(t, s, 31, "eth0", 1, kernel.KindCombined, "2", "2", "")
		snaptest.IRQ(t, s, 32, "eth0", -1, kernel.KindOther, "1", "1", "")
		return s
	}
	t.Run("fires", func(t *testing.T) {
		expectFindings(t, run(t, "irq_on_isolated_cpu", build("2-3")),
			Finding{Check: "irq_on_isolated_cpu", Severity: "warning", Device: "eth0", Queue: "0", IRQ: "30", CPU: "2-3",
				Message: "IRQ 30 (eth0 queue 0, combined) may fire on isolated/nohz_full CPUs 2-3 (smp_affinity_list 0-3).",
				Fix:     "echo 0-1 > /proc/irq/30/smp_affinity_list"},
			Finding{Check: "irq_on_isolated_cpu", Severity: "warning", Device: "eth0", Queue: "1", IRQ: "31", CPU: "2",
				Message: "IRQ 31 (eth0 queue 1, combined) fires on isolated/nohz_full CPU 2.",
				Fix:     "echo 0-1 > /proc/irq/31/smp_affinity_list"})
	})
	t.Run("nohz_full counts", func(t *testing.T) {
		s := build("")
		s.Topology.NohzFull = snaptest.CPUs(t, "1")
		expectFindings(t, run(t, "irq_on_isolated_cpu", s),
			Finding{Check: "irq_on_isolated_cpu", Severity: "warning", Device: "eth0", Queue: "0", IRQ: "30", CPU: "1",
				Message: "IRQ 30 (eth0 queue 0, combined) may fire on isolated/nohz_full CPU 1 (smp_affinity_list 0-3).",
				Fix:     "echo 0,2-3 > /proc/irq/30/smp_affinity_list"},
			Finding{Check: "irq_on_isolated_cpu", Severity: "warning", Device: "eth0", IRQ: "32", CPU: "1",
				Message: "IRQ 32 (eth0, other vector) fires on isolated/nohz_full CPU 1.",
				Fix:     "echo 0,2-3 > /proc/irq/32/smp_affinity_list"})
	})
	t.Run("none isolated", func(t *testing.T) { expectNone(t, run(t, "irq_on_isolated_cpu", build(""))) })
	t.Run("isolated CPU unused", func(t *testing.T) {
		s := build("3")
		s.Affinity[30] = procfs.IRQAffinity{IRQ: 30, SMPAffinity: snaptest.CPUs(t, "0-2"), Effective: snaptest.CPUs(t, "0"), HasEffective: true}
		expectNone(t, run(t, "irq_on_isolated_cpu", s))
	})
}

func TestCheckRPSOnIsolatedCPU(t *testing.T) {
	build := func(isolated string) *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0-3"}, isolated)
		d := snaptest.NIC(s, "eth0", -1, 1, 1)
		d.RxQueues[0].RPSCPUs = snaptest.CPUs(t, "2-3")
		return s
	}
	t.Run("fires", func(t *testing.T) {
		expectFindings(t, run(t, "rps_on_isolated_cpu", build("3")),
			Finding{Check: "rps_on_isolated_cpu", Severity: "warning", Device: "eth0", Queue: "0", CPU: "3",
				Message: "rx-0 of eth0 steers packets with RPS to isolated/nohz_full CPU 3 (rps_cpus 2-3).",
				Fix:     "echo 4 > /sys/class/net/eth0/queues/rx-0/rps_cpus"})
	})
	t.Run("none isolated", func(t *testing.T) { expectNone(t, run(t, "rps_on_isolated_cpu", build(""))) })
	t.Run("isolated outside mask", func(t *testing.T) { expectNone(t, run(t, "rps_on_isolated_cpu", build("1"))) })
}

func TestCheckXPSOnIsolatedCPU(t *testing.T) {
	build := func(isolated string) *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0-3"}, isolated)
		d := snaptest.NIC(s, "eth0", -1, 2, 2)
		d.TxQueues[0].XPSCPUs = snaptest.CPUs(t, "0,3")
		d.TxQueues[1].XPSCPUs = snaptest.CPUs(t, "2")
		return s
	}
	t.Run("fires", func(t *testing.T) {
		expectFindings(t, run(t, "xps_on_isolated_cpu", build("2-3")),
			Finding{Check: "xps_on_isolated_cpu", Severity: "info", Device: "eth0", Queue: "0", CPU: "3",
				Message: "tx-0 of eth0 is mapped by XPS to isolated/nohz_full CPU 3 (xps_cpus 0,3), shared with housekeeping CPU 0: their sends contend for one queue.",
				Fix:     "echo 1 > /sys/class/net/eth0/queues/tx-0/xps_cpus"},
			Finding{Check: "xps_on_isolated_cpu", Severity: "info", Device: "eth0", Queue: "1", CPU: "2",
				Message: "tx-1 of eth0 is mapped by XPS to isolated/nohz_full CPU 2 (xps_cpus 2): the queue serves isolated CPUs only. If that is by design, silence this finding.",
				Fix:     "echo 0 > /sys/class/net/eth0/queues/tx-1/xps_cpus"})
	})
	t.Run("none isolated", func(t *testing.T) { expectNone(t, run(t, "xps_on_isolated_cpu", build(""))) })
	t.Run("isolated outside masks", func(t *testing.T) { expectNone(t, run(t, "xps_on_isolated_cpu", build("1"))) })
}

func TestCheckSingleQueueNoRPS(t *testing.T) {
	build := func(nodes []string) *snapshot.Snapshot {
		s := snaptest.Host(t, nodes, "")
		snaptest.NIC(s, "eth0", -1, 1, 1)
		snaptest.IRQ(t, s, 38, "eth0", 0, kernel.KindRx, "0-1", "1", "")
		snaptest.IRQ(t, s, 39, "eth0", 0, kernel.KindTx, "0-1", "0", "")
		return s
	}
	t.Run("fires", func(t *testing.T) {
		expectFindings(t, run(t, "single_queue_no_rps", build([]string{"0-1"})),
			Finding{Check: "single_queue_no_rps", Severity: "info", Device: "eth0", Queue: "0", IRQ: "38", CPU: "1",
				Message: "eth0 has one RX queue and RPS is off: all its receive processing runs on one CPU (IRQ 38, CPU 1) of 2 housekeeping CPUs.",
				Fix:     "echo 3 > /sys/class/net/eth0/queues/rx-0/rps_cpus"})
	})
	t.Run("RPS to the IRQ's node", func(t *testing.T) {
		got := run(t, "single_queue_no_rps", build([]string{"0-1", "2-3"}))
		if len(got) != 1 || got[0].Fix != "echo 3 > /sys/class/net/eth0/queues/rx-0/rps_cpus" {
			t.Errorf("want RPS to node 0 (CPUs 0-1), got:\n%s", dumpFindings(got))
		}
	})
	t.Run("RPS on", func(t *testing.T) {
		s := build([]string{"0-1"})
		s.NetDevices[0].RxQueues[0].RPSCPUs = snaptest.CPUs(t, "0")
		expectNone(t, run(t, "single_queue_no_rps", s))
	})
	t.Run("one CPU", func(t *testing.T) { expectNone(t, run(t, "single_queue_no_rps", build([]string{"0"}))) })
	t.Run("virtual", func(t *testing.T) {
		s := build([]string{"0-1"})
		s.NetDevices[0].Driver, s.NetDevices[0].BusAddress = "", ""
		expectNone(t, run(t, "single_queue_no_rps", s))
	})
	t.Run("multiqueue", func(t *testing.T) {
		s := snaptest.Host(t, []string{"0-1"}, "")
		snaptest.NIC(s, "eth0", -1, 2, 2)
		expectNone(t, run(t, "single_queue_no_rps", s))
	})
}

func TestCheckChannelsBelowMax(t *testing.T) {
	build := func(ch nic.Channels) *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0-3", "4-7"}, "7")
		snaptest.NIC(s, "ens1f0", 0, 8, 8)
		s.Channels = map[string]nic.Channels{"ens1f0": ch}
		return s
	}
	t.Run("fires", func(t *testing.T) {
		expectFindings(t, run(t, "channels_below_max_and_cpus", build(nic.Channels{Device: "ens1f0", MaxCombined: 63, Combined: 4})),
			Finding{Check: "channels_below_max_and_cpus", Severity: "info", Device: "ens1f0",
				Message: "ens1f0 uses 4 combined channels of a maximum of 63 on a host with 7 housekeeping CPUs.",
				Fix:     "ethtool -L ens1f0 combined 7"})
	})
	t.Run("rx channels", func(t *testing.T) {
		got := run(t, "channels_below_max_and_cpus", build(nic.Channels{MaxRx: 4, MaxTx: 4, Rx: 1, Tx: 4}))
		if len(got) != 1 || got[0].Fix != "ethtool -L ens1f0 rx 4" {
			t.Errorf("want ethtool -L ens1f0 rx 4, got:\n%s", dumpFindings(got))
		}
	})
	t.Run("at max", func(t *testing.T) {
		expectNone(t, run(t, "channels_below_max_and_cpus", build(nic.Channels{MaxCombined: 4, Combined: 4})))
	})
	t.Run("at CPU count", func(t *testing.T) {
		expectNone(t, run(t, "channels_below_max_and_cpus", build(nic.Channels{MaxCombined: 63, Combined: 7})))
	})
	t.Run("no ethtool data", func(t *testing.T) {
		s := build(nic.Channels{})
		s.Channels = nil
		expectNone(t, run(t, "channels_below_max_and_cpus", s))
	})
}

func TestCheckRSSUnequalShares(t *testing.T) {
	build := func(table ...uint32) *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0-3"}, "")
		snaptest.NIC(s, "eth0", -1, 8, 8)
		s.Channels = map[string]nic.Channels{"eth0": {Device: "eth0", MaxCombined: 8, Combined: 4}}
		s.RSS = map[string]nic.RSSTable{"eth0": {Device: "eth0", HashFunc: "toeplitz", Indirection: table}}
		return s
	}
	t.Run("fires: queue without entries", func(t *testing.T) {
		expectFindings(t, run(t, "rss_unequal_shares", build(0, 0, 0, 0, 1, 1, 2, 2)),
			Finding{Check: "rss_unequal_shares", Severity: "info", Device: "eth0", Queue: "3",
				Message: "The RSS indirection table of eth0 (8 entries, 4 active RX channels) gives queue 3 0 entries and queue 0 4.",
				Fix:     "ethtool -X eth0 equal 4"})
	})
	t.Run("fires: ratio", func(t *testing.T) {
		table := make([]uint32, 0, 128)
		for i := range 128 {
			table = append(table, uint32(i%4))
		}
		for i := 0; i < 96; i++ { // queue 1 → queue 0 in 24 of its 32 buckets: 56 vs 8
			if table[i] == 1 {
				table[i] = 0
			}
		}
		got := run(t, "rss_unequal_shares", build(table...))
		if len(got) != 1 || got[0].Queue != "1" {
			t.Errorf("want queue 1 as the least served, got:\n%s", dumpFindings(got))
		}
	})
	t.Run("equal", func(t *testing.T) {
		expectNone(t, run(t, "rss_unequal_shares", build(0, 1, 2, 3, 0, 1, 2, 3)))
	})
	t.Run("rounding", func(t *testing.T) {
		// 128 entries over 100 queues: 2 or 1 each, the best a table can do.
		s := snaptest.Host(t, []string{"0-127"}, "")
		snaptest.NIC(s, "eth0", -1, 100, 100)
		table := make([]uint32, 128)
		for i := range table {
			table[i] = uint32(i % 100)
		}
		s.RSS = map[string]nic.RSSTable{"eth0": {Indirection: table}}
		expectNone(t, run(t, "rss_unequal_shares", s))
	})
	t.Run("no ethtool data", func(t *testing.T) {
		s := build()
		s.RSS = nil
		expectNone(t, run(t, "rss_unequal_shares", s))
	})
}

func TestCheckAffinityDiffersFromHint(t *testing.T) {
	build := func(hint string) *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0-3", "4-7"}, "7")
		snaptest.NIC(s, "eth0", 0, 2, 2)
		snaptest.IRQ(t, s, 50, "eth0", 0, kernel.KindCombined, "0-3", "0", hint)
		snaptest.IRQ(t, s, 51, "eth0", 1, kernel.KindCombined, "2", "2", "2")
		return s
	}
	t.Run("fires", func(t *testing.T) {
		expectFindings(t, run(t, "affinity_differs_from_hint", build("1")),
			Finding{Check: "affinity_differs_from_hint", Severity: "info", Device: "eth0", Queue: "0", IRQ: "50", CPU: "0-3",
				Message: "IRQ 50 (eth0 queue 0, combined) is allowed on CPUs 0-3, but its driver's affinity_hint is CPU 1.",
				Fix:     "echo 1 > /proc/irq/50/smp_affinity_list"})
	})
	t.Run("no hint", func(t *testing.T) { expectNone(t, run(t, "affinity_differs_from_hint", build(""))) })
	t.Run("equal", func(t *testing.T) { expectNone(t, run(t, "affinity_differs_from_hint", build("0-3"))) })
	t.Run("hint on isolated CPU", func(t *testing.T) { expectNone(t, run(t, "affinity_differs_from_hint", build("7"))) })
	t.Run("hint on remote node", func(t *testing.T) { expectNone(t, run(t, "affinity_differs_from_hint", build("5"))) })
}

func TestCheckNAPIThreadUnpinned(t *testing.T) {
	build := func(allowed string) *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0-3"}, "")
		snaptest.NIC(s, "eth0", -1, 2, 2).Threaded = 1
		snaptest.IRQ(t, s, 60, "eth0", 0, kernel.KindCombined, "2", "2", "")
		snaptest.IRQ(t, s, 61, "eth0", 1, kernel.KindCombined, "3", "3", "")
		s.Threads = []procfs.KernelThread{
			{PID: 812, Name: "napi/eth0-8193", Device: "eth0", NAPIID: 8193, CPU: -1, Allowed: snaptest.CPUs(t, allowed)},
			{PID: 813, Name: "napi/eth0-8194", Device: "eth0", NAPIID: 8194, CPU: -1, Allowed: snaptest.CPUs(t, "3")},
			{PID: 15, Name: "ksoftirqd/1", CPU: 1, Allowed: snaptest.CPUs(t, "1")},
		}
		return s
	}
	t.Run("fires by NAPI map", func(t *testing.T) {
		s := build("0-3")
		s.NAPIs = []nic.NAPI{{ID: 8193, Device: "eth0", IRQ: 60, ThreadPID: 812}, {ID: 8194, Device: "eth0", IRQ: 61, ThreadPID: 813}}
		expectFindings(t, run(t, "napi_thread_unpinned", s),
			Finding{Check: "napi_thread_unpinned", Severity: "info", Device: "eth0", Queue: "0", IRQ: "60", CPU: "2",
				Message: "napi/eth0-8193 (PID 812) may run on all 4 online CPUs, while IRQ 60 of its NAPI instance 8193 is pinned to CPU 2.",
				Fix:     "taskset -pc 2 812"})
	})
	t.Run("fires by device", func(t *testing.T) {
		s := build("0-3")
		s.Threads[1].Allowed = snaptest.CPUs(t, "0-3")
		expectFindings(t, run(t, "napi_thread_unpinned", s),
			Finding{Check: "napi_thread_unpinned", Severity: "info", Device: "eth0", CPU: "2-3",
				Message: "napi/eth0-8193 (PID 812), napi/eth0-8194 (PID 813) may run on all 4 online CPUs, while every queue IRQ of eth0 is pinned, together to CPUs 2-3 (NAPI → IRQ map unknown: matched by device).",
				Fix:     "for pid in 812 813; do taskset -pc 2-3 $pid; done"})
	})
	t.Run("thread pinned", func(t *testing.T) { expectNone(t, run(t, "napi_thread_unpinned", build("2"))) })
	t.Run("IRQ not pinned", func(t *testing.T) {
		s := build("0-3")
		s.Affinity[60] = procfs.IRQAffinity{IRQ: 60, SMPAffinity: snaptest.CPUs(t, "0-3"), Effective: snaptest.CPUs(t, "2"), HasEffective: true}
		s.NAPIs = []nic.NAPI{{ID: 8193, Device: "eth0", IRQ: 60, ThreadPID: 812}}
		expectNone(t, run(t, "napi_thread_unpinned", s))
		s.NAPIs = nil // by device: one queue IRQ free on all CPUs
		expectNone(t, run(t, "napi_thread_unpinned", s))
	})
}

// --- fixture hosts through the exporter's snapshot.Source ----------------------------

// fixtureFindings evaluates a host tree read by the exporter's snapshot.Source. The
// deep NIC parts (ethtool and netdev netlink) describe the network
// namespace the test runs in, not the tree, so they are cleared.
func fixtureFindings(t *testing.T, root string) []Finding {
	t.Helper()
	snap := snapshot.NewSource(snapshot.Options{ProcPath: filepath.Join(root, "proc"), SysPath: filepath.Join(root, "sys"), Parts: snapshot.PartAll}).Snapshot()
	fixture := *snap
	fixture.Channels, fixture.RSS, fixture.QueueStats, fixture.QueueNAPIs, fixture.NAPIs = nil, nil, nil, nil, nil
	return Evaluate(&fixture)
}

// short is "check device/queue/irq/cpu: fix", one line per finding.
func short(fs []Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s/%s/%s/%s: %s", f.Check, f.Device, f.Queue, f.IRQ, f.CPU, f.Fix))
	}
	return out
}

func expectShort(t *testing.T, got []Finding, want []string) {
	t.Helper()
	g := short(got)
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(g, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestFindingsBigiron: node 0 = CPUs 0-3 (ens1f0's node), node 1 = 4-7,
// CPU 7 isolated and nohz_full (see the fixture's SOURCE.md). CPU 1's two
// queue IRQs (100, 101) are no queue_irqs_share_cpu finding: CPUs 0, 2 and
// 3 each serve one of ens1f0's queue IRQs, so node 0 has no free CPU (the
// real problem, three IRQs on node 1, is irq_remote_numa). CPU 7 shows up
// in rps_cpus of ens1f0 rx-2 and veth0 rx-0 and in xps_cpus of tx-7; no NIC
// IRQ may run there (106 has its hint there but is kept off it).
func TestFindingsBigiron(t *testing.T) {
	expectShort(t, fixtureFindings(t, "../../testdata/hosts/bigiron-8cpu"), []string{
		"irq_remote_numa ens1f0/4/103/5: echo 0-3 > /proc/irq/103/smp_affinity_list",
		"irq_remote_numa ens1f0/5/104/6: echo 0-3 > /proc/irq/104/smp_affinity_list",
		"irq_remote_numa ens1f0/7/106/4: echo 0-3 > /proc/irq/106/smp_affinity_list",
		"rps_remote_numa ens1f0/2//4-7: echo f > /sys/class/net/ens1f0/queues/rx-2/rps_cpus",
		"rps_remote_numa ens1f0/3//4-6: echo f > /sys/class/net/ens1f0/queues/rx-3/rps_cpus",
		"rps_remote_numa ens1f0/7//4-6: echo f > /sys/class/net/ens1f0/queues/rx-7/rps_cpus",
		"rps_on_isolated_cpu ens1f0/2//7: echo f > /sys/class/net/ens1f0/queues/rx-2/rps_cpus",
		"rps_on_isolated_cpu veth0/0//7: echo 70 > /sys/class/net/veth0/queues/rx-0/rps_cpus",
		"xps_on_isolated_cpu ens1f0/7//7: echo 0 > /sys/class/net/ens1f0/queues/tx-7/xps_cpus",
		"affinity_differs_from_hint ens1f0/2/101/1: echo 2 > /proc/irq/101/smp_affinity_list",
		"bql_tx_stalls ens1f0/5/104/6: grep -H . /sys/class/net/ens1f0/queues/tx-5/tx_timeout /sys/class/net/ens1f0/queues/tx-5/byte_queue_limits/stall_*; ethtool -S ens1f0 | grep -iE 'timeout|reset|restart|stop'",
	})
}

// TestFindingsBigironStacked moves IRQ 102 (queue 3) from CPU 3 onto CPU 1
// in a copy of the tree: now three queue IRQs stack on CPU 1 while CPU 3
// serves none, so queue_irqs_share_cpu moves the second (101) to CPU 3;
// the third (102) has no free CPU left on node 0 and is no finding.
func TestFindingsBigironStacked(t *testing.T) {
	root := testutil.CopyTree(t, "../../testdata/hosts/bigiron-8cpu")
	for _, f := range []string{"smp_affinity_list", "effective_affinity_list"} {
		if err := os.WriteFile(filepath.Join(root, "proc/irq/102", f), []byte("1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := fixtureFindings(t, root)
	var stacked []Finding
	for _, f := range got {
		if f.Check == "queue_irqs_share_cpu" {
			stacked = append(stacked, f)
		}
	}
	expectFindings(t, stacked, Finding{Check: "queue_irqs_share_cpu", Severity: "warning", Device: "ens1f0", Queue: "2", IRQ: "101", CPU: "1",
		Message: "IRQ 101 (ens1f0 queue 2, combined) fires on CPU 1 together with IRQ 100 (queue 1), IRQ 102 (queue 3), while NUMA node 0 has CPU 3 serving no receive queue IRQ of ens1f0.",
		Fix:     "echo 3 > /proc/irq/101/smp_affinity_list"})
}

// TestFindingsFC: a 2-vCPU Firecracker guest with one single-queue
// virtio-net NIC and RPS off. lo and ifb0/1 are virtual; IRQs 38/39 have
// the hint 0-1, equal to their affinity.
func TestFindingsFC(t *testing.T) {
	got := fixtureFindings(t, "../../testdata/hosts/fc-2cpu")
	expectFindings(t, got, Finding{Check: "single_queue_no_rps", Severity: "info", Device: "eth0", Queue: "0", IRQ: "38", CPU: "1",
		Message: "eth0 has one RX queue and RPS is off: all its receive processing runs on one CPU (IRQ 38, CPU 1) of 2 housekeeping CPUs.",
		Fix:     "echo 3 > /sys/class/net/eth0/queues/rx-0/rps_cpus"})
}

// --- the collector ----------------------------------------------------------
