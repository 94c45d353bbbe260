package snapshot

import "time"

// Whether a TX queue's BQL stall counter (stall_cnt) is growing takes two
// readings. The Source keeps each queue's counter from its previous
// snapshot and hands it to the next one (BQLStallsBefore), as it does the
// devices' receive counters (rates.go). The first snapshot has none: a
// counter above 0 then says stalls happened, not whether they still do.

// TxQueue names one TX queue.
type TxQueue struct {
	Device string
	Queue  int
}

// bqlStalls is the previous snapshot's stall counters. Reads are one at
// a time (Snapshot shares an in-flight read), so it needs no lock.
type bqlStalls struct {
	last     map[TxQueue]int64
	lastTime time.Time
}

// set gives snap the previous snapshot's counters and keeps snap's.
func (b *bqlStalls) set(snap *Snapshot) {
	if b.last != nil {
		snap.BQLStallsBefore, snap.BQLStallsBeforeTime = b.last, b.lastTime
	}
	if snap.BQL != nil {
		b.last, b.lastTime = stallCounts(snap), snap.Time
	}
}

// BQLStallsBetween is cur's BQLStallsBefore taken from prev, for snapshots
// that did not come one after the other from one Source (the report's,
// a test's); nil when prev has no BQL.
func BQLStallsBetween(prev *Snapshot) map[TxQueue]int64 {
	if prev.BQL == nil {
		return nil
	}
	return stallCounts(prev)
}

// stallCounts is each queue's stall_cnt, for queues that have one.
func stallCounts(snap *Snapshot) map[TxQueue]int64 {
	out := make(map[TxQueue]int64, len(snap.BQL))
	for _, q := range snap.BQL {
		if q.StallCount >= 0 {
			out[TxQueue{q.Device, q.Queue}] = q.StallCount
		}
	}
	return out
}
