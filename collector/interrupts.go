package collector

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The interrupts collector exports /proc/interrupts: NIC IRQs per CPU in
// full, every other numbered IRQ summed per CPU, and the named per-CPU lines
// (NMI, LOC, RES, CAL, IPIn ...).
func init() {
	register(factory{
		name: "interrupts", help: "Per-IRQ per-CPU interrupts from /proc/interrupts, NIC queue IRQs classified",
		defaultEnabled: true, parts: snapshot.PartInterrupts,
		build: func(cfg *Config) Collector {
			return &interruptsCollector{selector: cfg.Interrupts, seen: map[string]*cpuset.CPUSet{}}
		},
	})
}

const (
	irqInterruptsName  = namespace + "_irq_interrupts_total"
	irqInterruptsHelp  = "Interrupts of one IRQ on one CPU. NIC IRQs by default (others with --collector.interrupts.all/include); device, queue and kind say what the IRQ serves (kind: rx, tx, combined, other; empty for non-NIC IRQs)."
	irqSummedName      = namespace + "_irq_summed_interrupts_total"
	irqSummedHelp      = "Interrupts of the numbered IRQs not exported one by one (by default every non-NIC IRQ), summed per CPU. Drops when such an IRQ is freed."
	archInterruptsName = namespace + "_arch_interrupts_total"
	archInterruptsHelp = "Per-CPU architecture interrupts from the named lines of /proc/interrupts (NMI, LOC, RES, CAL, TLB, IPIn ...)."
)

var (
	irqInterruptsDesc = prometheus.NewDesc(irqInterruptsName, irqInterruptsHelp,
		[]string{"irq", "device", "queue", "kind", "cpu"}, nil)
	irqInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irq", "info"),
		"One series per IRQ exported one by one: its /proc/interrupts name, chip, hwirq, and the classification (device, queue, kind, rule that matched).",
		[]string{"irq", "name", "chip", "hwirq", "device", "queue", "kind", "rule"}, nil)
	irqSummedDesc      = prometheus.NewDesc(irqSummedName, irqSummedHelp, []string{"cpu"}, nil)
	archInterruptsDesc = prometheus.NewDesc(archInterruptsName, archInterruptsHelp, []string{"name", "cpu"}, nil)
	archErrorsDesc     = prometheus.NewDesc(prometheus.BuildFQName(namespace, "arch", "interrupt_errors_total"),
		"Host-wide counts of the single-value lines of /proc/interrupts (ERR: spurious/erroneous, MIS: mis-routed IO-APIC).",
		[]string{"name"}, nil)
	interruptsMaskedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "interrupts", "masked"),
		"1 when /proc/interrupts was read but lists no interrupt (empty, or only its CPU header): a container runtime masks it, and every IRQ metric, check and alert is blind; 0 when it lists interrupts. Absent when the file could not be read.",
		nil, nil)
)

type interruptsCollector struct {
	selector snapshot.IRQSelector
	// seen holds the cells that have counted at least once: per IRQ number
	// or arch line name, the CPUs. A cell that has only ever been zero is
	// left out (most of a 256-CPU matrix is zeros); once it counts it stays
	// for the process's life so rate() stays right.
	mu   sync.Mutex
	seen map[string]*cpuset.CPUSet
}

func (c *interruptsCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	return sendMatrices(c, snap, ch)
}

// updateMatrices sends irq_info and the single-value arch lines, and
// returns the per-CPU families: the cells of the IRQs exported one by one,
// the other IRQs summed, the per-CPU arch lines.
func (c *interruptsCollector) updateMatrices(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) ([]*cpuMatrix, error) {
	t := snap.Interrupts
	if t == nil {
		return nil, orMissing(snap.InterruptsErr, "/proc/interrupts")
	}
	maskedErr := sendMasked(snap, ch)
	c.mu.Lock()
	defer c.mu.Unlock()
	cpus := newCPUColumns(t.CPUs)
	var errs []error

	cells := &cpuMatrix{desc: irqInterruptsDesc, name: irqInterruptsName, help: irqInterruptsHelp, cpus: cpus}
	summed := make([]uint64, len(t.CPUs))
	anySummed := false
	for _, line := range t.IRQs {
		class := snap.IRQClasses[line.IRQ]
		if !c.selector.Detailed(line, class) {
			for i, v := range line.Counts {
				if i < len(summed) {
					summed[i] += v
				}
			}
			anySummed = true
			continue
		}
		irq := strconv.Itoa(line.IRQ)
		queue := class.QueueLabel()
		info, err := prometheus.NewConstMetric(irqInfoDesc, prometheus.GaugeValue, 1,
			irq, line.Name, line.Chip, line.HWIRQ, class.Device, queue, string(class.Kind), class.Driver)
		if err != nil { // a label value that is not UTF-8
			errs = append(errs, fmt.Errorf("IRQ %d left out: %w", line.IRQ, err))
			continue
		}
		ch <- info
		row := matrixRow{counts: line.Counts, pairs: []*dto.LabelPair{labelPair(&labelDevice, class.Device),
			labelPair(&labelIRQ, irq), labelPair(&labelKind, string(class.Kind)), labelPair(&labelQueue, queue)}}
		if !c.selector.All {
			row.kept = c.kept(irq, t.CPUs, line.Counts)
		}
		cells.rows = append(cells.rows, row)
	}
	sortRows(cells.rows)
	matrices := []*cpuMatrix{cells}
	if anySummed {
		matrices = append(matrices, &cpuMatrix{desc: irqSummedDesc, name: irqSummedName, help: irqSummedHelp,
			cpus: cpus, rows: []matrixRow{{counts: summed}}})
	}

	arch := &cpuMatrix{desc: archInterruptsDesc, name: archInterruptsName, help: archInterruptsHelp, cpus: cpus}
	for _, line := range t.Arch {
		if line.Global {
			if len(line.Counts) > 0 {
				ch <- prometheus.MustNewConstMetric(archErrorsDesc, prometheus.CounterValue, float64(line.Counts[0]), line.Name)
			}
			continue
		}
		if !utf8.ValidString(line.Name) { // never, from the parser: names are printable ASCII
			errs = append(errs, fmt.Errorf("an arch line (%s) left out: not UTF-8", kernel.Describe(line.Name)))
			continue
		}
		row := matrixRow{counts: line.Counts, pairs: []*dto.LabelPair{labelPair(&labelName, line.Name)}}
		if !c.selector.All {
			row.kept = c.kept(line.Name, t.CPUs, line.Counts)
		}
		arch.rows = append(arch.rows, row)
	}
	sortRows(arch.rows)
	matrices = append(matrices, arch)
	return matrices, errors.Join(append([]error{snap.InterruptsErr, maskedErr}, errs...)...)
}

// sendMasked exports netirq_interrupts_masked and returns the error of a
// masked file: an empty table must not pass for a host without interrupts.
func sendMasked(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	if !snap.InterruptsMasked() {
		ch <- prometheus.MustNewConstMetric(interruptsMaskedDesc, prometheus.GaugeValue, 0)
		return nil
	}
	ch <- prometheus.MustNewConstMetric(interruptsMaskedDesc, prometheus.GaugeValue, 1)
	return errors.New(snapshot.InterruptsMaskedReason)
}

// kept returns the CPU indexes whose cell of the IRQ or arch line name is
// exported: those that have counted at least once (see seen).
func (c *interruptsCollector) kept(name string, cpus []int, counts []uint64) *cpuset.CPUSet {
	seen := c.seenOf(name)
	kept := &cpuset.CPUSet{}
	for i, cpu := range cpus {
		if i < len(counts) && keep(seen, cpu, counts[i]) {
			kept.Add(i)
		}
	}
	return kept
}

// seenOf returns the set of CPUs whose cell of name has counted.
func (c *interruptsCollector) seenOf(name string) *cpuset.CPUSet {
	s, ok := c.seen[name]
	if !ok {
		s = &cpuset.CPUSet{}
		c.seen[name] = s
	}
	return s
}

// keep reports whether a cell is exported, adding it to seen when it
// counts.
func keep(seen *cpuset.CPUSet, cpu int, v uint64) bool {
	if seen.Contains(cpu) {
		return true
	}
	if v == 0 {
		return false
	}
	seen.Add(cpu)
	return true
}

// orMissing is the error for a part that was not read at all.
func orMissing(err error, what string) error {
	if err != nil {
		return err
	}
	return errors.New(what + " was not read")
}
