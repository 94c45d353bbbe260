package diagnosis

// The checks about the NIC itself: channels and the RSS table.

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// checkChannelsBelowMax: a device whose combined channels (or RX channels,
// for drivers without combined ones) are below both its maximum and the
// number of housekeeping CPUs. Needs snapshot.Snapshot.Channels; finds nothing
// without it.
func checkChannelsBelowMax(snap *snapshot.Snapshot) []Finding {
	hk := housekeeping(snap).Count()
	if len(snap.Channels) == 0 || hk == 0 {
		return nil
	}
	names := make([]string, 0, len(snap.Channels))
	for name := range snap.Channels {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Finding
	for _, name := range names {
		ch := snap.Channels[name]
		kind, cur, maxCh := "combined", ch.Combined, ch.MaxCombined
		if ch.MaxCombined == 0 {
			kind, cur, maxCh = "rx", ch.Rx, ch.MaxRx
		}
		want := min(int(maxCh), hk)
		if maxCh == 0 || int(cur) >= want {
			continue
		}
		out = append(out, Finding{
			Device: name,
			Message: fmt.Sprintf("%s uses %d %s channels of a maximum of %d on a host with %d housekeeping CPUs.",
				name, cur, kind, maxCh, hk),
			Fix: fmt.Sprintf("ethtool -L %s %s %d", ShellWord(name), kind, want),
		})
	}
	return out
}

// checkRSSUnequalShares: an RSS indirection table that gives an active RX
// channel no entry, or gives the most-served queue over 1.5 times the
// entries of the least-served one (and at least 2 more: a table of 128
// entries over 100 queues cannot be fairer than 2:1). Active channels are
// the current combined+rx channels (snapshot.Snapshot.Channels), else the device's
// RX queue count. Needs snapshot.Snapshot.RSS; finds nothing without it.
func checkRSSUnequalShares(snap *snapshot.Snapshot) []Finding {
	if len(snap.RSS) == 0 {
		return nil
	}
	devs := devices(snap)
	names := make([]string, 0, len(snap.RSS))
	for name := range snap.RSS {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Finding
	for _, name := range names {
		table := snap.RSS[name]
		if len(table.Indirection) == 0 {
			continue
		}
		active := 0
		if ch, ok := snap.Channels[name]; ok && ch.Combined+ch.Rx > 0 {
			active = int(ch.Combined + ch.Rx)
		} else if d, ok := devs[name]; ok {
			active = len(d.RxQueues)
		}
		if active < 2 {
			continue
		}
		share := table.QueueShare()
		minQ, maxQ := 0, 0
		for q := 1; q < active; q++ {
			if share[uint32(q)] < share[uint32(minQ)] {
				minQ = q
			}
			if share[uint32(q)] > share[uint32(maxQ)] {
				maxQ = q
			}
		}
		lo, hi := share[uint32(minQ)], share[uint32(maxQ)]
		if lo > 0 && (hi-lo < 2 || float64(hi) <= 1.5*float64(lo)) {
			continue
		}
		out = append(out, Finding{
			Device: name, Queue: strconv.Itoa(minQ),
			Message: fmt.Sprintf("The RSS indirection table of %s (%d entries, %d active RX channels) gives queue %d %d entries and queue %d %d.",
				name, len(table.Indirection), active, minQ, lo, maxQ, hi),
			Fix: fmt.Sprintf("ethtool -X %s equal %d", ShellWord(name), active),
		})
	}
	return out
}
