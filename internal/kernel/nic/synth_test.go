//go:build linux

package nic

import (
	"flag"
	"math"
	"testing"

	"github.com/mdlayher/netlink"
)

// The replies this machine cannot produce (a virtio_net NIC and veth have
// no page pools in the netdev family, no loss or offload qstats, no
// per-NAPI IRQ): synthetic dumps made to the attribute layout of the specs,
// written to testdata/netlink/*_synthetic.hex by
//
//	go test ./internal/kernel/nic -run TestSynthesizeFixtures -netlink.synthesize
//
// and decoded by the tests like the captured ones. Each attribute is
// encoded as the kernel encodes it: u32 as 4 bytes, "uint" (NLA_UINT) as 4
// bytes when the value fits and 8 otherwise (nla_put_uint), nests as
// nests. The values are made up; they model a 4-queue NIC whose driver
// keeps every counter, as ifindex 2.

var synthesize = flag.Bool("netlink.synthesize", false,
	"rewrite testdata/netlink/*_synthetic.hex (see synth_test.go)")

const synthIfindex = 2

// putUint encodes v as the kernel's nla_put_uint does.
func putUint(ae *netlink.AttributeEncoder, attr uint16, v uint64) {
	if v <= math.MaxUint32 {
		ae.Uint32(attr, uint32(v))
		return
	}
	ae.Uint64(attr, v)
}

// synthFixtures are the synthetic dumps: name → (note, messages).
func synthFixtures(t *testing.T) map[string]struct {
	note string
	msgs [][]byte
} {
	return map[string]struct {
		note string
		msgs [][]byte
	}{
		"qstats_synthetic": {"netdev QSTATS_GET dump, scope queue: attribute-set qstats of Documentation/netlink/specs/netdev.yaml\n" +
			"(Linux 6.18), numbers of enum NETDEV_A_QSTATS_* in include/uapi/linux/netdev.h; 4 rx and 4 tx queues\n" +
			"with every counter; rx-2 overruns and fails allocations, tx-1 stops", synthQStats(t)},
		"napi_synthetic": {"netdev NAPI_GET dump: attribute-set napi of netdev.yaml (Linux 6.18 + threaded busy-poll = 2 of 6.19),\n" +
			"enum NETDEV_A_NAPI_*; 4 NAPIs with IRQs 120-123; 8196 defers IRQs without a gro-flush-timeout,\n" +
			"8193 busy-polls in its thread, 8194 has an irq-suspend-timeout", synthNAPIs(t)},
		"pagepool_synthetic": {"netdev PAGE_POOL_GET dump: attribute-set page-pool of netdev.yaml (Linux 6.18), enum\n" +
			"NETDEV_A_PAGE_POOL_*; pools 11-14 of NAPIs 8193-8196, 15 detached, 16 of a gone device (ifindex 0)", synthPagePools(t)},
		"pagepool_stats_synthetic": {"netdev PAGE_POOL_STATS_GET dump (CONFIG_PAGE_POOL_STATS): attribute-set page-pool-stats of\n" +
			"netdev.yaml (Linux 6.18), enum NETDEV_A_PAGE_POOL_STATS_*, info nest of page-pool-info; pools 11-15", synthPagePoolStats(t)},
		"rings_synthetic": {"ethtool RINGS_GET dump: attribute-set rings of Documentation/netlink/specs/ethtool.yaml\n" +
			"(Linux 6.18), enum ETHTOOL_A_RINGS_* of include/uapi/linux/ethtool_netlink_generated.h; rx 1024 of 8192,\n" +
			"tx 1024 of 8192, with the attributes the exporter skips (buffer length, data split, CQE size, push)", synthRings(t)},
	}
}

func TestSynthesizeFixtures(t *testing.T) {
	if !*synthesize {
		t.Skip("run with -netlink.synthesize to rewrite the synthetic fixtures")
	}
	for name, f := range synthFixtures(t) {
		writeHexFixture(t, name, "synthetic (synth_test.go), not captured: "+f.note, f.msgs)
	}
}

func synthQStats(t *testing.T) [][]byte {
	var out [][]byte
	for q := range 4 {
		out = append(out, encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netdevAQStatsIfindex, synthIfindex)
			ae.Uint32(netdevAQStatsQueueType, netdevQueueTypeRx)
			ae.Uint32(netdevAQStatsQueueID, uint32(q))
			putUint(ae, netdevAQStatsRxPackets, 5_000_000_000+uint64(q))
			putUint(ae, netdevAQStatsRxBytes, 7_500_000_000_000+uint64(q))
			for _, c := range QStatCounters {
				if c.Kind != "rx" {
					continue
				}
				v := uint64(q*100 + int(c.Attr))
				if q == 2 && (c.Name == "rx-hw-drop-overruns" || c.Name == "rx-hw-drops" || c.Name == "rx-alloc-fail") {
					v = 40_000 + uint64(c.Attr)
				}
				putUint(ae, c.Attr, v)
			}
		}))
	}
	for q := range 4 {
		out = append(out, encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netdevAQStatsIfindex, synthIfindex)
			ae.Uint32(netdevAQStatsQueueType, netdevQueueTypeTx)
			ae.Uint32(netdevAQStatsQueueID, uint32(q))
			putUint(ae, netdevAQStatsTxPackets, 3_000_000+uint64(q))
			putUint(ae, netdevAQStatsTxBytes, 4_500_000_000+uint64(q))
			for _, c := range QStatCounters {
				if c.Kind == "tx" {
					putUint(ae, c.Attr, uint64(q*100+int(c.Attr)))
				}
			}
		}))
	}
	return out
}

func synthNAPIs(t *testing.T) [][]byte {
	var out [][]byte
	for i := range 4 {
		id := uint32(8193 + i)
		out = append(out, encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netdevANAPIID, id)
			ae.Uint32(netdevANAPIIfindex, synthIfindex)
			ae.Uint32(netdevANAPIIRQ, uint32(120+i))
			threaded := NAPIThreadedDisabled
			if id == 8193 {
				threaded = NAPIThreadedBusyPoll
				ae.Uint32(netdevANAPIPID, 4242)
			}
			ae.Uint32(netdevANAPIThreaded, uint32(threaded))
			ae.Uint32(netdevANAPIDeferHardIRQs, 2)
			gro, suspend := uint64(200_000), uint64(0)
			if id == 8196 {
				gro = 0
			}
			if id == 8194 {
				suspend = 20_000_000
			}
			putUint(ae, netdevANAPIIRQSuspendTimeout, suspend)
			putUint(ae, netdevANAPIGROFlushTimeout, gro)
		}))
	}
	return out
}

func synthPagePools(t *testing.T) [][]byte {
	var out [][]byte
	for i := range 6 {
		id := uint64(11 + i)
		out = append(out, encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
			putUint(ae, netdevAPagePoolID, id)
			if id != 16 {
				ae.Uint32(netdevAPagePoolIfindex, synthIfindex)
			}
			if id <= 14 {
				putUint(ae, netdevAPagePoolNAPIID, 8193+uint64(i))
			}
			putUint(ae, netdevAPagePoolInflight, 1024+uint64(i))
			putUint(ae, netdevAPagePoolInflightMem, (1024+uint64(i))*4096)
			if id >= 15 {
				putUint(ae, netdevAPagePoolDetachTime, 86_400)
			}
		}))
	}
	return out
}

func synthPagePoolStats(t *testing.T) [][]byte {
	var out [][]byte
	for i := range 5 {
		id := uint64(11 + i)
		out = append(out, encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Nested(netdevAPagePoolStatsInfo, func(nae *netlink.AttributeEncoder) error {
				putUint(nae, netdevAPagePoolID, id)
				nae.Uint32(netdevAPagePoolIfindex, synthIfindex)
				return nil
			})
			for k := range NumPagePoolStats {
				putUint(ae, uint16(netdevAPagePoolStatsFirst+k), id*1_000_000_000+uint64(k))
			}
		}))
	}
	return out
}

func synthRings(t *testing.T) [][]byte {
	return [][]byte{encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
		ethtoolHeaderNest(ae, ethtoolARingsHeader, synthIfindex, "ens1f0np0")
		ae.Uint32(ethtoolARingsRxMax, 8192)
		ae.Uint32(ethtoolARingsTxMax, 8192)
		ae.Uint32(ethtoolARingsRx, 1024)
		ae.Uint32(ethtoolARingsTx, 1024)
		ae.Uint32(10, 0)  // ETHTOOL_A_RINGS_RX_BUF_LEN
		ae.Uint8(11, 0)   // ETHTOOL_A_RINGS_TCP_DATA_SPLIT
		ae.Uint32(12, 64) // ETHTOOL_A_RINGS_CQE_SIZE
		ae.Uint8(13, 0)   // ETHTOOL_A_RINGS_TX_PUSH
		ae.Uint8(14, 0)   // ETHTOOL_A_RINGS_RX_PUSH
	})}
}
