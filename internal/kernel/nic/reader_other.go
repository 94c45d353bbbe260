//go:build !linux

package nic

import (
	"errors"
	"log/slog"
	"runtime"

	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// This file stands in for the Linux readers (ethtool.go, netdev.go,
// session.go, ioctl.go: generic netlink and SIOCETHTOOL, which only Linux
// has) so that the snapshot, which holds a Reader, builds everywhere. The
// collectors that need these parts are off by default on other systems
// and say "not on this OS" when enabled (collector/platform.go).

// ErrNotLinux is what every read returns off Linux.
var ErrNotLinux = errors.New("the ethtool and netdev netlink families and SIOCETHTOOL are Linux's: not on " + runtime.GOOS)

// Reader reads nothing off Linux.
type Reader struct{}

// NewReader returns a Reader whose reads all fail with ErrNotLinux.
func NewReader(*slog.Logger, string) *Reader { return &Reader{} }

// QueueStatsResult is what Reader.QueueStats found; the same fields as on
// Linux (netdev.go).
type QueueStatsResult struct {
	Stats  []QueueStats
	Queues []QueueNAPI
	NAPIs  []NAPI
	Err    error
}

// Ethtool fails with ErrNotLinux.
func (*Reader) Ethtool(string, []sysfs.NetDevice) (map[string]Channels, map[string]RSSTable, error) {
	return nil, nil, ErrNotLinux
}

// QueueStats fails with ErrNotLinux.
func (*Reader) QueueStats(string, []sysfs.NetDevice) QueueStatsResult {
	return QueueStatsResult{Err: ErrNotLinux}
}
