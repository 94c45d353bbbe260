//go:build linux

package collector

import (
	"context"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/netirq/netirq_exporter/internal/netlab"
)

// TestRealHostVeth makes a veth pair with 4 queues in namespaces of its own,
// sets distinct RPS and XPS masks, and checks that the exporter, reading the
// real /proc and the receiver namespace's real sysfs, reports exactly those
// masks; then floods UDP across the pair with every RX queue's RPS on one
// CPU and checks that this CPU's softirq and softnet counters rose. Needs
// root (skips otherwise, fails under CI=true); the lab cleans up on failure.
func TestRealHostVeth(t *testing.T) {
	// 5 sender TX queues so that every receiver RX queue's RPS map is used
	// (veth hands tx queue k to the RPS map of rx queue k-1, see netlab).
	lab := netlab.New(t, netlab.Options{Queues: 4, SenderTxQueues: 5})
	dev := lab.RxDevice()
	cfg := DefaultConfig()
	cfg.SysPath = lab.SysfsRoot()
	e := newTestExporter(t, cfg)

	// Distinct masks per queue; with 2 CPUs there are only 4 masks: 1, 2, 3, 0.
	rps := []string{"1", "2", "3", "0"}
	wantRPS := []string{"0", "1", "0-1", ""}
	xps := []string{"2", "1", "0", "3"}
	wantXPS := []string{"1", "0", "", "0-1"}
	for q := range 4 {
		if err := lab.SetRPS(q, rps[q]); err != nil {
			t.Fatal(err)
		}
		if err := lab.SetXPS(q, xps[q]); err != nil {
			t.Fatal(err)
		}
	}
	mfs := gather(t, e)
	if s := successes(mfs)["netqueues"]; s != 1 {
		t.Fatalf("netqueues collector failed on the lab's sysfs")
	}
	for _, m := range []string{"netirq_net_rx_queues", "netirq_net_tx_queues"} {
		if got := find(mfs, m, map[string]string{"device": dev}); len(got) != 1 || value(got[0]) != 4 {
			t.Errorf("%s{device=%q} = %v, want 4", m, dev, got)
		}
	}
	for q := range 4 {
		queue := strconv.Itoa(q)
		if got := find(mfs, "netirq_net_rx_queue_rps_info", map[string]string{"device": dev, "queue": queue}); len(got) != 1 || label(got[0], "rps_cpus") != wantRPS[q] {
			t.Errorf("rx-%d: rps_cpus reported %v, want %q (mask %s)", q, got, wantRPS[q], rps[q])
		}
		if got := find(mfs, "netirq_net_tx_queue_xps_info", map[string]string{"device": dev, "queue": queue}); len(got) != 1 || label(got[0], "xps_cpus") != wantXPS[q] {
			t.Errorf("tx-%d: xps_cpus reported %v, want %q (mask %s)", q, got, wantXPS[q], xps[q])
		}
	}

	// Now every RX queue's RPS on CPU 1, the sender and sink on CPU 0.
	const target = "1"
	for q := range 4 {
		if err := lab.SetRPS(q, "2"); err != nil {
			t.Fatal(err)
		}
	}
	before := gather(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := lab.Flood(ctx, netlab.FloodOptions{Duration: 3 * time.Second, SenderCPUs: []int{0}, SinkCPUs: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	after := gather(t, e)
	delta := func(metric string, labels map[string]string) float64 {
		b, a := find(before, metric, labels), find(after, metric, labels)
		if len(a) != 1 || len(b) != 1 {
			t.Fatalf("%s%v: %d series before, %d after", metric, labels, len(b), len(a))
		}
		return value(a[0]) - value(b[0])
	}
	cpu1 := map[string]string{"cpu": target}
	cpu0 := map[string]string{"cpu": "0"}
	processed1 := delta("netirq_softnet_processed_packets_total", cpu1)
	processed0 := delta("netirq_softnet_processed_packets_total", cpu0)
	rps1 := delta("netirq_softnet_received_rps_total", cpu1)
	netrx1 := delta("netirq_softirqs_total", map[string]string{"vector": "NET_RX", "cpu": target})
	softirq1 := delta("netirq_cpu_seconds_total", map[string]string{"cpu": target, "mode": "softirq"})
	t.Logf("flood: sent %d, received %d, %.0f pps; CPU1: processed +%.0f, received_rps +%.0f, NET_RX +%.0f, softirq +%.2fs; CPU0 processed +%.0f",
		res.Sent, res.Received, res.PPS, processed1, rps1, netrx1, softirq1, processed0)
	if res.Sent < 10000 {
		t.Fatalf("flood sent only %d packets", res.Sent)
	}
	// Every datagram the sink read went through CPU 1's backlog first (RPS
	// points every queue at it); how many the backlog dropped on the way
	// depends on how busy the machine is, so compare with what arrived.
	if res.Received < res.Sent/20 {
		t.Fatalf("sink received only %d of %d datagrams", res.Received, res.Sent)
	}
	if processed1 < 0.9*float64(res.Received) {
		t.Errorf("CPU 1 processed +%.0f packets, want at least the %d the sink received: RPS points every queue at it", processed1, res.Received)
	}
	if processed1 < 10*processed0 {
		t.Errorf("CPU 1 processed +%.0f, CPU 0 +%.0f: the work should land on the RPS CPU", processed1, processed0)
	}
	if rps1 < 1000 || netrx1 < 1000 {
		t.Errorf("CPU 1 received_rps +%.0f, NET_RX +%.0f: want thousands of RPS wake-ups", rps1, netrx1)
	}
	if softirq1 <= 0 {
		t.Errorf("CPU 1 softirq time did not rise")
	}
}

func label(m *dto.Metric, name string) string {
	for _, lp := range m.Label {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return "<absent>"
}
