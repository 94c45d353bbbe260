package diagnosis

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/hostgen"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// addField adds delta to whitespace field i of the first line of file that
// starts with prefix.
func addField(t *testing.T, file, prefix string, i int, delta uint64) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for n, line := range lines {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		f[i] = strconv.FormatUint(v+delta, 10)
		lines[n] = strings.Join(f, " ")
		if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("%s: no line starts with %q", file, prefix)
}

// TestDiagnoseBacklogThreads reads a generated host (internal/hostgen: 4
// CPUs, booted with thread_backlog_napi) twice, 10 s apart. In between CPU
// 1 spends 8 s in system time, 7 s of it in backlog_napi/1 (RPS and
// netif_rx work it processes instead of NET_RX softirq), 1 s in softirq
// (ksoftirqd/1's 1 s is part of that: softirq time already) and 1 s idle.
// The backlog thread's 0.7 is network work: CPU 1 is starved (busy 0.9,
// network work 0.8); without it, network work would be 0.1 and the CPU
// would look like it runs some other system work.
func TestDiagnoseBacklogThreads(t *testing.T) {
	spec := hostgen.Spec{CPUs: 4, NUMANodes: 1, NICs: []hostgen.NIC{{Driver: hostgen.Virtio, Queues: 2}},
		NonNICIRQs: 4, Seed: 5, Threads: true, BacklogThreads: true}
	before := filepath.Join(t.TempDir(), "before")
	if err := hostgen.Generate(before, spec); err != nil {
		t.Fatal(err)
	}
	after := testutil.CopyTree(t, before)
	stat := filepath.Join(after, "proc", "stat")
	addField(t, stat, "cpu1 ", 3, 800) // system
	addField(t, stat, "cpu1 ", 4, 100) // idle
	addField(t, stat, "cpu1 ", 7, 100) // softirq
	for _, cpu := range []string{"cpu0 ", "cpu2 ", "cpu3 "} {
		addField(t, stat, cpu, 4, 1000)
	}
	thread := func(backlog bool) string {
		return filepath.Join(after, "proc", strconv.Itoa(hostgen.ThreadPID(backlog, 1)), "stat")
	}
	addField(t, thread(true), strconv.Itoa(hostgen.ThreadPID(true, 1)), 14, 700)   // stime: backlog_napi/1
	addField(t, thread(false), strconv.Itoa(hostgen.ThreadPID(false, 1)), 14, 100) // stime: ksoftirqd/1

	read := func(root string) *snapshot.Snapshot {
		return snapshot.NewSource(snapshot.Options{ProcPath: filepath.Join(root, "proc"), SysPath: filepath.Join(root, "sys"),
			Parts: snapshot.PartAll &^ (snapshot.PartEthtool | snapshot.PartQueueStats)}).Snapshot()
	}
	prev, cur := read(before), read(after)
	if prev.ThreadsErr != nil || len(prev.Threads) != 8 {
		t.Fatalf("threads of the generated host: %d, %v; want 4 ksoftirqd and 4 backlog_napi", len(prev.Threads), prev.ThreadsErr)
	}
	cur.Time = prev.Time.Add(10 * time.Second)

	var cpu1 CPULoad
	for _, l := range CPULoads(prev, cur) {
		if l.CPU == 1 {
			cpu1 = l
		}
	}
	near := func(p *float64, want float64) bool { return p != nil && math.Abs(*p-want) < 1e-9 }
	if !near(cpu1.NAPIThread, 0.7) || !near(cpu1.SoftIRQ, 0.1) || !near(cpu1.NetWork, 0.8) || !near(cpu1.Busy, 0.9) {
		t.Fatalf("CPU 1: %s", dumpLoad(cpu1))
	}
	hot := Diagnose(prev, cur, Evaluate(cur))
	if len(hot) != 1 || hot[0].CPU != 1 || hot[0].Why != "busy, and network work is the largest consumer" {
		t.Fatalf("hot CPUs %+v, want CPU 1 busy with network work", hot)
	}
}

func dumpLoad(l CPULoad) string {
	f := func(p *float64) string {
		if p == nil {
			return "nil"
		}
		return strconv.FormatFloat(*p, 'f', 3, 64)
	}
	return "busy " + f(l.Busy) + " net " + f(l.NetWork) + " softirq " + f(l.SoftIRQ) + " irq " + f(l.IRQ) + " threads " + f(l.NAPIThread)
}
