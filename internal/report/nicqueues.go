package report

// What kernels 6.1-6.19 say about a NIC's queues (issue 13), per device
// in the report: the RX ring, the hardware drops of each RX queue (netdev
// qstats), BQL of each TX queue, and the NAPI instances' own settings
// where they are not the defaults.

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// ReportNAPI is one NAPI instance whose settings are not the defaults
// (napi_defer_hard_irqs 0, gro_flush_timeout 0, irq_suspend_timeout 0,
// not threaded). A setting the kernel did not report is null.
type ReportNAPI struct {
	NAPIID                   uint32   `json:"napi_id"`
	IRQ                      int      `json:"irq"` // 0: none named
	DeferHardIRQs            *uint32  `json:"defer_hard_irqs"`
	GROFlushTimeoutSeconds   *float64 `json:"gro_flush_timeout_seconds"`
	IRQSuspendTimeoutSeconds *float64 `json:"irq_suspend_timeout_seconds"`
	Threaded                 string   `json:"threaded"` // disabled, enabled, busy-poll; "" unknown
}

// withRxQueueLoss returns cur with RxQueueLoss computed from prev's queue
// statistics when the Source did not (snapshots of two Sources, a
// test's), so that the report's rates and the ring check compare the
// report's own two readings. cur is not changed.
func withRxQueueLoss(prev, cur *snapshot.Snapshot) *snapshot.Snapshot {
	if cur.RxQueueLoss != nil || prev.QueueStats == nil || cur.QueueStats == nil {
		return cur
	}
	loss := snapshot.RxQueueLossBetween(prev, cur)
	if loss == nil {
		return cur
	}
	c := *cur
	c.RxQueueLoss = loss
	return &c
}

// addNICQueues fills dev's RX ring, its queues' hardware drops and BQL,
// and its NAPI instances with settings that are not the defaults.
func addNICQueues(dev *ReportDevice, cur *snapshot.Snapshot) {
	if r, ok := cur.Rings[dev.Name]; ok && r.RxMax > 0 {
		rx, max := r.Rx, r.RxMax
		dev.RxRing, dev.RxRingMax = &rx, &max
	}
	loss := map[int]snapshot.QueueLossRate{}
	for _, l := range cur.RxQueueLoss {
		if l.Device == dev.Name {
			loss[l.Queue] = l
		}
	}
	for i := range dev.Queues {
		q := &dev.Queues[i]
		if q.Kind == "rx" || q.Kind == "combined" {
			if l, ok := loss[q.Queue]; ok {
				q.RxHWDropsPerSecond = ifHas(l.HWDrops, l.HasHWDrops)
				q.RxHWDropOverrunsPerSecond = ifHas(l.Overruns, l.HasOverruns)
				q.RxAllocFailuresPerSecond = ifHas(l.AllocFails, l.HasAllocFails)
			}
		}
		if q.Kind != "tx" && q.Kind != "combined" {
			continue
		}
		for _, b := range cur.BQL {
			if b.Device != dev.Name || b.Queue != q.Queue {
				continue
			}
			q.TxMaxRateMbps = b.MaxRateMbps
			if !b.HasBQL {
				break
			}
			limit := b.Limit
			q.BQLLimitBytes = &limit
			if before, ok := cur.BQLStallsBefore[snapshot.TxQueue{Device: b.Device, Queue: b.Queue}]; ok && b.StallCount >= before {
				n := b.StallCount - before
				q.BQLStalls = &n
			}
		}
	}
	dev.NAPIs = napiRows(dev.Name, cur.NAPIs)
}

func ifHas(v float64, has bool) *float64 {
	if !has {
		return nil
	}
	return &v
}

// napiRows are dev's NAPI instances whose settings are not the defaults,
// by NAPI ID.
func napiRows(dev string, napis []nic.NAPI) []ReportNAPI {
	out := []ReportNAPI{}
	for _, n := range napis {
		s := n.Settings
		if n.Device != dev || !(s.DeferHardIRQs > 0 || s.GROFlushTimeout > 0 || s.IRQSuspendTimeout > 0 ||
			(s.HasThreaded && s.Threaded != nic.NAPIThreadedDisabled)) {
			continue
		}
		r := ReportNAPI{NAPIID: n.ID, IRQ: n.IRQ}
		if s.HasDeferHardIRQs {
			v := s.DeferHardIRQs
			r.DeferHardIRQs = &v
		}
		if s.HasGROFlushTimeout {
			v := float64(s.GROFlushTimeout) / 1e9
			r.GROFlushTimeoutSeconds = &v
		}
		if s.HasIRQSuspendTimeout {
			v := float64(s.IRQSuspendTimeout) / 1e9
			r.IRQSuspendTimeoutSeconds = &v
		}
		if s.HasThreaded {
			r.Threaded = s.Threaded.String()
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b ReportNAPI) int { return int(a.NAPIID) - int(b.NAPIID) })
	return out
}

// queueColumns says which of the issue-13 columns a device's queue table
// needs: only those some queue of it has a value for.
type queueColumns struct{ drops, overruns, allocFails, bql, stalls, maxRate bool }

func columnsOf(d ReportDevice) queueColumns {
	var c queueColumns
	for _, q := range d.Queues {
		c.drops = c.drops || q.RxHWDropsPerSecond != nil
		c.overruns = c.overruns || q.RxHWDropOverrunsPerSecond != nil
		c.allocFails = c.allocFails || q.RxAllocFailuresPerSecond != nil
		c.bql = c.bql || q.BQLLimitBytes != nil
		c.stalls = c.stalls || q.BQLStalls != nil
		c.maxRate = c.maxRate || q.TxMaxRateMbps > 0
	}
	return c
}

func (c queueColumns) header() string {
	var b strings.Builder
	for _, col := range []struct {
		on   bool
		name string
	}{{c.drops, "HW_DROPS/S"}, {c.overruns, "OVERRUNS/S"}, {c.allocFails, "ALLOC_FAILS/S"},
		{c.bql, "BQL_LIMIT"}, {c.stalls, "BQL_STALLS"}, {c.maxRate, "TX_MAXRATE"}} {
		if col.on {
			b.WriteString("\t" + col.name)
		}
	}
	return b.String()
}

func (c queueColumns) row(q ReportQueue) string {
	var b strings.Builder
	if c.drops {
		b.WriteString("\t" + FormatRate(q.RxHWDropsPerSecond))
	}
	if c.overruns {
		b.WriteString("\t" + FormatRate(q.RxHWDropOverrunsPerSecond))
	}
	if c.allocFails {
		b.WriteString("\t" + FormatRate(q.RxAllocFailuresPerSecond))
	}
	if c.bql {
		b.WriteString("\t" + fmtInt(q.BQLLimitBytes))
	}
	if c.stalls {
		b.WriteString("\t" + fmtInt(q.BQLStalls))
	}
	if c.maxRate {
		v := "-"
		if q.TxMaxRateMbps > 0 {
			v = strconv.FormatInt(q.TxMaxRateMbps, 10) + "Mbit"
		}
		b.WriteString("\t" + v)
	}
	return b.String()
}

func fmtInt(v *int64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatInt(*v, 10)
}

// writeRing prints the device's RX ring on its header line.
func writeRing(w io.Writer, d ReportDevice) {
	if d.RxRing != nil && d.RxRingMax != nil {
		fmt.Fprintf(w, "  rx ring %d/%d", *d.RxRing, *d.RxRingMax)
	}
}

// writeNAPIs prints the device's NAPI instances with settings that are
// not the defaults, one line each, under its queue table.
func writeNAPIs(w io.Writer, d ReportDevice) {
	for _, n := range d.NAPIs {
		parts := []string{}
		if n.DeferHardIRQs != nil {
			parts = append(parts, "defer_hard_irqs "+strconv.FormatUint(uint64(*n.DeferHardIRQs), 10))
		}
		if n.GROFlushTimeoutSeconds != nil {
			parts = append(parts, "gro_flush_timeout "+fmtSeconds(*n.GROFlushTimeoutSeconds))
		}
		if n.IRQSuspendTimeoutSeconds != nil {
			parts = append(parts, "irq_suspend_timeout "+fmtSeconds(*n.IRQSuspendTimeoutSeconds))
		}
		if n.Threaded != "" {
			parts = append(parts, "threaded "+n.Threaded)
		}
		irq := ""
		if n.IRQ > 0 {
			irq = " (IRQ " + strconv.Itoa(n.IRQ) + ")"
		}
		fmt.Fprintf(w, "  NAPI %d%s: %s\n", n.NAPIID, irq, strings.Join(parts, ", "))
	}
}

func fmtSeconds(s float64) string {
	return time.Duration(s * 1e9).String()
}
