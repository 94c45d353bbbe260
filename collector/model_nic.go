package collector

import (
	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
)

// The deep NIC view's data model: what ethtool, the netdev netlink family,
// /proc/<pid> of kernel threads and /proc/sys/net/core tell. Filled by the
// readers of PartEthtool, PartQueueStats, PartThreads and PartTunables.

// Channels is `ethtool -l <dev>`: maximum and current channel counts.
type Channels struct {
	Device                              string
	MaxRx, MaxTx, MaxCombined, MaxOther uint32
	Rx, Tx, Combined, Other             uint32
}

// RSSTable is `ethtool -x <dev>`: the RSS indirection table and hash.
type RSSTable struct {
	Device string
	// HashFunc is the active hash function ("toeplitz", "xor", "crc32");
	// empty when the driver does not say.
	HashFunc string
	// Indirection[i] is the RX queue that hash bucket i steers to.
	Indirection []uint32
}

// QueueShare returns how many indirection entries point at each queue.
func (t RSSTable) QueueShare() map[uint32]int {
	out := map[uint32]int{}
	for _, q := range t.Indirection {
		out[q]++
	}
	return out
}

// QueueStats is one queue's traffic counters.
type QueueStats struct {
	Device  string
	Queue   int
	Kind    kernel.IRQKind // kernel.KindRx or kernel.KindTx
	Packets uint64
	Bytes   uint64
	// Source says where the numbers came from: "netlink" (netdev qstats)
	// or "ethtool" (per-queue names of ethtool -S for the driver).
	Source string
}

// QueueNAPI is the netdev family's queue → NAPI mapping (queue-get).
type QueueNAPI struct {
	Device string
	Queue  int
	Kind   kernel.IRQKind // kernel.KindRx or kernel.KindTx
	NAPIID uint32         // 0 when the queue has no NAPI instance
}

// NAPI is one NAPI instance (napi-get): its IRQ and, in threaded mode, the
// PID of its napi/<dev>-<id> kernel thread.
type NAPI struct {
	ID        uint32
	Device    string
	IRQ       int // 0 when none
	ThreadPID int // 0 when NAPI is not threaded
}

// KernelThread is a napi/<dev>-<id> or ksoftirqd/N kernel thread.
type KernelThread struct {
	PID  int
	Name string // comm: "napi/eth0-8193", "ksoftirqd/3"
	// Device and NAPIID are parsed from a napi thread's name; CPU is the
	// N of ksoftirqd/N (-1 for napi threads).
	Device        string
	NAPIID        uint32
	CPU           int
	UserSeconds   float64
	SystemSeconds float64
	LastCPU       int           // the CPU it last ran on (stat field 39)
	Allowed       cpuset.CPUSet // Cpus_allowed_list
}

// Tunables are the host-wide knobs of the receive path.
type Tunables struct {
	NetdevBudget      int64 // net.core.netdev_budget; -1 when unreadable
	NetdevBudgetUsecs int64 // net.core.netdev_budget_usecs
	NetdevMaxBacklog  int64 // net.core.netdev_max_backlog
	DevWeight         int64 // net.core.dev_weight
	FlowLimitTableLen int64 // net.core.flow_limit_table_len
	FlowLimitCPUs     cpuset.CPUSet
	HasFlowLimitCPUs  bool
	IRQBalanceRunning bool
	// Per device, from /sys/class/net/<dev>/: -1 when absent.
	GROFlushTimeout   map[string]int64
	NAPIDeferHardIRQs map[string]int64
}
