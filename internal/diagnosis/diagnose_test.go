package diagnosis

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
)

// loadPair is a 2-CPU host seen twice, 10 s apart: cur adds the given
// seconds per CPU (user, system, idle, softirq) and softnet packets.
type cpuDelta struct {
	user, system, idle, softirq float64
	processed, dropped          uint64
}

func loadPair(t *testing.T, deltas ...cpuDelta) (prev, cur *snapshot.Snapshot) {
	t.Helper()
	prev = snaptest.Host(t, []string{"0-" + strconv.Itoa(len(deltas)-1)}, "")
	cur = snaptest.Host(t, []string{"0-" + strconv.Itoa(len(deltas)-1)}, "")
	prev.Time = time.Unix(1000, 0)
	cur.Time = prev.Time.Add(10 * time.Second)
	for i, d := range deltas {
		prev.CPUTime = append(prev.CPUTime, procfs.CPUTime{CPU: i, User: 100, System: 100, Idle: 100, SoftIRQ: 100})
		cur.CPUTime = append(cur.CPUTime, procfs.CPUTime{CPU: i, User: 100 + d.user, System: 100 + d.system, Idle: 100 + d.idle, SoftIRQ: 100 + d.softirq})
		prev.Softnet = append(prev.Softnet, procfs.SoftnetRow{CPU: i, Processed: 1000, Dropped: 5})
		cur.Softnet = append(cur.Softnet, procfs.SoftnetRow{CPU: i, Processed: 1000 + d.processed, Dropped: 5 + d.dropped})
	}
	return prev, cur
}

func TestDiagnoseFunnel(t *testing.T) {
	// CPU 1: 94% busy, 74% softirq, every packet, 950 drops/s; CPU 0 busy
	// with user space (the sender), 28% softirq for the RPS IPIs.
	prev, cur := loadPair(t,
		cpuDelta{user: 0.8, system: 6.4, idle: 0.0, softirq: 2.8, processed: 30},
		cpuDelta{user: 0.4, system: 1.5, idle: 0.7, softirq: 7.4, processed: 2700000, dropped: 9500})
	veth(t, cur, "vA", 270000, "1", "1", "1", "1")
	veth(t, cur, "vIdle", 0, "1", "1")
	// An IRQ on CPU 1 of a device the sysfs does not show (the host NIC
	// seen from a namespace's sysfs) that did not fire: idle, not a cause.
	snaptest.IRQ(t, cur, 38, "virtio2", 0, kernel.KindRx, "1", "1", "")
	got := Diagnose(prev, cur, Evaluate(cur))
	if len(got) != 1 {
		t.Fatalf("%d hot CPUs, want 1: %+v", len(got), got)
	}
	h := got[0]
	if h.CPU != 1 || !h.Imbalanced || *h.Dropped != 950 {
		t.Errorf("hot CPU %+v", h)
	}
	if len(h.FedBy) != 1 || h.FedBy[0].Device != "vA" || h.FedBy[0].Via != FeedRPS || len(h.FedBy[0].Queues) != 4 {
		t.Errorf("fed by %+v, want vA's 4 queues by rps and never the idle vIdle", h.FedBy)
	}
	if len(h.Fix) != 1 || !strings.Contains(h.Fix[0], "vA/queues/rx-0/rps_cpus") || !strings.Contains(h.Fix[0], "(check rps_funnel)") {
		t.Errorf("fix %q", h.Fix)
	}
}

func TestDiagnoseSpreadIsCapacity(t *testing.T) {
	prev, cur := loadPair(t,
		cpuDelta{user: 1, system: 5, idle: 0, softirq: 4, processed: 800000},
		cpuDelta{user: 0.7, system: 2.8, idle: 1.3, softirq: 5.2, processed: 850000})
	veth(t, cur, "vA", 165000, "0-1", "0-1", "0-1", "0-1")
	got := Diagnose(prev, cur, Evaluate(cur))
	if len(got) != 2 || got[0].Imbalanced || got[1].Imbalanced {
		t.Fatalf("got %+v, want both CPUs starved, neither imbalanced (capacity)", got)
	}
	if len(got[0].Fix) != 0 {
		t.Errorf("fix %q: RPS is spread already, nothing to offer", got[0].Fix)
	}
}

func TestDiagnoseQuiet(t *testing.T) {
	// A user-space hog on CPU 1 and an idle CPU 0: nobody starved by network work.
	prev, cur := loadPair(t, cpuDelta{user: 0.2, idle: 9.8, processed: 50}, cpuDelta{user: 10, processed: 3})
	if got := Diagnose(prev, cur, nil); len(got) != 0 {
		t.Fatalf("got %+v", got)
	}
	// Without /proc/stat nothing can be judged, and nothing is claimed.
	cur.CPUTime = nil
	if got := Diagnose(prev, cur, nil); len(got) != 0 {
		t.Fatalf("no cpu times: got %+v", got)
	}
}

func TestDiagnoseThreadedNAPI(t *testing.T) {
	// NAPI kthreads pinned to CPU 1 use 57% of it: system time to /proc/stat.
	prev, cur := loadPair(t,
		cpuDelta{user: 1.2, system: 8.6, softirq: 0.2, processed: 10},
		cpuDelta{user: 1, system: 8, idle: 1, processed: 2400000})
	veth(t, cur, "vT", 238000, "", "", "", "")
	for i, id := range []uint32{272, 273} {
		th := procfs.KernelThread{PID: 500 + i, Name: "napi/vT-" + strconv.Itoa(int(id)), Device: "vT", NAPIID: id, CPU: -1, LastCPU: 1, Allowed: snaptest.CPUs(t, "1")}
		prev.Threads = append(prev.Threads, th)
		th.SystemSeconds = 2.86
		cur.Threads = append(cur.Threads, th)
	}
	got := Diagnose(prev, cur, Evaluate(cur))
	if len(got) != 1 || got[0].CPU != 1 {
		t.Fatalf("got %+v", got)
	}
	h := got[0]
	if *h.NAPIThread < 0.57 || *h.NAPIThread > 0.58 || h.FedBy[0].Via != FeedNAPIThread {
		t.Errorf("NAPI thread share %v, fed by %+v", *h.NAPIThread, h.FedBy)
	}
	if len(h.Fix) != 1 || h.Fix[0] != "taskset -pc 0-1 500; taskset -pc 0-1 501" {
		t.Errorf("fix %q", h.Fix)
	}
}

// TestThresholdsMatchTheRules: the report's diagnosis and the alerts use
// the same defaults.
func TestThresholdsMatchTheRules(t *testing.T) {
	b, err := os.ReadFile("../../alerts/netirq-thresholds.yml")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"cpu_busy": Thresholds.CPUBusy, "net_work_share": Thresholds.NetWorkShare, "cpu_imbalance": Thresholds.CPUImbalance,
		"softnet_drops_min_rate": Thresholds.SoftnetDropsMinRate, "time_squeeze_min_rate": Thresholds.TimeSqueezeMinRate,
	} {
		m := regexp.MustCompile(`record: netirq:alert_threshold:` + name + `\n\s+expr: vector\(([0-9.]+)\)`).FindSubmatch(b)
		if m == nil {
			t.Errorf("%s not in netirq-thresholds.yml", name)
			continue
		}
		if got, _ := strconv.ParseFloat(string(m[1]), 64); got != want {
			t.Errorf("%s: rules %g, Thresholds %g", name, got, want)
		}
	}
}

// TestDiagnoseFunnelUnderLoad: a user-space busy loop competes with the
// softirq work on the funnel CPU (measured: user 58%, softirq 37%, 899
// drops/s): network work is not the largest consumer, but the CPU drops
// packets while busy, and it gets every packet: an imbalance.
func TestDiagnoseFunnelUnderLoad(t *testing.T) {
	prev, cur := loadPair(t,
		cpuDelta{user: 5.6, system: 3.1, softirq: 1.3, processed: 10},
		cpuDelta{user: 5.9, system: 0.4, softirq: 3.7, processed: 1200000, dropped: 8990})
	veth(t, cur, "vA", 121000, "1", "1", "1", "1")
	got := Diagnose(prev, cur, Evaluate(cur))
	if len(got) != 1 || got[0].CPU != 1 || !got[0].Imbalanced || got[0].Why != "dropping packets for lack of CPU" {
		t.Fatalf("got %+v", got)
	}
}
