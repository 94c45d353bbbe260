package collector

// The deep NIC view's data model: what ethtool, the netdev netlink family,
// /proc/<pid> of kernel threads and /proc/sys/net/core tell. Filled by the
// readers of PartEthtool, PartQueueStats, PartThreads and PartTunables.
