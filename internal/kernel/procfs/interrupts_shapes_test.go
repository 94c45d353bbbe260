package procfs

import (
	"path/filepath"
	"reflect"
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
