package irqclass

import (
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/netbsd"
)

// FuzzClassifyNetBSD: whatever the device names, a NIC class names a
// device and a known kind, only queue vectors have a queue, and a device
// that is no interface is never a NIC.
func FuzzClassifyNetBSD(f *testing.F) {
	for _, s := range []string{"wm0TXRX0\nwm0LINK", "ixg0 TXRX3\nixg0 link", "virtio0 vq#0\nvirtio0 vq#1\nvirtio0 vq#2\nvirtio0 config",
		"uhci0, wm2", "nvme0 ioq1", "aq0 RX1\naq0 TX1", "virtio3"} {
		f.Add(s)
	}
	nics := NetBSDNICs{Interfaces: map[string]bool{"wm0": true, "wm2": true, "ixg0": true, "aq0": true, "vioif0": true, "vioif3": true},
		VirtioChild: map[string]string{"virtio0": "vioif0", "virtio3": "vioif3", "virtio1": "ld0"}}
	f.Fuzz(func(t *testing.T, names string) {
		var lines []netbsd.IntrLine
		for _, n := range strings.Split(names, "\n") {
			lines = append(lines, netbsd.IntrLine{Devices: n})
		}
		for i, cl := range ClassifyNetBSD(lines, nics) {
			switch {
			case !cl.IsNIC():
				if cl.Queue != -1 || cl.Device != "" {
					t.Fatalf("%q: not a NIC but %+v", lines[i].Devices, cl)
				}
			case !nics.Interfaces[cl.Device]:
				t.Fatalf("%q: %s is no interface", lines[i].Devices, cl.Device)
			case cl.Queue < -1, cl.Kind == kernel.KindOther && cl.Queue != -1:
				t.Fatalf("%q: %+v", lines[i].Devices, cl)
			}
		}
	})
}
