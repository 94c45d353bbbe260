package snapshot

import (
	"path/filepath"
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
)

func TestIRQTimeAccounting(t *testing.T) {
	v618, v515 := procfs.KernelVersion{Major: 6, Minor: 18}, procfs.KernelVersion{Major: 5, Minor: 15}
	zero := []procfs.CPUTime{{CPU: 0, SoftIRQ: 5}, {CPU: 1}}
	busy := []procfs.CPUTime{{CPU: 0, IRQ: 0.01}, {CPU: 1}}
	for _, c := range []struct {
		name   string
		kernel *procfs.KernelInfo
		times  []procfs.CPUTime
		want   IRQTimeAccounting
	}{
		{"pressure/irq readable", &procfs.KernelInfo{PSI: true, IRQPressure: procfs.IRQPressure{State: procfs.IRQPressurePresent}}, zero,
			IRQTimeAccounting{"on", "pressure_irq"}},
		{"pressure/irq EOPNOTSUPP", &procfs.KernelInfo{PSI: true, IRQPressure: procfs.IRQPressure{State: procfs.IRQPressureUnsupported}}, busy,
			IRQTimeAccounting{"off", "pressure_irq"}},
		{"PSI on, 6.18, no irq file (this VM)", &procfs.KernelInfo{PSI: true, Version: v618}, busy, IRQTimeAccounting{"off", "pressure_irq"}},
		{"PSI on, 5.15: no irq file says nothing", &procfs.KernelInfo{PSI: true, Version: v515}, busy, IRQTimeAccounting{"on", "stat_irq_time"}},
		{"PSI off, config says not set", &procfs.KernelInfo{Version: v618, Config: procfs.KernelConfig{Present: true, IRQTimeAccounting: "n"}}, busy,
			IRQTimeAccounting{"off", "kernel_config"}},
		{"PSI off, config says y: /proc/stat decides", &procfs.KernelInfo{Version: v618, Config: procfs.KernelConfig{Present: true, IRQTimeAccounting: "y"}}, zero,
			IRQTimeAccounting{"off", "stat_irq_time"}},
		{"pressure/irq garbage proves nothing", &procfs.KernelInfo{PSI: true, Version: v618, IRQPressure: procfs.IRQPressure{State: procfs.IRQPressureUnreadable}},
			busy, IRQTimeAccounting{"on", "stat_irq_time"}},
		{"no kernel part, irq time counted", nil, busy, IRQTimeAccounting{"on", "stat_irq_time"}},
		{"no kernel part, no /proc/stat", nil, nil, IRQTimeAccounting{State: "unknown"}},
	} {
		s := &Snapshot{Kernel: c.kernel, CPUTime: c.times}
		if got := s.IRQTimeAccounting(); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestIRQTimeAccountingFixtures reads the fixture hosts: fc-2cpu (this
// VM's kernel: PSI on, no irq file) is off, bigiron-8cpu (pressure/irq
// present) on.
func TestIRQTimeAccountingFixtures(t *testing.T) {
	for host, want := range map[string]IRQTimeAccounting{
		"fc-2cpu": {"off", "pressure_irq"}, "bigiron-8cpu": {"on", "pressure_irq"},
	} {
		root := filepath.Join("../../testdata/hosts", host)
		s := NewSource(Options{ProcPath: filepath.Join(root, "proc"), SysPath: filepath.Join(root, "sys"), Parts: PartKernel | PartCPUTime}).Snapshot()
		if s.KernelErr != nil {
			t.Fatal(s.KernelErr)
		}
		if got := s.IRQTimeAccounting(); got != want {
			t.Errorf("%s: %+v, want %+v", host, got, want)
		}
	}
}
