package report

import (
	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// cpuRows builds the per-CPU table over every CPU either snapshot names.
func cpuRows(prev, cur *snapshot.Snapshot, dt float64) []ReportCPU {
	// NIC interrupts are summed over the IRQs classified as NIC IRQs now.
	p, c := cpuCountersOf(prev, cur.IRQClasses), cpuCountersOf(cur, cur.IRQClasses)
	all := reportedCPUs(cur)
	out := make([]ReportCPU, 0, all.Count())
	for _, cpu := range all.List() {
		out = append(out, cpuRow(cpu, cur.Topology, p, c, dt))
	}
	loads := map[int]diagnosis.CPULoad{}
	for _, l := range diagnosis.CPULoads(prev, cur) {
		loads[l.CPU] = l
	}
	for i := range out {
		l := loads[out[i].CPU]
		out[i].BusyPercent, out[i].NetWorkPercent = hundred(l.Busy), hundred(l.NetWork)
	}
	return out
}

// hundred turns a fraction into a percentage; nil stays nil.
func hundred(v *float64) *float64 {
	if v == nil {
		return nil
	}
	p := 100 * *v
	return &p
}

// reportedCPUs is every CPU that cur's topology, stat, softirqs or
// softnet_stat names; when none does (a saved /proc/interrupts alone, no
// /sys), the CPU columns of /proc/interrupts' header.
func reportedCPUs(cur *snapshot.Snapshot) cpuset.CPUSet {
	var all cpuset.CPUSet
	if cur.Topology != nil {
		all = all.Union(cur.Topology.Online)
	}
	for _, t := range cur.CPUTime {
		all.Add(t.CPU)
	}
	if cur.Softirqs != nil {
		for _, c := range cur.Softirqs.CPUs {
			all.Add(c)
		}
	}
	for _, row := range cur.Softnet {
		all.Add(row.CPU)
	}
	if all.IsEmpty() && cur.Interrupts != nil {
		// Only a fallback: the header lists the online CPUs when the
		// file was read, the sources above the ones the report covers.
		for _, c := range cur.Interrupts.CPUs {
			all.Add(c)
		}
	}
	return all
}

// cpuCounters are one snapshot's per-CPU counters, by CPU.
type cpuCounters struct {
	times   map[int]procfs.CPUTime
	rx, tx  map[int]uint64 // NET_RX, NET_TX softirqs
	nic     map[int]uint64 // interrupts of NIC IRQs
	softnet map[int]procfs.SoftnetRow
}

func cpuCountersOf(s *snapshot.Snapshot, classes map[int]irqclass.IRQClass) cpuCounters {
	c := cpuCounters{times: map[int]procfs.CPUTime{}, softnet: map[int]procfs.SoftnetRow{},
		rx: softirqPerCPU(s, procfs.SoftirqNetRX), tx: softirqPerCPU(s, procfs.SoftirqNetTX),
		nic: nicPerCPU(s, classes)}
	for _, t := range s.CPUTime {
		c.times[t.CPU] = t
	}
	for _, row := range s.Softnet {
		c.softnet[row.CPU] = row
	}
	return c
}

func softirqPerCPU(s *snapshot.Snapshot, vector string) map[int]uint64 {
	out := map[int]uint64{}
	if s.Softirqs == nil {
		return out
	}
	for _, v := range s.Softirqs.Vectors {
		if v.Name != vector {
			continue
		}
		for i, c := range v.Counts {
			if i < len(s.Softirqs.CPUs) {
				out[s.Softirqs.CPUs[i]] = c
			}
		}
	}
	return out
}

func nicPerCPU(s *snapshot.Snapshot, classes map[int]irqclass.IRQClass) map[int]uint64 {
	out := map[int]uint64{}
	if s.Interrupts == nil {
		return out
	}
	for _, line := range s.Interrupts.IRQs {
		if !classes[line.IRQ].IsNIC() {
			continue
		}
		for i, c := range line.Counts {
			if i < len(s.Interrupts.CPUs) {
				out[s.Interrupts.CPUs[i]] += c
			}
		}
	}
	return out
}

// cpuRow is one CPU's row: its node and isolation from topo, rates from
// the counters of the two snapshots dt seconds apart.
func cpuRow(cpu int, topo *sysfs.CPUTopology, p, c cpuCounters, dt float64) ReportCPU {
	row := ReportCPU{CPU: cpu, Node: -1}
	if topo != nil {
		if n, ok := topo.NodeOf[cpu]; ok {
			row.Node = n
		}
		row.Isolated, row.NohzFull = topo.Isolated.Contains(cpu), topo.NohzFull.Contains(cpu)
	}
	if a, ok := p.times[cpu]; ok {
		if b, ok := c.times[cpu]; ok {
			total := b.Total() - a.Total()
			if total > 0 {
				row.SoftirqPercent = percent(b.SoftIRQ-a.SoftIRQ, total)
				row.IRQPercent = percent(b.IRQ-a.IRQ, total)
			}
		}
	}
	counter := func(p, c map[int]uint64) *float64 {
		pv, okp := p[cpu]
		cv, okc := c[cpu]
		if !okp || !okc {
			return nil
		}
		return rate(pv, cv, dt, false)
	}
	row.NetRxPerSecond = counter(p.rx, c.rx)
	row.NetTxPerSecond = counter(p.tx, c.tx)
	row.NICInterruptsPerSecond = counter(p.nic, c.nic)
	if a, ok := p.softnet[cpu]; ok {
		if b, ok := c.softnet[cpu]; ok {
			row.ProcessedPerSecond = rate(a.Processed, b.Processed, dt, true)
			row.DroppedPerSecond = rate(a.Dropped, b.Dropped, dt, true)
			row.SqueezedPerSecond = rate(a.TimeSqueeze, b.TimeSqueeze, dt, true)
		}
	}
	return row
}

func percent(part, total float64) *float64 {
	v := max(0, 100*part/total)
	return &v
}
