package collector

import (
	"bufio"
	"context"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// WriteText is how /metrics is served. The per-CPU families (cpu_matrix.go)
// are written as text directly: ~7,400 of the ~9,100 series of a 256-CPU
// host by default, ~178,000 of ~180,000 in dense mode, where the registry
// path cost 4.8x more CPU. Everything else is gathered through a
// per-scrape registry and encoded by expfmt. The output is the registry's
// (TestTextEqualsRegistry).

// WriteText reads (or joins) one snapshot and writes in the text format
// (0.0.4) the exporter's metrics and those of others (may be nil), in the
// registry's order. A gather error is returned after everything gathered
// has been written, as promhttp.ContinueOnError does; a write error stops it.
func (e *Exporter) WriteText(w io.Writer, others prometheus.Gatherer) error {
	return e.writeText(w, e.source.Snapshot(), others)
}

// SnapshotBy reads (or joins) one snapshot by ctx's deadline (the
// scrape's): the groups of files not read by then fail alone. The error is
// ctx's when it ended while this scrape waited for another's read.
func (e *Exporter) SnapshotBy(ctx context.Context) (*snapshot.Snapshot, error) {
	return e.source.SnapshotBy(ctx)
}

// WriteSnapshotText is WriteText over a snapshot already read.
func (e *Exporter) WriteSnapshotText(w io.Writer, snap *snapshot.Snapshot, others prometheus.Gatherer) error {
	return e.writeText(w, snap, others)
}

func (e *Exporter) writeText(w io.Writer, snap *snapshot.Snapshot, others prometheus.Gatherer) error {
	var matrices []*cpuMatrix
	reg := prometheus.NewRegistry()
	if err := reg.Register(snapCollector{e, snap, &matrices}); err != nil {
		return err
	}
	gatherers := prometheus.Gatherers{reg}
	if others != nil {
		gatherers = append(gatherers, others)
	}
	mfs, gatherErr := gatherers.Gather()
	slices.SortStableFunc(matrices, func(a, b *cpuMatrix) int { return strings.Compare(a.name, b.name) })

	buffers := textBuffers.Get().(*textBuffer)
	defer textBuffers.Put(buffers)
	bw := buffers.w
	bw.Reset(w)
	defer bw.Reset(nil) // not to keep w alive in the pool
	for _, mf := range mfs {
		for len(matrices) > 0 && matrices[0].name < mf.GetName() {
			matrices[0].write(bw, &buffers.scratch)
			matrices = matrices[1:]
		}
		if _, err := expfmt.MetricFamilyToText(bw, mf); err != nil {
			return err
		}
	}
	for _, m := range matrices {
		m.write(bw, &buffers.scratch)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return gatherErr
}

// textBuffer is writeText's output buffer and the matrices' scratch, kept
// between scrapes: allocated anew they were 128 KiB of a bigiron-8cpu
// scrape's 900 KiB (BenchmarkTreeScrape), each zeroed, and more work for
// the GC.
type textBuffer struct {
	w       *bufio.Writer
	scratch []byte
}

var textBuffers = sync.Pool{New: func() any {
	return &textBuffer{w: bufio.NewWriterSize(nil, 64<<10), scratch: make([]byte, 0, 64<<10)}
}}

// snapCollector runs the exporter's collectors over one snapshot; with
// matrices non-nil the per-CPU families are left there instead of sent.
type snapCollector struct {
	e        *Exporter
	snap     *snapshot.Snapshot
	matrices *[]*cpuMatrix
}

func (s snapCollector) Describe(chan<- *prometheus.Desc) {}

func (s snapCollector) Collect(ch chan<- prometheus.Metric) { s.e.collect(s.snap, ch, s.matrices) }
