package collector

import (
	"errors"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// The interrupts collector exports /proc/interrupts: NIC IRQs per CPU in
// full, every other numbered IRQ summed per CPU, and the named per-CPU lines
// (NMI, LOC, RES, CAL, IPIn ...).
func init() {
	register(factory{
		name: "interrupts", help: "Per-IRQ per-CPU interrupts from /proc/interrupts, NIC queue IRQs classified",
		defaultEnabled: true, parts: PartInterrupts,
		build: func(cfg *Config) Collector {
			return &interruptsCollector{selector: cfg.Interrupts, seen: map[cellKey]bool{}}
		},
	})
}

var (
	irqInterruptsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irq", "interrupts_total"),
		"Interrupts of one IRQ on one CPU. NIC IRQs by default (others with --collector.interrupts.all/include); device, queue and kind say what the IRQ serves (kind: rx, tx, combined, other; empty for non-NIC IRQs).",
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

// cellKey names one per-CPU cell; name is the IRQ number or the arch line.
type cellKey struct {
	name string
	cpu  int
}

type interruptsCollector struct {
	selector IRQSelector
	// seen holds the cells that have counted at least once. A cell that has
	// only ever been zero is left out (most of a 256-CPU matrix is zeros);
	// once it counts it stays for the process's life so rate() stays right.
	mu   sync.Mutex
	seen map[cellKey]bool
}

func (c *interruptsCollector) Update(snap *Snapshot, ch chan<- prometheus.Metric) error {
	t := snap.Interrupts
	if t == nil {
		return orMissing(snap.InterruptsErr, "/proc/interrupts")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cpuLabels := cpuLabels(t.CPUs)
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
		queue := queueLabel(class.Queue)
		ch <- prometheus.MustNewConstMetric(irqInfoDesc, prometheus.GaugeValue, 1,
			irq, line.Name, line.Chip, line.HWIRQ, class.Device, queue, string(class.Kind), class.Driver)
		for i, v := range line.Counts {
			if i >= len(t.CPUs) || !c.keep(cellKey{irq, t.CPUs[i]}, v) {
				continue
			}
			ch <- prometheus.MustNewConstMetric(irqInterruptsDesc, prometheus.CounterValue, float64(v),
				irq, class.Device, queue, string(class.Kind), cpuLabels[i])
		}
	}
	if anySummed {
		for i, v := range summed {
			ch <- prometheus.MustNewConstMetric(irqSummedDesc, prometheus.CounterValue, float64(v), cpuLabels[i])
		}
	}
	for _, line := range t.Arch {
		if line.Global {
			if len(line.Counts) > 0 {
				ch <- prometheus.MustNewConstMetric(archErrorsDesc, prometheus.CounterValue, float64(line.Counts[0]), line.Name)
			}
			continue
		}
		for i, v := range line.Counts {
			if i >= len(t.CPUs) || !c.keep(cellKey{line.Name, t.CPUs[i]}, v) {
				continue
			}
			ch <- prometheus.MustNewConstMetric(archInterruptsDesc, prometheus.CounterValue, float64(v), line.Name, cpuLabels[i])
		}
	}
	return snap.InterruptsErr
}

// keep reports whether a cell is exported; in dense mode every cell is.
func (c *interruptsCollector) keep(key cellKey, v uint64) bool {
	if c.selector.All || c.seen[key] {
		return true
	}
	if v == 0 {
		return false
	}
	c.seen[key] = true
	return true
}

// cpuLabels renders CPU numbers once per scrape rather than once per cell.
func cpuLabels(cpus []int) []string {
	out := make([]string, len(cpus))
	for i, c := range cpus {
		out[i] = strconv.Itoa(c)
	}
	return out
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
