package snapshot

import (
	"time"

	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel/bpfprobes"
	"github.com/netirq/netirq_exporter/internal/kernel/netbsd"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// This file is the data model: what the parsers produce and the collectors,
// the findings and the report consume. Nothing here reads a file.

// Snapshot is one read of every file the enabled collectors need. One is
// taken per scrape and shared by scrapes that overlap (see source.go).
// A part that could not be read fully keeps what was read plus its error, so
// the collectors that use it report failure while still exporting the rest.
type Snapshot struct {
	Time time.Time
	// ReadDurations says how long each part took to read and parse.
	ReadDurations []PartDuration

	// NetBSD's parts (bsd.go): kern.intr.list, what intrctl list prints;
	// IntrClasses, parallel to its lines, is derived; kern.evcnt.
	IntrList    *netbsd.IntrList
	IntrListErr error
	IntrClasses []irqclass.IRQClass
	Evcnts      []netbsd.Evcnt
	EvcntsErr   error

	Interrupts    *procfs.InterruptTable // /proc/interrupts
	InterruptsErr error
	// IRQClasses classifies every numbered IRQ of Interrupts (NIC queue,
	// NIC other vector or not a NIC); derived, not read.
	IRQClasses map[int]irqclass.IRQClass

	// Affinity holds /proc/irq/N/* for the IRQs the interrupt filter selects.
	Affinity    map[int]procfs.IRQAffinity
	AffinityErr error

	Softirqs    *procfs.SoftirqTable // /proc/softirqs
	SoftirqsErr error

	Softnet    []procfs.SoftnetRow // /proc/net/softnet_stat
	SoftnetErr error

	CPUTime    []procfs.CPUTime // the cpuN lines of /proc/stat
	CPUTimeErr error

	NetDevices    []sysfs.NetDevice // /sys/class/net/*
	NetDevicesErr error
	// RPSSockFlowEntries is /proc/sys/net/core/rps_sock_flow_entries; -1 when unreadable.
	RPSSockFlowEntries int64
	// DeviceRxRates is each device's received packets per second since the
	// Source's previous snapshot (statistics/rx_packets); nil when unknown
	// (the first snapshot). Checks use it to tell devices that carry
	// traffic from idle ones; derived, not read.
	DeviceRxRates map[string]float64

	Topology    *sysfs.CPUTopology // /sys/devices/system/cpu and node
	TopologyErr error

	// The deep NIC view (internal/kernel/nic/types.go). A device that does not support a
	// query (virtio has no RSS get) is left out quietly, not an error.
	Channels      map[string]nic.Channels // ethtool -l, by device
	RSS           map[string]nic.RSSTable // ethtool -x, by device
	Rings         map[string]nic.Rings    // ethtool -g, by device
	EthtoolErr    error
	QueueStats    []nic.QueueStats // per-queue packets and bytes
	QueueNAPIs    []nic.QueueNAPI  // queue → NAPI instance (netdev netlink)
	NAPIs         []nic.NAPI       // NAPI instance → IRQ and thread (netdev netlink)
	QueueStatsErr error
	Threads       []procfs.KernelThread // napi/<dev>-<id> and ksoftirqd/N
	ThreadsErr    error
	Tunables      *procfs.Tunables // /proc/sys/net/core and irqbalance
	TunablesErr   error
	PagePools     []nic.PagePool // netdev netlink page pools, by device and ID
	PagePoolsErr  error

	// RxQueueLoss is each RX queue's loss counters per second since the
	// Source's previous snapshot (netdev qstats: hardware drops, overruns,
	// allocation failures); nil when unknown (the first snapshot). Derived,
	// not read (queuerates.go).
	RxQueueLoss []QueueLossRate

	// BPF is what the opt-in eBPF probes counted (Options.BPF); BPFErr
	// says they are still attaching or why they could not be.
	BPF    *bpfprobes.Stats
	BPFErr error

	// BQL is queues/tx-N/byte_queue_limits and tx_maxrate of the TX queues
	// of NetDevices (sysfs/bql.go); only the files Options.BQLFields names.
	BQL    []sysfs.TxQueueBQL
	BQLErr error
	// BQLStallsBefore is each TX queue's stall_cnt in the Source's
	// previous snapshot, taken at BQLStallsBeforeTime; nil when unknown
	// (the first snapshot): derived, not read (bqlstalls.go).
	BQLStallsBefore     map[TxQueue]int64
	BQLStallsBeforeTime time.Time

	// Kernel is the kernel's release, the default IRQ affinity, IRQ
	// pressure and (read once per Source) its config (procfs/kernel.go).
	Kernel    *procfs.KernelInfo
	KernelErr error
}

// PartDuration is the read time of one snapshot part.
type PartDuration struct {
	Part     Part
	Duration time.Duration
}

// Part names one group of files in a Snapshot. Collectors declare the parts
// they need so that a disabled collector costs no file read.
type Part uint

// The parts. They are read concurrently; a part may wait for and use
// those above it (see partSpec).
const (
	PartTopology   Part = 1 << iota // /sys/devices/system/{cpu,node}
	PartNetDevices                  // /sys/class/net/* and rps_sock_flow_entries
	PartInterrupts                  // /proc/interrupts (+ classification)
	PartAffinity                    // /proc/irq/N/* of the selected IRQs
	PartSoftirqs                    // /proc/softirqs
	PartSoftnet                     // /proc/net/softnet_stat
	PartCPUTime                     // /proc/stat
	PartEthtool                     // ethtool netlink: channels, RSS and rings per device
	PartQueueStats                  // netdev netlink: per-queue stats, queue → NAPI → IRQ (ethtool -S fallback)
	PartThreads                     // napi/* and ksoftirqd/N kernel threads from /proc/<pid>
	PartTunables                    // /proc/sys/net/core tunables, irqbalance
	PartPagePools                   // netdev netlink: page pools and their counters
	PartBPF                         // the opt-in eBPF probes' maps (read only with Options.BPF)
	PartIntrList                    // NetBSD: kern.intr.list (+ classification)
	PartEvcnt                       // NetBSD: kern.evcnt
	PartBQL                         // /sys/class/net/*/queues/tx-N/{byte_queue_limits/*,tx_maxrate}
	PartKernel                      // osrelease, /proc/irq/default_smp_affinity, /proc/pressure/irq, /proc/config.gz
	partLast       = PartKernel

	// PartAll is every part.
	PartAll = partLast<<1 - 1
)
