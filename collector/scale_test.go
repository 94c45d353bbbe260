package collector

import (
	"path/filepath"
	"testing"

	"github.com/netirq/netirq_exporter/internal/hostgen"
)

// TestScaleCardinality checks the cardinality targets on a
// generated 256-CPU host (2 NICs x 64 queues, 642 IRQs): the default scrape
// stays under 10,000 series, and dense mode (--collector.interrupts.all)
// exports the full IRQ x CPU matrix, zeros included. Series counts are
// deterministic; the timings are in the benchmarks (bench_test.go).
func TestScaleCardinality(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 256-CPU host tree")
	}
	spec := hostgen.Standard(256, 2, 64, 1)
	dir := filepath.Join(t.TempDir(), "host256")
	if err := hostgen.Generate(dir, spec); err != nil {
		t.Fatal(err)
	}
	irqs, cpus := spec.IRQs(), spec.OnlineCPUs()

	def := gather(t, newTestExporter(t, hostConfig(dir)))
	for c, ok := range successes(def) {
		if ok != 1 {
			t.Errorf("collector %s failed on the generated host", c)
		}
	}
	n := seriesCount(def)
	t.Logf("default: %d series (%d NIC IRQ cells, %d summed)", n,
		len(find(def, "netirq_irq_interrupts_total", nil)), len(find(def, "netirq_irq_summed_interrupts_total", nil)))
	if n >= 10_000 {
		t.Errorf("default scrape of a 256-CPU host: %d series, want < 10,000", n)
	}
	if got := len(find(def, "netirq_irq_info", nil)); got != spec.NICIRQs() {
		t.Errorf("default: %d IRQs exported one by one, want the %d NIC IRQs", got, spec.NICIRQs())
	}

	cfg := hostConfig(dir)
	cfg.Interrupts.All = true
	dense := gather(t, newTestExporter(t, cfg))
	cells := len(find(dense, "netirq_irq_interrupts_total", nil))
	t.Logf("dense: %d series, %d IRQ cells (%d IRQs x %d CPUs)", seriesCount(dense), cells, irqs, cpus)
	if cells != irqs*cpus {
		t.Errorf("dense: %d netirq_irq_interrupts_total series, want the full matrix %d IRQs x %d CPUs = %d", cells, irqs, cpus, irqs*cpus)
	}
	arch := 0
	for range hostgen.ArchLines {
		arch += cpus
	}
	if got := len(find(dense, "netirq_arch_interrupts_total", nil)); got != arch {
		t.Errorf("dense: %d arch cells, want %d lines x %d CPUs = %d", got, len(hostgen.ArchLines), cpus, arch)
	}
	if got := len(find(dense, "netirq_irq_summed_interrupts_total", nil)); got != 0 {
		t.Errorf("dense: %d summed series, want none (every IRQ is exported one by one)", got)
	}
}
