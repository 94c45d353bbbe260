package report

import (
	"fmt"
	"io"
	"time"

	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/kernel/bpfprobes"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// With the bpf collector on (--collector.bpf), the report adds to each
// hot CPU of the diagnosis how long its NET_RX softirq waited to run over
// the interval: the tail that time_squeeze and drops only hint at.

// ReportWait is one CPU's NET_RX wait over the interval, from the eBPF
// probes: raise to run, p50 and p99 as histogram_quantile computes them.
type ReportWait struct {
	CPU        int      `json:"cpu"`
	Waits      uint64   `json:"waits"`
	P50Seconds *float64 `json:"p50_seconds"`
	P99Seconds *float64 `json:"p99_seconds"`
}

// bpfWaitAwait bounds Run's wait for the probes before the first snapshot.
const bpfWaitAwait = 30 * time.Second

// netRxWaits is the NET_RX wait of each CPU in cpus between prev and cur;
// unknown says why there is none ("" with the collector off: both nil).
func netRxWaits(prev, cur *snapshot.Snapshot, cpus []int) (waits []ReportWait, unknown string) {
	if cur.BPF == nil && cur.BPFErr == nil {
		return nil, "" // the bpf collector is off
	}
	switch {
	case cur.BPFErr != nil:
		return nil, errText(cur.BPFErr)
	case prev.BPF == nil || prev.BPFErr != nil:
		return nil, "the eBPF probes were not attached at the first snapshot: " + errText(prev.BPFErr)
	}
	for _, cpu := range cpus {
		if cpu >= len(cur.BPF.Softirqs) || cpu >= len(prev.BPF.Softirqs) {
			continue
		}
		d := cur.BPF.Softirqs[cpu][bpfprobes.VecNetRx].Sub(prev.BPF.Softirqs[cpu][bpfprobes.VecNetRx])
		w := ReportWait{CPU: cpu, Waits: d.Waits}
		if p, ok := d.WaitQuantile(0.5); ok {
			w.P50Seconds = seconds(p)
		}
		if p, ok := d.WaitQuantile(0.99); ok {
			w.P99Seconds = seconds(p)
		}
		waits = append(waits, w)
	}
	return waits, ""
}

func seconds(d time.Duration) *float64 {
	s := d.Seconds()
	return &s
}

// writeWait prints cpu's NET_RX wait under its diagnosis, when known.
func (r Report) writeWait(w io.Writer, cpu int) {
	if r.NetRxWaitUnknown != "" {
		fmt.Fprintf(w, "    NET_RX wait (eBPF): unknown: %s\n", r.NetRxWaitUnknown)
		return
	}
	for _, x := range r.NetRxWait {
		if x.CPU != cpu {
			continue
		}
		if x.P50Seconds == nil {
			fmt.Fprintln(w, "    NET_RX wait (eBPF): no NET_RX softirq ran")
			return
		}
		fmt.Fprintf(w, "    NET_RX wait (eBPF, raise to run): p50 %s, p99 %s over %d runs\n",
			fmtWait(*x.P50Seconds), fmtWait(*x.P99Seconds), x.Waits)
	}
}

// fmtWait prints a wait in µs or ms.
func fmtWait(s float64) string {
	if s < 1e-3 {
		return fmt.Sprintf("%.1f µs", s*1e6)
	}
	return fmt.Sprintf("%.2f ms", s*1e3)
}

func hotCPUs(hs []diagnosis.HotCPU) []int {
	out := make([]int, len(hs))
	for i, h := range hs {
		out[i] = h.CPU
	}
	return out
}
