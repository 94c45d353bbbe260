package nic

import (
	"strconv"

	"github.com/netirq/netirq_exporter/internal/kernel"
)

// QueueStats is one queue's traffic counters.
type QueueStats struct {
	Device  string
	Queue   int
	Kind    kernel.IRQKind // kernel.KindRx or kernel.KindTx
	Packets uint64
	Bytes   uint64
	// Counters are the other netdev qstats counters the driver reports for
	// the queue (qstats.go), in QStatCounters order; none from ethtool -S.
	Counters []QueueCounter
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

// NAPI is one NAPI instance (napi-get): its IRQ, in threaded mode the
// PID of its napi/<dev>-<id> kernel thread, and its own settings.
type NAPI struct {
	ID     uint32
	Device string
	// IRQ is 0 when the kernel names none: the driver never called
	// netif_napi_set_irq (virtio_net, veth, ifb: see README.md, "NAPI").
	IRQ       int
	ThreadPID int // 0 when NAPI is not threaded
	Settings  NAPISettings
}

// NAPISettings are a NAPI instance's own settings, which napi-set changes
// one instance at a time and the device's sysfs files (gro_flush_timeout,
// napi_defer_hard_irqs, threaded) for all of them. A Has flag is false
// when the kernel did not report the setting: defer-hard-irqs,
// gro-flush-timeout and irq-suspend-timeout came with Linux 6.13, threaded
// with 6.17.
type NAPISettings struct {
	DeferHardIRQs     uint32 // empty polls before the IRQ is re-enabled
	GROFlushTimeout   uint64 // nanoseconds
	IRQSuspendTimeout uint64 // nanoseconds

	HasDeferHardIRQs, HasGROFlushTimeout, HasIRQSuspendTimeout bool

	Threaded    NAPIThreaded
	HasThreaded bool
}

// NAPIThreaded is enum netdev_napi_threaded: how the instance polls.
type NAPIThreaded uint32

// The values of enum netdev_napi_threaded (include/uapi/linux/netdev.h).
const (
	NAPIThreadedDisabled NAPIThreaded = 0 // softirq context
	NAPIThreadedEnabled  NAPIThreaded = 1 // its napi/<dev>-<id> kthread (6.17 per NAPI)
	NAPIThreadedBusyPoll NAPIThreaded = 2 // that kthread busy-polls (6.19)
)

// String is the spec's name of the value ("modeN" for one this exporter
// does not know).
func (t NAPIThreaded) String() string {
	switch t {
	case NAPIThreadedDisabled:
		return "disabled"
	case NAPIThreadedEnabled:
		return "enabled"
	case NAPIThreadedBusyPoll:
		return "busy-poll"
	}
	return "mode" + strconv.FormatUint(uint64(t), 10)
}

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
