package live

import (
	"path/filepath"
	"testing"

	"github.com/netirq/netirq_exporter/internal/hostgen"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// BenchmarkView: one viewer read's work past the snapshot read, on a
// generated 64-CPU host (2 NICs x 32 queues): the report, then the page
// or the JSON.
func BenchmarkView(b *testing.B) {
	root := b.TempDir()
	if err := hostgen.Generate(root, hostgen.Standard(64, 2, 32, 1)); err != nil {
		b.Fatal(err)
	}
	src := snapshot.NewSource(snapshot.Options{ProcPath: filepath.Join(root, "proc"), SysPath: filepath.Join(root, "sys"), Parts: snapshot.PartAll})
	prev, cur := src.Snapshot(), src.Snapshot()
	b.Run("snapshot", func(b *testing.B) {
		for b.Loop() {
			src.Snapshot()
		}
	})
	b.Run("report", func(b *testing.B) {
		for b.Loop() {
			newView(prev, cur, Options{})
		}
	})
	b.Run("html", func(b *testing.B) {
		for b.Loop() {
			if _, err := newView(prev, cur, Options{}).HTML(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			if _, err := newView(prev, cur, Options{}).JSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
