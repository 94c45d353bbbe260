//go:build linux

package nic

import (
	"errors"
	"fmt"
	"sort"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/netirq/netirq_exporter/internal/kernel/genl"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// Page pools from the netdev family (Linux 6.8+; attribute sets
// "page-pool" and "page-pool-stats" of Documentation/netlink/specs/netdev.yaml,
// numbers from include/uapi/linux/netdev.h): PAGE_POOL_GET lists the pools
// that belong to a net device (id, ifindex, the NAPI that uses the pool,
// pages in flight); PAGE_POOL_STATS_GET adds their allocation and
// recycling counters, only on kernels built with CONFIG_PAGE_POOL_STATS
// (the family then lacks the command, as on the 6.18 build VM). Both are
// unprivileged dumps. A pool is usually one per RX queue of a driver that
// uses page_pool (mlx5, bnxt, ice, gve, fbnic ...; veth only with XDP).

const (
	netdevCmdPagePoolGet      = 5 // NETDEV_CMD_PAGE_POOL_GET
	netdevCmdPagePoolStatsGet = 9 // NETDEV_CMD_PAGE_POOL_STATS_GET

	// enum NETDEV_A_PAGE_POOL_*.
	netdevAPagePoolID          = 1 // uint
	netdevAPagePoolIfindex     = 2 // u32; 0 once the pool outlived its netdev
	netdevAPagePoolNAPIID      = 3 // uint
	netdevAPagePoolInflight    = 4 // uint: pages handed out and not returned
	netdevAPagePoolInflightMem = 5 // uint: bytes of those pages
	netdevAPagePoolDetachTime  = 6 // uint: CLOCK_BOOTTIME seconds; present once the driver let go of the pool

	// enum NETDEV_A_PAGE_POOL_STATS_*: INFO (a nest of the pool's id and
	// ifindex), then the counters from attribute 8 on, in
	// PagePoolStatNames order.
	netdevAPagePoolStatsInfo  = 1
	netdevAPagePoolStatsFirst = 8 // NETDEV_A_PAGE_POOL_STATS_ALLOC_FAST
)

// NumPagePoolStats is the number of page pool counters.
const NumPagePoolStats = 11

// PagePoolStatNames are the spec's names of the counters of
// PAGE_POOL_STATS_GET (struct page_pool_stats), attribute 8 + index.
var PagePoolStatNames = [NumPagePoolStats]string{
	"alloc-fast", "alloc-slow", "alloc-slow-high-order", "alloc-empty", "alloc-refill", "alloc-waive",
	"recycle-cached", "recycle-cache-full", "recycle-ring", "recycle-ring-full", "recycle-released-refcnt",
}

// PagePool is one page pool of a net device.
type PagePool struct {
	ID          uint64
	Device      string
	NAPIID      uint32 // 0 when the pool names no NAPI
	Inflight    uint64 // pages allocated and not yet returned
	InflightMem uint64 // their bytes
	Detached    bool   // the driver released the pool; it waits for its pages
	// Stats are the counters in PagePoolStatNames order; HasStats is false
	// on kernels without CONFIG_PAGE_POOL_STATS.
	Stats    [NumPagePoolStats]uint64
	HasStats bool
}

// netlinkPagePool is one PAGE_POOL_GET or PAGE_POOL_STATS_GET reply.
type netlinkPagePool struct {
	Ifindex int
	Pool    PagePool // without Device
}

func decodePagePool(b []byte) (netlinkPagePool, error) {
	var p netlinkPagePool
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return p, err
	}
	for ad.Next() {
		v, _ := nlUint(ad.Bytes()) // a malformed number reads as 0
		switch ad.Type() {
		case netdevAPagePoolID:
			p.Pool.ID = v
		case netdevAPagePoolIfindex:
			p.Ifindex = int(uint32(v)) // a u32 in the spec
		case netdevAPagePoolNAPIID:
			p.Pool.NAPIID = uint32(v)
		case netdevAPagePoolInflight:
			p.Pool.Inflight = v
		case netdevAPagePoolInflightMem:
			p.Pool.InflightMem = v
		case netdevAPagePoolDetachTime:
			p.Pool.Detached = true
		}
	}
	if err := ad.Err(); err != nil {
		return p, fmt.Errorf("page pool reply: %w", err)
	}
	return p, nil
}

func decodePagePoolStats(b []byte) (netlinkPagePool, error) {
	var p netlinkPagePool
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return p, err
	}
	for ad.Next() {
		t := ad.Type()
		switch {
		case t == netdevAPagePoolStatsInfo:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					v, _ := nlUint(nad.Bytes())
					switch nad.Type() {
					case netdevAPagePoolID:
						p.Pool.ID = v
					case netdevAPagePoolIfindex:
						p.Ifindex = int(uint32(v))
					}
				}
				return nil
			})
		case t >= netdevAPagePoolStatsFirst && t < netdevAPagePoolStatsFirst+NumPagePoolStats:
			if v, err := nlUint(ad.Bytes()); err == nil {
				p.Pool.Stats[t-netdevAPagePoolStatsFirst] = v
				p.Pool.HasStats = true
			}
		}
	}
	if err := ad.Err(); err != nil {
		return p, fmt.Errorf("page pool stats reply: %w", err)
	}
	return p, nil
}

// PagePoolsResult is what Reader.PagePools found.
type PagePoolsResult struct {
	Pools []PagePool // by device, then ID
	Err   error
}

// PagePools dumps the page pools of the devices of the configured sysfs
// and, where the kernel keeps them, their counters. A pool whose device
// is gone (ifindex 0) or not one of the verified devices is left out.
func (rd *Reader) PagePools(sysPath string, devs []sysfs.NetDevice) PagePoolsResult {
	var r PagePoolsResult
	if len(devs) == 0 || rd.netdev.Unavailable() {
		return r
	}
	sess, err := openNICSession(rd, sysPath, devs)
	if err != nil {
		r.Err = rd.quiet("page pools", err)
		return r
	}
	defer sess.Close()
	if len(sess.byName) == 0 {
		return r
	}
	conn, fam, err := sess.genl(rd.netdev)
	if err != nil {
		r.Err = rd.quiet("page pools", err)
		return r
	}
	pools, err := readPagePools(conn, fam, sess)
	statsErr := readPagePoolStats(conn, fam, sess, pools)
	r.Err = errors.Join(rd.quiet("netdev page-pool-get", err), rd.quiet("netdev page-pool-stats-get", statsErr))
	for _, p := range pools {
		r.Pools = append(r.Pools, *p)
	}
	sort.Slice(r.Pools, func(i, j int) bool {
		a, b := r.Pools[i], r.Pools[j]
		if a.Device != b.Device {
			return a.Device < b.Device
		}
		return a.ID < b.ID
	})
	return r
}

func readPagePools(conn *genetlink.Conn, fam genl.Family, sess *nicSession) (map[uint64]*PagePool, error) {
	if !genl.HasOp(fam, netdevCmdPagePoolGet, true) {
		return nil, fmt.Errorf("%w: no PAGE_POOL_GET (Linux < 6.8 or no CONFIG_PAGE_POOL)", genl.ErrUnsupported)
	}
	msgs, err := genl.Dump(conn, fam, netdevCmdPagePoolGet, nil)
	if err != nil {
		return nil, err
	}
	out := map[uint64]*PagePool{}
	for _, m := range msgs {
		p, err := decodePagePool(m.Data)
		if err != nil {
			return out, err
		}
		if dev, ok := sess.byIndex[p.Ifindex]; ok && p.Pool.ID != 0 {
			p.Pool.Device = dev
			out[p.Pool.ID] = &p.Pool
		}
	}
	return out, nil
}

// readPagePoolStats adds the counters to the pools PAGE_POOL_GET listed.
func readPagePoolStats(conn *genetlink.Conn, fam genl.Family, sess *nicSession, pools map[uint64]*PagePool) error {
	if len(pools) == 0 {
		return nil
	}
	if !genl.HasOp(fam, netdevCmdPagePoolStatsGet, true) {
		return fmt.Errorf("%w: no PAGE_POOL_STATS_GET (no CONFIG_PAGE_POOL_STATS)", genl.ErrUnsupported)
	}
	msgs, err := genl.Dump(conn, fam, netdevCmdPagePoolStatsGet, nil)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		s, err := decodePagePoolStats(m.Data)
		if err != nil {
			return err
		}
		if p, ok := pools[s.Pool.ID]; ok && sess.byIndex[s.Ifindex] == p.Device {
			p.Stats, p.HasStats = s.Pool.Stats, s.Pool.HasStats
		}
	}
	return nil
}
