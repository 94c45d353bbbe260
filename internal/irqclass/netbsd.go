package irqclass

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/netbsd"
)

// NetBSD names an interrupt twice: its id ("msix0 vec 3": the interrupt
// controller and vector, what `intrctl affinity -i` takes) and the name the
// driver gave pci_intr_establish_xname(), which `intrctl list` shows as the
// device name(s) and which says device and queue. ClassifyNetBSD reads the
// latter; the formats are the drivers' own (internal/kernel/netbsd's
// testdata/README.md names the sources).

// NetBSDNICs is what the classifier knows of a NetBSD host besides the
// interrupt names.
type NetBSDNICs struct {
	// Interfaces are the network interfaces (ifconfig -l). nil: not known;
	// a device is then a NIC when its driver is in netbsdNICDrivers.
	Interfaces map[string]bool
	// VirtioChild maps a virtio(4) bus to the device attached to it
	// ("virtio0" → "vioif0", from drvctl(4)): virtio names the interrupts
	// of vioif(4) after the bus. A bus missing here is no NIC's.
	VirtioChild map[string]string
}

// netbsdRule is one naming scheme of ClassifyNetBSD, tried in order.
type netbsdRule struct {
	driver string         // IRQClass.Driver
	re     *regexp.Regexp // groups: dev, q (queue), k (kind word)
	kind   kernel.IRQKind // when there is no k group
	queue  int            // when there is no q group
}

var netbsdRules = []netbsdRule{
	// wm(4) MSI-X: "wm0TXRX0" (one vector per queue pair), "wm0LINK".
	{driver: "wm", re: regexp.MustCompile(`^(?P<dev>wm\d+)TXRX(?P<q>\d+)$`), kind: kernel.KindCombined},
	{driver: "wm", re: regexp.MustCompile(`^(?P<dev>wm\d+)LINK$`), kind: kernel.KindOther, queue: -1},
	// ixg(4), ixv(4), vmx(4), aq(4) and others: "ixg0 TXRX3", "aq0 RX1",
	// "aq0 TX1", "ixg0 link", "aq0 LINK"; iavf(4): "iavf0-TXRX0".
	{driver: "txrx", re: regexp.MustCompile(`^(?P<dev>[a-z]+\d+)[ -](?P<k>TXRX|TxRx|txrx|RX|TX|rx|tx)(?P<q>\d+)$`)},
	{driver: "txrx", re: regexp.MustCompile(`^(?P<dev>[a-z]+\d+)[ -](?:link|LINK|admin|misc|mbx|mgmnt|event)$`), kind: kernel.KindOther, queue: -1},
	// virtio(4) MSI-X with a vector per virtqueue: "virtio0 vq#3" (the
	// queue is resolved by netbsdVirtio), its config vector, and the
	// vector shared by every virtqueue (combined, no single queue).
	{driver: "vioif", re: regexp.MustCompile(`^(?P<dev>virtio\d+) vq#(?P<q>\d+)$`)},
	{driver: "vioif", re: regexp.MustCompile(`^(?P<dev>virtio\d+) config$`), kind: kernel.KindOther, queue: -1},
	{driver: "vioif", re: regexp.MustCompile(`^(?P<dev>virtio\d+)(?: queues)?$`), kind: kernel.KindCombined, queue: -1},
	// One vector for everything, named after the device ("wm0", "rge0",
	// the INTx or MSI of most NICs): combined queue 0, as on Linux.
	{driver: "single", re: regexp.MustCompile(`^(?P<dev>[a-z]+\d+)$`), kind: kernel.KindCombined},
}

// netbsdNICDrivers are the NetBSD Ethernet drivers whose devices count as
// NICs when the interface list is not known.
var netbsdNICDrivers = map[string]bool{
	"wm": true, "ixg": true, "ixv": true, "ixl": true, "iavf": true, "aq": true, "igc": true, "vioif": true,
	"vmx": true, "bge": true, "bnx": true, "re": true, "rge": true, "mcx": true, "ena": true, "msk": true,
	"sk": true, "age": true, "alc": true, "ale": true, "jme": true, "nfe": true, "sip": true, "vr": true,
	"fxp": true, "tl": true, "tlp": true, "vge": true, "xennet": true, "hvn": true, "eqos": true,
	"awge": true, "mvgbe": true, "mvxpe": true, "genet": true, "cemac": true, "enet": true, "dwc": true,
}

// ClassifyNetBSD classifies every line of an intrctl list: the result is
// parallel to lines. A line shared by several devices ("uhci0, wm1") is
// the NIC's when one of its names is; the first such name wins.
func ClassifyNetBSD(lines []netbsd.IntrLine, nics NetBSDNICs) []IRQClass {
	c := netbsdClassifier{nics: nics, vqs: map[string]int{}}
	for _, l := range lines {
		for _, name := range strings.Split(l.Devices, ", ") {
			if m := virtioVQRe.FindStringSubmatch(name); m != nil {
				c.vqs[m[1]]++
			}
		}
	}
	out := make([]IRQClass, len(lines))
	for i, l := range lines {
		out[i] = IRQClass{Queue: -1, Kind: kernel.KindNone}
		for _, name := range strings.Split(l.Devices, ", ") {
			if cl, ok := c.classify(name); ok {
				out[i] = cl
				break
			}
		}
	}
	return out
}

var virtioVQRe = regexp.MustCompile(`^(virtio\d+) vq#\d+$`)

type netbsdClassifier struct {
	nics NetBSDNICs
	vqs  map[string]int // virtio bus → its per-virtqueue vectors
}

// classify matches one device name against netbsdRules.
func (c netbsdClassifier) classify(name string) (IRQClass, bool) {
	for _, r := range netbsdRules {
		m := r.re.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		dev := m[r.re.SubexpIndex("dev")]
		cl := IRQClass{Device: dev, Queue: r.queue, Kind: r.kind, Driver: r.driver}
		if i := r.re.SubexpIndex("q"); i >= 0 {
			cl.Queue, _ = strconv.Atoi(m[i])
		}
		if i := r.re.SubexpIndex("k"); i >= 0 {
			cl.Kind = irqcKindWord(strings.ToLower(m[i])) // txrx: combined
		}
		if strings.HasPrefix(dev, "virtio") {
			return c.virtio(cl)
		}
		return cl, c.isNIC(dev)
	}
	return IRQClass{}, false
}

// virtio turns a vector of a virtio bus into its vioif's: virtqueue 2i is
// receive queue i, 2i+1 transmit queue i, and with an odd number of
// virtqueues the last one is the control queue (vioif_alloc_queues).
// virtio_pci gives each virtqueue a vector only for a child with several
// queue pairs, so there are at least four.
func (c netbsdClassifier) virtio(cl IRQClass) (IRQClass, bool) {
	child, ok := c.nics.VirtioChild[cl.Device]
	if !ok || !c.isNIC(child) {
		return IRQClass{}, false
	}
	vq, n := cl.Queue, c.vqs[cl.Device]
	cl.Device = child
	if cl.Kind != kernel.KindNone { // config, or one vector for every queue
		return cl, true
	}
	switch {
	case n%2 == 1 && vq == n-1:
		cl.Kind, cl.Queue = kernel.KindOther, -1
	case vq%2 == 0:
		cl.Kind, cl.Queue = kernel.KindRx, vq/2
	default:
		cl.Kind, cl.Queue = kernel.KindTx, vq/2
	}
	return cl, true
}

// isNIC reports whether dev is a network interface.
func (c netbsdClassifier) isNIC(dev string) bool {
	if c.nics.Interfaces != nil {
		return c.nics.Interfaces[dev]
	}
	return netbsdNICDrivers[strings.TrimRight(dev, "0123456789")]
}
