package diagnosis

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/netbsd"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// NetBSDQueueStacks is queue_irqs_share_cpu over NetBSD's interrupt list:
// two or more receive (rx, combined) or two transmit queue interrupts of
// one device assigned to one CPU while a CPU takes none of that device's
// queue interrupts of that direction. As on Linux the lowest queue of a
// stack stays and each further one is a finding whose fix, `intrctl
// affinity`, moves it to the next free CPU, so the fixes never stack
// anew. NetBSD says nothing of NUMA nodes or isolation here: every CPU of
// the list is a candidate. Nil for a snapshot without the list.
func NetBSDQueueStacks(snap *snapshot.Snapshot) []Finding {
	if snap.IntrList == nil {
		return nil
	}
	check, _ := checkByName("queue_irqs_share_cpu")
	var out []Finding
	for _, g := range bsdQueueGroups(snap) {
		out = append(out, g.unstack(snap.IntrList.NCPU)...)
	}
	for i := range out {
		out[i].Check, out[i].Severity = check.Name, check.Severity
	}
	return out
}

// bsdQueue is one queue interrupt assigned to exactly one CPU.
type bsdQueue struct {
	line  netbsd.IntrLine
	queue int
	cpu   int
}

// bsdQueueGroup is one device's queue interrupts of one direction.
type bsdQueueGroup struct {
	device string
	tx     bool
	queues []bsdQueue
}

// bsdQueueGroups groups the single-CPU queue interrupts by device and
// direction, in list order.
func bsdQueueGroups(snap *snapshot.Snapshot) []*bsdQueueGroup {
	var order []*bsdQueueGroup
	byKey := map[string]*bsdQueueGroup{}
	for i, line := range snap.IntrList.Lines {
		if i >= len(snap.IntrClasses) || line.Assigned.Count() != 1 {
			continue
		}
		cl := snap.IntrClasses[i]
		if cl.Queue < 0 || cl.Kind == kernel.KindNone || cl.Kind == kernel.KindOther {
			continue
		}
		tx := cl.Kind == kernel.KindTx
		key := cl.Device + "/" + strconv.FormatBool(tx)
		g, ok := byKey[key]
		if !ok {
			g = &bsdQueueGroup{device: cl.Device, tx: tx}
			byKey[key] = g
			order = append(order, g)
		}
		g.queues = append(g.queues, bsdQueue{line: line, queue: cl.Queue, cpu: line.Assigned.List()[0]})
	}
	return order
}

// unstack returns a finding per queue interrupt beyond the first on a CPU,
// each moved to the next CPU that takes none of the group's.
func (g *bsdQueueGroup) unstack(ncpu int) []Finding {
	var used cpuset.CPUSet
	byCPU := map[int][]bsdQueue{}
	for _, q := range g.queues {
		used.Add(q.cpu)
		byCPU[q.cpu] = append(byCPU[q.cpu], q)
	}
	var out []Finding
	for _, cpu := range used.List() {
		stack := byCPU[cpu]
		sort.SliceStable(stack, func(i, j int) bool { return stack[i].queue < stack[j].queue })
		for _, q := range stack[1:] {
			target := nextFreeCPU(used, ncpu)
			if target < 0 {
				return out
			}
			used.Add(target)
			out = append(out, g.finding(q, stack, target))
		}
	}
	return out
}

// nextFreeCPU is the lowest CPU index below ncpu not in used; -1 if none.
func nextFreeCPU(used cpuset.CPUSet, ncpu int) int {
	for c := range ncpu {
		if !used.Contains(c) {
			return c
		}
	}
	return -1
}

func (g *bsdQueueGroup) finding(q bsdQueue, stack []bsdQueue, target int) Finding {
	side := "receive"
	if g.tx {
		side = "transmit"
	}
	var others []string
	for _, o := range stack {
		if o.line.ID != q.line.ID {
			others = append(others, fmt.Sprintf("%s (queue %d)", o.line.ID, o.queue))
		}
	}
	return Finding{Device: g.device, Queue: strconv.Itoa(q.queue), IRQ: q.line.ID, CPU: strconv.Itoa(q.cpu),
		Message: fmt.Sprintf("%s queue %d's %s interrupt %s is assigned to CPU %d with %s; CPU %d takes none of %s's %s queue interrupts",
			g.device, q.queue, side, q.line.ID, q.cpu, strings.Join(others, ", "), target, g.device, side),
		Fix: fmt.Sprintf("intrctl affinity -i %s -c %d", ShellWord(q.line.ID), target)}
}
