package collector

import (
	"errors"
	"regexp"

	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The findings collector runs every check of diagnosis.Checks (internal/diagnosis) over the
// snapshot and exports one netirq_finding series per violation, plus the
// number of violations per check. It reads nothing of its own: it declares
// every part a check uses, and a part no reader fills leaves the checks
// that need it silent.
//
// Cardinality: at most maxFindingsPerCheck series per check (a host with
// hundreds of queues that all break one rule says so once per queue up to
// the cap); netirq_findings keeps the full count, so the cut is visible.
// Findings for devices matching --collector.device-exclude are dropped:
// the snapshot does not read those devices, and a finding about an IRQ
// named after one is dropped here.
func init() {
	register(factory{
		name: "findings", help: "Misconfiguration checks over the snapshot (stacked queue IRQs, remote NUMA, isolated CPUs, RPS, RSS ...)",
		defaultEnabled: true,
		parts: snapshot.PartTopology | snapshot.PartNetDevices | snapshot.PartInterrupts | snapshot.PartAffinity | snapshot.PartEthtool |
			snapshot.PartQueueStats | snapshot.PartThreads | snapshot.PartTunables,
		build: func(cfg *Config) Collector { return findingsCollector{exclude: cfg.DeviceExclude} },
	})
}

// maxFindingsPerCheck bounds the netirq_finding series one check can add.
const maxFindingsPerCheck = 50

var (
	findingDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "finding"),
		"1 for each misconfiguration a check found (at most 50 per check); the check's severity, and the device, queue, IRQ and CPU list it concerns (empty when not applicable). `netirq_exporter report` prints the message and fix command.",
		[]string{"check", "severity", "device", "queue", "irq", "cpu"}, nil)
	findingsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "findings"),
		"Number of misconfigurations each check found, including those beyond the netirq_finding cap; 0 for a check that found none.",
		[]string{"check", "severity"}, nil)
)

type findingsCollector struct {
	exclude *regexp.Regexp
}

func (c findingsCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	type labels struct{ device, queue, irq, cpu string }
	for _, check := range diagnosis.Checks {
		found := check.Evaluate(snap)
		seen := map[labels]bool{}
		count := 0
		for _, f := range found {
			if c.exclude != nil && f.Device != "" && c.exclude.MatchString(f.Device) {
				continue
			}
			count++
			l := labels{f.Device, f.Queue, f.IRQ, f.CPU}
			if seen[l] || len(seen) >= maxFindingsPerCheck {
				continue
			}
			seen[l] = true
			ch <- prometheus.MustNewConstMetric(findingDesc, prometheus.GaugeValue, 1,
				check.Name, check.Severity, f.Device, f.Queue, f.IRQ, f.CPU)
		}
		ch <- prometheus.MustNewConstMetric(findingsDesc, prometheus.GaugeValue, float64(count), check.Name, check.Severity)
	}
	// A part that could not be read fully is its own collector's failure
	// (netqueues, interrupts, irqaffinity, cputopology, ethtool ...); the
	// checks work with what was read. Only a snapshot with nothing to check,
	// neither net devices nor interrupts (a wrong --path.sysfs/--path.procfs),
	// fails here, so that it cannot pass for a host without findings.
	if snap.NetDevices == nil && snap.Interrupts == nil {
		return errors.Join(errors.New("neither /sys/class/net nor /proc/interrupts was read: nothing to check"),
			snap.NetDevicesErr, snap.InterruptsErr)
	}
	return nil
}
