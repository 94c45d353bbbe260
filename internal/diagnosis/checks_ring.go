package diagnosis

// The RX ring check: a ring below its maximum while its queues lose
// packets for lack of buffers. It needs loss rates between two snapshots
// (snapshot.Snapshot.RxQueueLoss) and says "unknown" on the first.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// checkRxRingBelowMax: a device whose RX ring (ethtool -g) is below its
// maximum while at least one of its RX queues drops packets in the device
// (rx-hw-drop-overruns, or rx-hw-drops for drivers without overruns) or
// fails buffer allocations (rx-alloc-fail) since the previous snapshot.
// The fix doubles the ring, up to the maximum: a deeper ring absorbs longer
// bursts and slower polls, at the cost of memory and cache footprint, so
// it grows in steps while the drops go on.
func checkRxRingBelowMax(snap *snapshot.Snapshot) []Finding {
	if snap.RxQueueLoss == nil {
		return nil // the first snapshot: see rxRingUnknown
	}
	losing := map[string][]snapshot.QueueLossRate{}
	for _, l := range snap.RxQueueLoss {
		if loses(l) {
			losing[l.Device] = append(losing[l.Device], l)
		}
	}
	var out []Finding
	for _, dev := range ringsBelowMax(snap) {
		qs := losing[dev]
		if len(qs) == 0 {
			continue
		}
		r := snap.Rings[dev]
		f := Finding{Device: dev,
			Message: fmt.Sprintf("%s's RX ring has %d of a maximum of %d descriptors while its RX %s: %s.",
				dev, r.Rx, r.RxMax, queueWord(len(qs)), describeLoss(qs)),
			Fix: fmt.Sprintf("ethtool -G %s rx %d", ShellWord(dev), min(2*max(r.Rx, 1), r.RxMax)),
		}
		if len(qs) == 1 {
			f.Queue = strconv.Itoa(qs[0].Queue)
		}
		out = append(out, f)
	}
	return out
}

// rxRingUnknown says why checkRxRingBelowMax cannot judge snap: it has a
// device with an RX ring below its maximum whose RX queues report loss
// counters, but no previous snapshot to take their rates from.
func rxRingUnknown(snap *snapshot.Snapshot) string {
	if snap.RxQueueLoss != nil {
		return ""
	}
	for _, dev := range ringsBelowMax(snap) {
		for _, s := range snap.QueueStats {
			if s.Device == dev && s.Kind == kernel.KindRx && reportsLoss(s.Counters) {
				return "needs two snapshots: the loss counters of " + dev + "'s RX queues have no rate on the first"
			}
		}
	}
	return ""
}

// ringsBelowMax lists the devices whose RX ring is below its maximum, sorted.
func ringsBelowMax(snap *snapshot.Snapshot) []string {
	var out []string
	for dev, r := range snap.Rings {
		if r.RxMax > 0 && r.Rx < r.RxMax {
			out = append(out, dev)
		}
	}
	sort.Strings(out)
	return out
}

// loses reports whether a queue dropped packets for lack of buffers or
// failed allocations. Overruns are the ring-related part of the hardware
// drops; a driver that counts only the total is judged by the total.
func loses(l snapshot.QueueLossRate) bool {
	drops := l.HasOverruns && l.Overruns > 0 || !l.HasOverruns && l.HasHWDrops && l.HWDrops > 0
	return drops || l.HasAllocFails && l.AllocFails > 0
}

// reportsLoss reports whether a queue's driver keeps a loss counter.
func reportsLoss(cs []nic.QueueCounter) bool {
	for _, c := range cs {
		switch c.Name {
		case "rx-hw-drops", "rx-hw-drop-overruns", "rx-alloc-fail":
			return true
		}
	}
	return false
}

func queueWord(n int) string {
	if n == 1 {
		return "queue loses packets"
	}
	return "queues lose packets"
}

// describeLoss is "queue 2: 120 overruns/s, 3 allocation failures/s; queue 5: …".
func describeLoss(qs []snapshot.QueueLossRate) string {
	parts := make([]string, 0, len(qs))
	for _, q := range qs {
		var what []string
		switch {
		case q.HasOverruns && q.Overruns > 0:
			what = append(what, fmt.Sprintf("%.3g overruns/s", q.Overruns))
		case !q.HasOverruns && q.HasHWDrops && q.HWDrops > 0:
			what = append(what, fmt.Sprintf("%.3g hardware drops/s", q.HWDrops))
		}
		if q.HasAllocFails && q.AllocFails > 0 {
			what = append(what, fmt.Sprintf("%.3g allocation failures/s", q.AllocFails))
		}
		parts = append(parts, fmt.Sprintf("queue %d: %s", q.Queue, strings.Join(what, ", ")))
	}
	return strings.Join(parts, "; ")
}
