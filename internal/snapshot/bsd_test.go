package snapshot

import (
	"errors"
	"regexp"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/netbsd"
)

// fakeNetBSD stands in for a NetBSD kernel with a wm(4) and a vioif(4)
// below virtio0 until the test ends.
func fakeNetBSD(t *testing.T) *int {
	saved := bsdReads
	t.Cleanup(func() { bsdReads = saved })
	drvctl := 0
	bsdReads.intrList = func() (*netbsd.IntrList, error) {
		one := func(c uint64) []uint64 { return []uint64{c, 0} }
		return &netbsd.IntrList{NCPU: 2, Lines: []netbsd.IntrLine{
			{ID: "ioapic0 pin 9", Devices: "acpi0", Counts: one(3), Assigned: cpuset.NewCPUSet(0)},
			{ID: "msix0 vec 0", Devices: "wm0TXRX0", Counts: one(100), Assigned: cpuset.NewCPUSet(0)},
			{ID: "msix0 vec 1", Devices: "wm0TXRX1", Counts: one(90), Assigned: cpuset.NewCPUSet(0)},
			{ID: "msix1 vec 1", Devices: "virtio0 vq#0", Counts: one(5), Assigned: cpuset.NewCPUSet(1)},
			{ID: "msix1 vec 2", Devices: "virtio0 vq#1", Counts: one(6), Assigned: cpuset.NewCPUSet(1)},
			{ID: "msix1 vec 3", Devices: "virtio0 vq#2", Counts: one(7), Assigned: cpuset.NewCPUSet(1)},
			{ID: "msix1 vec 4", Devices: "virtio0 vq#3", Counts: one(8), Assigned: cpuset.NewCPUSet(1)},
		}}, nil
	}
	bsdReads.evcnts = func() ([]netbsd.Evcnt, error) {
		return []netbsd.Evcnt{{Group: "wm0", Name: "rxq00intr", Type: netbsd.EvcntIntr, Count: 99}}, nil
	}
	bsdReads.interfaces = func() ([]string, error) { return []string{"wm0", "vioif0", "lo0"}, nil }
	bsdReads.children = func(dev string) ([]string, error) {
		drvctl++
		if dev != "virtio0" {
			return nil, errors.New("ENXIO")
		}
		return []string{"vioif0"}, nil
	}
	return &drvctl
}

// TestNetBSDParts: the NetBSD parts read, classify (vioif through its
// virtio bus, asked once per snapshot) and time like the others.
func TestNetBSDParts(t *testing.T) {
	drvctl := fakeNetBSD(t)
	snap := NewSource(Options{Parts: PartIntrList | PartEvcnt}).Snapshot()
	if snap.IntrListErr != nil || snap.EvcntsErr != nil || !snap.IsNetBSD() {
		t.Fatalf("errors %v, %v", snap.IntrListErr, snap.EvcntsErr)
	}
	if *drvctl != 1 {
		t.Errorf("drvctl asked %d times", *drvctl)
	}
	want := map[int]string{0: "", 1: "wm0 0 combined", 2: "wm0 1 combined", 3: "vioif0 0 rx", 4: "vioif0 0 tx", 5: "vioif0 1 rx", 6: "vioif0 1 tx"}
	for i, cl := range snap.IntrClasses {
		got := ""
		if cl.IsNIC() {
			got = cl.Device + " " + cl.QueueLabel() + " " + string(cl.Kind)
		}
		if got != want[i] {
			t.Errorf("line %d (%s): %q, want %q", i, snap.IntrList.Lines[i].Devices, got, want[i])
		}
	}
	if len(snap.Evcnts) != 1 || len(snap.ReadDurations) != 2 || snap.ReadDurations[0].Part.String() != "intr_list" {
		t.Errorf("evcnts %v, durations %v", snap.Evcnts, snap.ReadDurations)
	}
}

// TestNetBSDPartsOffNetBSD: elsewhere the parts fail with ErrNotNetBSD
// and the snapshot is no NetBSD one.
func TestNetBSDPartsOffNetBSD(t *testing.T) {
	snap := NewSource(Options{Parts: PartIntrList}).Snapshot()
	if !errors.Is(snap.IntrListErr, netbsd.ErrNotNetBSD) || snap.IsNetBSD() {
		t.Errorf("err %v, IsNetBSD %v", snap.IntrListErr, snap.IsNetBSD())
	}
}

func TestDetailedNetBSD(t *testing.T) {
	line := netbsd.IntrLine{ID: "ioapic0 pin 9", Devices: "acpi0"}
	nic := netbsd.IntrLine{ID: "msix0 vec 0", Devices: "wm0TXRX0"}
	nicClass, none := classOf("wm0", kernel.KindCombined), classOf("", kernel.KindNone)
	for _, c := range []struct {
		sel       *IRQSelector
		line, nic bool
	}{
		{nil, false, true},
		{&IRQSelector{}, false, true},
		{&IRQSelector{All: true}, true, true},
		{&IRQSelector{Include: regexp.MustCompile(`^acpi`)}, true, true},
		{&IRQSelector{Include: regexp.MustCompile(`pin 9`)}, true, true},
		{&IRQSelector{Exclude: regexp.MustCompile(`^wm0$`)}, false, false},
	} {
		if got := c.sel.DetailedNetBSD(line, none); got != c.line {
			t.Errorf("%+v: acpi0 %v", c.sel, got)
		}
		if got := c.sel.DetailedNetBSD(nic, nicClass); got != c.nic {
			t.Errorf("%+v: wm0 %v", c.sel, got)
		}
	}
}

func classOf(dev string, kind kernel.IRQKind) irqclass.IRQClass {
	q := 0
	if kind == kernel.KindNone {
		q = -1
	}
	return irqclass.IRQClass{Device: dev, Queue: q, Kind: kind}
}
