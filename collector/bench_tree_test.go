package collector

import (
	"compress/gzip"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
)

// BenchmarkTreeScrape is one default scrape of testdata/hosts/bigiron-8cpu
// as /metrics serves it (cmd/netirq_exporter: SnapshotBy, then
// WriteSnapshotText with the version, Go and process collectors, gzip'd at
// BestSpeed), the scrape of BENCHMARKS.md's floor, and its two halves:
// Read (the snapshot alone) and Encode (the text and gzip of a snapshot
// already read). The floor itself (only opening and reading the files) is
// measured by cmd/netirq_benchcompare.
func BenchmarkTreeScrape(b *testing.B) {
	root, err := filepath.Abs(filepath.Join("..", "testdata", "hosts", "bigiron-8cpu"))
	if err != nil {
		b.Fatal(err)
	}
	others := prometheus.NewRegistry()
	others.MustRegister(versioncollector.NewCollector("netirq"), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ctx := context.Background()
	gz, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	for _, part := range []string{"Whole", "Read", "Encode"} {
		b.Run(part, func(b *testing.B) {
			e := newTestExporter(b, hostConfig(root))
			snap, err := e.SnapshotBy(ctx) // warm-up: the first read's caches
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			began := cpuTime()
			for b.Loop() {
				if part != "Encode" {
					if snap, err = e.SnapshotBy(ctx); err != nil {
						b.Fatal(err)
					}
				}
				if part != "Read" {
					gz.Reset(io.Discard)
					if err := e.WriteSnapshotText(gz, snap, others); err != nil {
						b.Fatal(err)
					}
					gz.Close()
				}
			}
			reportCPU(b, began)
		})
	}
}
