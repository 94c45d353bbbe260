package irqclass

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// ClassifyIRQs tells, for every numbered IRQ of t, whether it is a NIC data
// queue (Device, Queue, Kind rx/tx/combined), another vector of a NIC (Kind
// other, Queue -1: misc, async/cmd/pages EQs, config, link, flow director,
// event, management) or not a NIC's (Kind none, Queue -1).
//
// Two sources are combined:
//
//  1. The IRQ's action names, matched against irqcRules below: one ordered
//     table of the naming schemes of real drivers. A line with several
//     actions (a shared INTx line, "ehci_hcd:usb1, eth0") is the NIC's when
//     one of its actions is; the first such action gives its class, the
//     other NICs' go to IRQClass.Also.
//  2. sysfs, through devs (may be nil): an IRQ in a device's msi_irqs, or
//     equal to its legacy irq, belongs to that device; a virtio netdev's IRQs
//     are named after its virtio device; PCI-address names map to the device
//     at that address. devs turn the handle in a name into the net device
//     name, decide which virtio devices are NICs, and classify IRQs whose
//     names follow no known scheme (rule "msi_irqs"/"legacy_irq": the
//     device's only IRQ is a single-vector NIC, combined queue 0; any IRQ of
//     a device owning several is kernel.KindOther, since its role is unknown).
//
// Without devs, Device is the handle the name gives: the interface name
// ("eth0"), the PCI address ("0000:01:00.0") or the virtio device
// ("virtio0"). What counts as an interface name then is deliberately
// narrow (irqcIfNameRe): Wi-Fi (iwlwifi), InfiniBand (ib_qib, ib_mthca) and
// storage (hpsa, ahci, nvme) vectors are not NICs.
//
// Conventions: a NIC with one vector for everything (single MSI or INTx) is
// Kind combined, Queue 0. A virtio-net vector shared by every virtqueue
// ("virtio0-virtqueues", or the bare "virtio1" of a legacy INTx device) is
// Kind combined, Queue -1, since it serves every queue pair, not one.
// hv_netvsc (Hyper-V) has no per-queue IRQs: its channels signal through the
// hypervisor callback vector (the HYP arch line), so nothing here names it;
// Azure accelerated networking shows up as mana.
func ClassifyIRQs(t *procfs.InterruptTable, devs []sysfs.NetDevice) map[int]IRQClass {
	if t == nil {
		return map[int]IRQClass{}
	}
	c := newIRQClassifier(devs)
	out := make(map[int]IRQClass, len(t.IRQs))

	// Pass 1: match every action name. Some rules need to know the other
	// vectors of the same device, collected here.
	// The matches of IRQ i are all[start[i]:start[i+1]].
	all := make([]irqcMatch, 0, len(t.IRQs))
	start := make([]int, len(t.IRQs)+1)
	for i, line := range t.IRQs {
		start[i] = len(all)
		all = c.match(all, line.Name)
		for _, m := range all[start[i]:] {
			c.note(m)
		}
	}
	start[len(t.IRQs)] = len(all)
	// Pass 2: resolve each IRQ.
	for i, line := range t.IRQs {
		cl := c.classify(line.IRQ, all[start[i]:start[i+1]])
		cl.IRQ = line.IRQ
		out[line.IRQ] = cl
	}
	return out
}

// classify resolves one IRQ from the matches of its actions: the first
// that makes it a NIC's is its class; what the others serve (more NICs on
// a shared INTx line) goes to Also. Without a match, sysfs decides.
func (c *irqClassifier) classify(irq int, ms []irqcMatch) IRQClass {
	var cl IRQClass
	found := false
	for _, m := range ms {
		mc, ok := c.resolve(irq, m)
		switch {
		case !ok:
		case !found:
			cl, found = mc, true
		default:
			cl.addAlso(mc.Serves())
		}
	}
	if found {
		return cl
	}
	if cl, ok := c.bySysfs(irq); ok {
		return cl
	}
	return IRQClass{Queue: -1, Kind: kernel.KindNone}
}

// irqcHandle says what the device handle captured by a rule is.
type irqcHandle int

const (
	irqcNetdev irqcHandle = iota // an interface name: "eth0"
	irqcBDF                      // a PCI address: "0000:01:00.0"
	irqcVirtio                   // a virtio device: "virtio2"
)

// irqcMode says how a rule's match becomes a kind and queue.
type irqcMode int

const (
	irqcFixed     irqcMode = iota // kind from the rule (or its k group), queue from its q group
	irqcBare                      // bare interface name: other if the device has queue vectors, else single vector
	irqcSplit                     // "<dev>-rx-N"/"<dev>-tx-N"; rx is 1-based (tg3) when the device has tx-0 and no rx-0
	irqcGVE                       // gve notification block: first half tx queues, second half rx queues
	irqcVirtioNet                 // virtio vector: a NIC's only if that virtio device is a net device
	irqcPCIOne                    // "<driver>@pci:<bdf>" of a known single-vector wired NIC driver
	irqcTx0Rx                     // qlcnic "<dev>-tx-0-rx-N": rx queue N, and tx queue 0 in Also
)

// irqcRule is one naming scheme. Cheap checks (one of prefixes, one of
// contains, a final digit) run before the regexp. The regexp's named groups:
// dev (the device handle), q (queue or vector number), k (kind word: TxRx,
// rx, tx) and drv (driver).
type irqcRule struct {
	driver   string // reported as IRQClass.Driver
	prefixes []string
	contains []string
	digitEnd bool // the name ends with a digit
	re       *regexp.Regexp
	handle   irqcHandle
	kind     kernel.IRQKind // when there is no k group
	mode     irqcMode
	ifName   bool // the dev group must look like an interface name

	dev, q, k, drv int // group indexes; -1 when absent
}

// irqcBDFRe matches a PCI address with any domain width (mana uses
// "7870:00:00.0").
const irqcBDFRe = `[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]`

func irqcR(r irqcRule, expr string) irqcRule {
	r.re = regexp.MustCompile(strings.ReplaceAll(expr, "BDF", irqcBDFRe))
	r.dev, r.q, r.k, r.drv = r.re.SubexpIndex("dev"), r.re.SubexpIndex("q"), r.re.SubexpIndex("k"), r.re.SubexpIndex("drv")
	return r
}

// irqcRules is tried in order on each action name; the first match wins. To
// support a driver, add a line (before any more generic rule that would
// catch its names) and a test case.
var irqcRules = []irqcRule{
	// mlx5_core completion EQ = one channel (rx+tx): "mlx5_comp3@pci:0000:01:00.0".
	irqcR(irqcRule{driver: "mlx5", prefixes: []string{"mlx5_comp"}, handle: irqcBDF, kind: kernel.KindCombined},
		`^mlx5_comp(?P<q>\d+)@pci:(?P<dev>BDF)$`),
	// mlx5_core control EQs: "mlx5_async0@pci:0000:01:00.0" (new kernels),
	// "mlx5_pages_eq@pci:…", "mlx5_cmd_eq@pci:…", "mlx5_async_eq@pci:…" (old).
	irqcR(irqcRule{driver: "mlx5", prefixes: []string{"mlx5_"}, handle: irqcBDF, kind: kernel.KindOther},
		`^mlx5_[a-z_]+\d*@pci:(?P<dev>BDF)$`),
	// mlx4_core EQs "mlx4-comp-0@pci:0000:04:00.0", "mlx4-async@pci:…": the
	// core's completion (RDMA) and async EQs, not the mlx4_en rings (those
	// are "eth6-0", see the dev-N rule); the corpus lists them as NOT queues.
	irqcR(irqcRule{driver: "mlx4", prefixes: []string{"mlx4-"}, handle: irqcBDF, kind: kernel.KindOther},
		`^mlx4-(?:comp-\d+|async)@pci:(?P<dev>BDF)$`),
	// Intel i40e/ice/iavf device vectors: "i40e-0000:01:00.0:misc",
	// "i40e-0000:01:00.0:fdir-TxRx-0", "ice-0000:3b:00.0:misc", "iavf-0000:02:02.0:mbx".
	irqcR(irqcRule{driver: "i40e/ice", prefixes: []string{"i40e-", "ice-", "iavf-"}, contains: []string{":"}, handle: irqcBDF, kind: kernel.KindOther},
		`^(?:i40e|ice|iavf)-(?P<dev>BDF):.+$`),
	// Intel i40e/ice/iavf queue vectors: "i40e-eth0-TxRx-0", "ice-ens1f0-TxRx-11",
	// "-rx-N"/"-tx-N" when rx and tx have their own vectors.
	irqcR(irqcRule{driver: "i40e/ice", prefixes: []string{"i40e-", "ice-", "iavf-"}, digitEnd: true, handle: irqcNetdev},
		`^(?:i40e|ice|iavf)-(?P<dev>[^\s:]+)-(?P<k>TxRx|rx|tx)-(?P<q>\d+)$`),
	// Amazon ena queue pair: "eth0-Tx-Rx-3".
	irqcR(irqcRule{driver: "ena", contains: []string{"-Tx-Rx-"}, digitEnd: true, handle: irqcNetdev, kind: kernel.KindCombined},
		`^(?P<dev>[^\s:]+)-Tx-Rx-(?P<q>\d+)$`),
	// Amazon ena management/admin vector: "ena-mgmnt@pci:0000:00:05.0".
	irqcR(irqcRule{driver: "ena", prefixes: []string{"ena-mgmnt@pci:"}, handle: irqcBDF, kind: kernel.KindOther},
		`^ena-mgmnt@pci:(?P<dev>BDF)$`),
	// Google gve notification block: "gve-ntfy-blk3@pci:0000:00:04.0"; the
	// first half of a device's blocks serve tx queues 0.., the second half rx.
	irqcR(irqcRule{driver: "gve", prefixes: []string{"gve-ntfy-blk"}, handle: irqcBDF, mode: irqcGVE},
		`^gve-ntfy-blk(?P<q>\d+)@pci:(?P<dev>BDF)$`),
	// Google gve management vector: "gve-mgmnt@pci:0000:00:04.0".
	irqcR(irqcRule{driver: "gve", prefixes: []string{"gve-mgmnt@pci:"}, handle: irqcBDF, kind: kernel.KindOther},
		`^gve-mgmnt@pci:(?P<dev>BDF)$`),
	// Microsoft mana queue vector: "mana_q3@pci:7870:00:00.0".
	irqcR(irqcRule{driver: "mana", prefixes: []string{"mana_q"}, handle: irqcBDF, kind: kernel.KindCombined},
		`^mana_q(?P<q>\d+)@pci:(?P<dev>BDF)$`),
	// Microsoft mana hardware channel: "mana_hwc@pci:7870:00:00.0".
	irqcR(irqcRule{driver: "mana", prefixes: []string{"mana_hwc@pci:"}, handle: irqcBDF, kind: kernel.KindOther},
		`^mana_hwc@pci:(?P<dev>BDF)$`),
	// virtio_net rx queue: "virtio2-input.0" (only for a virtio net device:
	// virtio4-input of an input device has no ".N").
	irqcR(irqcRule{driver: "virtio_net", prefixes: []string{"virtio"}, handle: irqcVirtio, kind: kernel.KindRx, mode: irqcVirtioNet},
		`^(?P<dev>virtio\d+)-input\.(?P<q>\d+)$`),
	// virtio_net tx queue: "virtio2-output.0".
	irqcR(irqcRule{driver: "virtio_net", prefixes: []string{"virtio"}, handle: irqcVirtio, kind: kernel.KindTx, mode: irqcVirtioNet},
		`^(?P<dev>virtio\d+)-output\.(?P<q>\d+)$`),
	// virtio_net config change and control vectors: "virtio2-config", "virtio2-control".
	irqcR(irqcRule{driver: "virtio_net", prefixes: []string{"virtio"}, handle: irqcVirtio, kind: kernel.KindOther, mode: irqcVirtioNet},
		`^(?P<dev>virtio\d+)-(?:config|control)$`),
	// virtio_net with one vector shared by all virtqueues: "virtio0-virtqueues"
	// (combined, queue -1), and legacy INTx named after the device: "virtio1".
	irqcR(irqcRule{driver: "virtio_net", prefixes: []string{"virtio"}, handle: irqcVirtio, kind: kernel.KindCombined, mode: irqcVirtioNet},
		`^(?P<dev>virtio\d+)(?:-virtqueues)?$`),
	// VMware vmxnet3 queue pair: "eth0-rxtx-3".
	irqcR(irqcRule{driver: "vmxnet3", contains: []string{"-rxtx-"}, digitEnd: true, handle: irqcNetdev, kind: kernel.KindCombined, ifName: true},
		`^(?P<dev>[^\s:]+)-rxtx-(?P<q>\d+)$`),
	// VMware vmxnet3 event (link) vector: "eth0-event-8".
	irqcR(irqcRule{driver: "vmxnet3", contains: []string{"-event-"}, digitEnd: true, handle: irqcNetdev, kind: kernel.KindOther, ifName: true},
		`^(?P<dev>[^\s:]+)-event-\d+$`),
	// QLogic qede and Broadcom bnx2x fastpath: "eth0-fp-3".
	irqcR(irqcRule{driver: "qede/bnx2x", contains: []string{"-fp-"}, digitEnd: true, handle: irqcNetdev, kind: kernel.KindCombined, ifName: true},
		`^(?P<dev>[^\s:]+)-fp-(?P<q>\d+)$`),
	// igb, igc, ixgbe, ixgbevf, bnxt_en queue pair: "eth0-TxRx-3" (tg3 with
	// tx+rx on one vector: "eth0-txrx-1").
	irqcR(irqcRule{driver: "txrx", contains: []string{"-TxRx-", "-txrx-"}, digitEnd: true, handle: irqcNetdev, kind: kernel.KindCombined, ifName: true},
		`^(?P<dev>[^\s:]+)-(?:TxRx|txrx)-(?P<q>\d+)$`),
	// QLogic qlcnic (82xx, one tx ring): the last rx ring's vector also
	// serves tx ring 0: "eth0-rx-0".."eth0-rx-2" (next rule), "eth0-tx-0-rx-3".
	irqcR(irqcRule{driver: "qlcnic", contains: []string{"-tx-0-rx-"}, digitEnd: true, handle: irqcNetdev, kind: kernel.KindRx, mode: irqcTx0Rx, ifName: true},
		`^(?P<dev>[^\s:]+)-tx-0-rx-(?P<q>\d+)$`),
	// Separate rx and tx vectors: igb/ixgbe "eth0-rx-0".."eth0-tx-3", e1000e
	// MSI-X "eth2-rx-0"+"eth2-tx-0", tg3 "eth0-tx-0"+"eth0-rx-1..4" (rx 1-based).
	irqcR(irqcRule{driver: "rx/tx", contains: []string{"-rx-", "-tx-"}, digitEnd: true, handle: irqcNetdev, mode: irqcSplit, ifName: true},
		`^(?P<dev>[^\s:]+)-(?P<k>rx|tx)-(?P<q>\d+)$`),
	// Numbered vectors of bnx2 ("em1-0".."em1-7"), mlx4_en ("eth6-0"), sfc
	// ("eth0-3"): each serves one queue pair.
	irqcR(irqcRule{driver: "dev-N", contains: []string{"-"}, digitEnd: true, handle: irqcNetdev, kind: kernel.KindCombined, ifName: true},
		`^(?P<dev>[^\s:]+)-(?P<q>\d+)$`),
	// Single-vector wired NIC named after its driver and PCI address:
	// "skge@pci:0000:05:00.0" (only drivers in irqcSingleVectorDrivers).
	irqcR(irqcRule{driver: "pci-driver", contains: []string{"@pci:"}, handle: irqcBDF, mode: irqcPCIOne},
		`^(?P<drv>[\w-]+)@pci:(?P<dev>BDF)$`),
	// Bare interface name: "eth0" is the other (link/misc) vector of
	// igb/ixgbe/e1000e when the same device has queue vectors, else the
	// only vector of a single-vector NIC (also as one action of a shared
	// INTx line: "ehci_hcd:usb1, eth0").
	irqcR(irqcRule{driver: "netdev", handle: irqcNetdev, mode: irqcBare, ifName: true},
		`^(?P<dev>[^\s:,]+)$`),
}

// irqcIfNameRe is what passes for an interface name when devs do not list
// it: ethN, emN (biosdevname, also emN_M), pNpM, systemd names (eno1, ens3,
// enp0s25, ens1f0np0, enx00112233aabb), ibN (IPoIB), bondN. Wi-Fi (wlan0,
// wlp3s0) is left out on purpose.
var irqcIfNameRe = regexp.MustCompile(`^(?:eth\d+|em\d+(?:_\d+)?|p\d+p\d+(?:_\d+)?|en[a-zA-Z]*\d[a-zA-Z0-9_]*|ib\d+|bond\d+)$`)

// irqcSingleVectorDrivers are wired NIC drivers that name their one IRQ
// "<driver>@pci:<bdf>" (e.g. skge on legacy INTx).
var irqcSingleVectorDrivers = map[string]bool{
	"skge": true, "sky2": true, "r8169": true, "r8125": true, "atl1": true, "atl1e": true, "atl1c": true,
	"alx": true, "e1000": true, "e100": true, "8139too": true, "8139cp": true, "tg3": true, "bnx2": true,
	"forcedeth": true, "via-rhine": true, "via-velocity": true, "sis900": true, "sis190": true, "b44": true,
	"pcnet32": true, "ne2k-pci": true, "tulip": true, "dmfe": true, "natsemi": true, "jme": true,
	"sc92031": true, "r6040": true, "3c59x": true, "typhoon": true, "starfire": true, "yellowfin": true,
}

// irqcNotNICDriver reports drivers whose net devices are not wired NICs as
// far as this exporter is concerned: Wi-Fi and InfiniBand-only HCAs. Their
// msi_irqs are not taken as NIC IRQs.
func irqcNotNICDriver(driver string) bool {
	for _, p := range []string{"iwl", "ath", "mt76", "mt79", "rtw", "rtl8", "brcm", "mwifiex", "b43", "rt2", "wil6210", "ib_qib", "ib_mthca", "hfi1", "qib"} {
		if strings.HasPrefix(driver, p) {
			return true
		}
	}
	return false
}

// irqcMatch is one action name matched by a rule.
type irqcMatch struct {
	rule   *irqcRule
	handle string
	q      int // -1 when the name has no number
	kw     string
}

// irqClassifier holds the sysfs indexes and the per-device facts of one
// ClassifyIRQs call.
type irqClassifier struct {
	devs        []sysfs.NetDevice
	byName      map[string]int
	byVirtio    map[string]int
	byBus       map[string][]int
	owner       map[int][]int // IRQ -> devices whose msi_irqs or legacy irq hold it
	knowsVirtio bool          // some device has a VirtioName: devs decide which virtio devices are NICs

	queueVec    map[string]bool // netdev handle has a data-queue vector
	tx0, rx0    map[string]bool // netdev handle has "-tx-0" / "-rx-0"
	gveBlocks   map[string]int  // notification blocks per gve PCI address
	virtioNetIO map[string]bool // virtio handle has input.N/output.N vectors
}

func newIRQClassifier(devs []sysfs.NetDevice) *irqClassifier {
	c := &irqClassifier{
		devs: devs, byName: map[string]int{}, byVirtio: map[string]int{}, byBus: map[string][]int{}, owner: map[int][]int{},
		queueVec: map[string]bool{}, tx0: map[string]bool{}, rx0: map[string]bool{}, gveBlocks: map[string]int{}, virtioNetIO: map[string]bool{},
	}
	for i, d := range devs {
		c.byName[d.Name] = i
		if d.VirtioName != "" {
			c.byVirtio[d.VirtioName] = i
			c.knowsVirtio = true
		}
		if d.IsVirtual() || irqcNotNICDriver(d.Driver) {
			continue
		}
		if d.BusAddress != "" {
			c.byBus[d.BusAddress] = append(c.byBus[d.BusAddress], i)
		}
		for _, irq := range d.MSIIRQs {
			c.owner[irq] = append(c.owner[irq], i)
		}
		if d.LegacyIRQ > 0 && len(d.MSIIRQs) == 0 {
			c.owner[d.LegacyIRQ] = append(c.owner[d.LegacyIRQ], i)
		}
	}
	return c
}

func irqcContainsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// isIfName reports whether s names a net device: listed in devs, or shaped
// like an interface name.
func (c *irqClassifier) isIfName(s string) bool {
	if _, ok := c.byName[s]; ok {
		return true
	}
	if len(s) < 2 || len(s) > 15 || !strings.ContainsRune("epib", rune(s[0])) {
		return false
	}
	return irqcIfNameRe.MatchString(s)
}

// match appends the rule matches of the actions of one IRQ name
// ("ehci_hcd:usb1, eth0" has two actions).
func (c *irqClassifier) match(out []irqcMatch, name string) []irqcMatch {
	for rest, more := name, true; more; {
		var action string
		action, rest, more = strings.Cut(rest, ", ")
		if m, ok := c.matchAction(strings.TrimSpace(action)); ok {
			out = append(out, m)
		}
	}
	return out
}

func (c *irqClassifier) matchAction(a string) (irqcMatch, bool) {
	if a == "" || strings.ContainsAny(a, " \t") {
		return irqcMatch{}, false
	}
	for i := range irqcRules {
		r := &irqcRules[i]
		if len(r.prefixes) > 0 {
			ok := false
			for _, p := range r.prefixes {
				if strings.HasPrefix(a, p) {
					ok = true
					break
				}
			}
			if !ok {
				continue
			}
		}
		if len(r.contains) > 0 && !irqcContainsAny(a, r.contains) {
			continue
		}
		if r.digitEnd && !intrIsDigit(a[len(a)-1]) {
			continue
		}
		if r.mode == irqcBare {
			// The whole name is the handle: no regexp needed.
			if strings.ContainsAny(a, ":,") || !c.isIfName(a) {
				continue
			}
			return irqcMatch{rule: r, handle: a, q: -1}, true
		}
		sm := r.re.FindStringSubmatch(a)
		if sm == nil {
			continue
		}
		m := irqcMatch{rule: r, q: -1}
		if r.dev >= 0 {
			m.handle = sm[r.dev]
		}
		if r.ifName && !c.isIfName(m.handle) {
			continue
		}
		if r.q >= 0 {
			q, err := strconv.Atoi(sm[r.q])
			if err != nil || q > 1<<20 {
				continue
			}
			m.q = q
		}
		if r.k >= 0 {
			m.kw = sm[r.k]
		}
		if r.drv >= 0 {
			m.kw = sm[r.drv]
		}
		return m, true
	}
	return irqcMatch{}, false
}

// note records what pass 2 needs to know about the other vectors of m's device.
func (c *irqClassifier) note(m irqcMatch) {
	r := m.rule
	switch {
	case r.mode == irqcGVE:
		c.gveBlocks[m.handle]++
	case r.mode == irqcVirtioNet && (r.kind == kernel.KindRx || r.kind == kernel.KindTx):
		c.virtioNetIO[m.handle] = true
	case r.handle == irqcNetdev && r.mode != irqcBare && r.kind != kernel.KindOther:
		c.queueVec[m.handle] = true
		if r.mode == irqcSplit && m.q == 0 {
			if m.kw == "tx" {
				c.tx0[m.handle] = true
			} else {
				c.rx0[m.handle] = true
			}
		}
	}
}

func irqcKindWord(w string) kernel.IRQKind {
	switch w {
	case "rx":
		return kernel.KindRx
	case "tx":
		return kernel.KindTx
	}
	return kernel.KindCombined
}

// resolve turns a match into a class; false when the match does not make
// the IRQ a NIC's after all (a virtio device that is not a net device, a
// driver@pci name of a driver that is not a NIC).
func (c *irqClassifier) resolve(irq int, m irqcMatch) (IRQClass, bool) {
	r := m.rule
	cl := IRQClass{Queue: m.q, Kind: r.kind, Driver: r.driver}
	if m.kw != "" && r.k >= 0 {
		cl.Kind = irqcKindWord(m.kw)
	}
	switch r.mode {
	case irqcBare:
		if c.queueVec[m.handle] {
			cl.Kind, cl.Queue = kernel.KindOther, -1
		} else {
			cl.Kind, cl.Queue = kernel.KindCombined, 0
		}
	case irqcSplit:
		if cl.Kind == kernel.KindRx && c.tx0[m.handle] && !c.rx0[m.handle] && m.q >= 1 {
			cl.Queue, cl.Driver = m.q-1, "tg3"
		}
	case irqcGVE:
		n := c.gveBlocks[m.handle]
		switch half := n / 2; {
		case n < 2:
			cl.Kind = kernel.KindCombined
		case m.q < half:
			cl.Kind = kernel.KindTx
		default:
			cl.Kind, cl.Queue = kernel.KindRx, m.q-half
		}
	case irqcVirtioNet:
		if !c.virtioIsNet(m.handle) {
			return IRQClass{}, false
		}
	case irqcPCIOne:
		if !irqcSingleVectorDrivers[m.kw] {
			return IRQClass{}, false
		}
		cl.Kind, cl.Queue = kernel.KindCombined, 0
	case irqcTx0Rx:
		if m.q == 0 {
			cl.Kind = kernel.KindCombined // one ring: rx 0 and tx 0, as a single-vector NIC
		}
	}
	if cl.Kind == kernel.KindOther || cl.Kind == kernel.KindCombined && r.mode == irqcVirtioNet {
		cl.Queue = -1
	}
	cl.Device = c.device(irq, r.handle, m.handle)
	if r.mode == irqcTx0Rx && m.q > 0 {
		// See IRQClass.Also: rx queue N is the class, tx queue 0 rides along.
		cl.Also = []QueueRef{{Device: cl.Device, Queue: 0, Kind: kernel.KindTx}}
	}
	return cl, true
}

func (c *irqClassifier) virtioIsNet(h string) bool {
	if c.knowsVirtio {
		_, ok := c.byVirtio[h]
		return ok
	}
	return c.virtioNetIO[h]
}

// device turns a handle into a net device name when devs allow.
func (c *irqClassifier) device(irq int, kind irqcHandle, handle string) string {
	owners := c.owner[irq]
	switch kind {
	case irqcNetdev:
		if _, ok := c.byName[handle]; ok {
			return handle
		}
		if len(owners) == 1 {
			return c.devs[owners[0]].Name // renamed since the IRQ was requested
		}
	case irqcBDF:
		if on := c.byBus[handle]; len(on) == 1 {
			return c.devs[on[0]].Name
		}
		if len(c.byBus[handle]) == 0 && len(owners) == 1 {
			return c.devs[owners[0]].Name
		}
	case irqcVirtio:
		if i, ok := c.byVirtio[handle]; ok {
			return c.devs[i].Name
		}
	}
	return handle
}

// bySysfs classifies an IRQ whose name matched no rule from devs alone.
func (c *irqClassifier) bySysfs(irq int) (IRQClass, bool) {
	owners := c.owner[irq]
	if len(owners) == 0 {
		return IRQClass{}, false
	}
	d := c.devs[owners[0]]
	name := d.Name
	if len(owners) > 1 && d.BusAddress != "" {
		name = d.BusAddress // one PCI function behind several netdevs
	}
	if len(d.MSIIRQs) == 0 {
		return IRQClass{Device: name, Queue: 0, Kind: kernel.KindCombined, Driver: "legacy_irq"}, true
	}
	if len(d.MSIIRQs) == 1 {
		return IRQClass{Device: name, Queue: 0, Kind: kernel.KindCombined, Driver: "msi_irqs"}, true
	}
	return IRQClass{Device: name, Queue: -1, Kind: kernel.KindOther, Driver: "msi_irqs"}, true
}

// intrIsDigit is an ASCII digit (the same test as the interrupts parser's).
func intrIsDigit(c byte) bool { return c >= '0' && c <= '9' }
