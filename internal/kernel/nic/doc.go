// Package nic asks the kernel about NICs over generic netlink (the ethtool
// family: channels, RSS; the netdev family: queues, NAPI, qstats; the
// plumbing is internal/kernel/genl) and the SIOCETHTOOL ioctl (the
// ethtool -S fallback), through a Reader that owns the caches, the logger
// and the network namespace.
package nic
