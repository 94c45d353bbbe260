package procfs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Shapes written for this package (testdata/interrupts/README.md) that
// the copied samples lack.

// TestParseInterruptsChipWithBlanks: Hyper-V names its MSI chip "Hyper-V
// PCIe MSI"; the whole name is the chip, so the hwirq and the MANA action
// names come out whole (read before as chip "Hyper-V" and the rest as the
// name, which no naming rule could match).
func TestParseInterruptsChipWithBlanks(t *testing.T) {
	tab, err := intrLoadPath(t, filepath.Join(intrShapes, "azure-4cpu-mana-hyperv-pcie-msi.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tab.CPUs, intrSeq(4)) || len(tab.IRQs) != 14 {
		t.Fatalf("CPUs %v, %d IRQs", tab.CPUs, len(tab.IRQs))
	}
	const chip = "Hyper-V PCIe MSI"
	want := map[int]intrWantIRQ{
		12: {Counts: []uint64{0, 0, 0, 3}, Chip: "IO-APIC", HWIRQ: "12-edge", Name: "i8042"},
		24: {Counts: []uint64{0, 2211, 0, 0}, Chip: chip, HWIRQ: "134742016-edge", Name: "mana_hwc@pci:7870:00:00.0"},
		25: {Counts: []uint64{3150000, 0, 0, 0}, Chip: chip, HWIRQ: "134742017-edge", Name: "mana_q0@pci:7870:00:00.0"},
		28: {Counts: []uint64{0, 0, 0, 3464187}, Chip: chip, HWIRQ: "134742020-edge", Name: "mana_q3@pci:7870:00:00.0"},
		29: {Counts: []uint64{0, 0, 77, 0}, Chip: chip, HWIRQ: "1077936128-edge", Name: "nvme0q0"},
	}
	for irq, w := range want {
		l := intrFindIRQ(tab, irq)
		if l == nil {
			t.Errorf("IRQ %d missing", irq)
			continue
		}
		if got := (intrWantIRQ{Counts: l.Counts, Chip: l.Chip, HWIRQ: l.HWIRQ, Name: l.Name}); !reflect.DeepEqual(got, w) {
			t.Errorf("IRQ %d = %+v, want %+v", irq, got, w)
		}
	}
	if a := intrFindArch(tab, "HYP"); a == nil || a.Description != "Hypervisor callback interrupts" || len(a.Counts) != 4 {
		t.Errorf("HYP = %+v", a)
	}
}

// TestParseInterruptsChipWords: a word one blank after the chip is more
// of the chip unless it is the hwirq column; the names, after two blanks,
// are never taken into the chip.
func TestParseInterruptsChipWords(t *testing.T) {
	for _, c := range []struct {
		tail              string
		chip, hwirq, name string
	}{
		{"Hyper-V PCIe MSI 134742017-edge      mana_q0@pci:7870:00:00.0", "Hyper-V PCIe MSI", "134742017-edge", "mana_q0@pci:7870:00:00.0"},
		{"Hyper-V PCIe MSI  5-edge  nvme0q1", "Hyper-V PCIe MSI", "5-edge", "nvme0q1"},
		{"Some Chip 54 Level     eth0", "Some Chip", "54 Level", "eth0"},
		{"Some Chip -virq      timer0", "Some Chip", "-virq", "timer0"},
		{"IO-APIC-fasteoi   ehci_hcd:usb1, eth0", "IO-APIC-fasteoi", "", "ehci_hcd:usb1, eth0"},
		{"PCI-MSI 524288-edge      eth0", "PCI-MSI", "524288-edge", "eth0"},
		{"Hyper-V PCIe MSI", "Hyper-V PCIe MSI", "", ""},
	} {
		chip, hwirq, name := intrSplitTail(c.tail)
		if chip != c.chip || hwirq != c.hwirq || name != c.name {
			t.Errorf("%q = %q, %q, %q; want %q, %q, %q", c.tail, chip, hwirq, name, c.chip, c.hwirq, c.name)
		}
	}
}

// TestParseInterruptsHeaderlessWarns: a pasted fragment without the CPU
// header is read whole (CPUs 0..n-1) and the error says the columns are
// assumed, in the words ParseSoftirqs uses for the same case.
func TestParseInterruptsHeaderlessWarns(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(intrShapes, "igb-4cpu-grep-eth0-fragment.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tab, err := ParseInterrupts(bytes.NewReader(data))
	var pe *InterruptsParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v, want an *InterruptsParseError", err)
	}
	if !pe.OnlyNoHeader() || pe.NoHeaderLine != 1 || !strings.HasSuffix(pe.NoHeaderText, "bytes starting with a digit") {
		t.Errorf("error %+v, want the headerless warning for line 1 only", pe)
	}
	const want = `line 1: no CPUn header (first line (`
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "; assuming columns are CPU0..CPUn-1") {
		t.Errorf("error %q, want %q...", err, want)
	}
	if !reflect.DeepEqual(tab.CPUs, intrSeq(4)) || len(tab.IRQs) != 5 || tab.IRQs[4].Name != "eth0-TxRx-3" {
		t.Errorf("table %v, %+v", tab.CPUs, tab.IRQs)
	}
	// The softirqs parser's words for its own headerless fragment.
	_, serr := ParseSoftirqs(strings.NewReader("NET_RX: 1 2\n"))
	if serr == nil || !strings.Contains(serr.Error(), `line 1: no CPUn header (first line (11 bytes starting with a letter)); assuming columns are CPU0..CPUn-1`) {
		t.Errorf("softirqs error %v", serr)
	}

	// Other problems follow the warning; a file with its header has none.
	_, err = ParseInterrupts(strings.NewReader(" 1: 1 2 IO-APIC  1-edge  a\n 2: 1 IO-APIC  2-edge  b\n"))
	if !errors.As(err, &pe) || pe.OnlyNoHeader() || !strings.Contains(err.Error(), "no CPUn header") ||
		!strings.Contains(err.Error(), "IRQ 2 has 1 counts, the widest row 2") {
		t.Errorf("headerless with a short row: %v", err)
	}
	if _, err := ParseInterrupts(strings.NewReader("CPU0 CPU1\n 1: 1 2 IO-APIC  1-edge  a\n")); err != nil {
		t.Errorf("with a header: %v", err)
	}
	// A header after the first line does not count: columns are assumed.
	_, err = ParseInterrupts(strings.NewReader(" 1: 1 2 IO-APIC  1-edge  a\nCPU0 CPU1\n"))
	if !errors.As(err, &pe) || pe.NoHeaderLine != 1 {
		t.Errorf("late header: %v", err)
	}
}
