package diagnosis

import (
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
)

// ringHost: ens1 with a 1024-of-8192 RX ring and two RX queues whose
// driver keeps the loss counters; ens2 at its maximum.
func ringHost(t *testing.T) *snapshot.Snapshot {
	s := snaptest.Host(t, []string{"0-3"}, "")
	snaptest.NIC(s, "ens1", 0, 2, 2)
	snaptest.NIC(s, "ens2", 0, 1, 1)
	s.Rings = map[string]nic.Rings{
		"ens1": {Device: "ens1", Rx: 1024, RxMax: 8192, Tx: 1024, TxMax: 8192},
		"ens2": {Device: "ens2", Rx: 4096, RxMax: 4096},
	}
	loss := []nic.QueueCounter{{Name: "rx-alloc-fail", Value: 1}, {Name: "rx-hw-drops", Value: 9}, {Name: "rx-hw-drop-overruns", Value: 5}}
	for q := range 2 {
		s.QueueStats = append(s.QueueStats, nic.QueueStats{Device: "ens1", Queue: q, Kind: kernel.KindRx, Source: "netlink", Counters: loss})
	}
	s.QueueStats = append(s.QueueStats, nic.QueueStats{Device: "ens2", Queue: 0, Kind: kernel.KindRx, Source: "netlink", Counters: loss})
	return s
}

func TestRxRingBelowMaxWithDrops(t *testing.T) {
	const check = "rx_ring_below_max_with_drops"
	c, _ := checkByName(check)
	t.Run("first snapshot: unknown, no finding", func(t *testing.T) {
		s := ringHost(t)
		expectNone(t, run(t, check, s))
		for _, r := range Results(s) {
			if r.Check.Name == c.Name && (r.Unknown == "" || !r.Waiting) {
				t.Errorf("the first snapshot (no loss rates): unknown %q, waiting %v; want unknown while waiting", r.Unknown, r.Waiting)
			}
		}
	})
	t.Run("overruns on one queue", func(t *testing.T) {
		s := ringHost(t)
		s.RxQueueLoss = []snapshot.QueueLossRate{
			{Device: "ens1", Queue: 0, HasHWDrops: true, HasOverruns: true, HasAllocFails: true},
			{Device: "ens1", Queue: 1, HWDrops: 130, Overruns: 120, AllocFails: 3, HasHWDrops: true, HasOverruns: true, HasAllocFails: true},
			{Device: "ens2", Queue: 0, HWDrops: 50, Overruns: 50, HasHWDrops: true, HasOverruns: true}, // at its maximum
		}
		if why := c.Unknown(s); why != "" {
			t.Errorf("with rates: unknown %q", why)
		}
		expectFindings(t, run(t, check, s), Finding{Check: check, Severity: "warning", Device: "ens1", Queue: "1",
			Message: "ens1's RX ring has 1024 of a maximum of 8192 descriptors while its RX queue loses packets: queue 1: 120 overruns/s, 3 allocation failures/s.",
			Fix:     "ethtool -G ens1 rx 2048"})
	})
	t.Run("drops that are not overruns, on a driver that counts both, do not fire", func(t *testing.T) {
		s := ringHost(t)
		s.RxQueueLoss = []snapshot.QueueLossRate{{Device: "ens1", Queue: 0, HWDrops: 40, HasHWDrops: true, HasOverruns: true}}
		expectNone(t, run(t, check, s))
	})
	t.Run("a driver without overruns: hardware drops, both queues", func(t *testing.T) {
		s := ringHost(t)
		s.Rings["ens1"] = nic.Rings{Device: "ens1", Rx: 6000, RxMax: 8192}
		s.RxQueueLoss = []snapshot.QueueLossRate{
			{Device: "ens1", Queue: 0, HWDrops: 7, HasHWDrops: true},
			{Device: "ens1", Queue: 1, AllocFails: 0.5, HasAllocFails: true},
		}
		expectFindings(t, run(t, check, s), Finding{Check: check, Severity: "warning", Device: "ens1",
			Message: "ens1's RX ring has 6000 of a maximum of 8192 descriptors while its RX queues lose packets: queue 0: 7 hardware drops/s; queue 1: 0.5 allocation failures/s.",
			Fix:     "ethtool -G ens1 rx 8192"})
	})
	t.Run("no loss, or no loss counters: judged, nothing found", func(t *testing.T) {
		s := ringHost(t)
		s.RxQueueLoss = []snapshot.QueueLossRate{}
		expectNone(t, run(t, check, s))
		s = ringHost(t)
		s.QueueStats = nil // a driver without qstats: nothing to wait for
		if why := c.Unknown(s); why != "" {
			t.Errorf("no loss counters: unknown %q, want judged (nothing to find)", why)
		}
	})
	t.Run("device names are quoted in the fix", func(t *testing.T) {
		s := ringHost(t)
		s.Rings["a b"] = nic.Rings{Device: "a b", Rx: 512, RxMax: 4096}
		s.RxQueueLoss = []snapshot.QueueLossRate{{Device: "a b", Queue: 0, Overruns: 1, HasOverruns: true}}
		got := run(t, check, s)
		if len(got) != 1 || got[0].Fix != "ethtool -G 'a b' rx 1024" {
			t.Errorf("%s", dumpFindings(got))
		}
	})
}
