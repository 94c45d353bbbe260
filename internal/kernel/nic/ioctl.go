//go:build linux

package nic

import (
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/genl"
	"golang.org/x/sys/unix"
)

// The ethtool -S fallback over the SIOCETHTOOL ioctl, for devices whose
// driver has no netdev qstats. Hand-written rather than
// github.com/safchain/ethtool: the ioctls must go to a socket in the
// Reader's network namespace (socketInNetNS), and the counter names are
// kept per device between scrapes (statsLayoutCache) so that a scrape costs
// one ETHTOOL_GSTATS; that library opens its own socket in the caller's
// namespace and reads the names on every call.

// Legacy ethtool ioctl commands (include/uapi/linux/ethtool.h). All three
// are in the kernel's list of commands anyone may issue.
const (
	ethtoolGSSetInfo = 0x37 // ETHTOOL_GSSET_INFO
	ethtoolGStrings  = 0x1b // ETHTOOL_GSTRINGS
	ethtoolGStats    = 0x1d // ETHTOOL_GSTATS
	ethSSStats       = 1    // ETH_SS_STATS
	ethGStringLen    = 32   // ETH_GSTRING_LEN
	// maxEthtoolStats bounds the buffers: no driver has this many counters.
	maxEthtoolStats = 1 << 16
)

// ifreqData is struct ifreq with ifr_data, padded to the kernel's size.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [16]byte
}

// ethtoolIoctl issues SIOCETHTOOL for dev with buf as the command struct.
func ethtoolIoctl(fd int, dev string, buf []byte) error {
	var ifr ifreqData
	copy(ifr.name[:unix.IFNAMSIZ-1], dev)
	ifr.data = unsafe.Pointer(&buf[0])
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
	runtime.KeepAlive(buf)
	if errno != 0 {
		return errno
	}
	return nil
}

// statsCount is ETHTOOL_GSSET_INFO for ETH_SS_STATS, falling back to the
// n_stats of ETHTOOL_GDRVINFO for drivers without get_sset_count.
func (s *nicSession) statsCount(dev string) (int, error) {
	buf := make([]byte, 24) // cmd, reserved, u64 sset_mask, u32 data[1]
	binary.NativeEndian.PutUint32(buf[0:], ethtoolGSSetInfo)
	binary.NativeEndian.PutUint64(buf[8:], 1<<ethSSStats)
	if err := ethtoolIoctl(s.ioctlFD, dev, buf); err == nil {
		if binary.NativeEndian.Uint64(buf[8:])&(1<<ethSSStats) == 0 {
			return 0, nil
		}
		return int(binary.NativeEndian.Uint32(buf[16:])), nil
	}
	info, err := unix.IoctlGetEthtoolDrvinfo(s.ioctlFD, dev)
	if err != nil {
		return 0, err
	}
	return int(info.N_stats), nil
}

// The kernel fills as many entries as the driver has now, not as many as
// the caller asked for; a counter count that grew between two ioctls (a
// channel change) must not overrun the buffer, hence the slack.
func statsSlack(n int) int { return 2*n + 64 }

func (s *nicSession) statNames(dev string, n int) ([]string, error) {
	buf := make([]byte, 12+statsSlack(n)*ethGStringLen)
	binary.NativeEndian.PutUint32(buf[0:], ethtoolGStrings)
	binary.NativeEndian.PutUint32(buf[4:], ethSSStats)
	binary.NativeEndian.PutUint32(buf[8:], uint32(n))
	if err := ethtoolIoctl(s.ioctlFD, dev, buf); err != nil {
		return nil, err
	}
	got := int(binary.NativeEndian.Uint32(buf[8:]))
	if got != n {
		return nil, fmt.Errorf("%w: %d stat names, expected %d", errStatsChanged, got, n)
	}
	names := make([]string, n)
	for i := range names {
		raw := buf[12+i*ethGStringLen : 12+(i+1)*ethGStringLen]
		if j := strings.IndexByte(string(raw), 0); j >= 0 {
			raw = raw[:j]
		}
		names[i] = string(raw)
	}
	return names, nil
}

func (s *nicSession) statValues(dev string, n int) ([]uint64, error) {
	buf := make([]byte, 8+statsSlack(n)*8)
	binary.NativeEndian.PutUint32(buf[0:], ethtoolGStats)
	binary.NativeEndian.PutUint32(buf[4:], uint32(n))
	if err := ethtoolIoctl(s.ioctlFD, dev, buf); err != nil {
		return nil, err
	}
	got := int(binary.NativeEndian.Uint32(buf[4:]))
	if got != n {
		return nil, fmt.Errorf("%w: %d stats, expected %d", errStatsChanged, got, n)
	}
	vals := make([]uint64, n)
	for i := range vals {
		vals[i] = binary.NativeEndian.Uint64(buf[8+8*i:])
	}
	return vals, nil
}

var errStatsChanged = errors.New("the driver's statistics changed while being read")

// statsLayout is what a device's ethtool -S names mean per queue, cached
// per device so that a scrape costs two ioctls (count, values), not the
// 32-byte-per-counter name table.
type statsLayout struct {
	n       int
	driver  string
	fields  []queueStatIndex // empty: the driver has no per-queue packets/bytes
	retryAt time.Time        // for an empty layout: ask again after this
	seen    time.Time
}

type queueStatIndex struct {
	index int
	queueStatName
}

type statsLayoutKey struct {
	nsIno   uint64
	ifindex int
	dev     string
}

// statsLayoutCache keeps each device's counter layout between scrapes.
type statsLayoutCache struct {
	sync.Mutex
	m map[statsLayoutKey]*statsLayout
}

// prune forgets devices not seen for a while.
func (c *statsLayoutCache) prune() {
	c.Lock()
	defer c.Unlock()
	for k, l := range c.m {
		if time.Since(l.seen) > 2*genl.FamilyRetry {
			delete(c.m, k)
		}
	}
}

// ethtoolQueueStats reads dev's per-queue counters through SIOCETHTOOL.
func (s *nicSession) ethtoolQueueStats(dev string) ([]QueueStats, error) {
	key := statsLayoutKey{s.nsIno, s.byName[dev], dev}
	now := time.Now()
	s.r.layouts.Lock()
	layout := s.r.layouts.m[key]
	if layout != nil {
		layout.seen = now
	}
	s.r.layouts.Unlock()
	// Layouts are never changed once stored, only replaced.
	if layout != nil && len(layout.fields) == 0 && now.Before(layout.retryAt) {
		return nil, nil
	}
	n, err := s.statsCount(dev)
	if err != nil {
		return nil, err
	}
	if n <= 0 || n > maxEthtoolStats {
		s.storeLayout(key, &statsLayout{n: n, retryAt: now.Add(genl.FamilyRetry), seen: now})
		return nil, nil
	}
	if layout == nil || layout.n != n || len(layout.fields) == 0 {
		names, err := s.statNames(dev, n)
		if errors.Is(err, errStatsChanged) {
			return nil, nil // read again next scrape
		}
		if err != nil {
			return nil, err
		}
		driver := s.drivers[dev]
		if info, err := unix.IoctlGetEthtoolDrvinfo(s.ioctlFD, dev); err == nil {
			driver = unix.ByteSliceToString(info.Driver[:])
		}
		layout = &statsLayout{n: n, driver: driver, fields: queueStatLayout(driver, names), seen: now}
		if len(layout.fields) == 0 {
			layout.retryAt = now.Add(genl.FamilyRetry)
		}
		s.storeLayout(key, layout)
		if len(layout.fields) == 0 {
			return nil, nil
		}
	}
	vals, err := s.statValues(dev, n)
	if errors.Is(err, errStatsChanged) {
		// Channels changed under the read: the names are read again next time.
		s.storeLayout(key, nil)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return applyQueueStatLayout(dev, layout.fields, vals), nil
}

func (s *nicSession) storeLayout(key statsLayoutKey, l *statsLayout) {
	s.r.layouts.Lock()
	defer s.r.layouts.Unlock()
	if l == nil {
		delete(s.r.layouts.m, key)
		return
	}
	s.r.layouts.m[key] = l
}

// queueStatLayout keeps the per-queue packets/bytes counters of names.
func queueStatLayout(driver string, names []string) []queueStatIndex {
	var out []queueStatIndex
	for i, name := range names {
		if f, ok := parseQueueStatName(driver, name); ok {
			out = append(out, queueStatIndex{i, f})
		}
	}
	return out
}

// applyQueueStatLayout sums the counters of each (kind, queue); a queue is
// exported only when the driver has both its packets and bytes.
func applyQueueStatLayout(dev string, fields []queueStatIndex, vals []uint64) []QueueStats {
	type qk struct {
		kind  kernel.IRQKind
		queue int
	}
	type acc struct {
		packets, bytes       uint64
		hasPackets, hasBytes bool
	}
	m := map[qk]*acc{}
	var order []qk
	for _, f := range fields {
		if f.index >= len(vals) {
			continue
		}
		k := qk{f.Kind, f.Queue}
		a := m[k]
		if a == nil {
			a = &acc{}
			m[k] = a
			order = append(order, k)
		}
		if f.Bytes {
			a.bytes += vals[f.index]
			a.hasBytes = true
		} else {
			a.packets += vals[f.index]
			a.hasPackets = true
		}
	}
	var out []QueueStats
	for _, k := range order {
		a := m[k]
		if !a.hasPackets || !a.hasBytes {
			continue
		}
		out = append(out, QueueStats{Device: dev, Queue: k.queue, Kind: k.kind,
			Packets: a.packets, Bytes: a.bytes, Source: "ethtool"})
	}
	sortQueueStats(out)
	return out
}

// queueStatName is what one ethtool -S counter name means.
type queueStatName struct {
	Queue int
	Kind  kernel.IRQKind // kernel.KindRx or kernel.KindTx
	Bytes bool           // false: packets
}

// queueStatPattern is one driver family's per-queue counter naming. The
// regexp's groups are named kind (rx|tx), queue (decimal) and unit
// (packets|bytes|cnt); a counter matched by several names of the same
// (kind, queue, unit), as bnxt's unicast/multicast/broadcast, is summed.
type queueStatPattern struct {
	drivers []string // nil: any driver
	re      *regexp.Regexp
}

var queueStatPatterns = []queueStatPattern{
	// virtio_net, ixgbe, ixgbevf, igb, igc, ice, hv_netvsc, ifb, tun, ...:
	// rx_queue_0_packets, tx_queue_3_bytes.
	{nil, regexp.MustCompile(`^(?P<kind>rx|tx)_queue_(?P<queue>\d+)_(?P<unit>packets|bytes)$`)},
	// i40e, iavf, (older ice): rx-0.packets, tx-3.bytes.
	{nil, regexp.MustCompile(`^(?P<kind>rx|tx)-(?P<queue>\d+)\.(?P<unit>packets|bytes)$`)},
	// mlx5, mlx4: rx0_packets, tx3_bytes.
	{nil, regexp.MustCompile(`^(?P<kind>rx|tx)(?P<queue>\d+)_(?P<unit>packets|bytes)$`)},
	// mana: rx_0_packets, tx_3_bytes.
	{nil, regexp.MustCompile(`^(?P<kind>rx|tx)_(?P<queue>\d+)_(?P<unit>packets|bytes)$`)},
	// ena: queue_0_rx_cnt, queue_0_tx_bytes.
	{nil, regexp.MustCompile(`^queue_(?P<queue>\d+)_(?P<kind>rx|tx)_(?P<unit>cnt|bytes)$`)},
	// bnxt_en: "[0]: rx_ucast_packets" + mcast + bcast, likewise bytes.
	{[]string{"bnxt_en"}, regexp.MustCompile(`^\[(?P<queue>\d+)\]: (?P<kind>rx|tx)_(?:ucast|mcast|bcast)_(?P<unit>packets|bytes)$`)},
	// Not veth: its rx_queue_N_xdp_packets/_bytes count only what goes
	// through the queue's NAPI (XDP attached, or GRO with GRO-eligible
	// packets); measured on 6.18, a 40000-packet UDP flood left them at 0
	// with GRO on. Exported as queue totals they would be wrong.
}

// parseQueueStatName tells what an ethtool -S counter of driver means:
// which queue, rx or tx, packets or bytes. ok is false for every counter
// that is not a per-queue packets or bytes total.
func parseQueueStatName(driver, name string) (queueStatName, bool) {
	for _, p := range queueStatPatterns {
		if p.drivers != nil && !slices.Contains(p.drivers, driver) {
			continue
		}
		m := p.re.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		var f queueStatName
		for i, g := range p.re.SubexpNames() {
			switch g {
			case "kind":
				f.Kind = kernel.IRQKind(m[i])
			case "queue":
				q, err := strconv.Atoi(m[i])
				if err != nil || q > 1<<20 {
					return queueStatName{}, false
				}
				f.Queue = q
			case "unit":
				f.Bytes = m[i] == "bytes"
			}
		}
		return f, true
	}
	return queueStatName{}, false
}
