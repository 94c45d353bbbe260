package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// TestReportIRQTimeAccounting: the header's second line says how to read
// IRQ% and SOFTIRQ%, and the JSON carries the same.
func TestReportIRQTimeAccounting(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		kernel *procfs.KernelInfo
		times  []procfs.CPUTime
		state  string
		line   string
	}{
		{&procfs.KernelInfo{PSI: true, Version: procfs.KernelVersion{Major: 6, Minor: 18}}, []procfs.CPUTime{{CPU: 0}},
			"off", "IRQ time accounting: off (from /proc/pressure/irq): SOFTIRQ% is sampled"},
		{&procfs.KernelInfo{IRQPressure: procfs.IRQPressure{State: procfs.IRQPressurePresent}}, nil,
			"on", "IRQ time accounting: on (from /proc/pressure/irq): IRQ% and SOFTIRQ% are measured."},
		{nil, []procfs.CPUTime{{CPU: 0, IRQ: 3}}, "on", "IRQ time accounting: on (from the irq column of /proc/stat)"},
		{nil, nil, "unknown", "IRQ time accounting: unknown"},
	} {
		prev := &snapshot.Snapshot{Time: now.Add(-time.Second), Kernel: c.kernel, CPUTime: c.times}
		cur := &snapshot.Snapshot{Time: now, Kernel: c.kernel, CPUTime: c.times}
		r := BuildReport(prev, cur)
		if r.IRQTimeAccounting.State != c.state {
			t.Errorf("state %+v, want %s", r.IRQTimeAccounting, c.state)
		}
		var b bytes.Buffer
		if err := r.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		if second := strings.SplitN(b.String(), "\n", 3)[1]; !strings.HasPrefix(second, c.line) {
			t.Errorf("second line %q, want it to start with %q", second, c.line)
		}
	}
}
