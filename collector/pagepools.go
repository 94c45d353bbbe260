package collector

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The pagepools collector exports the page pools of the net devices
// (netdev netlink page-pool-get and page-pool-stats-get, Linux 6.8+;
// internal/kernel/nic/pagepool.go): per pool, the NAPI that uses it, the
// pages in flight, and its allocation and recycling counters.
//
// Off by default: drivers keep a pool per RX queue (and more with XDP), so
// it adds 14 series per RX queue, about 1,800 on a host with two 64-queue
// NICs, while the per-queue qstats (queuestats) already show allocation
// failures. Turn it on (--collector.pagepools) to see why a queue's
// allocations go slow: a recycle ring that fills (recycle_ring_full), a
// cache that empties (alloc_empty), pages held elsewhere (inflight).
// The counters need a kernel built with CONFIG_PAGE_POOL_STATS; without it
// only info and inflight are exported.
func init() {
	register(factory{
		name: "pagepools", help: "Page pools of the net devices from netdev netlink: NAPI, pages in flight, allocation and recycling counters (one set per pool, about one pool per RX queue)",
		defaultEnabled: false, parts: snapshot.PartNetDevices | snapshot.PartPagePools,
		build: func(cfg *Config) Collector { return pagePoolCollector{exclude: cfg.DeviceExclude} },
	})
}

func pagePoolDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "page_pool", name), help, labels, nil)
}

var (
	pagePoolInfoDesc = pagePoolDesc("info",
		"A page pool of a device: the NAPI instance that allocates from it (empty: none named) and whether the driver has let go of it (detached 1: it only waits for its pages to come back).",
		"device", "pool_id", "napi_id", "detached")
	pagePoolInflightDesc = pagePoolDesc("inflight_pages",
		"Pages the pool handed out that have not come back (in rings, socket queues, caches).", "device", "pool_id")
	pagePoolInflightBytesDesc = pagePoolDesc("inflight_bytes",
		"Memory of those pages.", "device", "pool_id")
	// pagePoolStatDescs follow nic.PagePoolStatNames (struct page_pool_stats).
	pagePoolStatDescs = func() [nic.NumPagePoolStats]*prometheus.Desc {
		help := [nic.NumPagePoolStats]string{
			"Allocations served from the pool's lockless cache (the fast path).",
			"Order-0 allocations that went to the page allocator (the slow path).",
			"Higher-order allocations that went to the page allocator.",
			"Allocations that found the recycle ring empty and took the slow path.",
			"Allocations that refilled the cache from the recycle ring.",
			"Pages not recycled because they were on another NUMA node (waived).",
			"Pages recycled into the cache (from the NAPI that owns the pool).",
			"Pages not recycled into the cache because it was full.",
			"Pages recycled into the ring.",
			"Pages not recycled into the ring because it was full: released to the page allocator.",
			"Pages released because others still held a reference.",
		}
		var out [nic.NumPagePoolStats]*prometheus.Desc
		for i, name := range nic.PagePoolStatNames {
			out[i] = pagePoolDesc(strings.ReplaceAll(name, "-", "_")+"_total",
				help[i]+" (page-pool-stats "+name+")", "device", "pool_id")
		}
		return out
	}()
)

type pagePoolCollector struct {
	exclude *regexp.Regexp
}

func (c pagePoolCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	if snap.NetDevices == nil && snap.NetDevicesErr != nil {
		return snap.NetDevicesErr
	}
	for _, p := range snap.PagePools {
		if c.exclude != nil && c.exclude.MatchString(p.Device) {
			continue
		}
		id := strconv.FormatUint(p.ID, 10)
		detached := "0"
		if p.Detached {
			detached = "1"
		}
		ch <- prometheus.MustNewConstMetric(pagePoolInfoDesc, prometheus.GaugeValue, 1,
			p.Device, id, positiveOrEmpty(int(p.NAPIID)), detached)
		ch <- prometheus.MustNewConstMetric(pagePoolInflightDesc, prometheus.GaugeValue, float64(p.Inflight), p.Device, id)
		ch <- prometheus.MustNewConstMetric(pagePoolInflightBytesDesc, prometheus.GaugeValue, float64(p.InflightMem), p.Device, id)
		if !p.HasStats {
			continue
		}
		for i, v := range p.Stats {
			ch <- prometheus.MustNewConstMetric(pagePoolStatDescs[i], prometheus.CounterValue, float64(v), p.Device, id)
		}
	}
	return snap.PagePoolsErr
}
