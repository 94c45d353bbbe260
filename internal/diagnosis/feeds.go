package diagnosis

import (
	"cmp"
	"slices"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// Feeds answer "what feeds this CPU": each edge says that part of a device
// queue's packet work runs on a CPU, and how it got there. A hot CPU's
// edges name the queues whose configuration a fix has to change. The edges
// come from configuration alone (one snapshot, no rates): the recording
// rules weigh them with traffic (alerts/netirq-rules.yml), the report with
// the packet rates of its two snapshots.

// How a queue's work reaches a CPU.
const (
	// FeedIRQ: the queue's IRQ fires on the CPU (effective affinity), so
	// the hard IRQ and, without RPS or threaded NAPI, the NET_RX softirq
	// run there.
	FeedIRQ = "irq"
	// FeedRPS: the RX queue's rps_cpus names the CPU; packets are queued
	// to its backlog and processed there.
	FeedRPS = "rps"
	// FeedNAPIThread: the queue's threaded NAPI kthread may run only on a
	// few CPUs including this one, or last ran on it.
	FeedNAPIThread = "napi_thread"
)

// maxFeedCPUs bounds the edges of one queue: an RPS mask or a NAPI thread's
// allowed CPUs wider than this spreads the work and funnels nothing, so it
// adds no edges (a NAPI thread then gets one edge, its last CPU). It keeps
// the series count of a 1,024-CPU host with RPS on every CPU linear in its
// queues rather than queues × CPUs.
const maxFeedCPUs = 16

// Feed is one edge queue → CPU.
type Feed struct {
	CPU    int
	Device string
	Queue  int            // -1: the queue is not known (a NAPI thread the kernel maps to no queue)
	Kind   kernel.IRQKind // kernel.KindRx, kernel.KindTx or kernel.KindCombined
	Via    string         // FeedIRQ, FeedRPS or FeedNAPIThread
	IRQ    int            // the queue's IRQ for FeedIRQ; 0 otherwise
}

// QueueLabel is the queue as a label value: "" when not known.
func (f Feed) QueueLabel() string { return irqclass.IRQClass{Queue: f.Queue}.QueueLabel() }

// Feeds lists the edges of snap's queues, sorted by CPU, device, queue, via.
// Parts the snapshot lacks add no edges.
func Feeds(snap *snapshot.Snapshot) []Feed {
	if snap == nil {
		return nil
	}
	var out []Feed
	out = append(out, irqFeeds(snap)...)
	out = append(out, rpsFeeds(snap)...)
	out = append(out, napiThreadFeeds(snap)...)
	slices.SortFunc(out, func(a, b Feed) int {
		return cmp.Or(cmp.Compare(a.CPU, b.CPU), cmp.Compare(a.Device, b.Device),
			cmp.Compare(a.Queue, b.Queue), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Via, b.Via))
	})
	return slices.Compact(out)
}

// irqFeeds: every data queue an IRQ serves to each CPU the IRQ fires on
// (an IRQ may serve several: irqclass.IRQClass.Also).
func irqFeeds(snap *snapshot.Snapshot) []Feed {
	var out []Feed
	for _, q := range nicIRQs(snap) {
		if !q.HasAff {
			continue
		}
		for _, s := range q.Class.Serves() {
			if !s.IsQueue() {
				continue
			}
			for _, cpu := range firesOn(q.Aff).List() {
				out = append(out, Feed{CPU: cpu, Device: s.Device, Queue: s.Queue, Kind: s.Kind, Via: FeedIRQ, IRQ: q.IRQ})
			}
		}
	}
	return out
}

// rpsFeeds: every RX queue to each CPU of a narrow RPS mask.
func rpsFeeds(snap *snapshot.Snapshot) []Feed {
	var out []Feed
	for _, d := range snap.NetDevices {
		for _, q := range d.RxQueues {
			if q.RPSCPUs.IsEmpty() || q.RPSCPUs.Count() > maxFeedCPUs {
				continue
			}
			for _, cpu := range q.RPSCPUs.List() {
				out = append(out, Feed{CPU: cpu, Device: d.Name, Queue: q.Index, Kind: kernel.KindRx, Via: FeedRPS})
			}
		}
	}
	return out
}

// napiThreadFeeds: every threaded NAPI instance's queues to the CPUs its
// kthread may run on when those are few, else to the CPU it last ran on.
func napiThreadFeeds(snap *snapshot.Snapshot) []Feed {
	type napiKey struct {
		device string
		id     uint32
	}
	queues := map[napiKey][]nic.QueueNAPI{}
	for _, q := range snap.QueueNAPIs {
		if q.NAPIID != 0 {
			k := napiKey{q.Device, q.NAPIID}
			queues[k] = append(queues[k], q)
		}
	}
	all := online(snap)
	var out []Feed
	for _, t := range snap.Threads {
		if t.Kind() != procfs.ThreadNAPI || t.Device == "" {
			continue // ksoftirqd, backlog_napi: per CPU, fed by no queue of their own
		}
		cpus := napiThreadCPUs(t, all)
		qs := queues[napiKey{t.Device, t.NAPIID}]
		if len(qs) == 0 {
			qs = []nic.QueueNAPI{{Device: t.Device, Queue: -1, Kind: kernel.KindRx}}
		}
		for _, cpu := range cpus.List() {
			for _, q := range qs {
				out = append(out, Feed{CPU: cpu, Device: t.Device, Queue: q.Queue, Kind: q.Kind, Via: FeedNAPIThread})
			}
		}
	}
	return out
}

// napiThreadCPUs is where a NAPI kthread's work runs: its allowed CPUs when
// it is pinned to a few of them, else (free on every online CPU, or on too
// many) its last CPU; empty when neither is known.
func napiThreadCPUs(t procfs.KernelThread, online cpuset.CPUSet) cpuset.CPUSet {
	if n := t.Allowed.Count(); n > 0 && n <= maxFeedCPUs && !subsetOf(online, t.Allowed) {
		return t.Allowed
	}
	if t.LastCPU >= 0 {
		return cpuset.NewCPUSet(t.LastCPU)
	}
	return cpuset.CPUSet{}
}

// FeedsOf returns the edges into cpu.
func FeedsOf(feeds []Feed, cpu int) []Feed {
	var out []Feed
	for _, f := range feeds {
		if f.CPU == cpu {
			out = append(out, f)
		}
	}
	return out
}
