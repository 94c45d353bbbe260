package irqclass

import (
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// Shapes written for the interrupts parser (its testdata/interrupts/README.md).
const irqcShapes = "../kernel/procfs/testdata/interrupts"

func irqcLoadShape(t *testing.T, name string) *procfs.InterruptTable {
	t.Helper()
	tab, err := intrLoadPath(t, filepath.Join(irqcShapes, name))
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// azureSys is the sysfs of an Azure VM with accelerated networking: the
// synthetic eth0 (hv_netvsc, on VMBus, no IRQ of its own) and its MANA VF
// enP30832s1 at PCI 7870:00:00.0, whose msi_irqs are IRQs 24..28.
func azureSys(t *testing.T) []sysfs.NetDevice {
	h := testutil.NewHostTree(t)
	vmbus := "sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00"
	netvsc := vmbus + "/000d3a5e-0c1f-000d-3a5e-0c1f000d3a5e"
	h.Link("sys/class/net/eth0", "../../devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/000d3a5e-0c1f-000d-3a5e-0c1f000d3a5e/net/eth0")
	h.Link(netvsc+"/net/eth0/device", "../../../000d3a5e-0c1f-000d-3a5e-0c1f000d3a5e")
	h.Link(netvsc+"/driver", "../../../../../../bus/vmbus/drivers/hv_netvsc")
	pci := vmbus + "/7870d3a5-0c1f-4e25-9a7b-3b2a1c7f0d31/pci7870:00/7870:00:00.0"
	h.Link("sys/class/net/enP30832s1", "../../devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/7870d3a5-0c1f-4e25-9a7b-3b2a1c7f0d31/pci7870:00/7870:00:00.0/net/enP30832s1")
	h.Link(pci+"/net/enP30832s1/device", "../../../7870:00:00.0")
	h.Link(pci+"/driver", "../../../../../../../../bus/pci/drivers/mana")
	h.File(pci+"/numa_node", "0\n")
	for irq := 24; irq <= 28; irq++ {
		h.File(pci+"/msi_irqs/"+strconv.Itoa(irq), "msix\n")
	}
	devs, err := sysfs.ReadNetDevices(h.Path("sys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return devs
}

// TestClassifyIRQsMANAOnHyperV: the MANA vectors of an Azure VM, on the
// "Hyper-V PCIe MSI" chip, are the VF's queues: mana_qN is combined queue N
// of the net device at the PCI address the name gives (sysfs), mana_hwc
// its other vector; the NVMe vectors on the same chip are not a NIC's.
// Before the parser kept the chip's blanks, no mana_q IRQ was a queue.
func TestClassifyIRQsMANAOnHyperV(t *testing.T) {
	tab := irqcLoadShape(t, "azure-4cpu-mana-hyperv-pcie-msi.txt")
	none := []int{0, 1, 4, 8, 9, 12, 29, 30, 31}
	t.Run("with sysfs", func(t *testing.T) {
		got := ClassifyIRQs(tab, azureSys(t))
		irqcCheck(t, tab, got, irqcTruth{}.rng(25, 28, "enP30832s1", 0, kernel.KindCombined).other("enP30832s1", 24), none)
		if got[25].Driver != "mana" {
			t.Errorf("IRQ 25 rule %q, want mana", got[25].Driver)
		}
	})
	t.Run("without sysfs", func(t *testing.T) {
		irqcCheck(t, tab, ClassifyIRQs(tab, nil),
			irqcTruth{}.rng(25, 28, "7870:00:00.0", 0, kernel.KindCombined).other("7870:00:00.0", 24), none)
	})
}

// TestClassifyIRQsQlcnicTx0OnLastRing: qlcnic names its rings "eth0-rx-0"
// .. "eth0-rx-2" and gives the last one tx ring 0 too, "eth0-tx-0-rx-3":
// that IRQ is rx queue 3 and also tx queue 0 (IRQClass.Also says why not
// combined queue 3). With a single ring, "eth2-tx-0-rx-0", it is combined
// queue 0. Before, the tx-0-rx names matched no rule and both vanished.
func TestClassifyIRQsQlcnicTx0OnLastRing(t *testing.T) {
	tab := irqcLoadShape(t, "qlcnic-8cpu-tx0-on-last-rx-ring.txt")
	got := ClassifyIRQs(tab, nil)
	irqcCheck(t, tab, got,
		irqcTruth{}.rng(70, 73, "eth0", 0, kernel.KindRx).rng(74, 77, "eth1", 0, kernel.KindRx).single("eth2", 78),
		[]int{0, 1, 8, 9, 16, 23, 24, 64})
	wantAlso := map[int][]QueueRef{
		73: {{Device: "eth0", Queue: 0, Kind: kernel.KindTx}},
		77: {{Device: "eth1", Queue: 0, Kind: kernel.KindTx}},
	}
	for _, l := range tab.IRQs {
		if c := got[l.IRQ]; !slices.Equal(c.Also, wantAlso[l.IRQ]) {
			t.Errorf("IRQ %d (%q) also serves %+v, want %+v", l.IRQ, l.Name, c.Also, wantAlso[l.IRQ])
		}
	}
	if c := got[73]; c.Driver != "qlcnic" || len(c.Serves()) != 2 {
		t.Errorf("IRQ 73 = %+v, serves %+v", c, c.Serves())
	}
	// sysfs renames the handle in Also too.
	devs := []sysfs.NetDevice{{Name: "enp5s0f0", Driver: "qlcnic", BusAddress: "0000:05:00.0", MSIIRQs: irqcRangeList(70, 73)}}
	tab.IRQs = slices.DeleteFunc(tab.IRQs, func(l procfs.IRQLine) bool { return l.IRQ < 70 || l.IRQ > 73 })
	if c := ClassifyIRQs(tab, devs)[73]; c.Device != "enp5s0f0" || !slices.Equal(c.Also, []QueueRef{{Device: "enp5s0f0", Queue: 0, Kind: kernel.KindTx}}) {
		t.Errorf("renamed: IRQ 73 = %+v", c)
	}
}

// TestClassifyIRQsSharedINTxTwoNICs: "uhci_hcd:usb1, eth0, eth1" is one
// legacy line serving two single-vector NICs: the class is eth0's and Also
// holds eth1's, by name alone and with sysfs (before, eth1 was dropped).
func TestClassifyIRQsSharedINTxTwoNICs(t *testing.T) {
	tab := irqcLoadShape(t, "qemu-2cpu-two-nics-shared-intx.txt")
	none := []int{0, 1, 8, 9, 10, 12, 14, 15}
	devs := []sysfs.NetDevice{
		{Name: "eth0", Driver: "e1000", BusAddress: "0000:00:03.0", LegacyIRQ: 11},
		{Name: "eth1", Driver: "e1000", BusAddress: "0000:00:04.0", LegacyIRQ: 11},
	}
	for _, d := range [][]sysfs.NetDevice{nil, devs} {
		got := ClassifyIRQs(tab, d)
		irqcCheck(t, tab, got, irqcTruth{}.single("eth0", 11), none)
		want := []QueueRef{{Device: "eth0", Queue: 0, Kind: kernel.KindCombined}, {Device: "eth1", Queue: 0, Kind: kernel.KindCombined}}
		if c := got[11]; !slices.Equal(c.Serves(), want) {
			t.Errorf("sysfs %v: IRQ 11 serves %+v, want %+v", d != nil, c.Serves(), want)
		}
	}
	// The same NIC named twice is served once.
	line := &procfs.InterruptTable{CPUs: []int{0}, IRQs: []procfs.IRQLine{{IRQ: 5, Counts: []uint64{1}, Name: "eth0, eth0"}}}
	if c := ClassifyIRQs(line, nil)[5]; c.Also != nil {
		t.Errorf("eth0, eth0: Also %+v", c.Also)
	}
}
