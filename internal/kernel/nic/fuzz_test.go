//go:build linux

package nic

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// Fuzz targets of the netlink reply decoders: arbitrary attribute bytes
// must not panic, errors stay short, and what a decoder accepts survives a
// round trip (encoded again as the kernel would, decoded to the same
// value), so no field is filled from the wrong attribute. Seeds: every
// reply under testdata/netlink.

// addNetlinkSeeds adds each message of the fixtures whose names start with
// one of prefixes.
func addNetlinkSeeds(f *testing.F, prefixes ...string) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "netlink", "*.hex"))
	for _, file := range files {
		base := filepath.Base(file)
		keep := false
		for _, p := range prefixes {
			keep = keep || strings.HasPrefix(base, p)
		}
		if !keep {
			continue
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range parseHexLines(f, string(raw)) {
			f.Add(m)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{4, 0, 1, 0})
}

func parseHexLines(tb testing.TB, text string) [][]byte {
	var out [][]byte
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b, err := hex.DecodeString(line)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func mustEncode(t *testing.T, f func(ae *netlink.AttributeEncoder)) []byte {
	ae := netlink.NewAttributeEncoder()
	f(ae)
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzDecodeNetdevNAPI(f *testing.F) {
	addNetlinkSeeds(f, "napi_")
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := decodeNetdevNAPI(b)
		testutil.CheckErrLen(t, err)
		if err != nil {
			return
		}
		again, err := decodeNetdevNAPI(mustEncode(t, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netdevANAPIID, n.ID)
			ae.Uint32(netdevANAPIIfindex, uint32(n.Ifindex))
			ae.Uint32(netdevANAPIIRQ, uint32(n.IRQ))
			ae.Uint32(netdevANAPIPID, uint32(n.ThreadPID))
			s := n.Settings
			if s.HasDeferHardIRQs {
				ae.Uint32(netdevANAPIDeferHardIRQs, s.DeferHardIRQs)
			}
			if s.HasGROFlushTimeout {
				putUint(ae, netdevANAPIGROFlushTimeout, s.GROFlushTimeout)
			}
			if s.HasIRQSuspendTimeout {
				putUint(ae, netdevANAPIIRQSuspendTimeout, s.IRQSuspendTimeout)
			}
			if s.HasThreaded {
				ae.Uint32(netdevANAPIThreaded, uint32(s.Threaded))
			}
		}))
		if err != nil || again != n {
			t.Fatalf("round trip: %+v, %v; decoded %+v", again, err, n)
		}
	})
}

func FuzzDecodeNetdevQStats(f *testing.F) {
	addNetlinkSeeds(f, "qstats_")
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeNetdevQStats(b)
		testutil.CheckErrLen(t, err)
		if err != nil {
			return
		}
		last := -1
		for _, c := range s.Counters {
			i := qstatIndex[qstatAttr(t, c.Name)]
			if i <= last || QStatCounters[i].Kind != s.Kind || s.Kind == kernel.KindNone {
				t.Fatalf("counters out of order, duplicated or of another kind: %+v", s)
			}
			last = i
		}
		qtype := uint32(netdevQueueTypeRx)
		pAttr, bAttr := uint16(netdevAQStatsRxPackets), uint16(netdevAQStatsRxBytes)
		if s.Kind == kernel.KindTx {
			qtype, pAttr, bAttr = netdevQueueTypeTx, netdevAQStatsTxPackets, netdevAQStatsTxBytes
		}
		if s.Kind == kernel.KindNone {
			return // another queue type: nothing kept to compare
		}
		again, err := decodeNetdevQStats(mustEncode(t, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netdevAQStatsIfindex, uint32(s.Ifindex))
			ae.Uint32(netdevAQStatsQueueType, qtype)
			ae.Uint32(netdevAQStatsQueueID, uint32(s.Queue))
			if s.HasPackets {
				putUint(ae, pAttr, s.Packets)
			}
			if s.HasBytes {
				putUint(ae, bAttr, s.Bytes)
			}
			for _, c := range s.Counters {
				putUint(ae, qstatAttr(t, c.Name), c.Value)
			}
		}))
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip: %+v, %v; decoded %+v", again, err, s)
		}
	})
}

func FuzzDecodePagePool(f *testing.F) {
	addNetlinkSeeds(f, "pagepool_")
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePagePool(b)
		testutil.CheckErrLen(t, err)
		if err == nil {
			again, err := decodePagePool(mustEncode(t, func(ae *netlink.AttributeEncoder) {
				putUint(ae, netdevAPagePoolID, p.Pool.ID)
				ae.Uint32(netdevAPagePoolIfindex, uint32(p.Ifindex))
				putUint(ae, netdevAPagePoolNAPIID, uint64(p.Pool.NAPIID))
				putUint(ae, netdevAPagePoolInflight, p.Pool.Inflight)
				putUint(ae, netdevAPagePoolInflightMem, p.Pool.InflightMem)
				if p.Pool.Detached {
					putUint(ae, netdevAPagePoolDetachTime, 1)
				}
			}))
			if err != nil || again != p {
				t.Fatalf("page pool round trip: %+v, %v; decoded %+v", again, err, p)
			}
		}
		s, err := decodePagePoolStats(b)
		testutil.CheckErrLen(t, err)
		if err != nil {
			return
		}
		again, err := decodePagePoolStats(mustEncode(t, func(ae *netlink.AttributeEncoder) {
			ae.Nested(netdevAPagePoolStatsInfo, func(nae *netlink.AttributeEncoder) error {
				putUint(nae, netdevAPagePoolID, s.Pool.ID)
				nae.Uint32(netdevAPagePoolIfindex, uint32(s.Ifindex))
				return nil
			})
			if s.Pool.HasStats {
				for k, v := range s.Pool.Stats {
					putUint(ae, uint16(netdevAPagePoolStatsFirst+k), v)
				}
			}
		}))
		if err != nil || again != s {
			t.Fatalf("page pool stats round trip: %+v, %v; decoded %+v", again, err, s)
		}
	})
}

func FuzzDecodeRings(f *testing.F) {
	addNetlinkSeeds(f, "rings_", "channels_")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, dev, err := decodeRings(b)
		testutil.CheckErrLen(t, err)
		if err != nil {
			return
		}
		again, dev2, err := decodeRings(mustEncode(t, func(ae *netlink.AttributeEncoder) {
			ethtoolHeaderNest(ae, ethtoolARingsHeader, dev.Index, dev.Name)
			for attr, v := range map[uint16]uint32{ethtoolARingsRxMax: r.RxMax, ethtoolARingsRxMiniMax: r.RxMiniMax,
				ethtoolARingsRxJumboMax: r.RxJumboMax, ethtoolARingsTxMax: r.TxMax, ethtoolARingsRx: r.Rx,
				ethtoolARingsRxMini: r.RxMini, ethtoolARingsRxJumbo: r.RxJumbo, ethtoolARingsTx: r.Tx} {
				ae.Uint32(attr, v)
			}
		}))
		if err != nil || again != r || dev2 != dev {
			t.Fatalf("round trip: %+v %+v, %v; decoded %+v %+v", again, dev2, err, r, dev)
		}
	})
}
