package snapshot

import (
	"cmp"
	"slices"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel"
)

// QueueLossRate is one RX queue's loss counters per second between two
// snapshots, from the netdev qstats the driver reports (Has* false for a
// counter it does not report, or one that went backwards: the queue was
// reconfigured and its counters restarted).
type QueueLossRate struct {
	Device string
	Queue  int
	// HWDrops is rx-hw-drops, Overruns rx-hw-drop-overruns (the part of
	// the drops for lack of buffers or descriptors), AllocFails
	// rx-alloc-fail (buffer allocations that failed on the RX path).
	HWDrops, Overruns, AllocFails          float64
	HasHWDrops, HasOverruns, HasAllocFails bool
}

// lossCounters are the qstats counters QueueLossRate is made of.
var lossCounters = [3]string{"rx-hw-drops", "rx-hw-drop-overruns", "rx-alloc-fail"}

type queueKey struct {
	device string
	queue  int
}

// queueLossCounters is each RX queue's loss counters: value and whether
// reported, in lossCounters order.
type queueLossCounters map[queueKey][3]*uint64

// rxQueueLoss turns RX queues' loss counters into Snapshot.RxQueueLoss
// between a Source's snapshots, as rxRates does for devices.
type rxQueueLoss struct {
	last     queueLossCounters
	lastTime time.Time
}

func (r *rxQueueLoss) setRates(snap *Snapshot) {
	cur := lossCountersOf(snap)
	if r.last != nil {
		snap.RxQueueLoss = queueLossSince(r.last, r.lastTime, cur, snap.Time)
	}
	if snap.QueueStats != nil || snap.QueueStatsErr == nil {
		r.last, r.lastTime = cur, snap.Time
	}
}

// RxQueueLossBetween is the RxQueueLoss of cur measured from prev, for
// snapshots that did not come one after the other from one Source.
func RxQueueLossBetween(prev, cur *Snapshot) []QueueLossRate {
	return queueLossSince(lossCountersOf(prev), prev.Time, lossCountersOf(cur), cur.Time)
}

func lossCountersOf(snap *Snapshot) queueLossCounters {
	out := queueLossCounters{}
	for _, s := range snap.QueueStats {
		if s.Kind != kernel.KindRx || s.Source != "netlink" {
			continue
		}
		var c [3]*uint64
		for i, name := range lossCounters {
			if v, ok := s.Counter(name); ok {
				c[i] = &v
			}
		}
		if c[0] != nil || c[1] != nil || c[2] != nil {
			out[queueKey{s.Device, s.Queue}] = c
		}
	}
	return out
}

// queueLossSince is the per-second rates of the queues in both sets; an
// empty, non-nil slice when no queue reports a loss counter, nil when no
// time passed.
func queueLossSince(before queueLossCounters, then time.Time, after queueLossCounters, now time.Time) []QueueLossRate {
	dt := now.Sub(then).Seconds()
	if dt <= 0 {
		return nil
	}
	out := []QueueLossRate{}
	for k, a := range after {
		b, ok := before[k]
		if !ok {
			continue
		}
		r := QueueLossRate{Device: k.device, Queue: k.queue}
		rates := [3]*float64{&r.HWDrops, &r.Overruns, &r.AllocFails}
		has := [3]*bool{&r.HasHWDrops, &r.HasOverruns, &r.HasAllocFails}
		for i := range lossCounters {
			if a[i] != nil && b[i] != nil && *a[i] >= *b[i] {
				*rates[i], *has[i] = float64(*a[i]-*b[i])/dt, true
			}
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b QueueLossRate) int {
		return cmp.Or(cmp.Compare(a.Device, b.Device), cmp.Compare(a.Queue, b.Queue))
	})
	return out
}
