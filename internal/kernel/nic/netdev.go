//go:build linux

package nic

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/genl"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// This file reads PartQueueStats from the "netdev" generic netlink family
// (Linux 6.x; Documentation/netlink/specs/netdev.yaml, numbers from
// include/uapi/linux/netdev.h), three unprivileged dumps per scrape:
//
//   - QSTATS_GET with scope=queue (Linux 6.9+): per-queue rx/tx packets and
//     bytes, and whatever else of the qstats counters (6.10+: drops,
//     allocation failures, checksum, HW GRO/GSO, tx stop/wake; qstats.go)
//     the driver keeps, for drivers that implement netdev_stat_ops →
//     QueueStats with Source "netlink";
//   - QUEUE_GET (Linux 6.8+): queue → NAPI ID → QueueNAPIs;
//   - NAPI_GET (Linux 6.8+): NAPI ID → IRQ and napi/<dev>-<id> thread,
//     and the instance's settings (6.13+, threaded 6.17+) → NAPIs.
//
// Devices without qstats fall back to the per-queue counters of their
// driver's `ethtool -S` statistics, read with the legacy SIOCETHTOOL ioctl
// (ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS, ETHTOOL_GSTATS: unprivileged) and
// the driver's naming pattern (parseQueueStatName) → Source "ethtool".
//
// Replies carry ifindexes of the exporter's network namespace; they are
// mapped to names only through devices of the configured sysfs verified by
// nicSession (see there for the netns limitation).

const (
	netdevGenlName = "netdev" // NETDEV_FAMILY_NAME

	netdevCmdQueueGet  = 10 // NETDEV_CMD_QUEUE_GET
	netdevCmdNAPIGet   = 11 // NETDEV_CMD_NAPI_GET
	netdevCmdQStatsGet = 12 // NETDEV_CMD_QSTATS_GET

	// enum NETDEV_A_QUEUE_*.
	netdevAQueueID      = 1 // NETDEV_A_QUEUE_ID, u32
	netdevAQueueIfindex = 2 // NETDEV_A_QUEUE_IFINDEX, u32
	netdevAQueueType    = 3 // NETDEV_A_QUEUE_TYPE, u32: enum netdev_queue_type
	netdevAQueueNAPIID  = 4 // NETDEV_A_QUEUE_NAPI_ID, u32; absent without NAPI

	// enum netdev_queue_type.
	netdevQueueTypeRx = 0 // NETDEV_QUEUE_TYPE_RX
	netdevQueueTypeTx = 1 // NETDEV_QUEUE_TYPE_TX (2, NETDEV_QUEUE_TYPE_XSK, is skipped)

	// enum NETDEV_A_NAPI_*.
	netdevANAPIIfindex = 1 // NETDEV_A_NAPI_IFINDEX, u32
	netdevANAPIID      = 2 // NETDEV_A_NAPI_ID, u32
	netdevANAPIIRQ     = 3 // NETDEV_A_NAPI_IRQ, u32; absent without an IRQ
	netdevANAPIPID     = 4 // NETDEV_A_NAPI_PID, u32; only in threaded mode
	// The instance's settings (see NAPISettings).
	netdevANAPIDeferHardIRQs     = 5 // NETDEV_A_NAPI_DEFER_HARD_IRQS, u32 (6.13)
	netdevANAPIGROFlushTimeout   = 6 // NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT, uint ns (6.13)
	netdevANAPIIRQSuspendTimeout = 7 // NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT, uint ns (6.13)
	netdevANAPIThreaded          = 8 // NETDEV_A_NAPI_THREADED, u32 enum netdev_napi_threaded (6.17; busy-poll 6.19)

	// enum NETDEV_A_QSTATS_*; the counters are "uint" (4 or 8 bytes).
	netdevAQStatsIfindex   = 1  // NETDEV_A_QSTATS_IFINDEX, u32
	netdevAQStatsQueueType = 2  // NETDEV_A_QSTATS_QUEUE_TYPE, u32
	netdevAQStatsQueueID   = 3  // NETDEV_A_QSTATS_QUEUE_ID, u32
	netdevAQStatsScope     = 4  // NETDEV_A_QSTATS_SCOPE, uint flags
	netdevAQStatsRxPackets = 8  // NETDEV_A_QSTATS_RX_PACKETS
	netdevAQStatsRxBytes   = 9  // NETDEV_A_QSTATS_RX_BYTES
	netdevAQStatsTxPackets = 10 // NETDEV_A_QSTATS_TX_PACKETS
	netdevAQStatsTxBytes   = 11 // NETDEV_A_QSTATS_TX_BYTES

	netdevQStatsScopeQueue = 1 // NETDEV_QSTATS_SCOPE_QUEUE
)

// netlinkQueue is one QUEUE_GET reply.
type netlinkQueue struct {
	Ifindex int
	Queue   int
	Kind    kernel.IRQKind // "" for queue types other than rx and tx
	NAPIID  uint32
}

func decodeNetdevQueue(b []byte) (netlinkQueue, error) {
	var q netlinkQueue
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return q, err
	}
	for ad.Next() {
		switch ad.Type() {
		case netdevAQueueID:
			q.Queue = int(ad.Uint32())
		case netdevAQueueIfindex:
			q.Ifindex = int(ad.Uint32())
		case netdevAQueueType:
			q.Kind = netdevQueueKind(ad.Uint32())
		case netdevAQueueNAPIID:
			q.NAPIID = ad.Uint32()
		}
	}
	if err := ad.Err(); err != nil {
		return q, fmt.Errorf("queue reply: %w", err)
	}
	return q, nil
}

func netdevQueueKind(t uint32) kernel.IRQKind {
	switch t {
	case netdevQueueTypeRx:
		return kernel.KindRx
	case netdevQueueTypeTx:
		return kernel.KindTx
	}
	return kernel.KindNone
}

// netlinkNAPI is one NAPI_GET reply.
type netlinkNAPI struct {
	Ifindex   int
	ID        uint32
	IRQ       int
	ThreadPID int
	Settings  NAPISettings
}

func decodeNetdevNAPI(b []byte) (netlinkNAPI, error) {
	var n netlinkNAPI
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return n, err
	}
	for ad.Next() {
		switch ad.Type() {
		case netdevANAPIIfindex:
			n.Ifindex = int(ad.Uint32())
		case netdevANAPIID:
			n.ID = ad.Uint32()
		case netdevANAPIIRQ:
			n.IRQ = int(ad.Uint32())
		case netdevANAPIPID:
			n.ThreadPID = int(ad.Uint32())
		default:
			decodeNAPISetting(ad, &n.Settings)
		}
	}
	if err := ad.Err(); err != nil {
		return n, fmt.Errorf("napi reply: %w", err)
	}
	return n, nil
}

// decodeNAPISetting keeps the attribute ad is at when it is one of the
// NAPI settings. They are read as "uint" (4 or 8 bytes) whatever the spec
// says, so that a kernel widening one (threaded went from nla_put_u32 to
// nla_put_uint in a patch revision) still decodes; a setting of another
// length is left unreported rather than failing the reply.
func decodeNAPISetting(ad *netlink.AttributeDecoder, st *NAPISettings) {
	switch ad.Type() {
	case netdevANAPIDeferHardIRQs, netdevANAPIGROFlushTimeout, netdevANAPIIRQSuspendTimeout, netdevANAPIThreaded:
	default:
		return
	}
	v, err := nlUint(ad.Bytes())
	if err != nil {
		return
	}
	switch ad.Type() {
	case netdevANAPIDeferHardIRQs:
		st.DeferHardIRQs, st.HasDeferHardIRQs = uint32(v), true
	case netdevANAPIGROFlushTimeout:
		st.GROFlushTimeout, st.HasGROFlushTimeout = v, true
	case netdevANAPIIRQSuspendTimeout:
		st.IRQSuspendTimeout, st.HasIRQSuspendTimeout = v, true
	case netdevANAPIThreaded:
		st.Threaded, st.HasThreaded = NAPIThreaded(v), true
	}
}

// netlinkQStats is one QSTATS_GET reply of scope queue. HasPackets and
// HasBytes say which counters the driver reported (the kernel leaves out
// the ones a driver does not keep).
type netlinkQStats struct {
	Ifindex              int
	Queue                int
	Kind                 kernel.IRQKind
	Packets, Bytes       uint64
	HasPackets, HasBytes bool
	Counters             []QueueCounter // the other counters of the queue's kind (qstats.go)
}

func decodeNetdevQStats(b []byte) (netlinkQStats, error) {
	var s netlinkQStats
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return s, err
	}
	var rxP, rxB, txP, txB *uint64
	var more qstatCounterSet
	uintAttr := func() *uint64 {
		v, err := nlUint(ad.Bytes())
		if err != nil {
			return nil
		}
		return &v
	}
	for ad.Next() {
		switch ad.Type() {
		case netdevAQStatsIfindex:
			s.Ifindex = int(ad.Uint32())
		case netdevAQStatsQueueType:
			s.Kind = netdevQueueKind(ad.Uint32())
		case netdevAQStatsQueueID:
			s.Queue = int(ad.Uint32())
		case netdevAQStatsRxPackets:
			rxP = uintAttr()
		case netdevAQStatsRxBytes:
			rxB = uintAttr()
		case netdevAQStatsTxPackets:
			txP = uintAttr()
		case netdevAQStatsTxBytes:
			txB = uintAttr()
		default:
			more.add(ad.Type(), ad.Bytes())
		}
	}
	if err := ad.Err(); err != nil {
		return s, fmt.Errorf("qstats reply: %w", err)
	}
	p, by := rxP, rxB
	if s.Kind == kernel.KindTx {
		p, by = txP, txB
	}
	if p != nil {
		s.Packets, s.HasPackets = *p, true
	}
	if by != nil {
		s.Bytes, s.HasBytes = *by, true
	}
	s.Counters = more.forKind(s.Kind)
	return s, nil
}

// nlUint decodes a netlink "uint" attribute (NLA_UINT: 4 or 8 bytes).
func nlUint(b []byte) (uint64, error) {
	switch len(b) {
	case 4:
		return uint64(binary.NativeEndian.Uint32(b)), nil
	case 8:
		return binary.NativeEndian.Uint64(b), nil
	}
	return 0, fmt.Errorf("uint attribute of %d bytes", len(b))
}

// QueueStatsResult is what Reader.QueueStats found.
type QueueStatsResult struct {
	Stats  []QueueStats
	Queues []QueueNAPI
	NAPIs  []NAPI
	Err    error
}

// QueueStats reads the netdev family's dumps and the ethtool -S
// fallback for the devices of the configured sysfs.
func (rd *Reader) QueueStats(sysPath string, devs []sysfs.NetDevice) QueueStatsResult {
	var r QueueStatsResult
	if len(devs) == 0 {
		return r
	}
	sess, err := openNICSession(rd, sysPath, devs)
	if err != nil {
		r.Err = rd.quiet("queue stats", err)
		return r
	}
	defer sess.Close()
	if len(sess.byName) == 0 {
		return r
	}
	var errs []error
	withQStats := map[string]bool{}
	if !rd.netdev.Unavailable() {
		conn, fam, err := sess.genl(rd.netdev)
		if err == nil {
			var qerr error
			r.Stats, qerr = readNetdevQStats(conn, fam, sess)
			errs = append(errs, rd.quiet("netdev qstats", qerr))
			for _, s := range r.Stats {
				withQStats[s.Device] = true
			}
			var err error
			r.Queues, err = readNetdevQueues(conn, fam, sess)
			errs = append(errs, rd.quiet("netdev queue-get", err))
			r.NAPIs, err = readNetdevNAPIs(conn, fam, sess)
			errs = append(errs, rd.quiet("netdev napi-get", err))
		} else {
			errs = append(errs, rd.quiet("netdev", err))
		}
	}
	for _, dev := range sess.names() {
		if withQStats[dev] {
			continue
		}
		stats, err := sess.ethtoolQueueStats(dev)
		if err != nil {
			errs = append(errs, rd.quiet("ethtool -S "+dev, err))
			continue
		}
		r.Stats = append(r.Stats, stats...)
	}
	rd.layouts.prune()
	sortQueueStats(r.Stats)
	problems := kernel.NewProblems("queue stats")
	for _, err := range errs {
		problems.Add(err) // nil errors are not problems
	}
	r.Err = problems.Err()
	return r
}

func sortQueueStats(s []QueueStats) {
	sort.Slice(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if a.Device != b.Device {
			return a.Device < b.Device
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Queue < b.Queue
	})
}

func readNetdevQStats(conn *genetlink.Conn, fam genl.Family, sess *nicSession) ([]QueueStats, error) {
	if !genl.HasOp(fam, netdevCmdQStatsGet, true) {
		return nil, fmt.Errorf("%w: no QSTATS_GET (Linux < 6.9)", genl.ErrUnsupported)
	}
	ae := netlink.NewAttributeEncoder()
	ae.Uint32(netdevAQStatsScope, netdevQStatsScopeQueue)
	req, err := ae.Encode()
	if err != nil {
		return nil, err
	}
	msgs, err := genl.Dump(conn, fam, netdevCmdQStatsGet, req)
	if err != nil {
		return nil, err
	}
	var out []QueueStats
	for _, m := range msgs {
		s, err := decodeNetdevQStats(m.Data)
		if err != nil {
			return out, err
		}
		dev, ok := sess.byIndex[s.Ifindex]
		// A queue is kept only with both counters, so that a missing one
		// is never exported as 0.
		if !ok || s.Kind == kernel.KindNone || !s.HasPackets || !s.HasBytes {
			continue
		}
		out = append(out, QueueStats{Device: dev, Queue: s.Queue, Kind: s.Kind,
			Packets: s.Packets, Bytes: s.Bytes, Counters: s.Counters, Source: "netlink"})
	}
	return out, nil
}

func readNetdevQueues(conn *genetlink.Conn, fam genl.Family, sess *nicSession) ([]QueueNAPI, error) {
	if !genl.HasOp(fam, netdevCmdQueueGet, true) {
		return nil, fmt.Errorf("%w: no QUEUE_GET (Linux < 6.8)", genl.ErrUnsupported)
	}
	msgs, err := genl.Dump(conn, fam, netdevCmdQueueGet, nil)
	if err != nil {
		return nil, err
	}
	var out []QueueNAPI
	for _, m := range msgs {
		q, err := decodeNetdevQueue(m.Data)
		if err != nil {
			return out, err
		}
		dev, ok := sess.byIndex[q.Ifindex]
		if !ok || q.Kind == kernel.KindNone {
			continue
		}
		out = append(out, QueueNAPI{Device: dev, Queue: q.Queue, Kind: q.Kind, NAPIID: q.NAPIID})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Device != b.Device {
			return a.Device < b.Device
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Queue < b.Queue
	})
	return out, nil
}

func readNetdevNAPIs(conn *genetlink.Conn, fam genl.Family, sess *nicSession) ([]NAPI, error) {
	if !genl.HasOp(fam, netdevCmdNAPIGet, true) {
		return nil, fmt.Errorf("%w: no NAPI_GET (Linux < 6.8)", genl.ErrUnsupported)
	}
	msgs, err := genl.Dump(conn, fam, netdevCmdNAPIGet, nil)
	if err != nil {
		return nil, err
	}
	var out []NAPI
	for _, m := range msgs {
		n, err := decodeNetdevNAPI(m.Data)
		if err != nil {
			return out, err
		}
		dev, ok := sess.byIndex[n.Ifindex]
		if !ok {
			continue
		}
		out = append(out, NAPI{ID: n.ID, Device: dev, IRQ: n.IRQ, ThreadPID: n.ThreadPID, Settings: n.Settings})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
