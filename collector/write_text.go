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
	dto "github.com/prometheus/client_model/go"
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
	mfs, gatherErr := gatherWith(reg, others)
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

// gatherWith returns what prometheus.Gatherers{ours, others}.Gather()
// does (others may be nil). Gatherers checks and hashes every series of
// both again, after each registry did; when neither failed, their lists are
// sorted and no family name of one is (or is a _count, _sum or _bucket of)
// one of the other, the result is the two lists merged, which this
// returns without that second pass.
func gatherWith(ours, others prometheus.Gatherer) ([]*dto.MetricFamily, error) {
	mfs, err := ours.Gather()
	if others == nil {
		if err != nil {
			return prometheus.Gatherers{gathered(mfs, err)}.Gather()
		}
		return mfs, nil
	}
	omfs, oerr := others.Gather()
	if err == nil && oerr == nil {
		if merged, ok := mergeFamilies(mfs, omfs); ok {
			return merged, nil
		}
	}
	return prometheus.Gatherers{gathered(mfs, err), gathered(omfs, oerr)}.Gather()
}

// gathered is a Gatherer of what was gathered.
func gathered(mfs []*dto.MetricFamily, err error) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, err })
}

// mergeFamilies merges two lists of families sorted by name; ok is false
// when either is not sorted or a name of one may clash with one of the
// other (the same, or one the other's _count, _sum or _bucket), which
// Gatherers has to judge.
func mergeFamilies(a, b []*dto.MetricFamily) ([]*dto.MetricFamily, bool) {
	names := make(map[string]bool, 2*len(b))
	for i, mf := range b {
		if i > 0 && b[i-1].GetName() >= mf.GetName() {
			return nil, false
		}
		names[mf.GetName()] = true
		if root := unsuffixed(mf.GetName()); root != "" {
			names[root] = true
		}
	}
	for i, mf := range a {
		if i > 0 && a[i-1].GetName() >= mf.GetName() {
			return nil, false
		}
		if names[mf.GetName()] || names[unsuffixed(mf.GetName())] {
			return nil, false
		}
	}
	out := make([]*dto.MetricFamily, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].GetName() < b[0].GetName() {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...), true
}

// unsuffixed is name without a _count, _sum or _bucket suffix, "" when it
// has none: the names the text format gives the series of a summary or
// histogram.
func unsuffixed(name string) string {
	for _, suffix := range []string{"_count", "_sum", "_bucket"} {
		if root, ok := strings.CutSuffix(name, suffix); ok {
			return root
		}
	}
	return ""
}

// snapCollector runs the exporter's collectors over one snapshot; with
// matrices non-nil the per-CPU families are left there instead of sent.
type snapCollector struct {
	e        *Exporter
	snap     *snapshot.Snapshot
	matrices *[]*cpuMatrix
}

func (s snapCollector) Describe(chan<- *prometheus.Desc) {}

func (s snapCollector) Collect(ch chan<- prometheus.Metric) { s.e.collect(s.snap, ch, s.matrices) }
