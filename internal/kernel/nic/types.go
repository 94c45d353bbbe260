package nic

import "github.com/netirq/netirq_exporter/internal/kernel"

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
