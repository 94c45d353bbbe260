package collector

import (
	"io"

	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// Snapshot and WriteSnapshotText split WriteText in two, so that /metrics
// can encode a snapshot once for every scrape that shares it (the Source
// already shares the read among overlapping scrapes).

// Snapshot reads one snapshot, or joins the read in flight.
func (e *Exporter) Snapshot() *snapshot.Snapshot { return e.source.Snapshot() }

// WriteSnapshotText is WriteText over a snapshot already read.
func (e *Exporter) WriteSnapshotText(w io.Writer, snap *snapshot.Snapshot, others prometheus.Gatherer) error {
	return e.writeText(w, snap, others)
}
