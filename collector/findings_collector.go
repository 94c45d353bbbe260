package collector

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The findings collector runs every check of diagnosis.Checks (internal/diagnosis) over the
// snapshot and exports one netirq_finding series per violation, the
// number of violations per check, and whether each check could run. It
// reads nothing of its own: it declares every part a check uses. A check
// that needs a part that could not be read at all, or IRQs while
// /proc/interrupts is masked, does not run: netirq_check_evaluated 0, no
// netirq_findings for it (unknown is not 0), and the collector fails,
// naming the checks and why.
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
			snapshot.PartQueueStats | snapshot.PartThreads | snapshot.PartTunables | snapshot.PartKernel | snapshot.PartBQL,
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
		"Number of misconfigurations each check found, including those beyond the netirq_finding cap; 0 for a check that found none, absent for one that could not run (netirq_check_evaluated 0).",
		[]string{"check", "severity"}, nil)
	checkEvaluatedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "check", "evaluated"),
		"1 when the check ran over the data it needs; 0 when it could not (a file it needs could not be read at all, /proc/interrupts is masked, or, for a check of rates, this is the first scrape after a start): its result is unknown, not 0 findings, and it has no netirq_findings series.",
		[]string{"check"}, nil)
)

type findingsCollector struct {
	exclude *regexp.Regexp
}

func (c findingsCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	notRun := map[string][]string{} // why → checks
	var reasons []string
	for _, r := range diagnosis.Results(snap) {
		evaluated := 1.0
		if r.Unknown != "" {
			evaluated = 0
		}
		if r.Unknown != "" && !r.Waiting { // waiting for a second snapshot is no failure
			if _, seen := notRun[r.Unknown]; !seen {
				reasons = append(reasons, r.Unknown)
			}
			notRun[r.Unknown] = append(notRun[r.Unknown], r.Check.Name)
		}
		ch <- prometheus.MustNewConstMetric(checkEvaluatedDesc, prometheus.GaugeValue, evaluated, r.Check.Name)
		if r.Unknown == "" {
			c.send(r, ch)
		}
	}
	// A part that could not be read fully is its own collector's failure
	// (netqueues, interrupts, irqaffinity, cputopology, ethtool ...); the
	// checks work with what was read. A check that could not run at all
	// fails this collector too, so that it cannot pass for one that found
	// nothing.
	var errs []error
	for _, why := range reasons {
		errs = append(errs, fmt.Errorf("checks not run: %s: %s", strings.Join(notRun[why], ", "), why))
	}
	return errors.Join(errs...)
}

// send exports one check's findings (those of excluded devices dropped,
// at most maxFindingsPerCheck series) and their count.
func (c findingsCollector) send(r diagnosis.Result, ch chan<- prometheus.Metric) {
	type labels struct{ device, queue, irq, cpu string }
	seen := map[labels]bool{}
	count := 0
	for _, f := range r.Findings {
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
			r.Check.Name, r.Check.Severity, f.Device, f.Queue, f.IRQ, f.CPU)
	}
	ch <- prometheus.MustNewConstMetric(findingsDesc, prometheus.GaugeValue, float64(count), r.Check.Name, r.Check.Severity)
}
