package collector

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCorpusCardinality exports every real /proc/interrupts of the corpus in
// default and dense mode. Default must keep every NIC queue IRQ cell that
// counted, and cost no more series than dense; the log shows the figures
// per host (the largest corpus host is the closing note's figure).
func TestCorpusCardinality(t *testing.T) {
	files, _ := filepath.Glob("../testdata/proc_interrupts/*.txt")
	if len(files) < 8 {
		t.Fatalf("want the corpus interrupts files, found %d", len(files))
	}
	largest, largestSeries := "", 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "proc"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "proc", "interrupts"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		run := func(dense bool) (series, nicCells int) {
			cfg := hostConfig(root)
			cfg.Enabled = map[string]bool{}
			for name := range factories {
				cfg.Enabled[name] = name == "interrupts"
			}
			cfg.Interrupts.All = dense
			e := newTestExporter(t, cfg)
			mfs := gather(t, e)
			snap := e.Source().Snapshot()
			for _, line := range snap.Interrupts.IRQs {
				if snap.IRQClasses[line.IRQ].IsNIC() {
					for _, v := range line.Counts {
						if v > 0 {
							nicCells++
						}
					}
				}
			}
			return seriesCount(mfs), nicCells
		}
		def, nicCells := run(false)
		dense, _ := run(true)
		name := filepath.Base(file)
		mfs := gather(t, newTestExporter(t, hostConfig(root)))
		exported := len(find(mfs, "netirq_irq_interrupts_total", nil))
		if exported < nicCells {
			t.Errorf("%s: %d NIC cells counted but only %d exported", name, nicCells, exported)
		}
		if def > dense {
			t.Errorf("%s: default %d series > dense %d", name, def, dense)
		}
		if dense > largestSeries {
			largest, largestSeries = name, dense
		}
		t.Logf("%-60s default %5d series, dense %6d", name, def, dense)
	}
	t.Logf("largest corpus host: %s (%d series dense)", largest, largestSeries)
}
