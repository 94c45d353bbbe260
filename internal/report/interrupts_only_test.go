package report

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// The /proc/interrupts shapes written for the parser (its
// testdata/interrupts/README.md).
const intrShapes = "../kernel/procfs/testdata/interrupts"

// runInterruptsOnly runs the report on a host whose only file is
// proc/interrupts holding content: `netirq_exporter report
// --path.procfs=DIR` on a saved /proc/interrupts or a pasted fragment.
// Netlink is left out: it would ask the machine running the test.
func runInterruptsOnly(t *testing.T, content string) (Report, string) {
	t.Helper()
	h := testutil.NewHostTree(t)
	h.File("proc/interrupts", content)
	source := snapshot.NewSource(snapshot.Options{ProcPath: h.Path("proc"), SysPath: h.Path("sys"),
		Parts: snapshot.PartAll &^ (snapshot.PartEthtool | snapshot.PartQueueStats)})
	var out bytes.Buffer
	r, err := Run(source, Options{Interval: 10 * time.Millisecond}, &out)
	if err != nil {
		t.Fatal(err)
	}
	return r, out.String()
}

func readShape(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(intrShapes, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReportWarnsOnHeaderlessFragment: a fragment without the CPU header
// is reported, with a warning that its columns were taken as CPU0..n-1
// (before, it was read without one).
func TestReportWarnsOnHeaderlessFragment(t *testing.T) {
	r, text := runInterruptsOnly(t, readShape(t, "igb-4cpu-grep-eth0-fragment.txt"))
	const want = "/proc/interrupts: line 1: no CPUn header (first line (91 bytes starting with a digit)); assuming"
	found := false
	for _, w := range r.Warnings {
		found = found || strings.HasPrefix(w, "interrupts: ") && strings.Contains(w, want)
	}
	if !found {
		t.Errorf("warnings %q lack %q", r.Warnings, want)
	}
	if !strings.Contains(text, want) || !strings.Contains(text, "assuming columns are CPU0..CPUn-1") {
		t.Errorf("text report lacks the warning:\n%s", text)
	}
	// A whole file, with its header, brings no interrupts warning.
	r, _ = runInterruptsOnly(t, readShape(t, "azure-4cpu-mana-hyperv-pcie-msi.txt"))
	for _, w := range r.Warnings {
		if strings.HasPrefix(w, "interrupts:") {
			t.Errorf("warning %q for a file with its header", w)
		}
	}
}

// TestReportCPUsFromInterruptsHeader: with /proc/interrupts alone (no
// /sys, no other /proc file) the report covers the CPUs its header names
// (it said "0 CPUs" before), with their NIC interrupt rates.
func TestReportCPUsFromInterruptsHeader(t *testing.T) {
	r, text := runInterruptsOnly(t, readShape(t, "qemu-2cpu-two-nics-shared-intx.txt"))
	if !strings.Contains(text, ", 2 CPUs, ") {
		t.Errorf("header does not say 2 CPUs:\n%s", text)
	}
	if got := cpuNumbers(r); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("CPU rows %v, want [0 1]", got)
	}
	if c := r.CPUs[0]; c.NICInterruptsPerSecond == nil || c.Node != -1 || c.SoftirqPercent != nil {
		t.Errorf("CPU 0 row %+v, want a NIC interrupt rate and nothing /sys or /proc/stat would give", c)
	}
	// The header's CPU numbers, not a count: CPU1 offline.
	r, _ = runInterruptsOnly(t, "           CPU0       CPU2       CPU3\n 11:          5          0          7   IO-APIC  11-fasteoi   eth0\n")
	if got := cpuNumbers(r); !slices.Equal(got, []int{0, 2, 3}) {
		t.Errorf("CPU rows %v, want [0 2 3]", got)
	}
}

func cpuNumbers(r Report) []int {
	var out []int
	for _, c := range r.CPUs {
		out = append(out, c.CPU)
	}
	return out
}
