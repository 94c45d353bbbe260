package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// bump adds delta to the token-th whitespace-separated field (0-based) of
// the line of file under root that matches lineRe, keeping the column
// width; hex parses and prints the field in hexadecimal (softnet_stat).
func bump(t *testing.T, root, file, lineRe string, token int, delta uint64, hex bool) {
	t.Helper()
	path := filepath.Join(root, file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	re := regexp.MustCompile(lineRe)
	done := false
	for i, line := range lines {
		if done || !re.MatchString(line) {
			continue
		}
		spans := regexp.MustCompile(`\S+`).FindAllStringIndex(line, -1)
		if token >= len(spans) {
			t.Fatalf("%s: line %q has no field %d", file, line, token)
		}
		s, e := spans[token][0], spans[token][1]
		base, format := 10, "%*d"
		if hex {
			base, format = 16, "%0*x"
		}
		v, err := strconv.ParseUint(line[s:e], base, 64)
		if err != nil {
			t.Fatalf("%s: field %q: %v", file, line[s:e], err)
		}
		lines[i] = line[:s] + fmt.Sprintf(format, e-s, v+delta) + line[e:]
		done = true
	}
	if !done {
		t.Fatalf("%s: no line matches %q", file, lineRe)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func approx(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: nil, want %g", what, want)
		return
	}
	if d := *got - want; d > 1e-6 || d < -1e-6 {
		t.Errorf("%s = %g, want %g", what, *got, want)
	}
}

func queueRow(t *testing.T, r Report, dev string, irq int, kind string, queue int) ReportQueue {
	t.Helper()
	for _, d := range r.Devices {
		if d.Name != dev {
			continue
		}
		for _, q := range d.Queues {
			if q.IRQ == irq && q.Kind == kind && q.Queue == queue {
				return q
			}
		}
	}
	t.Fatalf("no %s row for %s queue %d IRQ %d in %+v", kind, dev, queue, irq, r.Devices)
	return ReportQueue{}
}

// TestBuildReportFixture reads bigiron-8cpu twice through a snapshot
// Source, with counters bumped in between, and checks every rate.
func TestBuildReportFixture(t *testing.T) {
	root := testutil.CopyTree(t, "../../testdata/hosts/bigiron-8cpu")
	source := snapshot.NewSource(snapshot.Options{ProcPath: filepath.Join(root, "proc"), SysPath: filepath.Join(root, "sys"), Parts: snapshot.PartAll})
	// Fresh snapshots (not shared), then pin the interval to 2 s.
	prev := *source.Snapshot()
	bump(t, root, "proc/interrupts", `^\s*100:`, 2, 2000, false)          // IRQ 100, CPU 1: +1000/s
	bump(t, root, "proc/interrupts", `^\s*103:`, 6, 600, false)           // IRQ 103, CPU 5: +300/s
	bump(t, root, "proc/stat", `^cpu1 `, 7, 100, false)                   // softirq +1 s
	bump(t, root, "proc/stat", `^cpu1 `, 6, 20, false)                    // irq +0.2 s
	bump(t, root, "proc/stat", `^cpu1 `, 4, 80, false)                    // idle +0.8 s: 2 s in all
	bump(t, root, "proc/softirqs", `^\s*NET_RX:`, 2, 3000, false)         // CPU 1: 1500/s
	bump(t, root, "proc/softirqs", `^\s*NET_TX:`, 2, 40, false)           // CPU 1: 20/s
	bump(t, root, "proc/net/softnet_stat", `^010fa45e `, 1, 0x20, true)   // dropped: 16/s
	bump(t, root, "proc/net/softnet_stat", `^010fa45e `, 2, 0x10, true)   // time_squeeze: 8/s
	bump(t, root, "proc/net/softnet_stat", `^010fa45e `, 0, 0x1000, true) // processed: 2048/s (last: the line's key)
	cur := *source.Snapshot()
	cur.Time = prev.Time.Add(2 * time.Second)
	// Per-queue statistics come from netlink, which a tree cannot fake.
	prev.QueueStats = []nic.QueueStats{{Device: "ens1f0", Queue: 1, Kind: kernel.KindRx, Packets: 1000}}
	cur.QueueStats = []nic.QueueStats{{Device: "ens1f0", Queue: 1, Kind: kernel.KindRx, Packets: 5000}}

	r := BuildReport(&prev, &cur)
	if r.IntervalSeconds != 2 {
		t.Errorf("interval %g, want 2", r.IntervalSeconds)
	}

	q1 := queueRow(t, r, "ens1f0", 100, "combined", 1)
	approx(t, "IRQ 100 interrupts/s", q1.InterruptsPerSecond, 1000)
	approx(t, "ens1f0 queue 1 rx packets/s", q1.RxPacketsPerSecond, 2000)
	if q1.TxPacketsPerSecond != nil {
		t.Errorf("queue 1 tx packets/s %v, want null (no stats)", *q1.TxPacketsPerSecond)
	}
	if q1.SMPAffinity != "1" || q1.EffectiveCPUs != "1" || q1.Nodes != "0" || q1.RPSCPUs != "1-3" || q1.XPSCPUs != "1" {
		t.Errorf("queue 1 row %+v", q1)
	}
	q4 := queueRow(t, r, "ens1f0", 103, "combined", 4)
	approx(t, "IRQ 103 interrupts/s", q4.InterruptsPerSecond, 300)
	if q4.EffectiveCPUs != "5" || q4.Nodes != "1" {
		t.Errorf("queue 4 row %+v", q4)
	}
	approx(t, "IRQ 99 interrupts/s", queueRow(t, r, "ens1f0", 99, "combined", 0).InterruptsPerSecond, 0)
	queueRow(t, r, "ens1f0", 98, "other", -1)
	// veth0 has no IRQs but RPS/XPS masks: rows per queue without an IRQ.
	if v := queueRow(t, r, "veth0", 0, "rx", 0); v.RPSCPUs != "4-7" || v.InterruptsPerSecond != nil {
		t.Errorf("veth0 rx-0 row %+v", v)
	}
	if v := queueRow(t, r, "veth0", 0, "tx", 0); v.XPSCPUs != "0-1" {
		t.Errorf("veth0 tx-0 row %+v", v)
	}

	if len(r.CPUs) != 8 {
		t.Fatalf("%d CPU rows, want 8", len(r.CPUs))
	}
	c1 := r.CPUs[1]
	if c1.CPU != 1 || c1.Node != 0 || c1.Isolated {
		t.Errorf("CPU 1 row %+v", c1)
	}
	approx(t, "CPU 1 softirq %", c1.SoftirqPercent, 50)
	approx(t, "CPU 1 irq %", c1.IRQPercent, 10)
	approx(t, "CPU 1 NET_RX/s", c1.NetRxPerSecond, 1500)
	approx(t, "CPU 1 NET_TX/s", c1.NetTxPerSecond, 20)
	approx(t, "CPU 1 NIC interrupts/s", c1.NICInterruptsPerSecond, 1000)
	approx(t, "CPU 1 processed/s", c1.ProcessedPerSecond, 2048)
	approx(t, "CPU 1 dropped/s", c1.DroppedPerSecond, 16)
	approx(t, "CPU 1 squeezed/s", c1.SqueezedPerSecond, 8)
	approx(t, "CPU 5 NIC interrupts/s", r.CPUs[5].NICInterruptsPerSecond, 300)
	if c7 := r.CPUs[7]; !c7.Isolated || !c7.NohzFull || c7.Node != 1 || c7.SoftirqPercent != nil {
		t.Errorf("CPU 7 row %+v (its /proc/stat did not move: no percentage)", c7)
	}
	approx(t, "CPU 0 NET_RX/s", r.CPUs[0].NetRxPerSecond, 0)

	var checks []string
	for _, f := range r.Findings {
		checks = append(checks, f.Check+"/"+f.IRQ+f.Queue)
		if f.Fix == "" || f.Message == "" {
			t.Errorf("finding without fix or message: %+v", f)
		}
	}
	for _, want := range []string{"irq_remote_numa/1034", "rps_on_isolated_cpu/2", "xps_on_isolated_cpu/7", "affinity_differs_from_hint/1012"} {
		if !slices.Contains(checks, want) {
			t.Errorf("finding %s missing from %v", want, checks)
		}
	}

	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ens1f0  driver mlx5_core", "IRQS/S", "SOFTIRQ%", "[warning] irq_remote_numa: ens1f0 queue 4 IRQ 103 CPU 5",
		"fix: echo 0-3 > /proc/irq/103/smp_affinity_list", "isolated,nohz_full"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	t.Logf("\n%s", text.String())
}

// TestBuildReportCounterReset: a counter that goes backwards (IRQ freed and
// reused, CPU hot-unplugged) gives no rate rather than a huge one; a 32-bit
// softnet counter that wrapped is counted across the wrap.
func TestBuildReportCounterReset(t *testing.T) {
	if r := rate(100, 50, 1, false); r != nil {
		t.Errorf("backwards counter: %v, want nil", *r)
	}
	approx(t, "wrapped softnet counter", rate(0xfffffff0, 0x10, 2, true), 16)
	if r := rate(1, 2, 0, false); r != nil {
		t.Errorf("zero interval: %v, want nil", *r)
	}
}
