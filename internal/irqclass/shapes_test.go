package irqclass

import (
	"path/filepath"
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
	devs, err := sysfs.ReadNetDevices(h.Path("sys"))
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
