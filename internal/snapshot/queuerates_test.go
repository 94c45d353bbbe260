package snapshot

import (
	"reflect"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
)

func lossSnap(at time.Time, drops, allocFails uint64) *Snapshot {
	return &Snapshot{Time: at, QueueStats: []nic.QueueStats{
		{Device: "ens1", Queue: 0, Kind: kernel.KindRx, Source: "netlink",
			Counters: []nic.QueueCounter{{Name: "rx-alloc-fail", Value: allocFails}, {Name: "rx-hw-drops", Value: drops}}},
		{Device: "ens1", Queue: 1, Kind: kernel.KindRx, Source: "netlink"}, // reports no loss counter
		{Device: "ens1", Queue: 0, Kind: kernel.KindTx, Source: "netlink",
			Counters: []nic.QueueCounter{{Name: "tx-stop", Value: 5}}},
	}}
}

// The first snapshot of a Source has no loss rates (unknown); the next has
// them for the queues that report loss counters, the ones a driver does not
// report left unset; a counter that went backwards has no rate.
func TestRxQueueLossRates(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var r rxQueueLoss
	first := lossSnap(t0, 100, 7)
	r.setRates(first)
	if first.RxQueueLoss != nil {
		t.Fatalf("first snapshot: %+v, want nil (unknown)", first.RxQueueLoss)
	}
	second := lossSnap(t0.Add(2*time.Second), 300, 7)
	r.setRates(second)
	want := []QueueLossRate{{Device: "ens1", Queue: 0, HWDrops: 100, HasHWDrops: true, HasAllocFails: true}}
	if !reflect.DeepEqual(second.RxQueueLoss, want) {
		t.Errorf("second snapshot: %+v, want %+v", second.RxQueueLoss, want)
	}
	if got := RxQueueLossBetween(first, second); !reflect.DeepEqual(got, want) {
		t.Errorf("RxQueueLossBetween: %+v, want %+v", got, want)
	}
	third := lossSnap(t0.Add(3*time.Second), 10, 9) // drops restarted
	r.setRates(third)
	want = []QueueLossRate{{Device: "ens1", Queue: 0, AllocFails: 2, HasAllocFails: true}}
	if !reflect.DeepEqual(third.RxQueueLoss, want) {
		t.Errorf("after a reset: %+v, want %+v", third.RxQueueLoss, want)
	}
	if got := RxQueueLossBetween(second, second); got != nil {
		t.Errorf("no time passed: %+v, want nil", got)
	}
}
