package collector

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	procfslib "github.com/prometheus/procfs"
)

// Benchmarks of procfs.ParseInterrupts against procfs's parser on the same bytes:
// a synthetic 64-CPU /proc/interrupts with 300 numbered IRQs (modern x86
// format, NIC-style names) and the usual arch lines.
//
//	go test ./collector -run '^$' -bench 'Interrupts|irqclass.ClassifyIRQs' -benchmem
//
// procfs.Proc.Interrupts reads <mount>/interrupts (the host-wide file, not
// <mount>/<pid>/interrupts) through a 1 MiB-limited io.ReadAll, and
// FS.Proc(pid) only checks that <mount>/<pid> exists, so the fixture is
// laid out as <tmp>/interrupts plus an empty <tmp>/<pid>/ directory. The
// file-based benchmarks of both parsers include opening and reading the file.

const benchIntrCPUs, benchIntrIRQs = 64, 300

func benchInterruptsData() []byte {
	var b bytes.Buffer
	b.WriteString("     ")
	for c := range benchIntrCPUs {
		fmt.Fprintf(&b, "  CPU%-7d", c)
	}
	b.WriteString("\n")
	for i := range benchIntrIRQs {
		irq := 24 + i
		fmt.Fprintf(&b, "%4d:", irq)
		for c := range benchIntrCPUs {
			fmt.Fprintf(&b, " %10d", uint64((irq*7919+c*104729)%1000003)*uint64(1+c%5))
		}
		switch {
		case i < 8:
			fmt.Fprintf(&b, "  IR-IO-APIC   %d-fasteoi   ehci_hcd:usb%d, i801_smbus\n", i, i)
		case i%3 == 0:
			fmt.Fprintf(&b, "  IR-PCI-MSIX-0000:3b:00.0 %4d-edge      mlx5_comp%d@pci:0000:3b:00.0\n", i, i)
		case i%3 == 1:
			fmt.Fprintf(&b, "  IR-PCI-MSIX-0000:5e:00.0 %4d-edge      ice-ens2f0-TxRx-%d\n", i, i)
		default:
			fmt.Fprintf(&b, "  IR-PCI-MSI %d-edge      nvme0q%d\n", 1572864+i, i)
		}
	}
	for _, a := range []struct{ name, desc string }{
		{"NMI", "Non-maskable interrupts"}, {"LOC", "Local timer interrupts"}, {"SPU", "Spurious interrupts"},
		{"PMI", "Performance monitoring interrupts"}, {"IWI", "IRQ work interrupts"}, {"RTR", "APIC ICR read retries"},
		{"RES", "Rescheduling interrupts"}, {"CAL", "Function call interrupts"}, {"TLB", "TLB shootdowns"},
		{"TRM", "Thermal event interrupts"}, {"THR", "Threshold APIC interrupts"}, {"DFR", "Deferred Error APIC interrupts"},
		{"MCE", "Machine check exceptions"}, {"MCP", "Machine check polls"},
	} {
		fmt.Fprintf(&b, "%4s:", a.name)
		for c := range benchIntrCPUs {
			fmt.Fprintf(&b, " %10d", 1000*c+len(a.name))
		}
		fmt.Fprintf(&b, "   %s\n", a.desc)
	}
	b.WriteString(" ERR:          0\n MIS:          0\n")
	return b.Bytes()
}

// benchInterruptsDir writes the fixture as procfs expects it and returns
// the mount point and the pid to use.
func benchInterruptsDir(b *testing.B, data []byte) (string, int) {
	dir := b.TempDir()
	const pid = 4242
	if err := os.Mkdir(filepath.Join(dir, fmt.Sprint(pid)), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "interrupts"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir, pid
}

func TestBenchInterruptsDataParses(t *testing.T) {
	data := benchInterruptsData()
	tab, err := procfs.ParseInterrupts(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.CPUs) != benchIntrCPUs || len(tab.IRQs) != benchIntrIRQs || len(tab.Arch) != 16 {
		t.Fatalf("%d CPUs, %d IRQs, %d arch lines", len(tab.CPUs), len(tab.IRQs), len(tab.Arch))
	}
	if l := tab.IRQs[9]; l.Chip != "IR-PCI-MSIX-0000:3b:00.0" || l.HWIRQ != "9-edge" || l.Name != "mlx5_comp9@pci:0000:3b:00.0" {
		t.Errorf("IRQ line %+v", l)
	}
	if tab.CPUs[63] != 63 {
		t.Errorf("CPUs %v", tab.CPUs)
	}
}

func BenchmarkParseInterrupts(b *testing.B) {
	data := benchInterruptsData()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := procfs.ParseInterrupts(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseInterruptsFile(b *testing.B) {
	data := benchInterruptsData()
	dir, _ := benchInterruptsDir(b, data)
	path := filepath.Join(dir, "interrupts")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		_, err = procfs.ParseInterrupts(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProcfsInterruptsFile(b *testing.B) {
	data := benchInterruptsData()
	dir, pid := benchInterruptsDir(b, data)
	fs, err := procfslib.NewFS(dir)
	if err != nil {
		b.Fatal(err)
	}
	p, err := fs.Proc(pid)
	if err != nil {
		b.Fatal(err)
	}
	if got, err := p.Interrupts(); err != nil || len(got) != benchIntrIRQs+16 {
		b.Fatalf("procfs read %d lines: %v", len(got), err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Interrupts(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClassifyIRQs(b *testing.B) {
	tab, err := procfs.ParseInterrupts(bytes.NewReader(benchInterruptsData()))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		irqclass.ClassifyIRQs(tab, nil)
	}
}
