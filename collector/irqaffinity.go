package collector

import (
	"strconv"

	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The irqaffinity collector exports /proc/irq/N/ for every IRQ the
// interrupts selector exports one by one: where the IRQ may run
// (smp_affinity_list, set by the admin or irqbalance), where it does run
// (effective_affinity_list), the driver's hint and the NUMA node.
func init() {
	register(factory{
		name: "irqaffinity", help: "IRQ affinity, effective CPU, hint and node from /proc/irq/N",
		defaultEnabled: true, parts: snapshot.PartAffinity,
		build: func(*Config) Collector { return irqAffinityCollector{} },
	})
}

var (
	irqAffinityInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irq", "affinity_info"),
		"CPU lists of an IRQ: smp_affinity (allowed), effective_affinity (where it fires; empty when the kernel has no effective_affinity_list), affinity_hint (driver's wish; empty when none).",
		[]string{"irq", "smp_affinity", "effective_affinity", "affinity_hint"}, nil)
	irqEffectiveCPUDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irq", "effective_cpu"),
		"1 for each CPU in the IRQ's effective_affinity_list: the CPU(s) the IRQ actually fires on.",
		[]string{"irq", "cpu"}, nil)
	irqAffinityCPUsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irq", "affinity_cpus"),
		"Number of CPUs in the IRQ's smp_affinity_list.",
		[]string{"irq"}, nil)
	irqNodeDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irq", "numa_node"),
		"NUMA node of the IRQ's descriptor (/proc/irq/N/node); -1 when unknown.",
		[]string{"irq"}, nil)
)

type irqAffinityCollector struct{}

func (irqAffinityCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	if snap.Interrupts == nil {
		return orMissing(snap.InterruptsErr, "/proc/interrupts")
	}
	// Walk in /proc/interrupts order so the output is stable.
	for _, line := range snap.Interrupts.IRQs {
		aff, ok := snap.Affinity[line.IRQ]
		if !ok {
			continue
		}
		irq := strconv.Itoa(line.IRQ)
		ch <- prometheus.MustNewConstMetric(irqAffinityInfoDesc, prometheus.GaugeValue, 1,
			irq, aff.SMPAffinity.String(), aff.Effective.String(), aff.Hint.String())
		ch <- prometheus.MustNewConstMetric(irqAffinityCPUsDesc, prometheus.GaugeValue, float64(aff.SMPAffinity.Count()), irq)
		ch <- prometheus.MustNewConstMetric(irqNodeDesc, prometheus.GaugeValue, float64(aff.Node), irq)
		for _, cpu := range aff.Effective.List() {
			ch <- prometheus.MustNewConstMetric(irqEffectiveCPUDesc, prometheus.GaugeValue, 1, irq, strconv.Itoa(cpu))
		}
	}
	return snap.AffinityErr
}
