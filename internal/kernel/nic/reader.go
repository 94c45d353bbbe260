//go:build linux

package nic

import (
	"io"
	"log/slog"
	"sync"

	"github.com/netirq/netirq_exporter/internal/kernel/genl"
)

// Reader reads the NIC parts of a snapshot over generic netlink and the
// ethtool ioctl. It owns what the readers remember between scrapes (the
// resolved families, each device's ethtool -S layout, which debug messages
// were logged lately); the snapshot Source keeps one.
type Reader struct {
	netNS  string // network namespace file (/run/netns/NAME) whose devices are asked about; "" the exporter's own
	logger *slog.Logger

	ethtool, netdev *genl.FamilyCache
	debugSeen       sync.Map // message → time.Time of its last log
	layouts         statsLayoutCache
}

// NewReader returns a Reader that logs through logger (nil: nowhere) and
// asks the devices of the network namespace file netNS ("": the
// exporter's own namespace; tests point it at a lab namespace whose sysfs
// they read too).
func NewReader(logger *slog.Logger, netNS string) *Reader {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Reader{netNS: netNS, logger: logger,
		ethtool: genl.NewFamilyCache(ethtoolGenlName), netdev: genl.NewFamilyCache(netdevGenlName),
		layouts: statsLayoutCache{m: map[statsLayoutKey]*statsLayout{}}}
}
