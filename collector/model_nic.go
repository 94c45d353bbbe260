package collector

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
