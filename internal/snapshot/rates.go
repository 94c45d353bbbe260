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
// keeps snap's for the next one. A device new since then, or whose counter
// went backwards (re-created), has no rate.
func (r *rxRates) setRates(snap *Snapshot) {
	cur := make(map[string]uint64, len(snap.NetDevices))
	for _, d := range snap.NetDevices {
		if d.HasStats {
			cur[d.Name] = d.RxPackets
		}
	}
	if dt := snap.Time.Sub(r.lastTime).Seconds(); r.last != nil && dt > 0 {
		snap.DeviceRxRates = make(map[string]float64, len(cur))
		for name, c := range cur {
			if p, ok := r.last[name]; ok && c >= p {
				snap.DeviceRxRates[name] = float64(c-p) / dt
			}
		}
	}
	if snap.NetDevices != nil {
		r.last, r.lastTime = cur, snap.Time
	}
}
