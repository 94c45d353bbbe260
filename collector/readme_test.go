package collector

import (
	"os"
	"regexp"
	"testing"
)

// TestREADMEListsEveryMetric: every metric family the exporter emits, on
// the fixture hosts and on this machine in dense mode, has a row in
// README.md's Metrics table, so the reference cannot fall behind the code.
func TestREADMEListsEveryMetric(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`(netirq_[a-z_]+)`").FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = true
	}
	hosts := []Config{DefaultConfig(), hostConfig("../testdata/hosts/bigiron-8cpu"), hostConfig("../testdata/hosts/fc-2cpu")}
	seen := 0
	for _, cfg := range hosts {
		cfg.Interrupts.All = true
		cfg.SoftirqsAll = true
		for _, mf := range gather(t, newTestExporter(t, cfg)) {
			seen++
			if !documented[mf.GetName()] {
				t.Errorf("%s is exported but not in README.md's Metrics table", mf.GetName())
				documented[mf.GetName()] = true // report once
			}
		}
	}
	if seen < 40 {
		t.Errorf("only %d metric families seen: the test lost its input", seen)
	}
}
