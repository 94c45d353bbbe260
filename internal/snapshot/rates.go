package snapshot

import "time"

// rxRates turns the devices' receive counters into Snapshot.DeviceRxRates:
// packets per second since the previous snapshot of the same Source. Reads
// are one at a time (Snapshot shares an in-flight read), so it needs no lock.
type rxRates struct {
	last     map[string]uint64
	lastTime time.Time
}

// setRates sets snap.DeviceRxRates from the previous snapshot's counters and
// keeps snap's for the next one.
func (r *rxRates) setRates(snap *Snapshot) {
	cur := rxCounters(snap)
	if r.last != nil {
		snap.DeviceRxRates = rxRatesSince(r.last, r.lastTime, cur, snap.Time)
	}
	if snap.NetDevices != nil {
		r.last, r.lastTime = cur, snap.Time
	}
}

// RxRatesBetween is the DeviceRxRates of cur measured from prev, for
// snapshots that did not come one after the other from one Source.
func RxRatesBetween(prev, cur *Snapshot) map[string]float64 {
	return rxRatesSince(rxCounters(prev), prev.Time, rxCounters(cur), cur.Time)
}

// rxCounters is each device's statistics/rx_packets.
func rxCounters(snap *Snapshot) map[string]uint64 {
	out := make(map[string]uint64, len(snap.NetDevices))
	for _, d := range snap.NetDevices {
		if d.HasStats {
			out[d.Name] = d.RxPackets
		}
	}
	return out
}

// rxRatesSince is packets per second per device between two counter sets;
// nil when no time passed. A device new since then, or whose counter went
// backwards (re-created), has no rate.
func rxRatesSince(before map[string]uint64, then time.Time, after map[string]uint64, now time.Time) map[string]float64 {
	dt := now.Sub(then).Seconds()
	if dt <= 0 {
		return nil
	}
	out := make(map[string]float64, len(after))
	for name, c := range after {
		if p, ok := before[name]; ok && c >= p {
			out[name] = float64(c-p) / dt
		}
	}
	return out
}
