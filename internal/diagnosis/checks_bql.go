package diagnosis

// The check about TX queues: stalls BQL's detector saw (6.9+).

import (
	"fmt"
	"strconv"
	"time"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// checkBQLTxStalls: a TX queue whose stall counter (byte_queue_limits/
// stall_cnt, counting while stall_thrs > 0) grew since the previous
// snapshot, or is above 0 when there is no previous snapshot to tell: then
// the finding says it is unknown whether the stalls still happen, rather
// than taking the growth for zero. A counter that did not move is
// history, kept by netirq_net_tx_queue_bql_stalls_total, not a finding.
func checkBQLTxStalls(snap *snapshot.Snapshot) []Finding {
	var out []Finding
	for _, q := range snap.BQL {
		if q.StallCount <= 0 {
			continue
		}
		recent, ok := stallGrowth(snap, q)
		if !ok {
			continue
		}
		f := Finding{Device: q.Device, Queue: strconv.Itoa(q.Queue),
			Message: fmt.Sprintf("BQL's stall detector counted %d TX completion stalls on %s TX queue %d (%s); %s.%s",
				q.StallCount, q.Device, q.Queue, stallDetail(snap, q), recent, txIRQNote(snap, q)),
			Fix: stallInspect(q.Device, q.Queue),
		}
		if irq, cpus, found := txQueueIRQ(snap, q); found {
			f.IRQ, f.CPU = strconv.Itoa(irq), cpus.String()
		}
		out = append(out, f)
	}
	return out
}

// stallGrowth says what the previous snapshot tells of q's stalls; ok is
// false when the counter did not move since then.
func stallGrowth(snap *snapshot.Snapshot, q sysfs.TxQueueBQL) (string, bool) {
	if snap.BQLStallsBefore == nil {
		return "whether they still happen is unknown: there is no earlier reading to compare with", true
	}
	before, seen := snap.BQLStallsBefore[snapshot.TxQueue{Device: q.Device, Queue: q.Queue}]
	ago := snap.Time.Sub(snap.BQLStallsBeforeTime).Round(time.Second)
	switch {
	case !seen:
		return "whether they still happen is unknown: the queue is new since the last reading", true
	case before > q.StallCount:
		return fmt.Sprintf("all since the counter restarted (the device was re-created) within the last %s", ago), true
	case before == q.StallCount:
		return "", false
	}
	return fmt.Sprintf("%d of them in the last %s", q.StallCount-before, ago), true
}

// stallDetail is the detector's threshold and the longest stall, as far
// as they are known (stall_max is in jiffies: seconds need HZ).
func stallDetail(snap *snapshot.Snapshot, q sysfs.TxQueueBQL) string {
	d := "no completion for at least the detector's threshold while packets were queued"
	if q.StallThresholdMS > 0 {
		d = fmt.Sprintf("no completion for at least %d ms while packets were queued", q.StallThresholdMS)
	}
	hz := 0
	if snap.Kernel != nil {
		hz = snap.Kernel.Config.HZ
	}
	switch {
	case q.StallMaxJiffies > 0 && hz > 0:
		d += fmt.Sprintf("; the longest lasted %d ms", q.StallMaxJiffies*1000/int64(hz))
	case q.StallMaxJiffies > 0:
		d += fmt.Sprintf("; the longest lasted %d jiffies (HZ unknown)", q.StallMaxJiffies)
	}
	return d
}

// txQueueIRQ is the IRQ that serves TX queue q (a tx or combined vector of
// that queue) and where it fires.
func txQueueIRQ(snap *snapshot.Snapshot, q sysfs.TxQueueBQL) (irq int, cpus cpuset.CPUSet, ok bool) {
	for _, n := range nicIRQs(snap) {
		if n.Class.Device == q.Device && n.Class.Queue == q.Queue && (n.Class.Kind == kernel.KindTx || n.Class.Kind == kernel.KindCombined) {
			return n.IRQ, firesOn(n.Aff), true
		}
	}
	return 0, cpuset.CPUSet{}, false
}

// txIRQNote says where the queue's completions are processed, when known:
// an IRQ on a busy or isolated CPU delays them.
func txIRQNote(snap *snapshot.Snapshot, q sysfs.TxQueueBQL) string {
	irq, cpus, ok := txQueueIRQ(snap, q)
	if !ok || cpus.IsEmpty() {
		return ""
	}
	return fmt.Sprintf(" Its completions are processed where IRQ %d fires: %s.", irq, cpuWord(cpus))
}

// stallInspect is the command that shows what the kernel and the driver
// counted around the stalls: there is no one-line fix (alerts/RUNBOOK.md).
func stallInspect(dev string, queue int) string {
	dir := fmt.Sprintf("/sys/class/net/%s/queues/tx-%d", ShellWord(dev), queue)
	return fmt.Sprintf("grep -H . %s/tx_timeout %s/byte_queue_limits/stall_*; ethtool -S %s | grep -iE 'timeout|reset|restart|stop'",
		dir, dir, ShellWord(dev))
}
