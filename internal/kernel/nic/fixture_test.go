//go:build linux

package nic

import (
	"testing"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/genl"
)

// The readers fed with testdata/netlink dumps through a fake generic
// netlink connection (genltest): the commands' request, the decoders, the
// device mapping and the joins (page pool stats to pools), as on a kernel
// that sent those replies.

// fixtureConn answers each command with the messages of its fixture file
// and any other with EOPNOTSUPP.
func fixtureConn(t *testing.T, replies map[uint8]string) *genetlink.Conn {
	t.Helper()
	conn := genltest.Dial(func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
		name, ok := replies[greq.Header.Command]
		if !ok {
			return nil, genltest.Error(int(unix.EOPNOTSUPP))
		}
		var out []genetlink.Message
		for _, b := range hexFixture(t, name) {
			out = append(out, genetlink.Message{Header: genetlink.Header{Command: greq.Header.Command}, Data: b})
		}
		return out, nil
	})
	t.Cleanup(func() { conn.Close() })
	return conn
}

// fixtureFamily offers cmds as dumps.
func fixtureFamily(cmds ...uint32) genl.Family {
	f := genl.Family{ID: 0x20, Version: 1, Ops: map[uint32]uint32{}}
	for _, c := range cmds {
		f.Ops[c] = genl.CmdCapDo | genl.CmdCapDump
	}
	return f
}

// synthSession knows the synthetic fixtures' device, ifindex 2.
func synthSession() *nicSession {
	return &nicSession{byName: map[string]int{"ens1f0np0": synthIfindex}, byIndex: map[int]string{synthIfindex: "ens1f0np0"}, r: testReader}
}

func TestFixtureQStatsSynthetic(t *testing.T) {
	conn := fixtureConn(t, map[uint8]string{netdevCmdQStatsGet: "qstats_synthetic"})
	stats, err := readNetdevQStats(conn, fixtureFamily(netdevCmdQStatsGet), synthSession())
	if err != nil || len(stats) != 8 {
		t.Fatalf("%d queues, %v; want 8", len(stats), err)
	}
	for _, s := range stats {
		want := 0
		for _, c := range QStatCounters {
			if c.Kind == s.Kind {
				want++
			}
		}
		if len(s.Counters) != want || s.Device != "ens1f0np0" {
			t.Errorf("%s %s-%d: %d counters, want every one of its kind (%d)", s.Device, s.Kind, s.Queue, len(s.Counters), want)
		}
	}
	rx2 := stats[2]
	if rx2.Kind != kernel.KindRx || rx2.Queue != 2 || rx2.Packets != 5_000_000_002 {
		t.Fatalf("rx-2: %+v", rx2)
	}
	for name, want := range map[string]uint64{"rx-hw-drop-overruns": 40_014, "rx-hw-drops": 40_013, "rx-alloc-fail": 40_012, "rx-csum-bad": 218} {
		if v, ok := rx2.Counter(name); !ok || v != want {
			t.Errorf("rx-2 %s = %d (%v), want %d", name, v, ok, want)
		}
	}
	if _, ok := rx2.Counter("tx-stop"); ok {
		t.Error("an rx queue with a tx counter")
	}
}

func TestFixtureNAPISynthetic(t *testing.T) {
	conn := fixtureConn(t, map[uint8]string{netdevCmdNAPIGet: "napi_synthetic"})
	napis, err := readNetdevNAPIs(conn, fixtureFamily(netdevCmdNAPIGet), synthSession())
	if err != nil || len(napis) != 4 {
		t.Fatalf("%+v, %v", napis, err)
	}
	for i, n := range napis {
		s := n.Settings
		if n.ID != uint32(8193+i) || n.IRQ != 120+i || n.Device != "ens1f0np0" ||
			!s.HasDeferHardIRQs || !s.HasGROFlushTimeout || !s.HasIRQSuspendTimeout || !s.HasThreaded || s.DeferHardIRQs != 2 {
			t.Errorf("NAPI %d: %+v", i, n)
		}
	}
	if s := napis[0].Settings; s.Threaded != NAPIThreadedBusyPoll || napis[0].ThreadPID != 4242 || s.GROFlushTimeout != 200_000 {
		t.Errorf("8193 busy-polls in thread 4242: %+v", napis[0])
	}
	if s := napis[1].Settings; s.IRQSuspendTimeout != 20_000_000 {
		t.Errorf("8194 irq-suspend-timeout: %+v", s)
	}
	if s := napis[3].Settings; s.GROFlushTimeout != 0 || s.Threaded != NAPIThreadedDisabled {
		t.Errorf("8196 defers without a gro-flush-timeout: %+v", s)
	}
}

func TestFixturePagePools(t *testing.T) {
	conn := fixtureConn(t, map[uint8]string{netdevCmdPagePoolGet: "pagepool_synthetic", netdevCmdPagePoolStatsGet: "pagepool_stats_synthetic"})
	sess := synthSession()
	fam := fixtureFamily(netdevCmdPagePoolGet, netdevCmdPagePoolStatsGet)
	pools, err := readPagePools(conn, fam, sess)
	if err != nil || len(pools) != 5 {
		t.Fatalf("%d pools, %v; want 11-15 (16's device is gone)", len(pools), err)
	}
	if err := readPagePoolStats(conn, fam, sess, pools); err != nil {
		t.Fatal(err)
	}
	for id := uint64(11); id <= 15; id++ {
		p := pools[id]
		if p == nil || !p.HasStats || p.Stats[0] != id*1_000_000_000 || p.Stats[10] != id*1_000_000_000+10 || p.Device != "ens1f0np0" {
			t.Fatalf("pool %d: %+v", id, p)
		}
		wantNAPI := uint32(0)
		if id <= 14 {
			wantNAPI = uint32(8193 + id - 11)
		}
		if p.NAPIID != wantNAPI || p.Detached != (id == 15) || p.Inflight != 1024+id-11 || p.InflightMem != p.Inflight*4096 {
			t.Errorf("pool %d: %+v", id, p)
		}
	}
	// A kernel without CONFIG_PAGE_POOL_STATS (this 6.18 VM) lacks the
	// stats command: pools without counters, quietly.
	pools, _ = readPagePools(conn, fam, sess)
	err = readPagePoolStats(conn, fixtureFamily(netdevCmdPagePoolGet), sess, pools)
	if !genl.IsUnsupported(err) || testReader.quiet("pp stats", err) != nil || pools[11].HasStats {
		t.Errorf("without PAGE_POOL_STATS_GET: %v, %+v", err, pools[11])
	}
}

func TestFixtureRings(t *testing.T) {
	conn := fixtureConn(t, map[uint8]string{ethtoolMsgRingsGet: "rings_synthetic"})
	rings, err := readRings(conn, fixtureFamily(ethtoolMsgRingsGet), synthSession())
	want := Rings{Device: "ens1f0np0", RxMax: 8192, TxMax: 8192, Rx: 1024, Tx: 1024}
	if err != nil || len(rings) != 1 || rings["ens1f0np0"] != want {
		t.Errorf("rings %+v, %v; want %+v", rings, err, want)
	}
	if _, err := readRings(conn, fixtureFamily(), synthSession()); !genl.IsUnsupported(err) {
		t.Errorf("no RINGS_GET: %v, want unsupported", err)
	}
}

// The captured 6.18 NAPI replies carry the per-NAPI settings (all 0 on
// this VM) and threaded: virtio_net's eth0 in softirq mode, the lab veth's
// NAPIs in their threads; neither names an IRQ.
func TestFixtureNAPICapturedSettings(t *testing.T) {
	for name, threaded := range map[string]NAPIThreaded{"napi_virtio": NAPIThreadedDisabled, "napi_veth": NAPIThreadedEnabled} {
		for _, m := range hexFixture(t, name) {
			n, err := decodeNetdevNAPI(m)
			want := NAPISettings{HasDeferHardIRQs: true, HasGROFlushTimeout: true, HasIRQSuspendTimeout: true,
				HasThreaded: true, Threaded: threaded}
			if err != nil || n.Settings != want || n.IRQ != 0 {
				t.Errorf("%s: %+v, %v; want settings %+v and no IRQ", name, n, err, want)
			}
		}
	}
}

// eth0 of the build VM (virtio_net, ifindex 4) as `ethtool -g eth0` shows
// it: rx and tx 256 of 256, no mini or jumbo ring.
func TestFixtureRingsCaptured(t *testing.T) {
	conn := fixtureConn(t, map[uint8]string{ethtoolMsgRingsGet: "rings_virtio"})
	sess := &nicSession{byName: map[string]int{"eth0": 4}, byIndex: map[int]string{4: "eth0"}, r: testReader}
	rings, err := readRings(conn, fixtureFamily(ethtoolMsgRingsGet), sess)
	want := Rings{Device: "eth0", RxMax: 256, TxMax: 256, Rx: 256, Tx: 256}
	if err != nil || rings["eth0"] != want {
		t.Errorf("rings %+v, %v; want %+v", rings, err, want)
	}
}

// The lab veth's NAPIs after napi-set (captured): one defers IRQs without
// a gro-flush-timeout, one is out of threaded mode, one has both set.
func TestFixtureNAPICapturedAfterSet(t *testing.T) {
	var defers, unthreaded, both int
	for _, m := range hexFixture(t, "napi_veth_set") {
		n, err := decodeNetdevNAPI(m)
		if err != nil {
			t.Fatal(err)
		}
		s := n.Settings
		switch {
		case s.DeferHardIRQs == 2 && s.GROFlushTimeout == 0:
			defers++
		case s.DeferHardIRQs == 2 && s.GROFlushTimeout == 200_000:
			both++
		case s.Threaded == NAPIThreadedDisabled && n.ThreadPID == 0:
			unthreaded++
		}
	}
	if defers != 1 || unthreaded != 1 || both != 1 {
		t.Errorf("napi_veth_set: %d defer without timeout, %d unthreaded, %d with both; want 1 each", defers, unthreaded, both)
	}
}

// QStatCounters is the spec's qstats set after tx-bytes: attributes 12 to
// 34 in order, the count the decoder's arrays are sized for.
func TestQStatCountersMatchSpec(t *testing.T) {
	if len(QStatCounters) != numQStatCounters {
		t.Fatalf("%d counters, numQStatCounters %d", len(QStatCounters), numQStatCounters)
	}
	for i, c := range QStatCounters {
		if c.Attr != uint16(12+i) {
			t.Errorf("%s: attribute %d, want %d", c.Name, c.Attr, 12+i)
		}
	}
}
