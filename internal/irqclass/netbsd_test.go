package irqclass

import (
	"reflect"
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/netbsd"
)

// TestClassifyNetBSD: the drivers' own interrupt names (the formats are
// named in internal/kernel/netbsd/testdata/README.md) and names from a
// real `intrctl list` (rge0, nvme0 ioqN, the GIC's IPIs).
func TestClassifyNetBSD(t *testing.T) {
	cases := []struct {
		devices string
		want    IRQClass
	}{
		{"wm0TXRX0", IRQClass{Device: "wm0", Queue: 0, Kind: kernel.KindCombined, Driver: "wm"}},
		{"wm0TXRX12", IRQClass{Device: "wm0", Queue: 12, Kind: kernel.KindCombined, Driver: "wm"}},
		{"wm0LINK", IRQClass{Device: "wm0", Queue: -1, Kind: kernel.KindOther, Driver: "wm"}},
		{"wm1", IRQClass{Device: "wm1", Queue: 0, Kind: kernel.KindCombined, Driver: "single"}},
		{"ixg0 TXRX3", IRQClass{Device: "ixg0", Queue: 3, Kind: kernel.KindCombined, Driver: "txrx"}},
		{"ixg0 link", IRQClass{Device: "ixg0", Queue: -1, Kind: kernel.KindOther, Driver: "txrx"}},
		{"aq0 RX1", IRQClass{Device: "aq0", Queue: 1, Kind: kernel.KindRx, Driver: "txrx"}},
		{"aq0 TX1", IRQClass{Device: "aq0", Queue: 1, Kind: kernel.KindTx, Driver: "txrx"}},
		{"aq0 LINK", IRQClass{Device: "aq0", Queue: -1, Kind: kernel.KindOther, Driver: "txrx"}},
		{"iavf0-TXRX2", IRQClass{Device: "iavf0", Queue: 2, Kind: kernel.KindCombined, Driver: "txrx"}},
		{"rge0", IRQClass{Device: "rge0", Queue: 0, Kind: kernel.KindCombined, Driver: "single"}},
		{"uhci0, wm2", IRQClass{Device: "wm2", Queue: 0, Kind: kernel.KindCombined, Driver: "single"}},
		{"virtio0 vq#0", IRQClass{Device: "vioif0", Queue: 0, Kind: kernel.KindRx, Driver: "vioif"}},
		{"virtio0 vq#1", IRQClass{Device: "vioif0", Queue: 0, Kind: kernel.KindTx, Driver: "vioif"}},
		{"virtio0 vq#2", IRQClass{Device: "vioif0", Queue: 1, Kind: kernel.KindRx, Driver: "vioif"}},
		{"virtio0 vq#3", IRQClass{Device: "vioif0", Queue: 1, Kind: kernel.KindTx, Driver: "vioif"}},
		{"virtio0 vq#4", IRQClass{Device: "vioif0", Queue: -1, Kind: kernel.KindOther, Driver: "vioif"}}, // control
		{"virtio0 config", IRQClass{Device: "vioif0", Queue: -1, Kind: kernel.KindOther, Driver: "vioif"}},
		{"virtio2 queues", IRQClass{Device: "vioif1", Queue: -1, Kind: kernel.KindCombined, Driver: "vioif"}},
		{"virtio3", IRQClass{Device: "vioif2", Queue: -1, Kind: kernel.KindCombined, Driver: "vioif"}},
	}
	notNIC := []string{"virtio1 vq#0", "virtio1 config", "nvme0 ioq1", "nvme0 adminq", "IPI ast", "gtmr0",
		"xhci4", "acpi0", "uhci0, ehci0", "hdaudio0", "ahci0", "ld0", ""}
	var lines []netbsd.IntrLine
	for _, c := range cases {
		lines = append(lines, netbsd.IntrLine{Devices: c.devices})
	}
	for _, n := range notNIC {
		lines = append(lines, netbsd.IntrLine{Devices: n})
	}
	nics := NetBSDNICs{
		Interfaces:  map[string]bool{"wm0": true, "wm1": true, "wm2": true, "ixg0": true, "aq0": true, "iavf0": true, "rge0": true, "vioif0": true, "vioif1": true, "vioif2": true, "lo0": true},
		VirtioChild: map[string]string{"virtio0": "vioif0", "virtio1": "ld0", "virtio2": "vioif1", "virtio3": "vioif2"},
	}
	got := ClassifyNetBSD(lines, nics)
	for i, c := range cases {
		if !reflect.DeepEqual(got[i], c.want) {
			t.Errorf("%q: got %+v, want %+v", c.devices, got[i], c.want)
		}
	}
	for i, n := range notNIC {
		if cl := got[len(cases)+i]; cl.IsNIC() || cl.Queue != -1 {
			t.Errorf("%q: got %+v, want no NIC", n, cl)
		}
	}
}

// TestClassifyNetBSDWithoutInterfaces: without the interface list a
// device is a NIC by its driver's name.
func TestClassifyNetBSDWithoutInterfaces(t *testing.T) {
	lines := []netbsd.IntrLine{{Devices: "ixg1 TXRX0"}, {Devices: "nvme0 ioq1"}, {Devices: "hdaudio0"},
		{Devices: "virtio0 vq#0"}, {Devices: "virtio0 vq#1"}, {Devices: "virtio0 vq#2"}, {Devices: "virtio0 vq#3"}}
	got := ClassifyNetBSD(lines, NetBSDNICs{VirtioChild: map[string]string{"virtio0": "vioif0"}})
	if got[0].Device != "ixg1" || got[0].Kind != kernel.KindCombined || got[1].IsNIC() || got[2].IsNIC() {
		t.Errorf("got %+v", got)
	}
	if got[3].Device != "vioif0" || got[3].Kind != kernel.KindRx {
		t.Errorf("vioif: %+v", got[3])
	}
}
