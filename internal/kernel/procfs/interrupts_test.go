package procfs

import (
	"bytes"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
)

// The copied samples, and the shapes written for this package (see their
// README.md).
const (
	intrTestdata = "../../../testdata/proc_interrupts"
	intrShapes   = "testdata/interrupts"
)

// intrLoad parses one fixture of testdata/proc_interrupts.
func intrLoad(t testing.TB, name string) (*InterruptTable, error) {
	t.Helper()
	return intrLoadPath(t, filepath.Join(intrTestdata, name))
}

// intrLoadPath parses the file at path. A pasted fragment (its name says
// so) may lack the CPU header: the warning that it does is dropped, any
// other problem is returned.
func intrLoadPath(t testing.TB, path string) (*InterruptTable, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := ParseInterrupts(bytes.NewReader(data))
	if tab == nil {
		t.Fatalf("%s: nil table (err %v)", path, err)
	}
	var pe *InterruptsParseError
	if strings.Contains(filepath.Base(path), "fragment") && errors.As(err, &pe) && pe.OnlyNoHeader() {
		err = nil
	}
	return tab, err
}

func intrFindIRQ(tab *InterruptTable, irq int) *IRQLine {
	for i := range tab.IRQs {
		if tab.IRQs[i].IRQ == irq {
			return &tab.IRQs[i]
		}
	}
	return nil
}

func intrFindArch(tab *InterruptTable, name string) *ArchLine {
	for i := range tab.Arch {
		if tab.Arch[i].Name == name {
			return &tab.Arch[i]
		}
	}
	return nil
}

func intrSeq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// intrWantIRQ is the expected part of an IRQLine; nil Counts are not checked
// (only their number, which must be len(CPUs)).
type intrWantIRQ struct {
	Counts            []uint64
	Chip, HWIRQ, Name string
}

type intrWantArch struct {
	Counts      []uint64 // nil: only the number is checked
	Global      bool
	Description string
}

func TestParseInterruptsCorpus(t *testing.T) {
	cases := []struct {
		file  string
		cpus  []int
		nIRQ  int
		nArch int
		irqs  map[int]intrWantIRQ
		arch  map[string]intrWantArch
	}{
		{
			file: "100gbe-lab-12cpu-mlx5-pcimsix-fragment.txt", cpus: intrSeq(12), nIRQ: 15,
			irqs: map[int]intrWantIRQ{
				98:  {Counts: []uint64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 23274, 0}, Chip: "IR-PCI-MSIX-0000:01:00.0", HWIRQ: "0-edge", Name: "mlx5_async0@pci:0000:01:00.0"},
				117: {Counts: []uint64{0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 651437}, Chip: "IR-PCI-MSIX-0000:01:00.0", HWIRQ: "10-edge", Name: "mlx5_comp9@pci:0000:01:00.0"},
				102: {Chip: "IR-PCI-MSIX-0000:01:00.1", HWIRQ: "1-edge", Name: "mlx5_comp0@pci:0000:01:00.1"},
			},
		},
		{
			file: "aepkolol-2cpu-arm-zynq-gic.txt", cpus: []int{0, 1}, nIRQ: 19, nArch: 8,
			irqs: map[int]intrWantIRQ{
				145: {Counts: []uint64{863048, 0}, Chip: "GIC", HWIRQ: "54 Level", Name: "eth0"},
				16:  {Counts: []uint64{0, 0}, Chip: "GIC", HWIRQ: "27 Edge", Name: "gt"},
				21:  {Counts: []uint64{53, 0}, Chip: "GIC", HWIRQ: "39 Level", Name: "f8007100.adc"},
			},
			arch: map[string]intrWantArch{
				"IPI2": {Counts: []uint64{240848093, 239178163}, Description: "Rescheduling interrupts"},
				"IPI7": {Counts: []uint64{0, 0}, Description: "completion interrupts"},
				"Err":  {Counts: []uint64{0}, Global: true},
			},
		},
		{
			file: "arthurchiao-4cpu-igb-trimmed-fragment.txt", cpus: intrSeq(4), nIRQ: 9, nArch: 2,
			irqs: map[int]intrWantIRQ{
				30: {Counts: []uint64{3361234770, 0, 0, 0}, Chip: "IR-IO-APIC-fasteoi", Name: "aacraid"},
				64: {Chip: "DMAR_MSI-edge", Name: "dmar0"},
				66: {Counts: []uint64{863649703, 0, 0, 0}, Chip: "IR-PCI-MSI-edge", Name: "eth0-TxRx-0"},
			},
			arch: map[string]intrWantArch{
				"LOC": {Counts: []uint64{2913290785, 1585321306, 1495872829, 1803524526}, Description: "Local timer interrupts"},
			},
		},
		{
			// Truncated last row: only the name lost its queue number.
			file: "cnblog-8cpu-virtio-mq-fragment.txt", cpus: intrSeq(8), nIRQ: 16,
			irqs: map[int]intrWantIRQ{
				50: {Counts: []uint64{538915929, 471487434, 301926043, 363788471, 723278536, 404270469, 209917826, 316697673}, Chip: "PCI-MSI", HWIRQ: "524289-edge", Name: "virtio0-input.0"},
				65: {Chip: "PCI-MSI", HWIRQ: "524304-edge", Name: "virtio0-output."},
			},
		},
		{
			// No chip column at all: the name follows the count.
			file: "d2000-1cpu-arm-sep4020-nochip.txt", cpus: []int{0}, nIRQ: 9, nArch: 1,
			irqs: map[int]intrWantIRQ{
				1:  {Counts: []uint64{0}, Name: "4020KEY"},
				27: {Counts: []uint64{18210}, Name: "sep4020 Timer Tick"},
				28: {Counts: []uint64{12055}, Name: "eth0"},
			},
			arch: map[string]intrWantArch{"Err": {Counts: []uint64{0}, Global: true}},
		},
		{
			file: "deterministic-broadwell-ep-32cpu-tg3-qib.txt", cpus: intrSeq(32), nIRQ: 115, nArch: 19,
			irqs: map[int]intrWantIRQ{
				0:   {Chip: "IR-IO-APIC", HWIRQ: "2-edge", Name: "timer"},
				18:  {Chip: "IR-IO-APIC", HWIRQ: "18-fasteoi", Name: "i801_smbus, ehci_hcd:usb4, ehci_hcd:usb5"},
				41:  {Chip: "IR-PCI-MSI", HWIRQ: "67108864-edge", Name: "PCIe PME"},
				72:  {Chip: "DMAR-MSI", HWIRQ: "0-edge", Name: "dmar0"},
				110: {Chip: "IR-PCI-MSI", HWIRQ: "2621441-edge", Name: "ib_qib0 (buf avail)"},
				119: {Chip: "IR-PCI-MSI", HWIRQ: "2621450-edge", Name: "ib_qib0 (kctx)"},
				121: {Chip: "IR-PCI-MSI", HWIRQ: "1048576-edge", Name: "eth0-tx-0"},
			},
			arch: map[string]intrWantArch{
				"ERR": {Counts: []uint64{0}, Global: true},
				"MIS": {Counts: []uint64{0}, Global: true},
				"PIW": {Description: "Posted-interrupt wakeup event"},
			},
		},
		{
			// Empty names (IRQ 3, 4, 17), shared INTx line.
			file: "deterministic-fam10h-48cpu-amd-shared-intx-eth.txt", cpus: intrSeq(48), nIRQ: 16, nArch: 14,
			irqs: map[int]intrWantIRQ{
				3:  {Chip: "IO-APIC-edge", Name: ""},
				17: {Chip: "IO-APIC-fasteoi", Name: ""},
				23: {Chip: "IO-APIC-fasteoi", Name: "ehci_hcd:usb1, eth0"},
			},
			arch: map[string]intrWantArch{"ERR": {Counts: []uint64{1}, Global: true}},
		},
		{
			file: "deterministic-fam16h-4cpu-two-single-eth.txt", cpus: intrSeq(4), nIRQ: 21, nArch: 18,
			irqs: map[int]intrWantIRQ{
				0:  {Counts: []uint64{49, 0, 0, 0}, Chip: "IO-APIC", HWIRQ: "2-edge", Name: "timer"},
				25: {Chip: "PCI-MSI", HWIRQ: "38912-edge", Name: "PCIe PME"},
				29: {Counts: []uint64{1, 1274, 0, 197450}, Chip: "PCI-MSI", HWIRQ: "524288-edge", Name: "eth0"},
				37: {Chip: "PCI-MSI", HWIRQ: "278528-edge", Name: "ahci[0000:00:11.0]"},
			},
			arch: map[string]intrWantArch{"LOC": {Counts: []uint64{1159974, 353249, 192411, 262193}, Description: "Local timer interrupts"}},
		},
		{
			// Label without leading blanks, top-down MSI numbers.
			file: "deterministic-pentiumd-4cpu-msi-irq506.txt", cpus: intrSeq(4), nIRQ: 15, nArch: 10,
			irqs: map[int]intrWantIRQ{
				506: {Counts: []uint64{0, 505130670, 7, 6}, Chip: "PCI-MSI-edge", Name: "eth1"},
				4:   {Chip: "IO-APIC-edge", Name: ""},
				19:  {Chip: "IO-APIC-fasteoi", Name: "ahci, uhci_hcd:usb3"},
			},
		},
		{
			file: "dpip-8cpu-vmxnet3-fragment.txt", cpus: intrSeq(8), nIRQ: 9,
			irqs: map[int]intrWantIRQ{
				56: {Counts: []uint64{0, 0, 0, 0, 0, 1099, 0, 10330}, Chip: "PCI-MSIX-0000:03:00.0", HWIRQ: "0-edge", Name: "eth0-rxtx-0"},
				64: {Chip: "PCI-MSIX-0000:03:00.0", HWIRQ: "8-edge", Name: "eth0-event-8"}, // trailing space in the file
			},
		},
		{
			// Header lists CPU0 only; IPI rows carry 4 counts; chip "-"; FIQ without counts.
			file: "goclever-1of4cpu-android-mt6589-dash-chip.txt", cpus: []int{0}, nIRQ: 60, nArch: 8,
			irqs: map[int]intrWantIRQ{
				14:  {Counts: []uint64{8181}, Chip: "-", Name: "debug-signal"},
				126: {Counts: []uint64{0}, Chip: "-", Name: "mt_emi_mpu, spc, mt6577_devapc"},
				220: {Counts: []uint64{33893}, Chip: "-", Name: "SGX ISR"},
			},
			arch: map[string]intrWantArch{
				"IPI1": {Counts: []uint64{75373}, Description: "Rescheduling interrupts"},
				"FIQ":  {Counts: []uint64{}, Description: "fiq_glue"},
				"Err":  {Counts: []uint64{0}, Global: true},
			},
		},
		{
			file: "mfd-12cpu-ice-fragment.txt", cpus: intrSeq(12), nIRQ: 12,
			irqs: map[int]intrWantIRQ{
				47: {Counts: []uint64{2109831, 0, 3784242, 0, 2378056, 0, 16467811, 0, 15239, 0, 22024, 0}, Chip: "IR-PCI-MSI", HWIRQ: "30932993-edge", Name: "ice-ens1f0-TxRx-0"},
			},
		},
		{
			file: "netutils-2cpu-e1000e-atl1e.txt", cpus: []int{0, 1}, nIRQ: 15, nArch: 14,
			irqs: map[int]intrWantIRQ{
				28: {Counts: []uint64{3101331408, 3101444157}, Chip: "PCI-MSI-edge", Name: "eth1"},
				19: {Chip: "IO-APIC-fasteoi", Name: "uhci_hcd:usb3, ata_piix"},
			},
		},
		{
			// IRQ 7 is "IO-APIC-edge" with no name and no trailing blanks.
			file: "netutils-4cpu-igb-i350-r8169.txt", cpus: intrSeq(4), nIRQ: 25, nArch: 14,
			irqs: map[int]intrWantIRQ{
				7:  {Counts: []uint64{12, 0, 0, 0}, Chip: "IO-APIC-edge", Name: ""},
				19: {Chip: "IO-APIC-fasteoi", Name: "skge@pci:0000:05:00.0"},
				24: {Chip: "HPET_MSI-edge", Name: "hpet2"},
			},
			arch: map[string]intrWantArch{"ERR": {Counts: []uint64{12}, Global: true}},
		},
		{
			file: "netutils-1cpu-kvm-virtio.txt", cpus: []int{0}, nIRQ: 15, nArch: 18,
			irqs: map[int]intrWantIRQ{27: {Counts: []uint64{6070473}, Chip: "PCI-MSI-edge", Name: "virtio0-input.0"}},
			arch: map[string]intrWantArch{
				"LOC": {Counts: []uint64{45350286}, Description: "Local timer interrupts"},
				"ERR": {Counts: []uint64{0}, Global: true},
			},
		},
		{
			file: "node_exporter-4cpu-laptop.txt", cpus: intrSeq(4), nIRQ: 15, nArch: 15,
			irqs: map[int]intrWantIRQ{
				46: {Counts: []uint64{43078464, 130, 460171, 290}, Chip: "IR-PCI-MSI-edge", Name: "iwlwifi"},
				16: {Chip: "IR-IO-APIC-fasteoi", Name: "ehci_hcd:usb1, mmc0"},
			},
		},
		{
			file: "pcp-2cpu-s390x.txt", cpus: []int{0, 1}, nIRQ: 0, nArch: 2,
			arch: map[string]intrWantArch{
				"EXT": {Counts: []uint64{31903, 57022}},
				"I/O": {Counts: []uint64{6989, 33457}},
			},
		},
		{
			file: "pcp-1cpu-i686-vm-legacy-intx.txt", cpus: []int{0}, nIRQ: 11, nArch: 22,
			irqs: map[int]intrWantIRQ{
				11: {Counts: []uint64{307009}, Chip: "IO-APIC", HWIRQ: "11-fasteoi", Name: "uhci_hcd:usb1, ens3"},
				24: {Chip: "PCI-MSI", HWIRQ: "81920-edge", Name: "ahci[0000:00:05.0]"},
			},
		},
		{
			// Blank line between MIS and PIN.
			file: "procfs-4cpu-kvm-virtio.txt", cpus: intrSeq(4), nIRQ: 28, nArch: 19,
			irqs: map[int]intrWantIRQ{36: {Counts: []uint64{0, 335, 37, 0}, Chip: "PCI-MSI", HWIRQ: "16385-edge", Name: "virtio0-input.0"}},
			arch: map[string]intrWantArch{"PIN": {Counts: []uint64{0, 0, 0, 0}, Description: "Posted-interrupt notification event"}},
		},
		{
			file: "twaite-8cpu-single-eth.txt", cpus: intrSeq(8), nIRQ: 14, nArch: 14,
			irqs: map[int]intrWantIRQ{47: {Chip: "IR-PCI-MSI-edge", Name: "fglrx[0]@PCI:1:0:0"}},
		},
		{
			file: "this-machine-firecracker-2cpu-virtio.txt", cpus: []int{0, 1}, nIRQ: 19, nArch: 16,
			irqs: map[int]intrWantIRQ{
				24: {Chip: "IO-APIC", HWIRQ: "5-edge", Name: "ACPI:Ged"},
				37: {Chip: "PCI-MSIX-0000:00:03.0", HWIRQ: "0-edge", Name: "virtio2-config"},
				38: {Chip: "PCI-MSIX-0000:00:03.0", HWIRQ: "1-edge", Name: "virtio2-input.0"},
				39: {Chip: "PCI-MSIX-0000:00:03.0", HWIRQ: "2-edge", Name: "virtio2-output.0"},
				41: {Chip: "PCI-MSIX-0000:00:04.0", HWIRQ: "1-edge", Name: "virtio3-rx"},
			},
			arch: map[string]intrWantArch{
				"HYP": {Description: "Hypervisor callback interrupts"},
				"ERR": {Counts: []uint64{0}, Global: true},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			tab, err := intrLoad(t, c.file)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(tab.CPUs, c.cpus) {
				t.Errorf("CPUs = %v, want %v", tab.CPUs, c.cpus)
			}
			if len(tab.IRQs) != c.nIRQ || len(tab.Arch) != c.nArch {
				t.Errorf("%d IRQ lines and %d arch lines, want %d and %d", len(tab.IRQs), len(tab.Arch), c.nIRQ, c.nArch)
			}
			for _, l := range tab.IRQs {
				if len(l.Counts) != len(tab.CPUs) {
					t.Errorf("IRQ %d has %d counts for %d CPUs", l.IRQ, len(l.Counts), len(tab.CPUs))
				}
			}
			for irq, w := range c.irqs {
				l := intrFindIRQ(tab, irq)
				if l == nil {
					t.Errorf("IRQ %d missing", irq)
					continue
				}
				got := intrWantIRQ{Counts: l.Counts, Chip: l.Chip, HWIRQ: l.HWIRQ, Name: l.Name}
				if w.Counts == nil {
					got.Counts = nil
				}
				if !reflect.DeepEqual(got, w) {
					t.Errorf("IRQ %d = %+v, want %+v", irq, got, w)
				}
			}
			for name, w := range c.arch {
				a := intrFindArch(tab, name)
				if a == nil {
					t.Errorf("arch line %s missing", name)
					continue
				}
				got := intrWantArch{Counts: a.Counts, Global: a.Global, Description: a.Description}
				if w.Counts == nil {
					got.Counts = nil
					if !a.Global && len(a.Counts) != len(tab.CPUs) {
						t.Errorf("%s has %d counts for %d CPUs", name, len(a.Counts), len(tab.CPUs))
					}
				} else if len(w.Counts) == 0 && len(got.Counts) == 0 {
					got.Counts = w.Counts
				}
				if !reflect.DeepEqual(got, w) {
					t.Errorf("%s = %+v, want %+v", name, got, w)
				}
			}
		})
	}
}

// Every fixture parses without error, with as many IRQ rows as numbered
// lines and the CPU count INDEX.md gives.
func TestParseInterruptsAllFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(intrTestdata, "*.txt"))
	shapes, err2 := filepath.Glob(filepath.Join(intrShapes, "*.txt"))
	if err != nil || err2 != nil || len(files) < 13 || len(shapes) < 4 {
		t.Fatalf("fixtures: %v %v (%d + %d files)", err, err2, len(files), len(shapes))
	}
	for _, f := range append(files, shapes...) {
		name := filepath.Base(f)
		tab, err := intrLoadPath(t, f)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		data, _ := os.ReadFile(f)
		numbered := 0
		for line := range strings.SplitSeq(string(data), "\n") {
			label, _, ok := strings.Cut(strings.TrimSpace(line), ":")
			if ok && label != "" && strings.Trim(label, "0123456789") == "" {
				numbered++
			}
		}
		if len(tab.IRQs) != numbered {
			t.Errorf("%s: %d IRQ rows, file has %d numbered lines", name, len(tab.IRQs), numbered)
		}
		if len(tab.CPUs) == 0 {
			t.Errorf("%s: no CPUs", name)
		}
	}
}

func TestParseInterruptsFormats(t *testing.T) {
	cases := []struct {
		name, in string
		cpus     []int
		irqs     []IRQLine
		arch     []ArchLine
	}{
		{
			name: "offline CPU1 skipped in header",
			in:   "           CPU0       CPU2       CPU3\n  0:         49          0          7   IO-APIC   2-edge      timer\n",
			cpus: []int{0, 2, 3},
			irqs: []IRQLine{{IRQ: 0, Counts: []uint64{49, 0, 7}, Chip: "IO-APIC", HWIRQ: "2-edge", Name: "timer"}},
		},
		{
			name: "arm64 GICv3, IPI without space after colon, no final newline",
			in: "           CPU0       CPU1\n" +
				" 11:      12345      67890     GICv3  27 Level     arch_timer\n" +
				"IPI0:2768123456   1234   Rescheduling interrupts\n" +
				"IPI1:       12      34   Function call interrupts\n" +
				"Err:          0",
			cpus: []int{0, 1},
			irqs: []IRQLine{{IRQ: 11, Counts: []uint64{12345, 67890}, Chip: "GICv3", HWIRQ: "27 Level", Name: "arch_timer"}},
			arch: []ArchLine{
				{Name: "IPI0", Counts: []uint64{2768123456, 1234}, Description: "Rescheduling interrupts"},
				{Name: "IPI1", Counts: []uint64{12, 34}, Description: "Function call interrupts"},
				{Name: "Err", Counts: []uint64{0}, Global: true},
			},
		},
		{
			name: "IR-PCI-MSIX with bdf, CRLF line ends, trailing blanks",
			in:   "            CPU0       CPU1   \r\n  38:          0        203  IR-PCI-MSIX-0000:00:03.0    2-edge      virtio2-input.0   \r\n ERR:          3 \r\n",
			cpus: []int{0, 1},
			irqs: []IRQLine{{IRQ: 38, Counts: []uint64{0, 203}, Chip: "IR-PCI-MSIX-0000:00:03.0", HWIRQ: "2-edge", Name: "virtio2-input.0"}},
			arch: []ArchLine{{Name: "ERR", Counts: []uint64{3}, Global: true}},
		},
		{
			name: "Android: numbered row with counts of offline CPUs",
			in:   "           CPU0       \n 14:       8181        12         -  debug-signal\n",
			cpus: []int{0},
			irqs: []IRQLine{{IRQ: 14, Counts: []uint64{8181}, Chip: "-", Name: "debug-signal"}},
		},
		{
			name: "Xen flow handler without hwirq, empty name with new-style hwirq",
			in:   "           CPU0\n 72:        100  xen-percpu    -virq      timer0\n  3:          1   IO-APIC   3-edge      \n",
			cpus: []int{0},
			irqs: []IRQLine{
				{IRQ: 72, Counts: []uint64{100}, Chip: "xen-percpu", HWIRQ: "-virq", Name: "timer0"},
				{IRQ: 3, Counts: []uint64{1}, Chip: "IO-APIC", HWIRQ: "3-edge", Name: ""},
			},
		},
		{
			name: "counts up to 2^64-1",
			in:   "CPU0 CPU1\n 5: 18446744073709551615 0 PCI-MSI-edge  eth0\n",
			cpus: []int{0, 1},
			irqs: []IRQLine{{IRQ: 5, Counts: []uint64{18446744073709551615, 0}, Chip: "PCI-MSI-edge", Name: "eth0"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab, err := ParseInterrupts(strings.NewReader(c.in))
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(tab.CPUs, c.cpus) {
				t.Errorf("CPUs = %v, want %v", tab.CPUs, c.cpus)
			}
			if !reflect.DeepEqual(tab.IRQs, c.irqs) {
				t.Errorf("IRQs = %+v\nwant %+v", tab.IRQs, c.irqs)
			}
			if !reflect.DeepEqual(tab.Arch, c.arch) {
				t.Errorf("Arch = %+v\nwant %+v", tab.Arch, c.arch)
			}
		})
	}
}

func TestParseInterruptsBadInput(t *testing.T) {
	good := "           CPU0       CPU1       CPU2       CPU3\n" + // line 1
		"  0:         49          0          0          0   IO-APIC   2-edge      timer\n" + // 2
		" 29:          1       1274          0     197450   PCI-MSI 524288-edge      eth0\n" + // 3
		"LOC:    1159974     353249     192411     262193   Local timer interrupts\n" + // 4
		"ERR:          1\n" // 5
	rng := rand.New(rand.NewSource(1))
	binary := make([]byte, 4096)
	rng.Read(binary)

	cases := []struct {
		name     string
		in       string
		nIRQ     int
		bad      int
		contains []string
	}{
		{name: "empty", in: "", contains: []string{"empty input"}},
		{name: "blank lines only", in: "\n\n   \n", contains: []string{"empty input"}},
		{name: "garbage", in: "hello world\nthis is not /proc/interrupts\n", bad: 2, contains: []string{"2 malformed lines, first: line 1:", "no CPU header and no numbered IRQ lines"}},
		{name: "binary", in: string(binary), contains: []string{"malformed lines"}},
		{
			name: "truncated row is kept",
			in:   good + " 30:          1       1274\n", nIRQ: 3, bad: 1,
			contains: []string{"line 6: IRQ 30 has 2 counts for 4 CPUs (truncated row)"},
		},
		{
			name: "garbage lines in the middle are skipped",
			in:   good[:strings.Index(good, "LOC")] + "garbage here\n\x00\x01\x02:\x03\n 31: x y z\n" + good[strings.Index(good, "LOC"):],
			nIRQ: 2, bad: 3,
			contains: []string{"3 malformed lines, first: line 4:"},
		},
		{name: "binary in the middle", in: good + string(binary[:512]) + "\n 40:  1 2 3 4  PCI-MSI-edge  eth1\n", nIRQ: 3},
		{name: "overflowing count", in: good + " 41: 99999999999999999999999 0 0 0 PCI-MSI-edge eth1\n", nIRQ: 2, bad: 1, contains: []string{"line 6: 41: a count of 23 digits overflows"}},
		{name: "count one past 2^64-1", in: good + " 42: 18446744073709551616 0 0 0 PCI-MSI-edge eth1\n", nIRQ: 2, bad: 1, contains: []string{"overflows"}},
		{name: "too many columns", in: "CPU0\n 7:" + strings.Repeat(" 1", cpuset.MaxCPUs+1) + " PCI-MSI-edge eth0\n 8: 5 PCI-MSI-edge eth1\n", nIRQ: 1, bad: 1, contains: []string{"line 2: 7: more than 8192 count columns"}},
		{name: "line over 1 MiB", in: good + " 50:" + strings.Repeat(" ", intrMaxLine) + "1\n", nIRQ: 2, bad: 1, contains: []string{"line 6: line longer than"}},
		{name: "repeated IRQ", in: good + "  0:  1 2 3 4  IO-APIC   2-edge      timer\n", nIRQ: 2, bad: 1, contains: []string{"IRQ 0 repeated"}},
		{name: "bad header", in: "CPU0 CPUX\n 1: 1 2 IO-APIC-edge i8042\n", nIRQ: 1, bad: 1, contains: []string{"bad CPU header field 2 (4 bytes starting with a letter)"}},
		{name: "headerless narrower row", in: " 1: 1 2 3 IO-APIC-edge a\n 2: 1 2 IO-APIC-edge b\n", nIRQ: 2, bad: 1, contains: []string{"line 2: IRQ 2 has 2 counts, the widest row 3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab, err := ParseInterrupts(strings.NewReader(c.in))
			if tab == nil {
				t.Fatal("nil table")
			}
			if err == nil {
				t.Fatal("no error")
			}
			var pe *InterruptsParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *InterruptsParseError", err)
			}
			if c.bad > 0 && pe.Bad != c.bad {
				t.Errorf("Bad = %d, want %d (%v)", pe.Bad, c.bad, err)
			}
			for _, s := range c.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if c.nIRQ > 0 && len(tab.IRQs) != c.nIRQ {
				t.Errorf("%d IRQ rows kept, want %d", len(tab.IRQs), c.nIRQ)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error too long (%d bytes)", len(err.Error()))
			}
		})
	}
	// The truncated row keeps what it has.
	tab, _ := ParseInterrupts(strings.NewReader(good + " 30:          1       1274\n"))
	if l := intrFindIRQ(tab, 30); l == nil || !reflect.DeepEqual(l.Counts, []uint64{1, 1274}) || l.Name != "" {
		t.Errorf("truncated row = %+v", l)
	}
}

func TestParseInterruptsReadError(t *testing.T) {
	r := intrErrReader{data: "CPU0\n 1: 5 IO-APIC-edge timer\n"}
	tab, err := ParseInterrupts(&r)
	if err == nil || !strings.Contains(err.Error(), "read error after line 2: boom") {
		t.Fatalf("err = %v", err)
	}
	if len(tab.IRQs) != 1 {
		t.Errorf("IRQs = %+v", tab.IRQs)
	}
}

type intrErrReader struct {
	data string
	done bool
}

func (r *intrErrReader) Read(p []byte) (int, error) {
	if r.done {
		return 0, errors.New("boom")
	}
	r.done = true
	return copy(p, r.data), nil
}

// FuzzParseInterrupts checks that no input panics and that the invariants
// hold: CPUs set, no row wider than the header.
func FuzzParseInterrupts(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(intrTestdata, "*.txt"))
	shapes, _ := filepath.Glob(filepath.Join(intrShapes, "*.txt"))
	for _, file := range append(files, shapes...) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("IPI0:1 2\n 1:\n:\n 2: 3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := ParseInterrupts(bytes.NewReader(data))
		if tab == nil {
			t.Fatal("nil table")
		}
		if len(tab.IRQs) == 0 && len(tab.CPUs) == 0 && err == nil {
			t.Fatal("no header, no rows and no error")
		}
		for _, l := range tab.IRQs {
			if len(l.Counts) > len(tab.CPUs) {
				t.Fatalf("IRQ %d: %d counts for %d CPUs", l.IRQ, len(l.Counts), len(tab.CPUs))
			}
		}
	})
}
