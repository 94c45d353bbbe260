//go:build linux

package collector

import (
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"
)

// TestIRQTimeThisHost: the exported state agrees with the files, read here
// by hand. The build VM (6.18, psi=1, no CONFIG_IRQ_TIME_ACCOUNTING) has
// /proc/pressure without irq: off, told by pressure_irq, and no pressure
// counter.
func TestIRQTimeThisHost(t *testing.T) {
	mfs := gather(t, newTestExporter(t, onlyCollectors(DefaultConfig(), "irqtime")))
	if s := successes(mfs)["irqtime"]; s != 1 {
		t.Fatalf("irqtime failed on this host")
	}
	got := find(mfs, "netirq_irq_time_accounting", nil)
	if len(got) != 1 {
		t.Fatalf("want one netirq_irq_time_accounting, got %v", got)
	}
	signal, on := labels(got[0])["signal"], value(got[0])
	_, irqErr := os.Stat("/proc/pressure/irq")
	_, psiErr := os.Stat("/proc/pressure")
	pressure := find(mfs, "netirq_pressure_irq_stalled_seconds_total", nil)
	switch {
	case irqErr == nil:
		if signal != "pressure_irq" {
			t.Errorf("/proc/pressure/irq exists, but the signal is %q", signal)
		}
		if on == 1 && len(pressure) != 1 {
			t.Errorf("accounting on, but no pressure counter")
		}
	case psiErr == nil:
		if signal != "pressure_irq" || on != 0 || len(pressure) != 0 {
			t.Errorf("PSI on without pressure/irq: want off by pressure_irq, got %q %v (pressure %v)", signal, on, pressure)
		}
	}
	if cfg := kernelConfigLine(t, "CONFIG_IRQ_TIME_ACCOUNTING"); cfg == "# CONFIG_IRQ_TIME_ACCOUNTING is not set" && on != 0 {
		t.Errorf("the kernel config says %q, but exported on", cfg)
	}
	t.Logf("this host: netirq_irq_time_accounting{signal=%q} %v; pressure %d series", signal, on, len(pressure))
}

// kernelConfigLine is the line of /proc/config.gz that mentions name, ""
// without the file.
func kernelConfigLine(t *testing.T, name string) string {
	f, err := os.Open("/proc/config.gz")
	if err != nil {
		return ""
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.Contains(line, name+"=") || strings.Contains(line, name+" is not set") {
			return line
		}
	}
	return ""
}
