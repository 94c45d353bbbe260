// Package hostgen writes synthetic Linux host trees: the proc/ and sys/
// files netirq_exporter reads, in the layout testdata/capture-host.sh
// captures from a real host (see testdata/hosts/*), for any number of CPUs,
// NUMA nodes, NICs and queues. Benchmarks and the side-by-side comparison
// with node_exporter run on these trees.
//
// A tree is deterministic: the same Spec (Seed included) always gives the
// same bytes. Counts look like an irqbalance'd host: each IRQ fires on its
// effective CPU, some also show a few interrupts on the CPU they were moved
// away from, and every other cell is zero.
package hostgen

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/cpuset"
)

// The NIC drivers Generate knows, by their IRQ naming scheme.
const (
	MLX5   = "mlx5"   // mlx5_core: mlx5_async0@pci:<bdf>, mlx5_comp<N>@pci:<bdf>
	I40E   = "i40e"   // i40e: i40e-<bdf>:misc, i40e-<dev>-TxRx-<N>
	Virtio = "virtio" // virtio_net: virtioK-config, virtioK-input.N, virtioK-output.N
	ENA    = "ena"    // ena: ena-mgmnt@pci:<bdf>, <dev>-Tx-Rx-<N>
)

// Drivers lists the supported NIC drivers.
var Drivers = []string{MLX5, I40E, Virtio, ENA}

// NIC is one network device with Queues queue pairs.
type NIC struct {
	Driver string // MLX5, I40E, Virtio or ENA
	Queues int    // RX/TX queue pairs, one IRQ each (virtio: one per direction)
	Name   string // interface name; empty picks one from the driver
}

// Spec describes a host.
type Spec struct {
	CPUs       int   // possible CPUs, 0..CPUs-1
	Offline    []int // possible but offline CPUs (left out of the per-CPU files)
	Isolated   []int // isolcpus=/nohz_full= CPUs (irqbalance keeps IRQs off them)
	NUMANodes  int   // nodes; CPUs are split like SMT siblings ("0-15,64-79")
	NICs       []NIC
	NonNICIRQs int // numbered IRQs that are not a NIC's: IO-APIC, DMAR, PCIe, ahci, xhci, nvme queues ...
	Seed       uint64
	// Threads writes the receive kthreads below proc/ (threads.go):
	// kthreadd and ksoftirqd/N per online CPU, and with BacklogThreads
	// backlog_napi/N too (a 6.10+ kernel booted with thread_backlog_napi).
	Threads, BacklogThreads bool
}

// Standard is the host the benchmarks and netirq_benchcompare use: nics
// NICs cycling through mlx5, i40e, ena and virtio with queues queues each,
// NUMA nodes by size (2 up to 64 CPUs, 4 up to 256, 8 above) and non-NIC
// IRQs as DefaultNonNICIRQs. The IRQ set depends only on nics and queues,
// so that trees of different sizes differ only in their CPU count.
func Standard(cpus, nics, queues int, seed uint64) Spec {
	s := Spec{CPUs: cpus, NUMANodes: 2, Seed: seed, NonNICIRQs: DefaultNonNICIRQs}
	switch {
	case cpus < 2:
		s.NUMANodes = 1
	case cpus > 256:
		s.NUMANodes = 8
	case cpus > 64:
		s.NUMANodes = 4
	}
	for i := range nics {
		s.NICs = append(s.NICs, NIC{Driver: []string{MLX5, I40E, ENA, Virtio}[i%4], Queues: queues})
	}
	return s
}

// DefaultNonNICIRQs is the non-NIC IRQ count of Standard: the platform
// IRQs and two NVMe drives of 255 queues, which with 2 NICs x 64 queues
// gives a 256-CPU host about the 642 IRQs of the measurement.
const DefaultNonNICIRQs = 512

// Validate reports what is wrong with s.
func (s Spec) Validate() error {
	var errs []error
	if s.CPUs < 1 || s.CPUs > 8192 {
		errs = append(errs, fmt.Errorf("CPUs %d: want 1..8192", s.CPUs))
	}
	if s.NUMANodes < 1 || s.NUMANodes > max(1, s.CPUs) {
		errs = append(errs, fmt.Errorf("NUMANodes %d: want 1..CPUs", s.NUMANodes))
	}
	if s.NonNICIRQs < 0 {
		errs = append(errs, fmt.Errorf("NonNICIRQs %d: negative", s.NonNICIRQs))
	}
	for _, list := range [][]int{s.Offline, s.Isolated} {
		for _, c := range list {
			if c < 0 || c >= s.CPUs {
				errs = append(errs, fmt.Errorf("CPU %d out of range", c))
			}
		}
	}
	if slices.Contains(s.Offline, 0) {
		errs = append(errs, errors.New("CPU 0 cannot be offline"))
	}
	names := map[string]bool{"lo": true}
	for i, n := range s.NICs {
		if !slices.Contains(Drivers, n.Driver) {
			errs = append(errs, fmt.Errorf("NIC %d: driver %q, want one of %v", i, n.Driver, Drivers))
		}
		if n.Queues < 1 || n.Queues > 1024 {
			errs = append(errs, fmt.Errorf("NIC %d: %d queues, want 1..1024", i, n.Queues))
		}
		name := nicName(n, i)
		if names[name] {
			errs = append(errs, fmt.Errorf("NIC %d: name %q used twice", i, name))
		}
		names[name] = true
	}
	if len(s.NICs) > 64 {
		errs = append(errs, fmt.Errorf("%d NICs: at most 64", len(s.NICs)))
	}
	return errors.Join(errs...)
}

// OnlineCPUs is the number of online CPUs: the count columns of
// /proc/interrupts.
func (s Spec) OnlineCPUs() int {
	off := map[int]bool{}
	for _, c := range s.Offline {
		off[c] = true
	}
	return s.CPUs - len(off)
}

// NICIRQs is the number of NIC IRQs: per NIC one per queue (two for
// virtio) plus its misc/config vector.
func (s Spec) NICIRQs() int {
	n := 0
	for _, nic := range s.NICs {
		n += nicVectors(nic)
	}
	return n
}

// IRQs is the number of numbered lines of /proc/interrupts.
func (s Spec) IRQs() int { return s.NICIRQs() + s.NonNICIRQs }

func nicVectors(n NIC) int {
	if n.Driver == Virtio {
		return 1 + 2*n.Queues
	}
	return 1 + n.Queues
}

// ArchLines are the named per-CPU lines of x86 /proc/interrupts, in the
// kernel's order, and whether a normal host counts on them. ERR and MIS
// (one host-wide count each) come after TRM..MCP like on a real host.
var ArchLines = []struct {
	Name, Description string
	Counts            bool
}{
	{"NMI", "Non-maskable interrupts", true},
	{"LOC", "Local timer interrupts", true},
	{"SPU", "Spurious interrupts", false},
	{"PMI", "Performance monitoring interrupts", true},
	{"IWI", "IRQ work interrupts", true},
	{"RTR", "APIC ICR read retries", false},
	{"RES", "Rescheduling interrupts", true},
	{"CAL", "Function call interrupts", true},
	{"TLB", "TLB shootdowns", true},
	{"TRM", "Thermal event interrupts", false},
	{"THR", "Threshold APIC interrupts", false},
	{"DFR", "Deferred Error APIC interrupts", false},
	{"MCE", "Machine check exceptions", false},
	{"MCP", "Machine check polls", true},
	{"PIN", "Posted-interrupt notification event", false},
	{"NPI", "Nested posted-interrupt event", false},
	{"PIW", "Posted-interrupt wakeup event", false},
}

// archErrLinesAfter is the index in ArchLines after which ERR and MIS are printed.
const archErrLinesAfter = 13 // after MCP

// Generate writes the tree of spec below dir (dir/proc, dir/sys), which
// must not exist or be empty.
func Generate(dir string, spec Spec) error {
	if err := spec.Validate(); err != nil {
		return fmt.Errorf("hostgen: %w", err)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("hostgen: %s is not empty", dir)
	}
	h := plan(spec)
	w := &writer{root: dir}
	h.writeProc(w)
	h.writeSys(w)
	if w.err != nil {
		return fmt.Errorf("hostgen: %w", w.err)
	}
	return nil
}

// ---- the plan: every number is decided here, then written out ----------

type irqLine struct {
	num      int
	chip     string
	hwirq    int    // -1: none printed
	flow     string // "edge", "fasteoi"
	name     string
	counts   []uint64 // per possible CPU
	smp      []int    // smp_affinity_list
	eff      []int    // effective_affinity_list
	hint     []int    // affinity_hint; nil prints an all-zero mask
	node     int
	nic      int // index into nics; -1 for non-NIC IRQs
	queue    int // queue index; -1 for the misc/config vector
	txVector bool
}

type nicPlan struct {
	NIC
	name     string
	node     int
	bdf      string // the PCI function (the virtio device's PCI parent)
	devPath  string // below sys/: the bus device (the virtio device for virtio)
	pciPath  string // below sys/: the PCI function
	virtio   string // "virtio3" for virtio NICs
	driver   string // driver directory name
	bus      string // "pci" or "virtio"
	irqs     []int  // indexes into host.irqs
	queueCPU []int  // per queue: the CPU its (rx) IRQ fires on
	rps      bool
	legacy   int
}

type host struct {
	spec     Spec
	rng      *rand.Rand
	online   []int
	isOnline []bool
	isolated []bool
	nodeOf   []int
	// balance[n] are the online, non-isolated CPUs of node n that
	// irqbalance may use; all lists the same for every node.
	balance [][]int
	all     []int
	irqs    []irqLine
	nics    []nicPlan
	arch    [][]uint64 // per ArchLines entry, per possible CPU
	prec    int
}

func plan(spec Spec) *host {
	h := &host{spec: spec, rng: rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x9e3779b97f4a7c15))}
	n := spec.CPUs
	h.isOnline = make([]bool, n)
	h.isolated = make([]bool, n)
	h.nodeOf = make([]int, n)
	for c := range n {
		h.isOnline[c] = true
	}
	for _, c := range spec.Offline {
		h.isOnline[c] = false
	}
	for _, c := range spec.Isolated {
		h.isolated[c] = true
	}
	// SMT-like numbering: CPU c and c+n/2 are siblings on the same core,
	// and cores are split over the nodes in blocks.
	half := n
	if n >= 2 && n%2 == 0 && n/2 >= spec.NUMANodes {
		half = n / 2
	}
	h.balance = make([][]int, spec.NUMANodes)
	for c := range n {
		h.nodeOf[c] = (c % half) * spec.NUMANodes / half
		if h.isOnline[c] {
			h.online = append(h.online, c)
			if !h.isolated[c] {
				h.balance[h.nodeOf[c]] = append(h.balance[h.nodeOf[c]], c)
				h.all = append(h.all, c)
			}
		}
	}
	if len(h.all) == 0 { // every online CPU isolated: irqbalance uses them anyway
		h.all = slices.Clone(h.online)
	}
	for i := range h.balance {
		if len(h.balance[i]) == 0 {
			h.balance[i] = h.all
		}
	}

	h.planPlatformIRQs()
	h.planNICs()
	h.planNVMe()
	slices.SortFunc(h.irqs, func(a, b irqLine) int { return a.num - b.num })
	for i := range h.nics {
		h.nics[i].irqs = h.nics[i].irqs[:0]
	}
	for i, l := range h.irqs {
		if l.nic >= 0 {
			h.nics[l.nic].irqs = append(h.nics[l.nic].irqs, i)
		}
	}
	maxIRQ := 0
	if len(h.irqs) > 0 {
		maxIRQ = h.irqs[len(h.irqs)-1].num
	}
	h.prec = max(3, len(strconv.Itoa(maxIRQ+1)))
	h.planArch()
	return h
}

// platform IRQs: legacy IO-APIC lines, then the first MSI vectors.
var platformIRQs = []struct {
	num        int // 0: next MSI number
	chip, flow string
	hwirq      int
	name       string
	onCPU0     bool
}{
	{0, "IO-APIC", "edge", 2, "timer", true},
	{1, "IO-APIC", "edge", 1, "i8042", true},
	{8, "IO-APIC", "edge", 8, "rtc0", true},
	{9, "IO-APIC", "fasteoi", 9, "acpi", true},
	{12, "IO-APIC", "edge", 12, "i8042", true},
	{16, "IO-APIC", "fasteoi", 16, "i801_smbus", true},
	{-1, "DMAR-MSI", "edge", 0, "dmar0", true},
	{-1, "DMAR-MSI", "edge", 1, "dmar1", true},
	{-1, "IR-PCI-MSI-0000:00:1c.0", "edge", 0, "PCIe PME, aerdrv", false},
	{-1, "IR-PCI-MSI-0000:00:1c.4", "edge", 0, "PCIe PME, pciehp", false},
	{-1, "IR-PCI-MSI-0000:00:14.0", "edge", 0, "xhci_hcd", false},
	{-1, "IR-PCI-MSI-0000:00:17.0", "edge", 0, "ahci[0000:00:17.0]", false},
	{-1, "IR-PCI-MSI-0000:00:1f.6", "edge", 0, "mei_me", false},
}

// firstMSI is where the kernel starts numbering MSI vectors on x86.
const firstMSI = 24

func (h *host) nextIRQ() int {
	next := firstMSI
	for _, l := range h.irqs {
		next = max(next, l.num+1)
	}
	return next
}

func (h *host) newCounts() []uint64 { return make([]uint64, h.spec.CPUs) }

func (h *host) planPlatformIRQs() {
	for i, p := range platformIRQs {
		if i >= h.spec.NonNICIRQs {
			return
		}
		num := p.num
		if num < 0 {
			num = h.nextIRQ()
		}
		l := irqLine{num: num, chip: p.chip, hwirq: p.hwirq, flow: p.flow, name: p.name, nic: -1, queue: -1, node: -1,
			counts: h.newCounts()}
		cpu := h.online[0]
		if !p.onCPU0 {
			cpu = h.pick(h.all)
		}
		l.smp = slices.Clone(h.online)
		l.eff = []int{cpu}
		if num >= firstMSI {
			l.node = h.nodeOf[cpu]
		}
		if h.rng.IntN(4) > 0 {
			l.counts[cpu] = h.rng.Uint64N(200000)
		}
		h.irqs = append(h.irqs, l)
	}
}

// nvme: drives of up to 255 vectors (admin + I/O queues), with managed
// affinity: the online CPUs are split over the I/O queues.
func (h *host) planNVMe() {
	left := h.spec.NonNICIRQs - min(h.spec.NonNICIRQs, len(platformIRQs))
	for drive := 0; left > 0; drive++ {
		ioQueues := min(254, max(1, len(h.online)), left-1)
		bdf := fmt.Sprintf("0000:%02x:00.0", 0x01+drive%0xd0)
		chip := "IR-PCI-MSIX-" + bdf
		num := h.nextIRQ()
		admin := irqLine{num: num, chip: chip, hwirq: 0, flow: "edge", name: fmt.Sprintf("nvme%dq0", drive),
			nic: -1, queue: -1, node: 0, counts: h.newCounts(), smp: slices.Clone(h.online), eff: []int{h.online[0]}}
		admin.counts[h.online[0]] = 30 + h.rng.Uint64N(100)
		h.irqs = append(h.irqs, admin)
		left--
		for q := 1; q <= ioQueues && left > 0; q++ {
			// Managed spreading: queue q serves a contiguous share of the online CPUs.
			lo, hi := (q-1)*len(h.online)/ioQueues, q*len(h.online)/ioQueues
			if hi <= lo {
				hi = lo + 1
			}
			group := slices.Clone(h.online[lo:min(hi, len(h.online))])
			l := irqLine{num: num + q, chip: chip, hwirq: q, flow: "edge", name: fmt.Sprintf("nvme%dq%d", drive, q),
				nic: -1, queue: -1, counts: h.newCounts(), smp: group, eff: []int{group[0]}, node: h.nodeOf[group[0]]}
			if h.rng.IntN(3) > 0 {
				l.counts[group[0]] = h.rng.Uint64N(5_000_000)
			}
			h.irqs = append(h.irqs, l)
			left--
		}
	}
}

func nicName(n NIC, i int) string {
	if n.Name != "" {
		return n.Name
	}
	switch n.Driver {
	case MLX5:
		return fmt.Sprintf("ens%df0np0", i+1)
	case I40E:
		return fmt.Sprintf("ens%df0", i+1)
	case ENA:
		return fmt.Sprintf("enp%ds0", i+1)
	default:
		return fmt.Sprintf("eth%d", i)
	}
}

func (h *host) planNICs() {
	virtioIdx := 0
	for i, n := range h.spec.NICs {
		p := nicPlan{NIC: n, name: nicName(n, i), node: i % h.spec.NUMANodes, legacy: 16 + i%8}
		switch n.Driver {
		case Virtio:
			slot := 3 + i
			p.bdf = fmt.Sprintf("0000:00:%02x.0", slot%0x20)
			p.virtio = fmt.Sprintf("virtio%d", virtioIdx)
			virtioIdx++
			p.pciPath = fmt.Sprintf("devices/pci0000:00/%s", p.bdf)
			p.devPath = p.pciPath + "/" + p.virtio
			p.driver, p.bus, p.rps = "virtio_net", "virtio", true
		default:
			bus := 0x18 + 0x20*i
			domain := bus / 0x100
			bus %= 0x100
			root := fmt.Sprintf("%04x:%02x", domain, (bus+0xff)%0x100)
			p.bdf = fmt.Sprintf("%04x:%02x:00.0", domain, bus)
			p.pciPath = fmt.Sprintf("devices/pci%s/%s:00.0/%s", root, root, p.bdf)
			p.devPath = p.pciPath
			p.bus = "pci"
			switch n.Driver {
			case MLX5:
				p.driver = "mlx5_core"
			case I40E:
				p.driver = "i40e"
			case ENA:
				p.driver, p.rps = "ena", true
			}
		}
		h.nics = append(h.nics, p)
	}
	for i := range h.nics {
		h.planNICIRQs(i)
	}
}

// planNICIRQs numbers the NIC's vectors and places them like irqbalance
// does: one CPU of the NIC's node per queue, round robin from a seeded
// offset; the driver's hint is the local spread (queue q on the node's q-th
// CPU), which irqbalance does not always follow.
func (h *host) planNICIRQs(i int) {
	p := &h.nics[i]
	cpus := h.balance[p.node]
	offset := h.rng.IntN(len(cpus))
	chip := "IR-PCI-MSIX-" + p.bdf
	if p.Driver == Virtio {
		chip = "PCI-MSIX-" + p.bdf
	}
	base := h.nextIRQ()
	vec := 0
	add := func(name string, queue int, tx bool, cpu int, busy bool) {
		l := irqLine{num: base + vec, chip: chip, hwirq: vec, flow: "edge", name: name, nic: i, queue: queue,
			txVector: tx, counts: h.newCounts(), node: p.node, eff: []int{cpu}}
		vec++
		if queue >= 0 && p.Driver != Virtio && p.Driver != ENA {
			l.hint = []int{cpus[queue%len(cpus)]}
		}
		if h.rng.IntN(5) == 0 {
			l.smp = slices.Clone(cpus) // irqbalance left the node mask; the kernel picked one
		} else {
			l.smp = []int{cpu}
		}
		switch {
		case !busy:
			l.counts[cpu] = 1 + h.rng.Uint64N(5000)
		case h.rng.IntN(20) == 0:
			// an idle queue: no traffic hashed to it yet
		default:
			l.counts[cpu] = 100_000 + h.rng.Uint64N(50_000_000)
			if h.rng.IntN(4) == 0 {
				// moved by irqbalance: a few interrupts on its old CPU
				old := h.pick(cpus)
				l.counts[old] += 1 + h.rng.Uint64N(3000)
			}
		}
		h.irqs = append(h.irqs, l)
		p.irqs = append(p.irqs, len(h.irqs)-1)
	}
	misc := h.pick(cpus)
	switch p.Driver {
	case MLX5:
		add(fmt.Sprintf("mlx5_async0@pci:%s", p.bdf), -1, false, misc, false)
	case I40E:
		add(fmt.Sprintf("i40e-%s:misc", p.bdf), -1, false, misc, false)
	case ENA:
		add(fmt.Sprintf("ena-mgmnt@pci:%s", p.bdf), -1, false, misc, false)
	case Virtio:
		add(p.virtio+"-config", -1, false, misc, false)
	}
	p.queueCPU = make([]int, p.Queues)
	for q := range p.Queues {
		cpu := cpus[(offset+q)%len(cpus)]
		p.queueCPU[q] = cpu
		switch p.Driver {
		case MLX5:
			add(fmt.Sprintf("mlx5_comp%d@pci:%s", q, p.bdf), q, false, cpu, true)
		case I40E:
			add(fmt.Sprintf("i40e-%s-TxRx-%d", p.name, q), q, false, cpu, true)
		case ENA:
			add(fmt.Sprintf("%s-Tx-Rx-%d", p.name, q), q, false, cpu, true)
		case Virtio:
			add(fmt.Sprintf("%s-input.%d", p.virtio, q), q, false, cpu, true)
			add(fmt.Sprintf("%s-output.%d", p.virtio, q), q, true, cpu, true)
		}
	}
}

func (h *host) pick(from []int) int { return from[h.rng.IntN(len(from))] }

func (h *host) planArch() {
	h.arch = make([][]uint64, len(ArchLines))
	for i, a := range ArchLines {
		h.arch[i] = make([]uint64, h.spec.CPUs)
		if !a.Counts {
			continue
		}
		for _, c := range h.online {
			var v uint64
			switch a.Name {
			case "LOC":
				v = 1_000_000 + h.rng.Uint64N(9_000_000)
			case "RES", "CAL":
				v = 10_000 + h.rng.Uint64N(200_000)
			case "TLB":
				v = 1_000 + h.rng.Uint64N(20_000)
			case "MCP":
				v = 96 + h.rng.Uint64N(4)
			default: // NMI, PMI, IWI
				v = 1 + h.rng.Uint64N(2_000)
			}
			if h.isolated[c] {
				v = 1 + v/1000
			}
			h.arch[i][c] = v
		}
	}
}

// nicLoad is the sum of the NIC IRQ counts per CPU: the NET_RX work.
func (h *host) nicLoad() []uint64 {
	load := make([]uint64, h.spec.CPUs)
	for _, l := range h.irqs {
		if l.nic < 0 {
			continue
		}
		for c, v := range l.counts {
			load[c] += v
		}
	}
	return load
}

// ---- writing ----------------------------------------------------------

// writer writes files below root, keeping the first error.
type writer struct {
	root string
	err  error
}

func (w *writer) file(rel, content string) {
	if w.err != nil {
		return
	}
	path := filepath.Join(w.root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		w.err = err
		return
	}
	w.err = os.WriteFile(path, []byte(content), 0o644)
}

// big writes a file through a buffer filled by fill.
func (w *writer) big(rel string, fill func(b *bufio.Writer)) {
	if w.err != nil {
		return
	}
	path := filepath.Join(w.root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		w.err = err
		return
	}
	f, err := os.Create(path)
	if err != nil {
		w.err = err
		return
	}
	b := bufio.NewWriterSize(f, 256<<10)
	fill(b)
	if err := b.Flush(); err != nil {
		w.err = err
	}
	if err := f.Close(); err != nil && w.err == nil {
		w.err = err
	}
}

// link makes rel a symlink to target (rel's directory relative, as sysfs
// links are) and creates target as a directory.
func (w *writer) link(rel, target string) {
	if w.err != nil {
		return
	}
	from := filepath.Join(w.root, rel)
	to := filepath.Join(w.root, target)
	if err := os.MkdirAll(to, 0o755); err != nil {
		w.err = err
		return
	}
	if err := os.MkdirAll(filepath.Dir(from), 0o755); err != nil {
		w.err = err
		return
	}
	relTarget, err := filepath.Rel(filepath.Dir(from), to)
	if err != nil {
		w.err = err
		return
	}
	w.err = os.Symlink(relTarget, from)
}

// linkTo makes rel a symlink with the given relative target, which must
// already exist or be created by the caller.
func (w *writer) linkTo(rel, target string) {
	if w.err != nil {
		return
	}
	from := filepath.Join(w.root, rel)
	if err := os.MkdirAll(filepath.Dir(from), 0o755); err != nil {
		w.err = err
		return
	}
	w.err = os.Symlink(target, from)
}

func (h *host) writeProc(w *writer) {
	w.big("proc/interrupts", h.writeInterrupts)
	w.big("proc/softirqs", h.writeSoftirqs)
	w.big("proc/net/softnet_stat", h.writeSoftnet)
	w.big("proc/stat", h.writeStat)
	anyRPS := false
	for _, n := range h.nics {
		anyRPS = anyRPS || n.rps
	}
	if anyRPS {
		w.file("proc/sys/net/core/rps_sock_flow_entries", "32768\n")
	} else {
		w.file("proc/sys/net/core/rps_sock_flow_entries", "0\n")
	}
	n := h.spec.CPUs
	if h.spec.Threads {
		h.writeThreads(w)
	}
	for _, l := range h.irqs {
		dir := "proc/irq/" + strconv.Itoa(l.num) + "/"
		w.file(dir+"smp_affinity", FormatMask(l.smp, n)+"\n")
		w.file(dir+"smp_affinity_list", cpuset.NewCPUSet(l.smp...).String()+"\n")
		w.file(dir+"effective_affinity", FormatMask(l.eff, n)+"\n")
		w.file(dir+"effective_affinity_list", cpuset.NewCPUSet(l.eff...).String()+"\n")
		w.file(dir+"affinity_hint", FormatMask(l.hint, n)+"\n")
		w.file(dir+"node", strconv.Itoa(l.node)+"\n")
	}
}

// writeInterrupts prints /proc/interrupts as x86 show_interrupts() does:
// a header of the online CPUs, "%*d: " and "%10u " per online CPU, the chip
// as "%8s", the hwirq as " %*lu", "-%-8s" flow, "  name".
func (h *host) writeInterrupts(b *bufio.Writer) {
	fmt.Fprintf(b, "%*s", h.prec+8, "")
	for _, c := range h.online {
		fmt.Fprintf(b, "CPU%-8d", c)
	}
	b.WriteByte('\n')
	var num [24]byte
	count := func(v uint64) {
		s := strconv.AppendUint(num[:0], v, 10)
		for range 10 - len(s) {
			b.WriteByte(' ')
		}
		b.Write(s)
		b.WriteByte(' ')
	}
	for _, l := range h.irqs {
		fmt.Fprintf(b, "%*d: ", h.prec, l.num)
		for _, c := range h.online {
			count(l.counts[c])
		}
		fmt.Fprintf(b, "%8s", l.chip)
		if l.hwirq >= 0 {
			fmt.Fprintf(b, " %*d", h.prec, l.hwirq)
		}
		fmt.Fprintf(b, "-%-8s", l.flow)
		if l.name != "" {
			b.WriteString("  " + l.name)
		}
		b.WriteByte('\n')
	}
	for i, a := range ArchLines {
		fmt.Fprintf(b, "%*s: ", h.prec, a.Name)
		for _, c := range h.online {
			count(h.arch[i][c])
		}
		b.WriteString("  " + a.Description + "\n")
		if i == archErrLinesAfter {
			fmt.Fprintf(b, "%*s: %10d\n", h.prec, "ERR", 0)
			fmt.Fprintf(b, "%*s: %10d\n", h.prec, "MIS", 0)
		}
	}
}

var softirqNames = []string{"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"}

// softirqCounts are the per-CPU counts of each softirq vector, consistent
// with the interrupts: NET_RX follows the NIC IRQs, TIMER the local timer.
func (h *host) softirqCounts() [][]uint64 {
	load := h.nicLoad()
	loc := h.arch[1]
	out := make([][]uint64, len(softirqNames))
	for i := range out {
		out[i] = make([]uint64, h.spec.CPUs)
	}
	for c := range h.spec.CPUs {
		if !h.isOnline[c] {
			continue // offline CPUs keep a column of zeros
		}
		r := h.rng
		out[1][c] = loc[c] / 8
		out[2][c] = load[c]/64 + r.Uint64N(100)
		out[3][c] = load[c] + load[c]/16 + r.Uint64N(1000)
		out[4][c] = r.Uint64N(50_000)
		out[6][c] = r.Uint64N(2_000)
		out[7][c] = loc[c] / 11
		out[8][c] = r.Uint64N(20)
		out[9][c] = loc[c] / 7
	}
	return out
}

// writeSoftirqs prints /proc/softirqs: one column per possible CPU.
func (h *host) writeSoftirqs(b *bufio.Writer) {
	counts := h.softirqCounts()
	b.WriteString("                    ")
	for c := range h.spec.CPUs {
		fmt.Fprintf(b, "CPU%-8d", c)
	}
	b.WriteByte('\n')
	for i, name := range softirqNames {
		fmt.Fprintf(b, "%12s:", name)
		for c := range h.spec.CPUs {
			fmt.Fprintf(b, " %10d", counts[i][c])
		}
		b.WriteByte('\n')
	}
}

// writeSoftnet prints the 15 columns of a 6.x kernel for each online CPU;
// the counters are 32-bit in the kernel.
func (h *host) writeSoftnet(b *bufio.Writer) {
	load := h.nicLoad()
	for _, c := range h.online {
		processed := (load[c]*3 + h.rng.Uint64N(1000)) & 0xffffffff
		var dropped, squeeze, rps uint64
		if load[c] > 20_000_000 {
			dropped = h.rng.Uint64N(2000)
			squeeze = h.rng.Uint64N(5000)
		}
		if h.rng.IntN(3) == 0 {
			rps = h.rng.Uint64N(100_000)
		}
		cols := [15]uint64{processed, dropped, squeeze, 0, 0, 0, 0, 0, 0, rps, 0, 0, uint64(c), 0, 0}
		for i, v := range cols {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(b, "%08x", v)
		}
		b.WriteByte('\n')
	}
}

// writeStat prints /proc/stat: the aggregate and per online CPU times in
// USER_HZ ticks, intr with the per-IRQ sums, and the rest.
func (h *host) writeStat(b *bufio.Writer) {
	load := h.nicLoad()
	rows := make(map[int][10]uint64, len(h.online))
	var total [10]uint64
	for _, c := range h.online {
		r := h.rng
		var t [10]uint64
		t[0] = 100_000 + r.Uint64N(300_000) // user
		t[1] = r.Uint64N(200)               // nice
		t[2] = 50_000 + r.Uint64N(200_000)  // system
		t[3] = 5_000_000 + r.Uint64N(4_000_000)
		t[4] = r.Uint64N(2_000) // iowait
		t[5] = 0                // irq (0 without IRQ time accounting)
		t[6] = load[c] / 100    // softirq
		if h.isolated[c] {
			t[0], t[2], t[6] = t[0]/1000, t[2]/1000, 0
		}
		rows[c] = t
		for i := range t {
			total[i] += t[i]
		}
	}
	b.WriteString("cpu ")
	for _, v := range total {
		fmt.Fprintf(b, " %d", v)
	}
	b.WriteByte('\n')
	for _, c := range h.online {
		fmt.Fprintf(b, "cpu%d", c)
		for _, v := range rows[c] {
			fmt.Fprintf(b, " %d", v)
		}
		b.WriteByte('\n')
	}
	maxIRQ := 0
	if len(h.irqs) > 0 {
		maxIRQ = h.irqs[len(h.irqs)-1].num
	}
	perIRQ := make([]uint64, maxIRQ+1)
	var sum uint64
	for _, l := range h.irqs {
		for _, v := range l.counts {
			perIRQ[l.num] += v
		}
		sum += perIRQ[l.num]
	}
	fmt.Fprintf(b, "intr %d", sum)
	for _, v := range perIRQ {
		fmt.Fprintf(b, " %d", v)
	}
	b.WriteByte('\n')
	softirqs := h.softirqCounts()
	var softTotal uint64
	vec := make([]uint64, len(softirqs))
	for i, row := range softirqs {
		for _, v := range row {
			vec[i] += v
		}
		softTotal += vec[i]
	}
	fmt.Fprintf(b, "ctxt %d\nbtime 1763769600\nprocesses %d\nprocs_running %d\nprocs_blocked 0\n",
		1_000_000_000+h.rng.Uint64N(1_000_000_000), 1_000_000+h.rng.Uint64N(1_000_000), 1+h.rng.IntN(8))
	fmt.Fprintf(b, "softirq %d", softTotal)
	for _, v := range vec {
		fmt.Fprintf(b, " %d", v)
	}
	b.WriteByte('\n')
}

func (h *host) writeSys(w *writer) {
	n := h.spec.CPUs
	all := make([]int, n)
	for c := range all {
		all[c] = c
	}
	var offline, isolated []int
	for c := range n {
		if !h.isOnline[c] {
			offline = append(offline, c)
		}
		if h.isolated[c] {
			isolated = append(isolated, c)
		}
	}
	cpu := "sys/devices/system/cpu/"
	w.file(cpu+"possible", cpuset.NewCPUSet(all...).String()+"\n")
	w.file(cpu+"present", cpuset.NewCPUSet(all...).String()+"\n")
	w.file(cpu+"online", cpuset.NewCPUSet(h.online...).String()+"\n")
	w.file(cpu+"offline", cpuset.NewCPUSet(offline...).String()+"\n")
	w.file(cpu+"isolated", cpuset.NewCPUSet(isolated...).String()+"\n")
	if len(isolated) > 0 {
		w.file(cpu+"nohz_full", cpuset.NewCPUSet(isolated...).String()+"\n")
	}
	nodes := make([]int, h.spec.NUMANodes)
	for k := range nodes {
		nodes[k] = k
		var cpus []int
		for _, c := range h.online {
			if h.nodeOf[c] == k {
				cpus = append(cpus, c)
			}
		}
		w.file(fmt.Sprintf("sys/devices/system/node/node%d/cpulist", k), cpuset.NewCPUSet(cpus...).String()+"\n")
	}
	w.file("sys/devices/system/node/possible", cpuset.NewCPUSet(nodes...).String()+"\n")
	w.file("sys/devices/system/node/online", cpuset.NewCPUSet(nodes...).String()+"\n")

	h.writeNetDev(w, "lo", "devices/virtual/net/lo", 1, 1, func(w *writer, dir string, q int, rx bool) {
		if rx {
			w.file(dir+"/rps_cpus", FormatMask(nil, n)+"\n")
			w.file(dir+"/rps_flow_cnt", "0\n")
		} else {
			w.file(dir+"/xps_rxqs", FormatMask(nil, 1)+"\n") // no xps_cpus on a single-queue device
			w.file(dir+"/tx_maxrate", "0\n")                 // and no byte_queue_limits (6.9+: IFF_NO_QUEUE)
		}
	})
	for i := range h.nics {
		h.writeNIC(w, &h.nics[i])
	}
}

// writeNetDev writes class/net/<name> → devDir and the device's queues.
func (h *host) writeNetDev(w *writer, name, devDir string, rxq, txq int, queue func(w *writer, dir string, q int, rx bool)) {
	w.link("sys/class/net/"+name, "sys/"+devDir)
	w.file("sys/"+devDir+"/threaded", "0\n")
	w.file("sys/"+devDir+"/statistics/rx_packets", "1000000\n")
	w.file("sys/"+devDir+"/statistics/tx_packets", "1000000\n")
	for q := range rxq {
		queue(w, fmt.Sprintf("sys/%s/queues/rx-%d", devDir, q), q, true)
	}
	for q := range txq {
		queue(w, fmt.Sprintf("sys/%s/queues/tx-%d", devDir, q), q, false)
	}
}

func (h *host) writeNIC(w *writer, p *nicPlan) {
	n := h.spec.CPUs
	netDir := p.devPath + "/net/" + p.name
	h.writeNetDev(w, p.name, netDir, p.Queues, p.Queues, func(w *writer, dir string, q int, rx bool) {
		if rx {
			if p.rps {
				// RPS onto the node's other CPUs, as cloud images set it.
				w.file(dir+"/rps_cpus", FormatMask(h.balance[p.node], n)+"\n")
				w.file(dir+"/rps_flow_cnt", "4096\n")
			} else {
				w.file(dir+"/rps_cpus", FormatMask(nil, n)+"\n")
				w.file(dir+"/rps_flow_cnt", "0\n")
			}
			return
		}
		var xps []int
		if p.Driver != ENA {
			xps = []int{p.queueCPU[q]} // the driver maps each TX queue to its channel's CPU
		}
		w.file(dir+"/xps_cpus", FormatMask(xps, n)+"\n")
		w.file(dir+"/xps_rxqs", FormatMask(nil, p.Queues)+"\n")
		h.writeBQL(w, dir, q)
	})
	// <dev>/device is "../../../<bus device>", as the kernel makes it.
	w.linkTo("sys/"+netDir+"/device", "../../../"+filepath.Base(p.devPath))
	drvDir := fmt.Sprintf("sys/bus/%s/drivers/%s", p.bus, p.driver)
	w.link("sys/"+p.devPath+"/driver", drvDir)
	devName := filepath.Base(p.devPath)
	w.link(drvDir+"/"+devName, "sys/"+p.devPath)
	w.file("sys/"+p.pciPath+"/numa_node", strconv.Itoa(p.node)+"\n")
	w.file("sys/"+p.pciPath+"/irq", strconv.Itoa(p.legacy)+"\n")
	for _, i := range p.irqs {
		w.file(fmt.Sprintf("sys/%s/msi_irqs/%d", p.pciPath, h.irqs[i].num), "msix\n")
	}
}

// writeBQL writes a TX queue's tx_maxrate and byte_queue_limits as 6.18
// prints them: the stall detector off, a limit BQL settled on after some
// traffic, nothing in flight.
func (h *host) writeBQL(w *writer, dir string, q int) {
	w.file(dir+"/tx_maxrate", "0\n")
	limit := 0
	if q%4 != 3 { // some queues never sent: their limit stays 0
		limit = 1514 * (2 + h.rng.IntN(60))
	}
	for _, f := range [][2]string{
		{"limit", strconv.Itoa(limit)}, {"limit_min", "0"}, {"limit_max", "1879048192"}, {"inflight", "0"},
		{"hold_time", "1000"}, {"stall_thrs", "0"}, {"stall_cnt", "0"}, {"stall_max", "0"},
	} {
		w.file(dir+"/byte_queue_limits/"+f[0], f[1]+"\n")
	}
}

// ---- formats ------------------------------------------------------------

// FormatMask renders bits in the kernel's bitmap format for an nbits-wide
// mask (%*pb): 32-bit groups, most significant first, separated by commas;
// the first group has only the digits its bits need ("ff" for 8 CPUs,
// "f,ffffffff" for 36, "00000000,00000001" for 64).
func FormatMask(bits []int, nbits int) string {
	nbits = max(nbits, 1)
	groups := (nbits + 31) / 32
	words := make([]uint32, groups)
	for _, c := range bits {
		if c >= 0 && c < nbits {
			words[c/32] |= 1 << uint(c%32)
		}
	}
	var b strings.Builder
	first := nbits % 32
	if first == 0 {
		first = 32
	}
	for g := groups - 1; g >= 0; g-- {
		width := 8
		if g == groups-1 {
			width = (first + 3) / 4
		} else {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%0*x", width, words[g])
	}
	return b.String()
}
