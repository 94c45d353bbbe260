package collector

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The interrupts collector exports /proc/interrupts: NIC IRQs per CPU in
// full, every other numbered IRQ summed per CPU, and the named per-CPU lines
// (NMI, LOC, RES, CAL, IPIn ...).
func init() {
	register(factory{
		name: "interrupts", help: "Per-IRQ per-CPU interrupts from /proc/interrupts, NIC queue IRQs classified",
		defaultEnabled: true, parts: PartInterrupts,
		build: func(cfg *Config) Collector {
			return &interruptsCollector{selector: cfg.Interrupts, seen: map[string]*CPUSet{}}
		},
	})
}

const (
	irqInterruptsName = namespace + "_irq_interrupts_total"
	irqInterruptsHelp = "Interrupts of one IRQ on one CPU. NIC IRQs by default (others with --collector.interrupts.all/include); device, queue and kind say what the IRQ serves (kind: rx, tx, combined, other; empty for non-NIC IRQs)."
)

var (
	irqInterruptsDesc = prometheus.NewDesc(irqInterruptsName, irqInterruptsHelp,
		[]string{"irq", "device", "queue", "kind", "cpu"}, nil)
	irqInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irq", "info"),
		"One series per IRQ exported one by one: its /proc/interrupts name, chip, hwirq, and the classification (device, queue, kind, rule that matched).",
		[]string{"irq", "name", "chip", "hwirq", "device", "queue", "kind", "rule"}, nil)
	irqSummedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irq", "summed_interrupts_total"),
		"Interrupts of the numbered IRQs not exported one by one (by default every non-NIC IRQ), summed per CPU. Drops when such an IRQ is freed.",
		[]string{"cpu"}, nil)
	archInterruptsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "arch", "interrupts_total"),
		"Per-CPU architecture interrupts from the named lines of /proc/interrupts (NMI, LOC, RES, CAL, TLB, IPIn ...).",
		[]string{"name", "cpu"}, nil)
	archErrorsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "arch", "interrupt_errors_total"),
		"Host-wide counts of the single-value lines of /proc/interrupts (ERR: spurious/erroneous, MIS: mis-routed IO-APIC).",
		[]string{"name"}, nil)
)

type interruptsCollector struct {
	selector IRQSelector
	// seen holds the cells that have counted at least once: per IRQ number
	// or arch line name, the CPUs. A cell that has only ever been zero is
	// left out (most of a 256-CPU matrix is zeros); once it counts it stays
	// for the process's life so rate() stays right.
	mu   sync.Mutex
	seen map[string]*CPUSet
}

// cellRow is one IRQ exported one by one, with the label pairs its cells
// share.
type cellRow struct {
	counts []uint64
	seen   *CPUSet
	device string
	irq    string
	queue  string
	kind   string
	pairs  [4]*dto.LabelPair // device, irq, kind, queue: the sorted label names after cpu
}

func (c *interruptsCollector) Update(snap *Snapshot, ch chan<- prometheus.Metric) error {
	return c.update(snap, ch, nil)
}

// update sends the metrics of snap; with dense non-nil it leaves the
// cells of the IRQs exported one by one to dense (dense_text.go) instead
// of sending them.
func (c *interruptsCollector) update(snap *Snapshot, ch chan<- prometheus.Metric, dense *denseCells) error {
	t := snap.Interrupts
	if t == nil {
		return orMissing(snap.InterruptsErr, "/proc/interrupts")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// The cells are sent in the order the registry sorts them in (by label
	// values in label name order: cpu first, as strings), which makes its
	// sort of a family linear rather than n log n: in dense mode that sort
	// was a fifth of the scrape.
	cpuLabels, cpuPairs, cpuOrder := cpuLabelPairs(t.CPUs)

	summed := make([]uint64, len(t.CPUs))
	anySummed := false
	var rows []cellRow
	slab := &cellSlab{}
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
		queue := queueLabel(class.Queue)
		info, err := prometheus.NewConstMetric(irqInfoDesc, prometheus.GaugeValue, 1,
			irq, line.Name, line.Chip, line.HWIRQ, class.Device, queue, string(class.Kind), class.Driver)
		if err != nil {
			// A label value that is not UTF-8: fail as MustNewConstMetric
			// does, after the cells of the IRQs before this one.
			c.sendCells(ch, slab, rows, cpuOrder, cpuPairs, t.CPUs, dense, cpuLabels)
			panic(err)
		}
		ch <- info
		row := cellRow{counts: line.Counts, device: class.Device, irq: irq, queue: queue, kind: string(class.Kind)}
		row.pairs = [4]*dto.LabelPair{labelPair(&labelDevice, class.Device), labelPair(&labelIRQ, irq),
			labelPair(&labelKind, string(class.Kind)), labelPair(&labelQueue, queue)}
		if !c.selector.All {
			row.seen = c.seenOf(irq)
		}
		rows = append(rows, row)
	}
	c.sendCells(ch, slab, rows, cpuOrder, cpuPairs, t.CPUs, dense, cpuLabels)
	if anySummed {
		for _, i := range cpuOrder {
			ch <- slab.newCellMetric(irqSummedDesc, float64(summed[i]), cpuPairs[i])
		}
	}

	// Arch lines: cpu, then name.
	type archRow struct {
		counts []uint64
		seen   *CPUSet
		pair   *dto.LabelPair
		name   string
	}
	var arch []archRow
	for _, line := range t.Arch {
		if line.Global {
			if len(line.Counts) > 0 {
				ch <- prometheus.MustNewConstMetric(archErrorsDesc, prometheus.CounterValue, float64(line.Counts[0]), line.Name)
			}
			continue
		}
		r := archRow{counts: line.Counts, name: line.Name}
		if utf8.ValidString(line.Name) { // always, from the parser: names are printable ASCII
			r.pair = labelPair(&labelName, line.Name)
		}
		if !c.selector.All {
			r.seen = c.seenOf(line.Name)
		}
		arch = append(arch, r)
	}
	slices.SortStableFunc(arch, func(a, b archRow) int { return strings.Compare(a.name, b.name) })
	for _, i := range cpuOrder {
		cpu := t.CPUs[i]
		for _, r := range arch {
			if i >= len(r.counts) || !keep(r.seen, cpu, r.counts[i]) {
				continue
			}
			if r.pair == nil { // fails as it always did
				ch <- prometheus.MustNewConstMetric(archInterruptsDesc, prometheus.CounterValue, float64(r.counts[i]), r.name, cpuLabels[i])
				continue
			}
			ch <- slab.newCellMetric(archInterruptsDesc, float64(r.counts[i]), cpuPairs[i], r.pair)
		}
	}
	return snap.InterruptsErr
}

// sendCells sends the per-CPU counts of the IRQs exported one by one,
// CPU by CPU, and in each CPU by device and IRQ; with dense non-nil it
// hands them to dense in that order instead.
func (c *interruptsCollector) sendCells(ch chan<- prometheus.Metric, slab *cellSlab, rows []cellRow, cpuOrder []int, cpuPairs []*dto.LabelPair, cpus []int, dense *denseCells, cpuLabels []string) {
	slices.SortStableFunc(rows, func(a, b cellRow) int {
		if n := strings.Compare(a.device, b.device); n != 0 {
			return n
		}
		return strings.Compare(a.irq, b.irq)
	})
	if dense != nil {
		dense.rows, dense.cpuOrder, dense.cpuLabels = rows, cpuOrder, cpuLabels
		return
	}
	for _, i := range cpuOrder {
		cpu := cpus[i]
		for r := range rows {
			row := &rows[r]
			if i >= len(row.counts) || !keep(row.seen, cpu, row.counts[i]) {
				continue
			}
			ch <- slab.newCellMetric(irqInterruptsDesc, float64(row.counts[i]), cpuPairs[i],
				row.pairs[0], row.pairs[1], row.pairs[2], row.pairs[3])
		}
	}
}

// seenOf returns the set of CPUs whose cell of name has counted.
func (c *interruptsCollector) seenOf(name string) *CPUSet {
	s, ok := c.seen[name]
	if !ok {
		s = &CPUSet{}
		c.seen[name] = s
	}
	return s
}

// keep reports whether a cell is exported; seen is nil in dense mode,
// where every cell is.
func keep(seen *CPUSet, cpu int, v uint64) bool {
	if seen == nil || seen.Contains(cpu) {
		return true
	}
	if v == 0 {
		return false
	}
	seen.Add(cpu)
	return true
}

// queueLabel renders a queue index; "" when the IRQ serves no single queue.
func queueLabel(q int) string {
	if q < 0 {
		return ""
	}
	return strconv.Itoa(q)
}

// orMissing is the error for a part that was not read at all.
func orMissing(err error, what string) error {
	if err != nil {
		return err
	}
	return errors.New(what + " was not read")
}
