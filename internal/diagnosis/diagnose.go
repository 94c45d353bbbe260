package diagnosis

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// Diagnose answers the question the alerts page for, from two snapshots:
// which CPUs are starved by network work, what feeds each of them, and the
// command that spreads that work. It uses the rules of
// alerts/netirq-rules.yml and the default thresholds of
// alerts/netirq-thresholds.yml (Thresholds; a test keeps them equal), so
// that the report and the page agree. Pure: it reads nothing.

// Thresholds are the default alert thresholds the diagnosis applies; the
// names are those of alerts/netirq-thresholds.yml.
var Thresholds = struct {
	CPUBusy, NetWorkShare, CPUImbalance, SoftnetDropsMinRate, TimeSqueezeMinRate float64
}{CPUBusy: 0.8, NetWorkShare: 0.4, CPUImbalance: 1.5, SoftnetDropsMinRate: 1, TimeSqueezeMinRate: 10}

// CPULoad is one CPU's load between two snapshots. Fractions are of the
// CPU's time (0..1); a nil field is unknown (a part not read, a counter
// that went backwards).
type CPULoad struct {
	CPU int `json:"cpu"`
	// Busy is 1 - (idle + iowait). NetWork is hard IRQ + softirq + the NAPI
	// kthreads that last ran on this CPU + this CPU's backlog_napi thread:
	// the network kernel work. NAPIThread is those threads' part.
	Busy       *float64 `json:"busy"`
	NetWork    *float64 `json:"net_work"`
	SoftIRQ    *float64 `json:"softirq"`
	IRQ        *float64 `json:"irq"`
	NAPIThread *float64 `json:"napi_thread"`
	// Packets per second from softnet_stat, and this CPU's share of the
	// host's processed packets.
	Processed      *float64 `json:"processed_per_second"`
	ProcessedShare *float64 `json:"processed_share"`
	Dropped        *float64 `json:"dropped_per_second"`
	Squeezed       *float64 `json:"squeezed_per_second"`
}

// HotCPU is a CPU starved by network work, with what feeds it.
type HotCPU struct {
	CPULoad
	// Why says which condition holds ("busy and network work is the
	// largest consumer", "dropping packets while network work dominates").
	Why string `json:"why"`
	// Imbalanced: the CPU processes at least CPUImbalance times its fair
	// share of the host's packets, so spreading would help (the alert
	// NetIRQCPUSaturated); false is NetIRQNetworkCapacity.
	Imbalanced bool         `json:"imbalanced"`
	FedBy      []FeedSource `json:"fed_by"`
	// Fix lists the commands that spread the work, most traffic first.
	Fix []string `json:"fix"`
}

// FeedSource is one device feeding a hot CPU: its queues that reach the
// CPU (and how), and its receive rate.
type FeedSource struct {
	Device string `json:"device"`
	// Via is irq, rps, napi_thread, or netif_rx for a device with no edge
	// to any CPU whose packets are processed where they are sent from.
	Via    string `json:"via"`
	Queues []int  `json:"queues"`
	// RxPacketsPerSecond is the device's receive rate; nil when unknown.
	RxPacketsPerSecond *float64 `json:"rx_packets_per_second"`
}

// CPULoads computes every CPU's load between prev and cur.
func CPULoads(prev, cur *snapshot.Snapshot) []CPULoad {
	dt := cur.Time.Sub(prev.Time).Seconds()
	napi := napiThreadLoad(prev, cur, dt)
	times := func(s *snapshot.Snapshot) map[int]procfs.CPUTime {
		out := map[int]procfs.CPUTime{}
		for _, t := range s.CPUTime {
			out[t.CPU] = t
		}
		return out
	}
	softnet := func(s *snapshot.Snapshot) map[int]procfs.SoftnetRow {
		out := map[int]procfs.SoftnetRow{}
		for _, r := range s.Softnet {
			out[r.CPU] = r
		}
		return out
	}
	pt, ct := times(prev), times(cur)
	psn, csn := softnet(prev), softnet(cur)
	var all cpuset.CPUSet
	for c := range ct {
		all.Add(c)
	}
	for c := range csn {
		all.Add(c)
	}
	var out []CPULoad
	var total float64
	for _, cpu := range all.List() {
		l := CPULoad{CPU: cpu}
		if a, ok := pt[cpu]; ok {
			if b, ok := ct[cpu]; ok {
				cpuTimeLoad(&l, a, b, napi[cpu])
			}
		}
		if a, ok := psn[cpu]; ok {
			if b, ok := csn[cpu]; ok {
				l.Processed = CounterRate(a.Processed, b.Processed, dt, true)
				l.Dropped = CounterRate(a.Dropped, b.Dropped, dt, true)
				l.Squeezed = CounterRate(a.TimeSqueeze, b.TimeSqueeze, dt, true)
				if l.Processed != nil {
					total += *l.Processed
				}
			}
		}
		out = append(out, l)
	}
	for i := range out {
		if out[i].Processed != nil && total > 0 {
			out[i].ProcessedShare = ptr(*out[i].Processed / total)
		}
	}
	return out
}

// cpuTimeLoad fills the time fractions of l from two /proc/stat lines.
func cpuTimeLoad(l *CPULoad, a, b procfs.CPUTime, napiSeconds float64) {
	total := b.Total() - a.Total()
	if total <= 0 {
		return
	}
	frac := func(x float64) *float64 { return ptr(min(1, max(0, x/total))) }
	l.Busy = ptr(1 - *frac((b.Idle - a.Idle) + (b.Iowait - a.Iowait)))
	l.SoftIRQ, l.IRQ = frac(b.SoftIRQ-a.SoftIRQ), frac(b.IRQ-a.IRQ)
	l.NAPIThread = ptr(min(1, napiSeconds/total))
	l.NetWork = ptr(min(1, *l.SoftIRQ+*l.IRQ+*l.NAPIThread))
}

// napiThreadLoad charges each NAPI kthread's CPU seconds between the
// snapshots to the CPU it last ran on, and each backlog_napi/N's to CPU N,
// to which it is bound (as the recording rules do). /proc/stat counts
// their work as system time, not softirq; ksoftirqd's is softirq time
// already and is not added.
func napiThreadLoad(prev, cur *snapshot.Snapshot, dt float64) map[int]float64 {
	out := map[int]float64{}
	if dt <= 0 {
		return out
	}
	used := ThreadCPUSeconds(prev, cur)
	for _, t := range cur.Threads {
		d, ok := used[t.PID]
		if !ok || d <= 0 {
			continue
		}
		switch t.Kind() {
		case procfs.ThreadNAPI:
			if t.LastCPU >= 0 {
				out[t.LastCPU] += d
			}
		case procfs.ThreadBacklog:
			out[t.CPU] += d
		}
	}
	return out
}

// ThreadCPUSeconds is the CPU time (user + system) each kernel thread of cur
// used since prev, by PID; a thread not in prev, or whose PID now names
// another thread, has none.
func ThreadCPUSeconds(prev, cur *snapshot.Snapshot) map[int]float64 {
	before := map[int]procfs.KernelThread{}
	for _, t := range prev.Threads {
		before[t.PID] = t
	}
	out := map[int]float64{}
	for _, t := range cur.Threads {
		if p, ok := before[t.PID]; ok && p.Name == t.Name {
			out[t.PID] = (t.UserSeconds + t.SystemSeconds) - (p.UserSeconds + p.SystemSeconds)
		}
	}
	return out
}

// CounterRate is (cur-prev)/dt; nil when dt is not positive or the counter
// went backwards, except that a 32-bit counter (softnet_stat) that wrapped
// is taken as one wrap.
func CounterRate(prev, cur uint64, dt float64, wraps32 bool) *float64 {
	if dt <= 0 {
		return nil
	}
	var d uint64
	switch {
	case cur >= prev:
		d = cur - prev
	case wraps32 && prev <= 0xffffffff:
		d = cur + (1 << 32) - prev
	default:
		return nil
	}
	return ptr(float64(d) / dt)
}

func ptr(v float64) *float64 { return &v }

// starved says why l is starved by network work, "" when it is not (or
// when that is unknown).
func starved(l CPULoad) string {
	if l.NetWork == nil || l.Busy == nil {
		return ""
	}
	t := Thresholds
	if *l.Busy >= t.CPUBusy && *l.Busy > 0 && *l.NetWork / *l.Busy >= t.NetWorkShare {
		return "busy, and network work is the largest consumer"
	}
	if *l.Busy < t.CPUBusy && *l.NetWork < t.NetWorkShare {
		return ""
	}
	if l.Dropped != nil && *l.Dropped > t.SoftnetDropsMinRate {
		return "dropping packets for lack of CPU"
	}
	if l.Squeezed != nil && *l.Squeezed > t.TimeSqueezeMinRate {
		return "running out of NET_RX budget for lack of CPU"
	}
	return ""
}

// Diagnose returns the CPUs starved by network work between prev and cur,
// imbalanced ones first, each with what feeds it and the fix. findings are
// cur's (Evaluate), whose fixes it reuses.
func Diagnose(prev, cur *snapshot.Snapshot, findings []Finding) []HotCPU {
	hk := housekeeping(cur).Count()
	feeds := Feeds(cur)
	var out []HotCPU
	for _, l := range CPULoads(prev, cur) {
		why := starved(l)
		if why == "" {
			continue
		}
		h := HotCPU{CPULoad: l, Why: why}
		if l.ProcessedShare != nil && hk > 0 {
			h.Imbalanced = *l.ProcessedShare*float64(hk) >= Thresholds.CPUImbalance
		}
		h.FedBy = feedSources(cur, FeedsOf(feeds, l.CPU), firedIRQs(prev, cur))
		if len(h.FedBy) == 0 {
			h.FedBy = unsteeredSources(cur, feeds)
		}
		h.Fix = fixesFor(cur, h, findings)
		out = append(out, h)
	}
	slices.SortStableFunc(out, func(a, b HotCPU) int {
		if a.Imbalanced != b.Imbalanced {
			if a.Imbalanced {
				return -1
			}
			return 1
		}
		return cmp.Compare(deref(b.NetWork), deref(a.NetWork))
	})
	return out
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// rxRate is a device's receive rate, nil when unknown.
func rxRate(snap *snapshot.Snapshot, dev string) *float64 {
	if v, ok := snap.DeviceRxRates[dev]; ok {
		return ptr(v)
	}
	return nil
}

// feedSources groups a CPU's edges by device and via, leaves out devices
// that received nothing (an idle device is never offered as the cause),
// and sorts by receive rate.
func feedSources(snap *snapshot.Snapshot, edges []Feed, fired map[int]bool) []FeedSource {
	type key struct{ dev, via string }
	byKey := map[key]*FeedSource{}
	var order []key
	for _, f := range edges {
		if f.Kind == kernel.KindTx {
			continue // a TX completion IRQ: not the receive work a hot CPU processes
		}
		if f.Via == FeedIRQ && !fired[f.IRQ] && rxRate(snap, f.Device) == nil {
			continue // an IRQ of no known device that did not fire: idle
		}
		k := key{f.Device, f.Via}
		s, ok := byKey[k]
		if !ok {
			s = &FeedSource{Device: f.Device, Via: f.Via, RxPacketsPerSecond: rxRate(snap, f.Device)}
			byKey[k] = s
			order = append(order, k)
		}
		if f.Queue >= 0 && !slices.Contains(s.Queues, f.Queue) {
			s.Queues = append(s.Queues, f.Queue)
		}
	}
	var out []FeedSource
	for _, k := range order {
		s := byKey[k]
		if s.RxPacketsPerSecond != nil && *s.RxPacketsPerSecond == 0 {
			continue
		}
		slices.Sort(s.Queues)
		out = append(out, *s)
	}
	sortByRate(out)
	return out
}

// firedIRQs is the set of IRQs whose count grew between the snapshots.
func firedIRQs(prev, cur *snapshot.Snapshot) map[int]bool {
	sum := func(s *snapshot.Snapshot) map[int]uint64 {
		out := map[int]uint64{}
		if s.Interrupts == nil {
			return out
		}
		for _, line := range s.Interrupts.IRQs {
			for _, c := range line.Counts {
				out[line.IRQ] += c
			}
		}
		return out
	}
	before, after := sum(prev), sum(cur)
	out := map[int]bool{}
	for irq, n := range after {
		if p, ok := before[irq]; ok && n > p {
			out[irq] = true
		}
	}
	return out
}

// unsteeredSources: the devices that received packets but have no edge to
// any CPU (a veth or tun without RPS): their packets are processed by
// netif_rx on the CPU that sends them, which may be the hot one.
func unsteeredSources(snap *snapshot.Snapshot, feeds []Feed) []FeedSource {
	steered := map[string]bool{}
	for _, f := range feeds {
		steered[f.Device] = true
	}
	var out []FeedSource
	for _, d := range snap.NetDevices {
		r := rxRate(snap, d.Name)
		if steered[d.Name] || r == nil || *r < trafficMinRate || !d.IsVirtual() {
			continue
		}
		out = append(out, FeedSource{Device: d.Name, Via: "netif_rx", RxPacketsPerSecond: r})
	}
	sortByRate(out)
	return out
}

func sortByRate(s []FeedSource) {
	slices.SortStableFunc(s, func(a, b FeedSource) int {
		return cmp.Or(cmp.Compare(deref(b.RxPacketsPerSecond), deref(a.RxPacketsPerSecond)), strings.Compare(a.Device, b.Device))
	})
}

// fixesFor: for each feeding device, the fix of a finding about that device
// that moves work off this CPU, else a command built here.
func fixesFor(snap *snapshot.Snapshot, h HotCPU, findings []Finding) []string {
	var out []string
	for _, src := range h.FedBy {
		fix := findingFix(findings, src)
		if fix == "" {
			fix = spreadFix(snap, src, h.CPU)
		}
		if fix != "" && !slices.Contains(out, fix) {
			out = append(out, fix)
		}
	}
	return out
}

// findingFix picks the fix of the finding that matches how src feeds.
func findingFix(findings []Finding, src FeedSource) string {
	want := map[string][]string{
		FeedRPS:        {"rps_funnel", "rps_remote_numa"},
		FeedIRQ:        {"queue_irqs_share_cpu", "single_queue_no_rps", "channels_below_max_and_cpus"},
		FeedNAPIThread: {"napi_thread_unpinned"},
		"netif_rx":     {"single_queue_no_rps"},
	}[src.Via]
	for _, check := range want {
		for _, f := range findings {
			if f.Check == check && f.Device == src.Device && f.Fix != "" {
				return f.Fix + " (check " + check + ")"
			}
		}
	}
	return ""
}

// spreadFix builds a command that spreads src's work over the housekeeping
// CPUs of its node when no finding offers one.
func spreadFix(snap *snapshot.Snapshot, src FeedSource, cpu int) string {
	dev := devices(snap)[src.Device]
	if dev == nil {
		return ""
	}
	target := rpsTarget(snap, cpuset.CPUSet{}, dev.NUMANode)
	switch src.Via {
	case FeedRPS, "netif_rx":
		var cmds []string
		for _, q := range dev.RxQueues {
			if !q.RPSCPUs.Equal(target) {
				cmds = append(cmds, rpsFix(dev.Name, q.Index, target))
			}
		}
		if target.Count() < 2 {
			return "" // nowhere to spread to
		}
		return strings.Join(cmds, "; ") // "" when spread already
	case FeedNAPIThread:
		var cmds []string
		for _, t := range snap.Threads {
			if t.Device == dev.Name && t.Kind() == procfs.ThreadNAPI {
				cmds = append(cmds, fmt.Sprintf("taskset -pc %s %d", target, t.PID))
			}
		}
		return strings.Join(cmds, "; ")
	case FeedIRQ:
		return fmt.Sprintf("move the IRQs of %s off CPU %d: see the queue_irqs_share_cpu and channels_below_max_and_cpus findings", dev.Name, cpu)
	}
	return ""
}
