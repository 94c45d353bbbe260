package live

import (
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
)

// hostileName is a device name a browser must show as text, never run.
const hostileName = `q"<script>alert(1)</script>`

// funnelPair is two snapshots 5 s apart of a 4-CPU host: eth0's four
// combined queues, IRQs 40-43 on CPUs 0-3, and a virtual device named dev
// whose two RX queues RPS-steer 100,000 packets/s to CPU 1, which is 95 %
// busy, 70 % in softirq, and processes 90 % of the host's packets.
func funnelPair(t *testing.T, dev string) (prev, cur *snapshot.Snapshot) {
	t.Helper()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	build := func(step uint64, when time.Time) *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0-3"}, "")
		s.Time = when
		s.Interrupts.CPUs = []int{0, 1, 2, 3}
		snaptest.NIC(s, "eth0", 0, 4, 4)
		for q := range 4 {
			cpu := cpuset.NewCPUSet(q).String()
			snaptest.IRQ(t, s, 40+q, "eth0", q, kernel.KindCombined, "0-3", cpu, cpu)
			counts := make([]uint64, 4)
			counts[q] = 1000 + step*uint64(500*(q+1))
			s.Interrupts.IRQs[q].Counts = counts
		}
		virt := sysfs.NetDevice{Name: dev, NUMANode: -1, Threaded: 0, HasStats: true, RxPackets: step * 500000}
		for q := range 2 {
			virt.RxQueues = append(virt.RxQueues, sysfs.RxQueue{Index: q, HasRPS: true, RPSCPUs: cpuset.NewCPUSet(1)})
		}
		s.NetDevices = append(s.NetDevices, virt)
		s.NetDevices[0].HasStats, s.NetDevices[0].RxPackets = true, step*1000
		for cpu := range 4 {
			busy, soft := 50.0, 5.0 // of 500 ticks per step
			processed := uint64(2000)
			if cpu == 1 {
				busy, soft, processed = 475, 350, 450000
			}
			s.CPUTime = append(s.CPUTime, procfs.CPUTime{CPU: cpu, User: float64(step) * (busy - soft),
				SoftIRQ: float64(step) * soft, Idle: float64(step) * (500 - busy)})
			s.Softnet = append(s.Softnet, procfs.SoftnetRow{CPU: cpu, Columns: 13, Processed: step * processed})
		}
		s.Softirqs = &procfs.SoftirqTable{CPUs: []int{0, 1, 2, 3}, Vectors: []procfs.SoftirqVector{
			{Name: procfs.SoftirqNetRX, Counts: []uint64{step * 100, step * 90000, step * 100, step * 100}}}}
		return s
	}
	return build(1, at), build(2, at.Add(5*time.Second))
}
