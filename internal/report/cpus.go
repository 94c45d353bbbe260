package report

import (
	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// cpuRows builds the per-CPU table over every CPU either snapshot names.
func cpuRows(prev, cur *snapshot.Snapshot, dt float64) []ReportCPU {
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

	times := func(s *snapshot.Snapshot) map[int]procfs.CPUTime {
		out := map[int]procfs.CPUTime{}
		for _, t := range s.CPUTime {
			out[t.CPU] = t
		}
		return out
	}
	softirq := func(s *snapshot.Snapshot, vector string) map[int]uint64 {
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
	softnet := func(s *snapshot.Snapshot) map[int]procfs.SoftnetRow {
		out := map[int]procfs.SoftnetRow{}
		for _, row := range s.Softnet {
			out[row.CPU] = row
		}
		return out
	}
	// NIC interrupts per CPU, over the IRQs classified as NIC IRQs now.
	nicPerCPU := func(s *snapshot.Snapshot) map[int]uint64 {
		out := map[int]uint64{}
		if s.Interrupts == nil {
			return out
		}
		for _, line := range s.Interrupts.IRQs {
			if !cur.IRQClasses[line.IRQ].IsNIC() {
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
	pt, ct := times(prev), times(cur)
	prx, crx := softirq(prev, procfs.SoftirqNetRX), softirq(cur, procfs.SoftirqNetRX)
	ptx, ctx := softirq(prev, procfs.SoftirqNetTX), softirq(cur, procfs.SoftirqNetTX)
	psn, csn := softnet(prev), softnet(cur)
	pnic, cnic := nicPerCPU(prev), nicPerCPU(cur)
	counter := func(p, c map[int]uint64, cpu int, wraps bool) *float64 {
		pv, okp := p[cpu]
		cv, okc := c[cpu]
		if !okp || !okc {
			return nil
		}
		return rate(pv, cv, dt, wraps)
	}

	out := make([]ReportCPU, 0, all.Count())
	for _, cpu := range all.List() {
		row := ReportCPU{CPU: cpu, Node: -1}
		if topo := cur.Topology; topo != nil {
			if n, ok := topo.NodeOf[cpu]; ok {
				row.Node = n
			}
			row.Isolated, row.NohzFull = topo.Isolated.Contains(cpu), topo.NohzFull.Contains(cpu)
		}
		if a, ok := pt[cpu]; ok {
			if b, ok := ct[cpu]; ok {
				total := cpuTotal(b) - cpuTotal(a)
				if total > 0 {
					row.SoftirqPercent = percent(b.SoftIRQ-a.SoftIRQ, total)
					row.IRQPercent = percent(b.IRQ-a.IRQ, total)
				}
			}
		}
		row.NetRxPerSecond = counter(prx, crx, cpu, false)
		row.NetTxPerSecond = counter(ptx, ctx, cpu, false)
		row.NICInterruptsPerSecond = counter(pnic, cnic, cpu, false)
		if a, ok := psn[cpu]; ok {
			if b, ok := csn[cpu]; ok {
				row.ProcessedPerSecond = rate(a.Processed, b.Processed, dt, true)
				row.DroppedPerSecond = rate(a.Dropped, b.Dropped, dt, true)
				row.SqueezedPerSecond = rate(a.TimeSqueeze, b.TimeSqueeze, dt, true)
			}
		}
		out = append(out, row)
	}
	return out
}

func cpuTotal(t procfs.CPUTime) float64 {
	return t.User + t.Nice + t.System + t.Idle + t.Iowait + t.IRQ + t.SoftIRQ + t.Steal
}

func percent(part, total float64) *float64 {
	v := max(0, 100*part/total)
	return &v
}
