package report

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// `netirq_exporter report` takes two snapshots --interval apart and prints
// per device the queue → IRQ → CPU table with interrupt and packet rates,
// per CPU the interrupt/softirq load, and the misconfiguration findings
// with their fix commands. BuildReport is the pure part: two snapshots in,
// one Report out; runReport reads and prints.

// Report is the one-shot report. Its JSON field names are stable and
// documented in the README ("One-shot report").
type Report struct {
	Host string `json:"host"`
	// OS is "netbsd" for a report from NetBSD's interrupt list
	// (netbsd.go), which then fills Interrupts, CPUs (NIC interrupts only)
	// and Findings; omitted on Linux.
	OS string `json:"os,omitempty"`
	// Time is when the second snapshot was taken; IntervalSeconds is the
	// time between the two, which every rate is computed over.
	Time            time.Time `json:"time"`
	IntervalSeconds float64   `json:"interval_seconds"`
	// IRQTimeAccounting says whether the irq and softirq times are
	// measured or tick-sampled, which changes how the CPU figures read.
	IRQTimeAccounting snapshot.IRQTimeAccounting `json:"irq_time_accounting"`
	// Diagnosis lists the CPUs starved by network work over the interval,
	// imbalanced ones first, each with what feeds it and the fix (the
	// conditions of the alerts NetIRQCPUSaturated and NetIRQNetworkCapacity
	// with the default thresholds). Empty when none is; DiagnosisUnknown
	// then says why that could not be judged ("" when it could).
	Diagnosis        []diagnosis.HotCPU `json:"diagnosis"`
	DiagnosisUnknown string             `json:"diagnosis_unknown"`
	Devices          []ReportDevice     `json:"devices"`
	// OmittedDevices are virtual devices with no IRQ, no RPS/XPS mask and no
	// queue traffic (lo, idle bridges ...), left out of Devices.
	OmittedDevices []string    `json:"omitted_devices"`
	CPUs           []ReportCPU `json:"cpus"`
	// Threads are the threaded-NAPI kthreads and the ksoftirqd/N that ran.
	Threads []ReportThread `json:"threads"`
	// Findings, those about devices that received packets over the
	// interval first, then those about no device, then idle devices'.
	Findings []diagnosis.Finding `json:"findings"`
	// UnknownChecks are the checks that could not run (a file they need
	// could not be read, or /proc/interrupts is masked): what they would
	// find is unknown, not none.
	UnknownChecks []UnknownCheck `json:"unknown_checks"`
	// NetRxWait is each diagnosed CPU's NET_RX wait (bpfwait.go), with
	// --collector.bpf only; NetRxWaitUnknown says why it is missing then.
	NetRxWait        []ReportWait `json:"net_rx_wait,omitempty"`
	NetRxWaitUnknown string       `json:"net_rx_wait_unknown,omitempty"`
	// Warnings name the files that could not be read fully.
	Warnings []string `json:"warnings"`
	// Unread names the files the report needs that could not be read at
	// all: what it says about them is unknown, not "no problem"; the
	// command exits 3.
	Unread []string `json:"unread"`
	// Interrupts are NetBSD's NIC interrupts (OS "netbsd").
	Interrupts []ReportInterrupt `json:"interrupts,omitempty"`
}

// UnknownCheck is a check that did not run, and why.
type UnknownCheck struct {
	Check  string `json:"check"`
	Reason string `json:"reason"`
}

// ReportDevice is one net device and its queue table.
type ReportDevice struct {
	Name       string `json:"name"`
	Driver     string `json:"driver"`
	BusAddress string `json:"bus_address"`
	NUMANode   int    `json:"numa_node"` // -1 unknown
	Threaded   int    `json:"threaded"`  // /sys/class/net/<dev>/threaded; -1 absent
	// Packets/s the device received and sent (statistics/); null when
	// unknown.
	RxPacketsPerSecond *float64 `json:"rx_packets_per_second"`
	TxPacketsPerSecond *float64 `json:"tx_packets_per_second"`
	// RxRing and RxRingMax are the RX ring's descriptors per queue now and
	// at most (ethtool -g); null when unknown.
	RxRing    *uint32       `json:"rx_ring"`
	RxRingMax *uint32       `json:"rx_ring_max"`
	Queues    []ReportQueue `json:"queues"`
	// NAPIs are the device's NAPI instances whose own settings are not the
	// defaults (nicqueues.go); empty when all are.
	NAPIs []ReportNAPI `json:"napi_settings"`
}

// ReportThread is one kernel thread that runs receive work.
type ReportThread struct {
	Name string `json:"name"` // "napi/eth0-8193", "ksoftirqd/3"
	PID  int    `json:"pid"`
	// CPUPercent is its CPU time over the interval, percent of one CPU.
	CPUPercent *float64 `json:"cpu_percent"`
	LastCPU    int      `json:"last_cpu"`     // -1 unknown
	AllowedCPU string   `json:"allowed_cpus"` // Cpus_allowed_list
}

// ReportQueue is one row of a device's queue table: an IRQ with the queue
// it serves, or a queue without an IRQ (virtual devices).
type ReportQueue struct {
	Queue int    `json:"queue"` // -1 for a vector that serves no queue (kind "other")
	Kind  string `json:"kind"`  // rx, tx, combined or other
	IRQ   int    `json:"irq"`   // 0: the queue has no IRQ of its own
	// CPU lists in the kernel's list format ("0-3,8"); "" when not
	// applicable or unknown (RPS/XPS "" also means off).
	SMPAffinity   string `json:"smp_affinity"`
	EffectiveCPUs string `json:"effective_cpus"`
	Nodes         string `json:"nodes"` // NUMA nodes of the effective CPUs
	RPSCPUs       string `json:"rps_cpus"`
	XPSCPUs       string `json:"xps_cpus"`
	// Rates over the interval; null when unknown (no IRQ, no per-queue
	// statistics, a counter that went backwards).
	InterruptsPerSecond *float64 `json:"interrupts_per_second"`
	RxPacketsPerSecond  *float64 `json:"rx_packets_per_second"`
	TxPacketsPerSecond  *float64 `json:"tx_packets_per_second"`
	// Of an RX queue (rx, combined), from netdev qstats (6.10+): packets
	// the device dropped, of those for lack of buffers (the ring ran
	// empty), and failed buffer allocations, per second; null when the
	// driver does not count them or on one snapshot.
	RxHWDropsPerSecond        *float64 `json:"rx_hw_drops_per_second"`
	RxHWDropOverrunsPerSecond *float64 `json:"rx_hw_drop_overruns_per_second"`
	RxAllocFailuresPerSecond  *float64 `json:"rx_alloc_failures_per_second"`
	// Of a TX queue (tx, combined): the byte queue limit now (null without
	// BQL), the stalls BQL counted over the interval (null when unknown),
	// and tx_maxrate in Mbit/s (0: none).
	BQLLimitBytes *int64 `json:"bql_limit_bytes"`
	BQLStalls     *int64 `json:"bql_stalls"`
	TxMaxRateMbps int64  `json:"tx_maxrate_mbps"`
}

// ReportCPU is one CPU's load over the interval.
type ReportCPU struct {
	CPU      int  `json:"cpu"`
	Node     int  `json:"node"` // -1 unknown
	Isolated bool `json:"isolated"`
	NohzFull bool `json:"nohz_full"`
	// Percent of the CPU's time (all /proc/stat modes) in softirq and hard
	// IRQ context, busy (not idle or iowait), and network work (hard IRQ,
	// softirq and the NAPI kthreads that last ran there).
	SoftirqPercent *float64 `json:"softirq_percent"`
	IRQPercent     *float64 `json:"irq_percent"`
	BusyPercent    *float64 `json:"busy_percent"`
	NetWorkPercent *float64 `json:"net_work_percent"`
	// NET_RX and NET_TX softirqs/s (/proc/softirqs); interrupts/s of all NIC
	// IRQs on the CPU; softnet processed, dropped and time-squeeze events/s.
	NetRxPerSecond         *float64 `json:"net_rx_per_second"`
	NetTxPerSecond         *float64 `json:"net_tx_per_second"`
	NICInterruptsPerSecond *float64 `json:"nic_interrupts_per_second"`
	ProcessedPerSecond     *float64 `json:"processed_per_second"`
	DroppedPerSecond       *float64 `json:"dropped_per_second"`
	SqueezedPerSecond      *float64 `json:"squeezed_per_second"`
}

// BuildReport compares two snapshots of one host, prev taken before cur.
// It reads nothing and changes neither snapshot.
func BuildReport(prev, cur *snapshot.Snapshot) Report {
	if cur.IsNetBSD() {
		return buildNetBSDReport(prev, cur)
	}
	cur = withRxQueueLoss(prev, withBQLStalls(prev, withRxRates(prev, cur)))
	r := Report{Time: cur.Time, IntervalSeconds: cur.Time.Sub(prev.Time).Seconds(),
		Devices: []ReportDevice{}, OmittedDevices: []string{}, CPUs: []ReportCPU{}, Threads: []ReportThread{},
		Warnings: snapshotWarnings(cur), IRQTimeAccounting: cur.IRQTimeAccounting()}
	r.Findings, r.UnknownChecks = checkResults(cur)
	rankFindings(cur, r.Findings)
	r.Diagnosis = diagnosis.Diagnose(prev, cur, r.Findings)
	if r.Diagnosis == nil {
		r.Diagnosis = []diagnosis.HotCPU{}
		r.DiagnosisUnknown = diagnosisUnknown(cur)
	}
	dt := r.IntervalSeconds
	rows, handles := irqRows(prev, cur, dt)
	pps := newPacketRates(prev, cur, dt)
	for _, d := range cur.NetDevices {
		dev, busy := deviceReport(d, rows[d.Name], pps)
		dev.RxPacketsPerSecond, dev.TxPacketsPerSecond = devicePPS(prev, d, dt)
		addNICQueues(&dev, cur)
		busy = busy || (dev.RxPacketsPerSecond != nil && *dev.RxPacketsPerSecond > 0) ||
			(dev.TxPacketsPerSecond != nil && *dev.TxPacketsPerSecond > 0)
		if !busy {
			r.OmittedDevices = append(r.OmittedDevices, d.Name)
			continue
		}
		r.Devices = append(r.Devices, dev)
	}
	for _, h := range handles {
		r.Devices = append(r.Devices, ReportDevice{Name: h, NUMANode: -1, Threaded: -1, Queues: sortQueues(rows[h]), NAPIs: []ReportNAPI{}})
	}
	r.CPUs = cpuRows(prev, cur, dt)
	r.NetRxWait, r.NetRxWaitUnknown = netRxWaits(prev, cur, hotCPUs(r.Diagnosis))
	r.Threads = threadRows(prev, cur, dt)
	r.Unread = unreadParts(cur)
	return r
}

// irqRows returns the NIC IRQ rows per device, in /proc/interrupts order,
// and the IRQ devices that are no net device ("0000:01:00.0"). An IRQ that
// serves several queues (irqclass.IRQClass.Also) has a row for each, in
// its devices' tables.
func irqRows(prev, cur *snapshot.Snapshot, dt float64) (rows map[string][]ReportQueue, handles []string) {
	rows = map[string][]ReportQueue{}
	if cur.Interrupts == nil {
		return rows, nil
	}
	prevIRQ, curIRQ := irqTotals(prev), irqTotals(cur)
	known := map[string]bool{}
	for _, d := range cur.NetDevices {
		known[d.Name] = true
	}
	for _, line := range cur.Interrupts.IRQs {
		serves := cur.IRQClasses[line.IRQ].Serves()
		if len(serves) == 0 {
			continue // not a NIC's
		}
		base := ReportQueue{IRQ: line.IRQ}
		if aff, ok := cur.Affinity[line.IRQ]; ok {
			base.SMPAffinity = aff.SMPAffinity.String()
			base.EffectiveCPUs = aff.Effective.String()
			base.Nodes = cur.Topology.Nodes(aff.Effective).String()
		}
		if p, ok := prevIRQ[line.IRQ]; ok {
			base.InterruptsPerSecond = rate(p, curIRQ[line.IRQ], dt, false)
		}
		for _, s := range serves {
			row := base
			row.Queue, row.Kind = s.Queue, string(s.Kind)
			if s.Kind == kernel.KindOther {
				row.Queue = -1
			}
			if _, seen := rows[s.Device]; !seen && !known[s.Device] {
				handles = append(handles, s.Device)
			}
			rows[s.Device] = append(rows[s.Device], row)
		}
	}
	return rows, handles
}

// packetRates are the per-queue packet rates from the two snapshots'
// queue statistics.
type packetRates struct {
	prev, cur map[statKey]uint64
	dt        float64
}

func newPacketRates(prev, cur *snapshot.Snapshot, dt float64) packetRates {
	stats := func(s *snapshot.Snapshot) map[statKey]uint64 {
		out := map[statKey]uint64{}
		for _, q := range s.QueueStats {
			out[statKey{q.Device, q.Queue, q.Kind}] = q.Packets
		}
		return out
	}
	return packetRates{prev: stats(prev), cur: stats(cur), dt: dt}
}

// of is the packet rate of one queue; nil when either snapshot lacks it.
func (r packetRates) of(dev string, queue int, kind kernel.IRQKind) *float64 {
	k := statKey{dev, queue, kind}
	c, okc := r.cur[k]
	p, okp := r.prev[k]
	if !okc || !okp {
		return nil
	}
	return rate(p, c, r.dt, false)
}

// deviceReport is d's section: its IRQ rows, a row for each queue no IRQ
// serves, masks and packet rates. busy is false for a virtual device
// without IRQs, masks or traffic (left out of the report).
func deviceReport(d sysfs.NetDevice, irqRows []ReportQueue, pps packetRates) (ReportDevice, bool) {
	dev := ReportDevice{Name: d.Name, Driver: d.Driver, BusAddress: d.BusAddress, NUMANode: d.NUMANode, Threaded: d.Threaded}
	queues := withQueuesWithoutIRQ(d, irqRows)
	busy := !d.IsVirtual() || len(irqRows) > 0
	for i := range queues {
		q := &queues[i]
		if q.Kind == "rx" || q.Kind == "combined" {
			if rq, ok := findRx(d, q.Queue); ok {
				q.RPSCPUs = rq.RPSCPUs.String()
			}
			q.RxPacketsPerSecond = pps.of(d.Name, q.Queue, kernel.KindRx)
		}
		if q.Kind == "tx" || q.Kind == "combined" {
			if tq, ok := findTx(d, q.Queue); ok {
				q.XPSCPUs = tq.XPSCPUs.String()
			}
			q.TxPacketsPerSecond = pps.of(d.Name, q.Queue, kernel.KindTx)
		}
		busy = busy || q.RPSCPUs != "" || q.XPSCPUs != "" ||
			(q.RxPacketsPerSecond != nil && *q.RxPacketsPerSecond > 0) ||
			(q.TxPacketsPerSecond != nil && *q.TxPacketsPerSecond > 0)
	}
	dev.Queues = sortQueues(queues)
	return dev, busy
}

// withQueuesWithoutIRQ appends to the IRQ rows an rx or tx row for each of
// d's queues that no IRQ row covers.
func withQueuesWithoutIRQ(d sysfs.NetDevice, irqRows []ReportQueue) []ReportQueue {
	queues := irqRows
	covered := map[string]bool{}
	for _, q := range queues {
		switch q.Kind {
		case "rx", "tx":
			covered[q.Kind+strconv.Itoa(q.Queue)] = true
		case "combined":
			covered["rx"+strconv.Itoa(q.Queue)], covered["tx"+strconv.Itoa(q.Queue)] = true, true
		}
	}
	for _, q := range d.RxQueues {
		if !covered["rx"+strconv.Itoa(q.Index)] {
			queues = append(queues, ReportQueue{Queue: q.Index, Kind: "rx"})
		}
	}
	for _, q := range d.TxQueues {
		if !covered["tx"+strconv.Itoa(q.Index)] {
			queues = append(queues, ReportQueue{Queue: q.Index, Kind: "tx"})
		}
	}
	return queues
}

type statKey struct {
	dev   string
	queue int
	kind  kernel.IRQKind
}

func findRx(d sysfs.NetDevice, index int) (sysfs.RxQueue, bool) {
	for _, q := range d.RxQueues {
		if q.Index == index {
			return q, true
		}
	}
	return sysfs.RxQueue{}, false
}

func findTx(d sysfs.NetDevice, index int) (sysfs.TxQueue, bool) {
	for _, q := range d.TxQueues {
		if q.Index == index {
			return q, true
		}
	}
	return sysfs.TxQueue{}, false
}

// sortQueues orders rows by queue, then combined/rx/tx; vectors that serve
// no queue come last.
func sortQueues(qs []ReportQueue) []ReportQueue {
	order := map[string]int{"combined": 0, "rx": 1, "tx": 2, "other": 3}
	slices.SortStableFunc(qs, func(a, b ReportQueue) int {
		if (a.Queue < 0) != (b.Queue < 0) {
			if a.Queue < 0 {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.Queue, b.Queue), cmp.Compare(order[a.Kind], order[b.Kind]), cmp.Compare(a.IRQ, b.IRQ))
	})
	if qs == nil {
		return []ReportQueue{}
	}
	return qs
}

// irqTotals sums each numbered IRQ's counts over all CPUs.
func irqTotals(s *snapshot.Snapshot) map[int]uint64 {
	out := map[int]uint64{}
	if s.Interrupts == nil {
		return out
	}
	for _, line := range s.Interrupts.IRQs {
		var sum uint64
		for _, c := range line.Counts {
			sum += c
		}
		out[line.IRQ] = sum
	}
	return out
}

// rate is diagnosis.CounterRate: (cur-prev)/dt, nil when it cannot be
// known, a wrapped 32-bit counter (softnet_stat) taken as one wrap.
var rate = diagnosis.CounterRate

// snapshotWarnings lists the parts of s that could not be read fully.
func snapshotWarnings(s *snapshot.Snapshot) []string {
	out := []string{}
	for _, e := range []struct {
		part string
		err  error
	}{
		{"cpu_topology", s.TopologyErr}, {"net_devices", s.NetDevicesErr}, {"interrupts", s.InterruptsErr},
		{"irq_affinity", s.AffinityErr}, {"softirqs", s.SoftirqsErr}, {"softnet", s.SoftnetErr},
		{"stat", s.CPUTimeErr}, {"ethtool", s.EthtoolErr}, {"queue_stats", s.QueueStatsErr},
		{"threads", s.ThreadsErr}, {"tunables", s.TunablesErr}, {"bpf", s.BPFErr}, {"bql", s.BQLErr}, {"kernel", s.KernelErr},
	} {
		if e.err != nil {
			out = append(out, e.part+": "+strings.ReplaceAll(e.err.Error(), "\n", "; "))
		}
	}
	return out
}
