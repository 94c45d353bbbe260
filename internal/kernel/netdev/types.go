package netdev

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
