package irqclass

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// irqcWant is the expected (Device, Queue, Kind) of one IRQ.
type irqcWant struct {
	Device string
	Queue  int
	Kind   kernel.IRQKind
}

// irqcTruth builds a file's ground truth from INDEX.md's ranges.
type irqcTruth map[int]irqcWant

// rng adds first..last as queues q0.. of dev.
func (m irqcTruth) rng(first, last int, dev string, q0 int, kind kernel.IRQKind) irqcTruth {
	for irq := first; irq <= last; irq++ {
		m[irq] = irqcWant{dev, q0 + irq - first, kind}
	}
	return m
}

// one adds a single IRQ; kind other gets queue -1.
func (m irqcTruth) one(irq int, dev string, q int, kind kernel.IRQKind) irqcTruth {
	m[irq] = irqcWant{dev, q, kind}
	return m
}

// single adds single-vector NICs (combined queue 0).
func (m irqcTruth) single(dev string, irqs ...int) irqcTruth {
	for _, irq := range irqs {
		m[irq] = irqcWant{dev, 0, kernel.KindCombined}
	}
	return m
}

// other adds non-queue vectors of dev.
func (m irqcTruth) other(dev string, irqs ...int) irqcTruth {
	for _, irq := range irqs {
		m[irq] = irqcWant{dev, -1, kernel.KindOther}
	}
	return m
}

func irqcRangeList(first, last int) []int {
	var out []int
	for i := first; i <= last; i++ {
		out = append(out, i)
	}
	return out
}

// irqcCheck asserts that every IRQ of want has its class and every other
// IRQ of tab is not a NIC's; none lists IRQs that must exist and be kernel.KindNone.
func irqcCheck(t *testing.T, tab *procfs.InterruptTable, got map[int]IRQClass, want irqcTruth, none []int) {
	t.Helper()
	names := map[int]string{}
	for _, l := range tab.IRQs {
		names[l.IRQ] = l.Name
		if _, ok := got[l.IRQ]; !ok {
			t.Errorf("IRQ %d (%q) has no class", l.IRQ, l.Name)
		}
	}
	if len(got) != len(tab.IRQs) {
		t.Errorf("%d classes for %d IRQs", len(got), len(tab.IRQs))
	}
	for irq, w := range want {
		if _, ok := names[irq]; !ok {
			t.Errorf("IRQ %d of the ground truth is not in the file", irq)
			continue
		}
		c := got[irq]
		if (irqcWant{c.Device, c.Queue, c.Kind}) != w || c.IRQ != irq || c.Driver == "" {
			t.Errorf("IRQ %d (%q) = %+v, want %+v", irq, names[irq], c, w)
		}
	}
	for _, irq := range none {
		if _, ok := names[irq]; !ok {
			t.Errorf("negative IRQ %d is not in the file", irq)
		}
		if _, ok := want[irq]; ok {
			t.Errorf("IRQ %d is both wanted and negative", irq)
		}
	}
	for irq, c := range got {
		if _, ok := want[irq]; ok {
			continue
		}
		if !reflect.DeepEqual(c, IRQClass{IRQ: irq, Queue: -1}) {
			t.Errorf("IRQ %d (%q) = %+v, want not a NIC", irq, names[irq], c)
		}
	}
}

// TestClassifyIRQsCorpus checks every interrupts sample of the corpus
// against INDEX.md's reading, without sysfs. Every IRQ INDEX.md does not
// list as a NIC queue or NIC vector must come out kernel.KindNone.
func TestClassifyIRQsCorpus(t *testing.T) {
	const (
		rx, tx, comb, oth = kernel.KindRx, kernel.KindTx, kernel.KindCombined, kernel.KindOther
	)
	cases := []struct {
		file  string
		want  irqcTruth
		none  []int // documented negatives, checked to exist
		notes string
	}{
		{file: "100gbe-lab-12cpu-mlx5-pcimsix-fragment.txt", // mlx5 (new async0 name)
			want: irqcTruth{}.one(99, "0000:01:00.0", 0, comb).rng(109, 119, "0000:01:00.0", 1, comb).
				one(102, "0000:01:00.1", 0, comb).other("0000:01:00.0", 98).other("0000:01:00.1", 101)},
		{file: "netutils-4cpu-mlx5-old-eq-names.txt", // mlx5 (pages/cmd/async_eq)
			want: irqcTruth{}.rng(30, 33, "0000:01:00.0", 0, comb).rng(37, 40, "0000:01:00.1", 0, comb).
				single("eth0", 41).single("eth1", 17).
				other("0000:01:00.0", 27, 28, 29).other("0000:01:00.1", 34, 35, 36),
			none: []int{14, 15}},
		{file: "netutils-16cpu-mlx4-tg3.txt", // mlx4_en + tg3; mlx4_core EQs are other
			want: irqcTruth{}.rng(113, 120, "eth6", 0, comb).rng(121, 128, "eth7", 0, comb).
				one(161, "eth0", 0, tx).rng(162, 165, "eth0", 0, rx).one(166, "eth1", 0, tx).rng(167, 170, "eth1", 0, rx).
				other("0000:04:00.0", 109, 110, 111, 112),
			none: []int{72, 73}},
		{file: "netutils-4cpu-i40e-igb-e1000e.txt", // i40e + igb + e1000e
			want: irqcTruth{}.rng(33, 36, "eth0", 0, comb).rng(62, 65, "eth3", 0, comb).single("eth2", 60).
				other("0000:01:00.0", 32, 37).other("0000:01:00.1", 46, 51).other("eth3", 61),
			none: []int{24, 25, 30, 31}},
		{file: "mfd-12cpu-ice-fragment.txt", // ice
			want: irqcTruth{}.rng(47, 58, "ens1f0", 0, comb)},
		{file: "arthurchiao-4cpu-igb-trimmed-fragment.txt", // igb
			want: irqcTruth{}.rng(66, 69, "eth0", 0, comb).other("eth0", 65),
			none: []int{30, 64}},
		{file: "deterministic-nehalem-16cpu-igb.txt", // igb
			want: irqcTruth{}.rng(129, 136, "eth0", 0, comb).other("eth0", 128),
			none: []int{3, 112, 127}},
		{file: "deterministic-sandybridge-ep-16cpu-igb-qib.txt", // igb; ib_qib is not a NIC
			want: irqcTruth{}.rng(85, 92, "eth0", 0, comb).other("eth0", 84),
			none: []int{102, 103, 104, 105, 106, 107, 108, 110, 111}},
		{file: "netutils-12cpu-ixgbe.txt", // ixgbe (per test dir) TxRx + two single-vector NICs
			want: irqcTruth{}.rng(66, 73, "eth0", 0, comb).rng(75, 82, "eth1", 0, comb).
				single("eth2", 63).single("eth3", 64).other("eth0", 65).other("eth1", 74),
			none: []int{50}},
		{file: "netutils-16cpu-igb-e1000e.txt", // igb + e1000e MSI-X
			want: irqcTruth{}.rng(69, 76, "eth3", 0, comb).one(77, "eth0", 0, rx).one(78, "eth0", 0, tx).
				one(80, "eth1", 0, rx).one(81, "eth1", 0, tx).other("eth3", 68).other("eth0", 79).other("eth1", 82)},
		{file: "netutils-16cpu-igb-em.txt", // igb with biosdevname em names
			want: irqcTruth{}.rng(58, 65, "em1", 0, comb).rng(67, 74, "em2", 0, comb).other("em1", 57).other("em2", 66),
			none: []int{48}},
		{file: "netutils-4cpu-igb-5nics.txt", // igb split rx/tx vectors
			want: func() irqcTruth {
				m := irqcTruth{}
				for _, d := range []struct {
					name       string
					other, rx0 int
				}{{"eth0", 57, 58}, {"eth1", 66, 67}, {"eth3", 84, 85}, {"eth4", 93, 94}, {"eth5", 102, 103}} {
					m.other(d.name, d.other).rng(d.rx0, d.rx0+3, d.name, 0, rx).rng(d.rx0+4, d.rx0+7, d.name, 0, tx)
				}
				return m
			}(),
			none: []int{48}},
		{file: "netutils-4cpu-igb-i211-rxtx-split.txt", // igb I211 split + e1000e single; iwlwifi is not
			want: irqcTruth{}.one(130, "eth0", 0, rx).one(131, "eth0", 1, rx).one(132, "eth0", 0, tx).one(133, "eth0", 1, tx).
				single("eth1", 128).other("eth0", 129),
			none: []int{134, 124, 126}},
		{file: "netutils-4cpu-igb-i350-rxtx-split.txt", // igb I350 split
			want: irqcTruth{}.rng(128, 131, "eth0", 0, rx).rng(132, 135, "eth0", 0, tx).
				rng(137, 140, "eth1", 0, rx).rng(141, 144, "eth1", 0, tx).single("eth3", 145).single("eth2", 146).
				other("eth0", 127).other("eth1", 136)},
		{file: "netutils-4cpu-igb-i350-r8169.txt", // igb + r8169 + skge@pci (INDEX.md says IRQ 10; the file has it on 19)
			want: irqcTruth{}.rng(35, 38, "eth6", 0, comb).single("eth0", 41).single("0000:05:00.0", 19).other("eth6", 34),
			none: []int{31, 33, 42, 43}},
		{file: "netutils-8cpu-igb-e1000e-82574L.txt", // igb + e1000e MSI-X; hpsa is not
			want: irqcTruth{}.rng(36, 43, "eth0", 0, comb).rng(45, 52, "eth1", 0, comb).
				one(53, "eth2", 0, rx).one(54, "eth2", 0, tx).one(56, "eth3", 0, rx).one(57, "eth3", 0, tx).
				other("eth0", 35).other("eth1", 44).other("eth2", 55).other("eth3", 58),
			none: []int{17, 24}},
		{file: "netutils-4cpu-multinic-txrx.txt", // TxRx with the other vector last
			want: irqcTruth{}.rng(34, 37, "eth4", 0, comb).rng(39, 42, "eth5", 0, comb).single("eth0", 44).
				other("eth4", 38).other("eth5", 43)},
		{file: "netutils-8cpu-txrx-vm-trimmed.txt",
			want: irqcTruth{}.rng(52, 59, "eth0", 0, comb).rng(61, 68, "eth1", 0, comb),
			none: []int{16}},
		{file: "deterministic-broadwell-ep-32cpu-tg3-qib.txt", // tg3 tx-0 + rx-1..4; ib_qib, hpsa, ioat are not
			want: irqcTruth{}.one(121, "eth0", 0, tx).rng(122, 125, "eth0", 0, rx).one(126, "eth1", 0, tx).rng(127, 130, "eth1", 0, rx).
				one(131, "eth2", 0, tx).rng(132, 135, "eth2", 0, rx).one(136, "eth3", 0, tx).rng(137, 140, "eth3", 0, rx),
			none: append(append(irqcRangeList(109, 120), irqcRangeList(52, 71)...), 88, 86, 18)},
		{file: "deterministic-haswell-ep-32cpu-tg3-qib.txt", // tg3
			want: irqcTruth{}.one(122, "eth0", 0, tx).rng(123, 126, "eth0", 0, rx),
			none: irqcRangeList(104, 115)},
		{file: "deterministic-fam15h-32cpu-tg3.txt", // tg3; hpsa2-msixN is not
			want: irqcTruth{}.one(63, "eth0", 0, tx).rng(64, 67, "eth0", 0, rx),
			none: irqcRangeList(27, 58)},
		{file: "deterministic-nehalem-ex-32cpu-bnx2-em.txt", // bnx2 emN-<n>; ib_mthca, mpt2sas are not
			want: irqcTruth{}.rng(66, 73, "em1", 0, comb).rng(75, 82, "em2", 0, comb),
			none: []int{3, 4, 61, 62, 63, 64, 65}},
		{file: "dpip-8cpu-vmxnet3-fragment.txt", // vmxnet3
			want: irqcTruth{}.rng(56, 63, "eth0", 0, comb).other("eth0", 64)},
		{file: "netutils-1cpu-kvm-virtio.txt", // virtio_net; virtio1 block and virtio2 INTx are not
			want: irqcTruth{}.one(27, "virtio0", 0, rx).one(28, "virtio0", 0, tx).other("virtio0", 26),
			none: []int{10, 24, 25}},
		{file: "cnblog-8cpu-virtio-mq-fragment.txt", // virtio_net 8 queue pairs
			want: func() irqcTruth {
				m := irqcTruth{}
				for k := 0; k < 8; k++ {
					m.one(50+2*k, "virtio0", k, rx)
					if k < 7 {
						m.one(51+2*k, "virtio0", k, tx)
					}
				}
				return m
			}(),
			// INDEX.md reads IRQ 65 as tx queue 7, but the paste truncated its
			// name to "virtio0-output." and no rule guesses the lost number.
			none:  []int{65},
			notes: "65 truncated"},
		{file: "procfs-4cpu-kvm-virtio.txt", // virtio_net; block, GPU, virtqueues of non-net devices are not
			want: irqcTruth{}.one(36, "virtio0", 0, rx).one(37, "virtio0", 0, tx).other("virtio0", 35),
			none: []int{22, 24, 25, 26, 27, 28, 38, 39, 40, 41, 42, 43, 44}},
		{file: "vivianchen04-2cpu-qemu-virtio-intx.txt", // enp0s1 on a shared INTx line; virtio0 is not a NIC
			want: irqcTruth{}.single("enp0s1", 21),
			none: []int{25, 26, 16, 23}},
		{file: "pcp-1cpu-i686-vm-legacy-intx.txt", // ens3 on shared INTx; "virtio0, qxl" is not
			want: irqcTruth{}.single("ens3", 11),
			none: []int{10, 24, 25}},
		{file: "deterministic-fam10h-48cpu-amd-shared-intx-eth.txt", // eth0 shares INTx with USB
			want: irqcTruth{}.single("eth0", 23),
			none: []int{3, 4, 17, 18}},
		{file: "netutils-8cpu-e1000e-single.txt", // e1000e single MSI + e1000 on shared INTx
			want: irqcTruth{}.single("eth0", 34).single("eth1", 16)},
		{file: "netutils-2cpu-e1000e-atl1e.txt", // e1000e + atl1e single vectors
			want: irqcTruth{}.single("eth0", 27).single("eth1", 28).single("eth2", 30),
			none: []int{19, 29}},
		{file: "netutils-8cpu-singlequeue-intx.txt",
			want: irqcTruth{}.single("eth0", 17).single("eth1", 18)},
		{file: "pcp-8cpu-x86_64-laptop-e1000e.txt", // e1000e enp0s25; iwlwifi and the PCI-address name are not
			want: irqcTruth{}.single("enp0s25", 29),
			none: []int{27, 33}},
		{file: "node_exporter-4cpu-laptop.txt", // iwlwifi only: no NIC
			none: []int{46, 16}},
		{file: "deterministic-core2-8cpu-single-eth.txt", want: irqcTruth{}.single("eth0", 64)},
		{file: "deterministic-fam16h-4cpu-two-single-eth.txt", want: irqcTruth{}.single("eth0", 29).single("eth1", 31), none: []int{38, 39}},
		{file: "deterministic-pentiumd-4cpu-msi-irq506.txt", want: irqcTruth{}.single("eth1", 506).single("eth0", 507)},
		{file: "twaite-8cpu-single-eth.txt", want: irqcTruth{}.single("eth0", 43), none: []int{47}},
		{file: "aepkolol-2cpu-arm-zynq-gic.txt", want: irqcTruth{}.single("eth0", 145)},
		{file: "d2000-1cpu-arm-sep4020-nochip.txt", want: irqcTruth{}.single("eth0", 8, 28)},
		{file: "goclever-1of4cpu-android-mt6589-dash-chip.txt"},
		{file: "pcp-2cpu-s390x.txt"},
		{file: "this-machine-firecracker-2cpu-virtio.txt", // virtio2 is the NIC; balloon, block, vsock, input are not
			want: irqcTruth{}.one(38, "virtio2", 0, rx).one(39, "virtio2", 0, tx).other("virtio2", 37),
			none: []int{28, 29, 30, 31, 32, 33, 34, 35, 36, 40, 41, 42, 43}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			tab, err := intrLoad(t, c.file)
			if err != nil {
				t.Fatal(err)
			}
			got := ClassifyIRQs(tab, nil)
			irqcCheck(t, tab, got, c.want, c.none)
			for irq, cl := range got {
				if cl.Also != nil { // no copied sample has a vector serving two queues
					t.Errorf("IRQ %d also serves %+v", irq, cl.Also)
				}
			}
		})
	}
}

func TestClassifyIRQsThisMachineWithSysfs(t *testing.T) {
	tab, err := intrLoad(t, "this-machine-firecracker-2cpu-virtio.txt")
	if err != nil {
		t.Fatal(err)
	}
	devs := []sysfs.NetDevice{
		{Name: "lo"},
		{Name: "ifb0"},
		{Name: "eth0", Driver: "virtio_net", VirtioName: "virtio2", BusAddress: "0000:00:03.0", MSIIRQs: []int{37, 38, 39}},
	}
	got := ClassifyIRQs(tab, devs)
	irqcCheck(t, tab, got,
		irqcTruth{}.one(38, "eth0", 0, kernel.KindRx).one(39, "eth0", 0, kernel.KindTx).other("eth0", 37),
		[]int{41, 42, 43, 28, 29, 30, 31, 32, 33, 34, 35, 36})
	if got[38].Driver != "virtio_net" {
		t.Errorf("IRQ 38 rule %q", got[38].Driver)
	}
}

func TestClassifyIRQsWithSysfs(t *testing.T) {
	t.Run("PCI addresses map to netdevs", func(t *testing.T) {
		tab, _ := intrLoad(t, "netutils-4cpu-i40e-igb-e1000e.txt")
		devs := []sysfs.NetDevice{
			{Name: "eth0", Driver: "i40e", BusAddress: "0000:01:00.0", MSIIRQs: irqcRangeList(32, 45)},
			{Name: "eth1", Driver: "i40e", BusAddress: "0000:01:00.1", MSIIRQs: irqcRangeList(46, 59)},
			{Name: "eth2", Driver: "e1000e", BusAddress: "0000:00:19.0", MSIIRQs: []int{60}},
			{Name: "eth3", Driver: "igb", BusAddress: "0000:03:00.0", MSIIRQs: irqcRangeList(61, 65)},
		}
		irqcCheck(t, tab, ClassifyIRQs(tab, devs),
			irqcTruth{}.rng(33, 36, "eth0", 0, kernel.KindCombined).rng(62, 65, "eth3", 0, kernel.KindCombined).single("eth2", 60).
				other("eth0", 32, 37).other("eth1", 46, 51).other("eth3", 61), nil)
	})
	t.Run("mlx5 channels named by PCI address", func(t *testing.T) {
		tab, _ := intrLoad(t, "100gbe-lab-12cpu-mlx5-pcimsix-fragment.txt")
		devs := []sysfs.NetDevice{
			{Name: "enp1s0f0np0", Driver: "mlx5_core", BusAddress: "0000:01:00.0", MSIIRQs: append([]int{98, 99}, irqcRangeList(109, 119)...)},
			{Name: "enp1s0f1np1", Driver: "mlx5_core", BusAddress: "0000:01:00.1", MSIIRQs: []int{101, 102}},
		}
		irqcCheck(t, tab, ClassifyIRQs(tab, devs),
			irqcTruth{}.one(99, "enp1s0f0np0", 0, kernel.KindCombined).rng(109, 119, "enp1s0f0np0", 1, kernel.KindCombined).
				one(102, "enp1s0f1np1", 0, kernel.KindCombined).other("enp1s0f0np0", 98).other("enp1s0f1np1", 101), nil)
	})
	t.Run("two ports on one PCI function keep the address", func(t *testing.T) {
		tab, _ := intrLoad(t, "netutils-16cpu-mlx4-tg3.txt")
		mlx := irqcRangeList(109, 128)
		devs := []sysfs.NetDevice{
			{Name: "eth6", Driver: "mlx4_en", BusAddress: "0000:04:00.0", MSIIRQs: mlx},
			{Name: "eth7", Driver: "mlx4_en", BusAddress: "0000:04:00.0", MSIIRQs: mlx},
		}
		got := ClassifyIRQs(tab, devs)
		if c := got[112]; c.Device != "0000:04:00.0" || c.Kind != kernel.KindOther {
			t.Errorf("112 = %+v", c)
		}
		if c := got[122]; c.Device != "eth7" || c.Queue != 1 || c.Kind != kernel.KindCombined {
			t.Errorf("122 = %+v", c)
		}
	})
	t.Run("renamed interface: IRQ named after the old name", func(t *testing.T) {
		tab := &procfs.InterruptTable{CPUs: []int{0}, IRQs: []procfs.IRQLine{
			{IRQ: 40, Counts: []uint64{1}, Name: "eth0"},
			{IRQ: 41, Counts: []uint64{1}, Name: "eth0-TxRx-0"},
			{IRQ: 42, Counts: []uint64{1}, Name: "eth0-TxRx-1"},
		}}
		devs := []sysfs.NetDevice{{Name: "enp3s0", Driver: "igb", BusAddress: "0000:03:00.0", MSIIRQs: []int{40, 41, 42}}}
		irqcCheck(t, tab, ClassifyIRQs(tab, devs),
			irqcTruth{}.other("enp3s0", 40).rng(41, 42, "enp3s0", 0, kernel.KindCombined), nil)
	})
	t.Run("names follow no pattern: msi_irqs decide", func(t *testing.T) {
		// A device with several vectors of unknown names: each is kernel.KindOther
		// (its role cannot be told). A device with one MSI vector, or a
		// legacy INTx line, is a single-vector NIC (combined queue 0).
		tab := &procfs.InterruptTable{CPUs: []int{0}, IRQs: []procfs.IRQLine{
			{IRQ: 11, Counts: []uint64{1}, Name: "uhci_hcd:usb1, weirdnic"},
			{IRQ: 50, Counts: []uint64{1}, Name: "acme_q_a"},
			{IRQ: 51, Counts: []uint64{1}, Name: "acme_q_b"},
			{IRQ: 60, Counts: []uint64{1}, Name: "zz_net"},
			{IRQ: 70, Counts: []uint64{1}, Name: "iwlwifi"},
			{IRQ: 80, Counts: []uint64{1}, Name: "ahci"},
		}}
		devs := []sysfs.NetDevice{
			{Name: "lan0", Driver: "acme", BusAddress: "0000:05:00.0", MSIIRQs: []int{50, 51}},
			{Name: "lan1", Driver: "zz", BusAddress: "0000:06:00.0", MSIIRQs: []int{60}},
			{Name: "lan2", Driver: "weird", BusAddress: "0000:07:00.0", LegacyIRQ: 11},
			{Name: "wlp3s0", Driver: "iwlwifi", BusAddress: "0000:03:00.0", MSIIRQs: []int{70}},
		}
		got := ClassifyIRQs(tab, devs)
		irqcCheck(t, tab, got,
			irqcTruth{}.other("lan0", 50, 51).single("lan1", 60).single("lan2", 11), []int{70, 80})
		if got[50].Driver != "msi_irqs" || got[60].Driver != "msi_irqs" || got[11].Driver != "legacy_irq" {
			t.Errorf("rules: %q %q %q", got[50].Driver, got[60].Driver, got[11].Driver)
		}
	})
	t.Run("virtio: devs decide which virtio device is the NIC", func(t *testing.T) {
		tab := &procfs.InterruptTable{CPUs: []int{0}, IRQs: []procfs.IRQLine{
			{IRQ: 10, Counts: []uint64{1}, Name: "virtio1"},
			{IRQ: 25, Counts: []uint64{1}, Name: "virtio0-config"},
			{IRQ: 26, Counts: []uint64{1}, Name: "virtio0-virtqueues"},
			{IRQ: 27, Counts: []uint64{1}, Name: "virtio3-virtqueues"},
		}}
		devs := []sysfs.NetDevice{
			{Name: "eth0", Driver: "virtio_net", VirtioName: "virtio0", BusAddress: "0000:00:04.0", MSIIRQs: []int{25, 26}},
			{Name: "eth1", Driver: "virtio_net", VirtioName: "virtio1", BusAddress: "0000:00:05.0", LegacyIRQ: 10},
		}
		irqcCheck(t, tab, ClassifyIRQs(tab, devs),
			irqcTruth{}.other("eth0", 25).one(26, "eth0", -1, kernel.KindCombined).one(10, "eth1", -1, kernel.KindCombined), []int{27})
	})
}

// Driver naming schemes that the corpus has no sample of.
func TestClassifyIRQsNamingRules(t *testing.T) {
	names := []string{
		"gve-mgmnt@pci:0000:00:04.0", "gve-ntfy-blk0@pci:0000:00:04.0", "gve-ntfy-blk1@pci:0000:00:04.0",
		"gve-ntfy-blk2@pci:0000:00:04.0", "gve-ntfy-blk3@pci:0000:00:04.0",
		"mana_hwc@pci:7870:00:00.0", "mana_q0@pci:7870:00:00.0", "mana_q1@pci:7870:00:00.0",
		"ena-mgmnt@pci:0000:00:05.0", "ens5-Tx-Rx-0", "ens5-Tx-Rx-1",
		"eth4-fp-0", "eth4-fp-1", "eth4",
		"ice-0000:3b:00.0:misc", "ice-ens2f0-rx-0", "ice-ens2f0-tx-0",
		"iavf-0000:02:02.0:mbx", "iavf-ens1f0v0-TxRx-0",
		"sky2@pci:0000:02:00.0", "nvme0q1", "xhci_hcd", "snd_hda_intel@pci:0000:00:1f.3", "wlan0", "ccp-1-0",
		"hpsa0-msix3", "virtio7-output.0", "mlx5_comp0@pci:0000:08:00.0", "mlx5_async0@pci:0000:08:00.0",
		"p1p1-TxRx-2", "bond0", "eno1",
	}
	tab := &procfs.InterruptTable{CPUs: []int{0}}
	for i, n := range names {
		tab.IRQs = append(tab.IRQs, procfs.IRQLine{IRQ: 100 + i, Counts: []uint64{0}, Name: n})
	}
	want := map[string]struct {
		irqcWant
		driver string
	}{
		"gve-mgmnt@pci:0000:00:04.0":     {irqcWant{"0000:00:04.0", -1, kernel.KindOther}, "gve"},
		"gve-ntfy-blk0@pci:0000:00:04.0": {irqcWant{"0000:00:04.0", 0, kernel.KindTx}, "gve"},
		"gve-ntfy-blk1@pci:0000:00:04.0": {irqcWant{"0000:00:04.0", 1, kernel.KindTx}, "gve"},
		"gve-ntfy-blk2@pci:0000:00:04.0": {irqcWant{"0000:00:04.0", 0, kernel.KindRx}, "gve"},
		"gve-ntfy-blk3@pci:0000:00:04.0": {irqcWant{"0000:00:04.0", 1, kernel.KindRx}, "gve"},
		"mana_hwc@pci:7870:00:00.0":      {irqcWant{"7870:00:00.0", -1, kernel.KindOther}, "mana"},
		"mana_q0@pci:7870:00:00.0":       {irqcWant{"7870:00:00.0", 0, kernel.KindCombined}, "mana"},
		"mana_q1@pci:7870:00:00.0":       {irqcWant{"7870:00:00.0", 1, kernel.KindCombined}, "mana"},
		"ena-mgmnt@pci:0000:00:05.0":     {irqcWant{"0000:00:05.0", -1, kernel.KindOther}, "ena"},
		"ens5-Tx-Rx-0":                   {irqcWant{"ens5", 0, kernel.KindCombined}, "ena"},
		"ens5-Tx-Rx-1":                   {irqcWant{"ens5", 1, kernel.KindCombined}, "ena"},
		"eth4-fp-0":                      {irqcWant{"eth4", 0, kernel.KindCombined}, "qede/bnx2x"},
		"eth4-fp-1":                      {irqcWant{"eth4", 1, kernel.KindCombined}, "qede/bnx2x"},
		"eth4":                           {irqcWant{"eth4", -1, kernel.KindOther}, "netdev"},
		"ice-0000:3b:00.0:misc":          {irqcWant{"0000:3b:00.0", -1, kernel.KindOther}, "i40e/ice"},
		"ice-ens2f0-rx-0":                {irqcWant{"ens2f0", 0, kernel.KindRx}, "i40e/ice"},
		"ice-ens2f0-tx-0":                {irqcWant{"ens2f0", 0, kernel.KindTx}, "i40e/ice"},
		"iavf-0000:02:02.0:mbx":          {irqcWant{"0000:02:02.0", -1, kernel.KindOther}, "i40e/ice"},
		"iavf-ens1f0v0-TxRx-0":           {irqcWant{"ens1f0v0", 0, kernel.KindCombined}, "i40e/ice"},
		"sky2@pci:0000:02:00.0":          {irqcWant{"0000:02:00.0", 0, kernel.KindCombined}, "pci-driver"},
		"virtio7-output.0":               {irqcWant{"virtio7", 0, kernel.KindTx}, "virtio_net"},
		"mlx5_comp0@pci:0000:08:00.0":    {irqcWant{"0000:08:00.0", 0, kernel.KindCombined}, "mlx5"},
		"mlx5_async0@pci:0000:08:00.0":   {irqcWant{"0000:08:00.0", -1, kernel.KindOther}, "mlx5"},
		"p1p1-TxRx-2":                    {irqcWant{"p1p1", 2, kernel.KindCombined}, "txrx"},
		"bond0":                          {irqcWant{"bond0", 0, kernel.KindCombined}, "netdev"},
		"eno1":                           {irqcWant{"eno1", 0, kernel.KindCombined}, "netdev"},
	}
	got := ClassifyIRQs(tab, nil)
	for _, l := range tab.IRQs {
		c := got[l.IRQ]
		w, ok := want[l.Name]
		if !ok {
			if c.IsNIC() || c.Queue != -1 {
				t.Errorf("%q = %+v, want not a NIC", l.Name, c)
			}
			continue
		}
		if (irqcWant{c.Device, c.Queue, c.Kind}) != w.irqcWant || c.Driver != w.driver {
			t.Errorf("%q = %+v, want %+v rule %s", l.Name, c, w.irqcWant, w.driver)
		}
	}
}

func TestClassifyIRQsEmpty(t *testing.T) {
	if got := ClassifyIRQs(nil, nil); len(got) != 0 {
		t.Errorf("nil table: %v", got)
	}
	if got := ClassifyIRQs(&procfs.InterruptTable{}, []sysfs.NetDevice{{Name: "eth0"}}); len(got) != 0 {
		t.Errorf("empty table: %v", got)
	}
}

// Every rule carries an example in its comment; keep the table documented.
func TestClassifyRulesDocumented(t *testing.T) {
	for i, r := range irqcRules {
		if r.driver == "" || r.re == nil || r.dev < 0 {
			t.Errorf("rule %d (%v) incomplete", i, r.re)
		}
		if r.handle == irqcNetdev && r.mode != irqcBare && !strings.Contains(r.re.String(), "(?P<dev>") {
			t.Errorf("rule %d has no dev group", i)
		}
	}
}

// FuzzClassifyIRQs classifies whatever the interrupts parser makes of its
// input (split from procfs's FuzzParseInterrupts): no input panics.
func FuzzClassifyIRQs(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/proc_interrupts/*.txt")
	shapes, _ := filepath.Glob(filepath.Join(irqcShapes, "*.txt"))
	for _, file := range append(files, shapes...) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("IPI0:1 2\n 1:\n:\n 2: 3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, _ := procfs.ParseInterrupts(bytes.NewReader(data))
		_ = ClassifyIRQs(tab, nil)
	})
}

// intrLoad parses testdata/proc_interrupts/<name>; the table is never nil.
func intrLoad(t testing.TB, name string) (*procfs.InterruptTable, error) {
	t.Helper()
	return intrLoadPath(t, filepath.Join("../../testdata/proc_interrupts", name))
}

// intrLoadPath parses the file at path; the table is never nil. A pasted
// fragment (its name says so) may lack the CPU header: the warning that it
// does is dropped, any other problem is returned.
func intrLoadPath(t testing.TB, path string) (*procfs.InterruptTable, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := procfs.ParseInterrupts(bytes.NewReader(data))
	if tab == nil {
		t.Fatalf("%s: nil table (err %v)", path, err)
	}
	var pe *procfs.InterruptsParseError
	if strings.Contains(filepath.Base(path), "fragment") && errors.As(err, &pe) && pe.OnlyNoHeader() {
		err = nil
	}
	return tab, err
}
