//go:build !linux

package nic

import (
	"errors"
	"log/slog"
	"runtime"

	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// This file stands in for the Linux readers (ethtool.go, netdev.go,
// pagepool.go, rings.go, session.go, ioctl.go: generic netlink and
// SIOCETHTOOL, which only Linux has) so that the snapshot, which holds a
// Reader, builds everywhere. The collectors that need these parts are off
// by default on other systems and say "not on this OS" when enabled
// (collector/platform.go). The types repeat only the shape of the Linux
// files' (make cross fails when they drift apart).

// ErrNotLinux is what every read returns off Linux.
var ErrNotLinux = errors.New("the ethtool and netdev netlink families and SIOCETHTOOL are Linux's: not on " + runtime.GOOS)

// Reader reads nothing off Linux.
type Reader struct{}

// NewReader returns a Reader whose reads all fail with ErrNotLinux.
func NewReader(*slog.Logger, string) *Reader { return &Reader{} }

// EthtoolResult is what Reader.Ethtool found (ethtool.go).
type EthtoolResult struct {
	Channels map[string]Channels
	RSS      map[string]RSSTable
	Rings    map[string]Rings
	Err      error
}

// QueueStatsResult is what Reader.QueueStats found (netdev.go).
type QueueStatsResult struct {
	Stats  []QueueStats
	Queues []QueueNAPI
	NAPIs  []NAPI
	Err    error
}

// PagePoolsResult is what Reader.PagePools found (pagepool.go).
type PagePoolsResult struct {
	Pools []PagePool
	Err   error
}

// Rings is `ethtool -g <dev>` (rings.go).
type Rings struct {
	Device                              string
	RxMax, RxMiniMax, RxJumboMax, TxMax uint32
	Rx, RxMini, RxJumbo, Tx             uint32
}

// NumPagePoolStats is the number of page pool counters (pagepool.go).
const NumPagePoolStats = 11

// PagePoolStatNames are empty off Linux: no page pool is ever read.
var PagePoolStatNames [NumPagePoolStats]string

// PagePool is one page pool of a net device (pagepool.go).
type PagePool struct {
	ID          uint64
	Device      string
	NAPIID      uint32
	Inflight    uint64
	InflightMem uint64
	Detached    bool
	Stats       [NumPagePoolStats]uint64
	HasStats    bool
}

// Ethtool fails with ErrNotLinux.
func (*Reader) Ethtool(string, []sysfs.NetDevice) EthtoolResult {
	return EthtoolResult{Err: ErrNotLinux}
}

// QueueStats fails with ErrNotLinux.
func (*Reader) QueueStats(string, []sysfs.NetDevice) QueueStatsResult {
	return QueueStatsResult{Err: ErrNotLinux}
}

// PagePools fails with ErrNotLinux.
func (*Reader) PagePools(string, []sysfs.NetDevice) PagePoolsResult {
	return PagePoolsResult{Err: ErrNotLinux}
}

// nlUint stands in for netdev.go's decoder of netlink uints, which
// qstats.go refers to: off Linux no netlink attribute is ever decoded.
func nlUint([]byte) (uint64, error) { return 0, ErrNotLinux }
