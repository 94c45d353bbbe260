package collector

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Dense mode (--collector.interrupts.all) exports every IRQ x every CPU:
// ~165,000 netirq_irq_interrupts_total cells on a 256-CPU host, ~700,000
// on 1024. Through a registry each cell costs a prometheus.Metric, a
// dto.Metric, its place in the family's sort and expfmt's per-sample work,
// which was about three quarters of a dense scrape. WriteText writes that
// one family as exposition text directly, a few appends per cell, and
// gathers everything else through a registry as before. The output is the
// same as the registry's (TestDenseTextEqualsRegistry).

// denseCells are the cells the interrupts collector left to WriteText:
// rows sorted by device and IRQ, CPUs in the registry's order (cpuOrder
// indexes cpuLabels and each row's counts).
type denseCells struct {
	rows      []cellRow
	cpuOrder  []int
	cpuLabels []string
}

// DenseText reports whether the exporter exports the dense matrix, which
// WriteText serves much more cheaply than a registry does.
func (e *Exporter) DenseText() bool {
	ic, ok := e.collectors["interrupts"].(*interruptsCollector)
	return ok && ic.selector.All
}

// WriteText reads (or joins) one snapshot and writes in the text format
// (0.0.4) the exporter's metrics and those of others (may be nil), in the
// registry's order, the cells of netirq_irq_interrupts_total written
// directly. A gather error is returned after everything gathered has been
// written, as promhttp.ContinueOnError does; a write error stops it.
func (e *Exporter) WriteText(w io.Writer, others prometheus.Gatherer) error {
	return e.writeText(w, e.source.Snapshot(), others)
}

func (e *Exporter) writeText(w io.Writer, snap *Snapshot, others prometheus.Gatherer) error {
	cells := &denseCells{}
	reg := prometheus.NewRegistry()
	if err := reg.Register(snapCollector{e, snap, cells}); err != nil {
		return err
	}
	gatherers := prometheus.Gatherers{reg}
	if others != nil {
		gatherers = append(gatherers, others)
	}
	mfs, gatherErr := gatherers.Gather()

	bw := bufio.NewWriterSize(w, 64<<10)
	cellsDone := false
	for _, mf := range mfs {
		if !cellsDone && mf.GetName() > irqInterruptsName {
			cells.write(bw)
			cellsDone = true
		}
		if _, err := expfmt.MetricFamilyToText(bw, mf); err != nil {
			return err
		}
	}
	if !cellsDone {
		cells.write(bw)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return gatherErr
}

// snapCollector runs the exporter's collectors over one snapshot.
type snapCollector struct {
	e     *Exporter
	snap  *Snapshot
	dense *denseCells
}

func (s snapCollector) Describe(chan<- *prometheus.Desc) {}

func (s snapCollector) Collect(ch chan<- prometheus.Metric) { s.e.collect(s.snap, ch, s.dense) }

// denseRest is the interrupts collector without its cells.
type denseRest struct {
	c     *interruptsCollector
	dense *denseCells
}

func (d denseRest) Update(snap *Snapshot, ch chan<- prometheus.Metric) error {
	return d.c.update(snap, ch, d.dense)
}

// quotedEscaper escapes a label value as the text format does.
var quotedEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

// write writes the cells CPU by CPU, in each CPU by device and IRQ (the
// order the registry sorts them in), preceded by HELP and TYPE as expfmt
// writes them; nothing when there is no cell. Dense mode keeps every cell,
// so no zero is left out. Write errors stay in bw.
func (d *denseCells) write(bw *bufio.Writer) {
	// The label text after cpu's value, per row, and before it, per CPU.
	rowText := make([]string, len(d.rows))
	for r, row := range d.rows {
		rowText[r] = `",device="` + quotedEscaper.Replace(row.device) + `",irq="` + quotedEscaper.Replace(row.irq) +
			`",kind="` + quotedEscaper.Replace(row.kind) + `",queue="` + quotedEscaper.Replace(row.queue) + `"} `
	}
	buf := make([]byte, 0, 64<<10)
	header := false
	for _, i := range d.cpuOrder {
		cpuText := irqInterruptsName + `{cpu="` + quotedEscaper.Replace(d.cpuLabels[i])
		for r := range d.rows {
			counts := d.rows[r].counts
			if i >= len(counts) {
				continue
			}
			if !header {
				buf = append(buf, "# HELP "+irqInterruptsName+" "+
					strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(irqInterruptsHelp)+
					"\n# TYPE "+irqInterruptsName+" counter\n"...)
				header = true
			}
			buf = append(buf, cpuText...)
			buf = append(buf, rowText[r]...)
			buf = appendCount(buf, counts[i])
			buf = append(buf, '\n')
			if len(buf) > 60<<10 {
				bw.Write(buf)
				buf = buf[:0]
			}
		}
	}
	bw.Write(buf)
}

// appendCount appends v as expfmt writes the float64 of a count.
func appendCount(buf []byte, v uint64) []byte {
	switch v {
	case 0:
		return append(buf, '0')
	case 1:
		return append(buf, '1')
	}
	return strconv.AppendFloat(buf, float64(v), 'g', -1, 64)
}
