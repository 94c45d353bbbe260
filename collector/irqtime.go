package collector

import (
	"errors"

	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The irqtime collector says how to read the irq and softirq times of
// netirq_cpu_seconds_total: measured (IRQ time accounting on) or
// tick-sampled, and how that was told (internal/snapshot/irqtime.go), with
// IRQ pressure when the kernel has it and the kernel release (drivers'
// IRQ affinity behaviour changed between releases).
func init() {
	register(factory{
		name: "irqtime", help: "IRQ time accounting on/off, IRQ pressure (/proc/pressure/irq) and the kernel release",
		defaultEnabled: true, parts: snapshot.PartKernel | snapshot.PartCPUTime,
		build: func(*Config) Collector { return irqTimeCollector{} },
	})
}

var (
	irqTimeAccountingDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "irq", "time_accounting"),
		"1 when the kernel measures hard IRQ and softirq time (CONFIG_IRQ_TIME_ACCOUNTING on), 0 when the tick samples it: softirq time is then an estimate and hard IRQ time is charged to the interrupted task. signal says what told: pressure_irq, kernel_config or stat_irq_time.",
		[]string{"signal"}, nil)
	irqPressureDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "pressure_irq", "stalled_seconds_total"),
		"Time tasks could not run because their CPU was in hard or soft IRQ context, system-wide (/proc/pressure/irq full total; PSI weighs each CPU by its non-idle time, so rate() is a fraction 0..1; Linux 6.1+ with IRQ time accounting and PSI on).",
		nil, nil)
	kernelInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "kernel", "info"),
		"The running kernel's release (/proc/sys/kernel/osrelease).", []string{"release"}, nil)
)

type irqTimeCollector struct{}

func (irqTimeCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	if a := snap.IRQTimeAccounting(); a.State != "unknown" {
		on := 0.0
		if a.State == "on" {
			on = 1
		}
		ch <- prometheus.MustNewConstMetric(irqTimeAccountingDesc, prometheus.GaugeValue, on, a.Signal)
	}
	if k := snap.Kernel; k != nil {
		if k.IRQPressure.State == procfs.IRQPressurePresent {
			ch <- prometheus.MustNewConstMetric(irqPressureDesc, prometheus.CounterValue, float64(k.IRQPressure.FullMicros)/1e6)
		}
		if k.Release != "" {
			ch <- prometheus.MustNewConstMetric(kernelInfoDesc, prometheus.GaugeValue, 1, k.Release)
		}
	}
	if snap.CPUTime == nil && snap.CPUTimeErr != nil {
		// The last signal of the accounting state is gone.
		return errors.Join(snap.KernelErr, snap.CPUTimeErr)
	}
	return snap.KernelErr
}
