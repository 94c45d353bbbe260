package report

import (
	"errors"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/kernel/bpfprobes"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

func bpfSnap(waits uint64, bucket int) *snapshot.Snapshot {
	s := &bpfprobes.Stats{Softirqs: make([][bpfprobes.NumVectors]bpfprobes.Softirq, 2)}
	rx := &s.Softirqs[1][bpfprobes.VecNetRx]
	rx.Waits, rx.Runs, rx.WaitBuckets[bucket] = waits, waits, waits
	return &snapshot.Snapshot{BPF: s}
}

// TestNetRxWait: the hot CPU's NET_RX wait over the interval, in the JSON
// fields and under its diagnosis; nothing without the collector.
func TestNetRxWait(t *testing.T) {
	prev, cur := bpfSnap(100, 0), bpfSnap(100, 0)
	cur.BPF.Softirqs[1][bpfprobes.VecNetRx].Waits += 100
	cur.BPF.Softirqs[1][bpfprobes.VecNetRx].WaitBuckets[10] += 100 // (512 µs, 1.024 ms]
	waits, unknown := netRxWaits(prev, cur, []int{1})
	if unknown != "" || len(waits) != 1 || waits[0].Waits != 100 || *waits[0].P99Seconds < 1e-3 || *waits[0].P50Seconds < 512e-6 {
		t.Fatalf("waits %+v, unknown %q", waits, unknown)
	}
	r := Report{Diagnosis: []diagnosis.HotCPU{{CPULoad: diagnosis.CPULoad{CPU: 1}}}, NetRxWait: waits}
	var b strings.Builder
	r.writeDiagnosis(&b)
	if !strings.Contains(b.String(), "NET_RX wait (eBPF, raise to run): p50 768.0 µs, p99 1.02 ms over 100 runs") {
		t.Errorf("diagnosis text:\n%s", b.String())
	}

	if w, u := netRxWaits(&snapshot.Snapshot{}, &snapshot.Snapshot{}, []int{1}); w != nil || u != "" {
		t.Errorf("collector off: %v %q", w, u)
	}
	failed := &snapshot.Snapshot{BPF: &bpfprobes.Stats{}, BPFErr: errors.New("needs CAP_BPF")}
	if _, u := netRxWaits(prev, failed, []int{1}); !strings.Contains(u, "CAP_BPF") {
		t.Errorf("probes failed: unknown %q", u)
	}
	r = Report{Diagnosis: r.Diagnosis, NetRxWaitUnknown: "needs CAP_BPF"}
	b.Reset()
	r.writeDiagnosis(&b)
	if !strings.Contains(b.String(), "NET_RX wait (eBPF): unknown: needs CAP_BPF") {
		t.Errorf("diagnosis text:\n%s", b.String())
	}
}
