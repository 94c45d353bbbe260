package live

import (
	"bytes"
	"sync"

	"github.com/netirq/netirq_exporter/internal/report"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// View is the report of one pair of snapshots, with its page and JSON
// rendered on first use and kept.
type View struct {
	prev, cur *snapshot.Snapshot
	Report    report.Report
	// IRQRates is each NIC IRQ's interrupts per second on each CPU (the
	// heat map's cells; the report has only each IRQ's total).
	IRQRates map[int]map[int]float64
	refresh  int // seconds
	jsonHref string

	html, json func() ([]byte, error)
}

func newView(prev, cur *snapshot.Snapshot, opts Options) *View {
	// The Source's own rates are since its previous snapshot, which need
	// not be prev: BuildReport computes them from prev instead.
	c := *cur
	c.DeviceRxRates = nil
	r := report.BuildReport(prev, &c)
	r.Host = opts.Host
	r.ExcludeDevices(opts.Exclude)
	v := &View{prev: prev, cur: cur, Report: r, IRQRates: irqCPURates(prev, cur, r.IntervalSeconds),
		refresh: int(opts.Refresh.Seconds() + 0.5), jsonHref: opts.JSONHref}
	v.html = sync.OnceValues(func() ([]byte, error) {
		var b bytes.Buffer
		err := renderPage(&b, v)
		return b.Bytes(), err
	})
	v.json = sync.OnceValues(func() ([]byte, error) {
		var b bytes.Buffer
		err := v.Report.WriteJSON(&b)
		return b.Bytes(), err
	})
	return v
}

// HTML is the page, rendered once.
func (v *View) HTML() ([]byte, error) { return v.html() }

// JSON is what `report --json` prints for the same pair, encoded once.
func (v *View) JSON() ([]byte, error) { return v.json() }

// irqCPURates is, for every NIC IRQ in both snapshots, its interrupts per
// second on each CPU where it fired; counters that went backwards are left
// out.
func irqCPURates(prev, cur *snapshot.Snapshot, dt float64) map[int]map[int]float64 {
	out := map[int]map[int]float64{}
	if prev.Interrupts == nil || cur.Interrupts == nil || dt <= 0 {
		return out
	}
	before := map[int]map[int]uint64{}
	for _, line := range prev.Interrupts.IRQs {
		before[line.IRQ] = perCPU(prev.Interrupts.CPUs, line.Counts)
	}
	for _, line := range cur.Interrupts.IRQs {
		p, ok := before[line.IRQ]
		if !ok || !cur.IRQClasses[line.IRQ].IsNIC() {
			continue
		}
		rates := map[int]float64{}
		for cpu, c := range perCPU(cur.Interrupts.CPUs, line.Counts) {
			if b, ok := p[cpu]; ok && c > b {
				rates[cpu] = float64(c-b) / dt
			}
		}
		out[line.IRQ] = rates
	}
	return out
}

func perCPU(cpus []int, counts []uint64) map[int]uint64 {
	m := make(map[int]uint64, len(counts))
	for i, c := range counts {
		if i < len(cpus) {
			m[cpus[i]] = c
		}
	}
	return m
}
