package collector

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/netbsd"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The intrctl collector exports NetBSD's kern.intr.list, what `intrctl
// list` prints, under the Linux names where the meaning is the same: the
// NIC interrupts per CPU in full (irq is NetBSD's interrupt id, "msix0 vec
// 3"), every other interrupt summed per CPU, and the CPUs each is assigned
// to as its effective CPUs. So the recording rules and alerts built on
// netirq_irq_interrupts_total work on NetBSD hosts too. It is registered
// on NetBSD only (register_netbsd.go).
var intrctlFactory = factory{
	name: "intrctl", help: "NetBSD: per-interrupt per-CPU counts and assigned CPUs from kern.intr.list (intrctl list), NIC queue interrupts classified",
	defaultEnabled: true, parts: snapshot.PartIntrList,
	build: func(cfg *Config) Collector {
		return &intrctlCollector{selector: cfg.Interrupts, seen: map[string]*cpuset.CPUSet{}}
	},
}

const (
	bsdIRQInterruptsHelp = "Interrupts of one interrupt on one CPU (NetBSD kern.intr.list; irq is the interrupt id intrctl shows). NIC interrupts by default; device, queue and kind say what it serves."
	bsdIRQSummedHelp     = "Interrupts of the interrupts not exported one by one (by default every non-NIC one), summed per CPU (NetBSD kern.intr.list)."
)

var (
	bsdIRQInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irq", "info"),
		"One series per interrupt exported one by one (NetBSD): name is intrctl's device name(s), chip and hwirq the two parts of the interrupt id, and the classification (device, queue, kind, rule that matched).",
		[]string{"irq", "name", "chip", "hwirq", "device", "queue", "kind", "rule"}, nil)
	bsdIRQInterruptsDesc = prometheus.NewDesc(irqInterruptsName, bsdIRQInterruptsHelp, []string{"irq", "device", "queue", "kind", "cpu"}, nil)
	bsdIRQSummedDesc     = prometheus.NewDesc(irqSummedName, bsdIRQSummedHelp, []string{"cpu"}, nil)
	bsdAffinityInfoDesc  = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irq", "affinity_info"),
		"CPU lists of an interrupt (NetBSD): smp_affinity and effective_affinity are both the CPUs it is assigned to (intrctl's '*'); NetBSD has no affinity hint.",
		[]string{"irq", "smp_affinity", "effective_affinity", "affinity_hint"}, nil)
	bsdEffectiveCPUDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irq", "effective_cpu"),
		"1 for each CPU the interrupt is assigned to (NetBSD kern.intr.list): where it fires.",
		[]string{"irq", "cpu"}, nil)
	bsdAffinityCPUsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irq", "affinity_cpus"),
		"Number of CPUs the interrupt is assigned to (NetBSD kern.intr.list).", []string{"irq"}, nil)
	intrctlCPUsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "intrctl", "cpus"),
		"CPUs NetBSD's interrupt list has a column for (il_ncpus): the CPUs interrupts can be spread over. The rules count a host's CPUs with it where netirq_cpu_info (Linux) is absent.",
		nil, nil)
)

type intrctlCollector struct {
	selector snapshot.IRQSelector
	// seen: as the interrupts collector's, per interrupt id.
	mu   sync.Mutex
	seen map[string]*cpuset.CPUSet
}

func (c *intrctlCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	return sendMatrices(c, snap, ch)
}

// updateMatrices sends irq_info and the assignments of the interrupts
// exported one by one, and returns their per-CPU cells and the others'
// per-CPU sums.
func (c *intrctlCollector) updateMatrices(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) ([]*cpuMatrix, error) {
	l := snap.IntrList
	if l == nil {
		return nil, orMissing(snap.IntrListErr, "kern.intr.list")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(intrctlCPUsDesc, prometheus.GaugeValue, float64(l.NCPU))
	cpuList := make([]int, l.NCPU)
	for i := range cpuList {
		cpuList[i] = i // kern.intr.list has a column for every CPU index
	}
	cpus := newCPUColumns(cpuList)
	cells := &cpuMatrix{desc: bsdIRQInterruptsDesc, name: irqInterruptsName, help: bsdIRQInterruptsHelp, cpus: cpus}
	summed := make([]uint64, l.NCPU)
	anySummed := false
	var errs []error
	for i, line := range l.Lines {
		class := bsdClassOf(snap, i)
		if !c.selector.DetailedNetBSD(line, class) {
			for cpu, v := range line.Counts {
				if cpu < len(summed) {
					summed[cpu] += v
				}
			}
			anySummed = true
			continue
		}
		if err := c.sendLine(line, class, ch); err != nil {
			errs = append(errs, err)
			continue
		}
		row := matrixRow{counts: line.Counts, pairs: []*dto.LabelPair{labelPair(&labelDevice, class.Device),
			labelPair(&labelIRQ, line.ID), labelPair(&labelKind, string(class.Kind)), labelPair(&labelQueue, class.QueueLabel())}}
		if !c.selector.All {
			row.kept = c.kept(line.ID, line.Counts)
		}
		cells.rows = append(cells.rows, row)
	}
	sortRows(cells.rows)
	matrices := []*cpuMatrix{cells}
	if anySummed {
		matrices = append(matrices, &cpuMatrix{desc: bsdIRQSummedDesc, name: irqSummedName, help: bsdIRQSummedHelp,
			cpus: cpus, rows: []matrixRow{{counts: summed}}})
	}
	return matrices, errors.Join(append([]error{snap.IntrListErr}, errs...)...)
}

// sendLine sends one exported interrupt's info and assignment series.
func (c *intrctlCollector) sendLine(line netbsd.IntrLine, class irqclass.IRQClass, ch chan<- prometheus.Metric) error {
	if !utf8.ValidString(line.ID) || !utf8.ValidString(line.Devices) {
		return fmt.Errorf("interrupt %q left out: not UTF-8", line.ID)
	}
	chip, hwirq, _ := strings.Cut(line.ID, " ")
	ch <- prometheus.MustNewConstMetric(bsdIRQInfoDesc, prometheus.GaugeValue, 1,
		line.ID, line.Devices, chip, hwirq, class.Device, class.QueueLabel(), string(class.Kind), class.Driver)
	assigned := line.Assigned.String()
	ch <- prometheus.MustNewConstMetric(bsdAffinityInfoDesc, prometheus.GaugeValue, 1, line.ID, assigned, assigned, "")
	ch <- prometheus.MustNewConstMetric(bsdAffinityCPUsDesc, prometheus.GaugeValue, float64(line.Assigned.Count()), line.ID)
	for _, cpu := range line.Assigned.List() {
		ch <- prometheus.MustNewConstMetric(bsdEffectiveCPUDesc, prometheus.GaugeValue, 1, line.ID, strconv.Itoa(cpu))
	}
	return nil
}

// kept returns the CPU indexes whose cell of interrupt id is exported:
// those that have counted at least once.
func (c *intrctlCollector) kept(id string, counts []uint64) *cpuset.CPUSet {
	seen, ok := c.seen[id]
	if !ok {
		seen = &cpuset.CPUSet{}
		c.seen[id] = seen
	}
	kept := &cpuset.CPUSet{}
	for cpu, v := range counts {
		if keep(seen, cpu, v) {
			kept.Add(cpu)
		}
	}
	return kept
}

// bsdClassOf is the class of line i of snap's interrupt list; not a NIC's
// when the classification is missing.
func bsdClassOf(snap *snapshot.Snapshot, i int) irqclass.IRQClass {
	if i < len(snap.IntrClasses) {
		return snap.IntrClasses[i]
	}
	return irqclass.IRQClass{Queue: -1, Kind: kernel.KindNone}
}
