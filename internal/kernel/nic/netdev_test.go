//go:build linux

package nic

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/genl"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/netlab"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// ---- helpers shared by the ethtool/queuestats tests ----

var captureNetlink = flag.Bool("netlink.capture", false,
	"rewrite testdata/netlink/*.hex from this kernel (root; see testdata/netlink/README.md)")

// useLabNetNS points the netlink/ioctl readers at the lab's receiver
// namespace for the rest of the test.
func useLabNetNS(t *testing.T, lab *netlab.Lab) {
	t.Helper()
	testReader.netNS = filepath.Join("/run/netns", lab.ReceiverNS())
	t.Cleanup(func() { testReader.netNS = "" })
}

// testReader is the Reader of the tests (the exporter's namespace unless
// useLabNetNS points it at a lab's).
var testReader = NewReader(nil, "")

// Legacy ethtool set commands, used by tests only, on lab devices only.
const (
	testEthtoolSTSO = 0x1f // ETHTOOL_STSO: all TSO features
	testEthtoolSGRO = 0x2c // ETHTOOL_SGRO
)

// labEthtoolSet issues a legacy ETHTOOL_S* value command for a device in
// the namespace nsPath (a lab's; the exporter itself never sets anything).
func labEthtoolSet(t *testing.T, nsPath, dev string, cmd, val uint32) {
	t.Helper()
	ns, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ns)
	fd, err := socketInNetNS(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 8) // struct ethtool_value
	binary.NativeEndian.PutUint32(buf, cmd)
	binary.NativeEndian.PutUint32(buf[4:], val)
	if err := ethtoolIoctl(fd, dev, buf); err != nil {
		t.Fatalf("ethtool ioctl %#x=%d on %s: %v", cmd, val, dev, err)
	}
}

// hexFixture reads testdata/netlink/NAME.hex: one genetlink payload
// (attributes after the genl header) per line; # starts a comment.
func hexFixture(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "..", "testdata", "netlink", name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b, err := hex.DecodeString(line)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no messages", name)
	}
	return out
}

func writeHexFixture(t *testing.T, name, note string, msgs [][]byte) {
	t.Helper()
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(note), "\n") {
		fmt.Fprintf(&b, "# %s\n", l)
	}
	for _, m := range msgs {
		fmt.Fprintf(&b, "%x\n", m)
	}
	path := filepath.Join("..", "..", "..", "testdata", "netlink", name+".hex")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d messages)", path, len(msgs))
}

func encodeAttrs(t *testing.T, f func(ae *netlink.AttributeEncoder)) []byte {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	f(ae)
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---- decoding: synthetic replies ----

func TestNetdevnlDecodeQueue(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want netlinkQueue
	}{
		{"mlx5 rx queue with NAPI", encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netdevAQueueID, 5)
			ae.Uint32(netdevAQueueType, netdevQueueTypeRx)
			ae.Uint32(netdevAQueueNAPIID, 8197)
			ae.Uint32(netdevAQueueIfindex, 3)
		}), netlinkQueue{Ifindex: 3, Queue: 5, Kind: kernel.KindRx, NAPIID: 8197}},
		{"tx queue without NAPI", encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netdevAQueueID, 0)
			ae.Uint32(netdevAQueueType, netdevQueueTypeTx)
			ae.Uint32(netdevAQueueIfindex, 1)
		}), netlinkQueue{Ifindex: 1, Queue: 0, Kind: kernel.KindTx}},
		{"xsk queue and an unknown attribute", encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netdevAQueueID, 2)
			ae.Uint32(netdevAQueueType, 2) // NETDEV_QUEUE_TYPE_XSK
			ae.Uint32(netdevAQueueIfindex, 7)
			ae.Bytes(99, []byte{1, 2, 3})
		}), netlinkQueue{Ifindex: 7, Queue: 2, Kind: kernel.KindNone}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeNetdevQueue(tc.b)
			if err != nil || got != tc.want {
				t.Errorf("decodeNetdevQueue = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestNetdevnlDecodeNAPI(t *testing.T) {
	b := encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(netdevANAPIID, 8193)
		ae.Uint32(netdevANAPIIfindex, 2)
		ae.Uint32(netdevANAPIIRQ, 131)
		ae.Uint32(netdevANAPIPID, 4242)
		ae.Uint32(netdevANAPIDeferHardIRQs, 2)
		ae.Uint64(netdevANAPIGROFlushTimeout, 200000) // uint: 8 bytes here, 4 on 6.18 for small values
		ae.Uint32(netdevANAPIIRQSuspendTimeout, 0)
		ae.Uint32(netdevANAPIThreaded, 2) // busy-poll (6.19)
		ae.Uint64(99, 7)                  // something newer
	})
	got, err := decodeNetdevNAPI(b)
	want := netlinkNAPI{Ifindex: 2, ID: 8193, IRQ: 131, ThreadPID: 4242, Settings: NAPISettings{
		DeferHardIRQs: 2, GROFlushTimeout: 200000, HasDeferHardIRQs: true, HasGROFlushTimeout: true,
		HasIRQSuspendTimeout: true, Threaded: NAPIThreadedBusyPoll, HasThreaded: true}}
	if err != nil || got != want {
		t.Errorf("decodeNetdevNAPI = %+v, %v; want %+v", got, err, want)
	}
	// A kernel before 6.13 sends none of the settings; a setting of an odd
	// length is left unreported rather than failing the reply.
	old := encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(netdevANAPIID, 9)
		ae.Uint32(netdevANAPIIfindex, 2)
		ae.Bytes(netdevANAPIGROFlushTimeout, []byte{1, 2})
	})
	if got, err := decodeNetdevNAPI(old); err != nil || got != (netlinkNAPI{Ifindex: 2, ID: 9}) {
		t.Errorf("decodeNetdevNAPI(6.8 reply) = %+v, %v", got, err)
	}
	if _, err := decodeNetdevNAPI([]byte{0xff}); err == nil {
		t.Error("truncated reply decoded without error")
	}
	for v, name := range map[NAPIThreaded]string{0: "disabled", 1: "enabled", 2: "busy-poll", 7: "mode7"} {
		if v.String() != name {
			t.Errorf("NAPIThreaded(%d) = %q, want %q", v, v.String(), name)
		}
	}
}

func TestNetdevnlDecodeQStats(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want netlinkQStats
	}{
		{"rx queue, 8-byte counters", encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netdevAQStatsIfindex, 4)
			ae.Uint32(netdevAQStatsQueueType, netdevQueueTypeRx)
			ae.Uint32(netdevAQStatsQueueID, 3)
			ae.Uint64(netdevAQStatsRxPackets, 1<<40)
			ae.Uint64(netdevAQStatsRxBytes, 1<<41)
			ae.Uint64(qstatAttr(t, "rx-hw-drops"), 1<<33)
			ae.Uint64(qstatAttr(t, "rx-alloc-fail"), 9)
			ae.Uint32(qstatAttr(t, "tx-stop"), 5) // not an rx counter: dropped
			ae.Bytes(qstatAttr(t, "rx-csum-bad"), []byte{1})
		}), netlinkQStats{Ifindex: 4, Queue: 3, Kind: kernel.KindRx, Packets: 1 << 40, Bytes: 1 << 41, HasPackets: true, HasBytes: true,
			Counters: []QueueCounter{{"rx-alloc-fail", 9}, {"rx-hw-drops", 1 << 33}}}},
		{"tx queue, 4-byte counters (NLA_UINT)", encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netdevAQStatsIfindex, 4)
			ae.Uint32(netdevAQStatsQueueType, netdevQueueTypeTx)
			ae.Uint32(netdevAQStatsQueueID, 0)
			ae.Uint32(netdevAQStatsTxPackets, 12)
			ae.Uint32(netdevAQStatsTxBytes, 3400)
			ae.Uint32(qstatAttr(t, "tx-wake"), 2)
			ae.Uint32(qstatAttr(t, "tx-stop"), 3)
		}), netlinkQStats{Ifindex: 4, Kind: kernel.KindTx, Packets: 12, Bytes: 3400, HasPackets: true, HasBytes: true,
			Counters: []QueueCounter{{"tx-stop", 3}, {"tx-wake", 2}}}},
		{"rx queue reporting packets only", encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(netdevAQStatsIfindex, 4)
			ae.Uint32(netdevAQStatsQueueType, netdevQueueTypeRx)
			ae.Uint32(netdevAQStatsQueueID, 1)
			ae.Uint64(netdevAQStatsRxPackets, 5)
		}), netlinkQStats{Ifindex: 4, Queue: 1, Kind: kernel.KindRx, Packets: 5, HasPackets: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeNetdevQStats(tc.b)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("decodeNetdevQStats = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// qstatAttr is the NETDEV_A_QSTATS_* number of a counter of QStatCounters.
func qstatAttr(t *testing.T, name string) uint16 {
	t.Helper()
	for _, c := range QStatCounters {
		if c.Name == name {
			return c.Attr
		}
	}
	t.Fatalf("no qstats counter %q", name)
	return 0
}

func TestNetdevnlNLUint(t *testing.T) {
	if v, err := nlUint([]byte{1, 0, 0, 0}); err != nil || v != 1 {
		t.Errorf("4 bytes: %d, %v", v, err)
	}
	b := make([]byte, 8)
	binary.NativeEndian.PutUint64(b, 1<<33)
	if v, err := nlUint(b); err != nil || v != 1<<33 {
		t.Errorf("8 bytes: %d, %v", v, err)
	}
	if _, err := nlUint([]byte{1, 2}); err == nil {
		t.Error("2 bytes accepted")
	}
}

func TestNetdevnlDecodeGenlFamily(t *testing.T) {
	b := encodeAttrs(t, func(ae *netlink.AttributeEncoder) {
		ae.String(genl.CtrlAttrFamilyName, "netdev")
		ae.Uint16(genl.CtrlAttrFamilyID, 27)
		ae.Uint32(genl.CtrlAttrVersion, 1)
		ae.Nested(genl.CtrlAttrOps, func(ops *netlink.AttributeEncoder) error {
			for i, op := range [][2]uint32{{netdevCmdQueueGet, genl.CmdCapDo | genl.CmdCapDump}, {netdevCmdQStatsGet, genl.CmdCapDump}, {13, 0x01 | genl.CmdCapDo}} {
				ops.Nested(uint16(i+1), func(o *netlink.AttributeEncoder) error {
					o.Uint32(genl.CtrlAttrOpID, op[0])
					o.Uint32(genl.CtrlAttrOpFlags, op[1])
					return nil
				})
			}
			return nil
		})
	})
	fam, err := genl.DecodeFamily(b)
	if err != nil {
		t.Fatal(err)
	}
	if fam.ID != 27 || fam.Version != 1 || fam.Name != "netdev" {
		t.Errorf("family %+v", fam)
	}
	for _, c := range []struct {
		cmd  uint32
		dump bool
		want bool
	}{
		{netdevCmdQueueGet, true, true}, {netdevCmdQueueGet, false, true},
		{netdevCmdQStatsGet, true, true}, {netdevCmdQStatsGet, false, true},
		{13, true, false}, {13, false, true},
		{netdevCmdNAPIGet, true, false}, {netdevCmdNAPIGet, false, false},
	} {
		if got := genl.HasOp(fam, c.cmd, c.dump); got != c.want {
			t.Errorf("familyHasOp(%d, dump=%v) = %v, want %v", c.cmd, c.dump, got, c.want)
		}
	}
	if _, err := genl.DecodeFamily(encodeAttrs(t, func(ae *netlink.AttributeEncoder) { ae.String(genl.CtrlAttrFamilyName, "x") })); err == nil {
		t.Error("reply without a family ID accepted")
	}
}

// ---- decoding: replies captured from Linux 6.18 (testdata/netlink) ----

func TestNetdevnlCapturedReplies(t *testing.T) {
	// eth0 (virtio_net, one queue pair), captured on the build VM.
	var qs []netlinkQStats
	for _, m := range hexFixture(t, "qstats_virtio") {
		s, err := decodeNetdevQStats(m)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, s)
	}
	if len(qs) != 2 || qs[0].Kind != kernel.KindRx || qs[1].Kind != kernel.KindTx || qs[0].Queue != 0 || qs[1].Queue != 0 ||
		!qs[0].HasPackets || !qs[0].HasBytes || qs[0].Packets == 0 || qs[0].Bytes < qs[0].Packets || qs[0].Ifindex != qs[1].Ifindex {
		t.Errorf("virtio qstats: %+v", qs)
	}
	var queues []netlinkQueue
	for _, m := range hexFixture(t, "queue_virtio") {
		q, err := decodeNetdevQueue(m)
		if err != nil {
			t.Fatal(err)
		}
		queues = append(queues, q)
	}
	var napis []netlinkNAPI
	for _, m := range hexFixture(t, "napi_virtio") {
		n, err := decodeNetdevNAPI(m)
		if err != nil {
			t.Fatal(err)
		}
		napis = append(napis, n)
	}
	// virtio_net links its RX queue to a NAPI but reports no IRQ for it.
	var rx0 *netlinkQueue
	for i, q := range queues {
		if q.Ifindex == qs[0].Ifindex && q.Kind == kernel.KindRx && q.Queue == 0 {
			rx0 = &queues[i]
		}
	}
	if rx0 == nil || rx0.NAPIID == 0 {
		t.Fatalf("virtio rx-0 without NAPI: %+v", queues)
	}
	found := false
	for _, n := range napis {
		if n.ID == rx0.NAPIID {
			found = true
			if n.Ifindex != rx0.Ifindex || n.IRQ != 0 {
				t.Errorf("virtio NAPI %+v", n)
			}
		}
	}
	if !found {
		t.Errorf("NAPI %d of rx-0 not in the NAPI dump %+v", rx0.NAPIID, napis)
	}

	// The lab veth (4 queues) with GRO and threaded NAPI on: NAPIs with
	// kernel threads, but queues not linked to them.
	var vq []netlinkQueue
	for _, m := range hexFixture(t, "queue_veth") {
		q, err := decodeNetdevQueue(m)
		if err != nil {
			t.Fatal(err)
		}
		vq = append(vq, q)
	}
	rx, tx := 0, 0
	for _, q := range vq {
		switch q.Kind {
		case kernel.KindRx:
			rx++
		case kernel.KindTx:
			tx++
		}
		if q.NAPIID != 0 {
			t.Errorf("veth queue linked to a NAPI: %+v", q)
		}
	}
	if rx < 4 || tx < 4 {
		t.Errorf("veth queues: %d rx, %d tx; want 4 each (+lo): %+v", rx, tx, vq)
	}
	threads := 0
	for _, m := range hexFixture(t, "napi_veth") {
		n, err := decodeNetdevNAPI(m)
		if err != nil {
			t.Fatal(err)
		}
		if n.ID == 0 || n.IRQ != 0 {
			t.Errorf("veth NAPI %+v", n)
		}
		if n.ThreadPID > 0 {
			threads++
		}
	}
	if threads != 4 {
		t.Errorf("%d veth NAPIs with a thread, want 4", threads)
	}

	fam, err := genl.DecodeFamily(hexFixture(t, "family_netdev")[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []uint32{netdevCmdQueueGet, netdevCmdNAPIGet, netdevCmdQStatsGet} {
		if !genl.HasOp(fam, cmd, true) {
			t.Errorf("netdev family of 6.18 lacks dump of command %d: %+v", cmd, fam)
		}
	}
}

// ---- ethtool -S names ----

func TestNetdevnlParseQueueStatName(t *testing.T) {
	type r = queueStatName
	for _, tc := range []struct {
		driver, name string
		want         r
		ok           bool
	}{
		// virtio_net before 6.10 (since 6.10 packets/bytes are netdev qstats;
		// on 6.18 ethtool -S only has rx0_drops, rx0_xdp_packets, rx0_kicks...).
		{"virtio_net", "rx_queue_0_packets", r{0, kernel.KindRx, false}, true},
		{"virtio_net", "rx_queue_0_bytes", r{0, kernel.KindRx, true}, true},
		{"virtio_net", "tx_queue_3_packets", r{3, kernel.KindTx, false}, true},
		{"virtio_net", "rx_queue_0_kicks", r{}, false},
		{"virtio_net", "rx0_xdp_packets", r{}, false},
		{"virtio_net", "rx0_drops", r{}, false},
		// ixgbe, igb, igc, ice, hv_netvsc, ifb.
		{"ixgbe", "tx_queue_15_bytes", r{15, kernel.KindTx, true}, true},
		{"ixgbe", "rx_queue_2_packets", r{2, kernel.KindRx, false}, true},
		{"ixgbe", "rx_pkts_nic", r{}, false},
		{"ice", "rx_queue_7_packets", r{7, kernel.KindRx, false}, true},
		{"ice", "rx_unicast", r{}, false},
		{"ifb", "tx_queue_1_bytes", r{1, kernel.KindTx, true}, true},
		// i40e, iavf.
		{"i40e", "rx-3.packets", r{3, kernel.KindRx, false}, true},
		{"i40e", "tx-12.bytes", r{12, kernel.KindTx, true}, true},
		{"i40e", "rx-3.rx_packets", r{}, false},
		{"i40e", "port.rx_bytes", r{}, false},
		{"iavf", "tx-0.packets", r{0, kernel.KindTx, false}, true},
		// mlx5, mlx4.
		{"mlx5_core", "rx0_packets", r{0, kernel.KindRx, false}, true},
		{"mlx5_core", "rx63_bytes", r{63, kernel.KindRx, true}, true},
		{"mlx5_core", "tx7_packets", r{7, kernel.KindTx, false}, true},
		{"mlx5_core", "rx0_xdp_tx_xmit", r{}, false},
		{"mlx5_core", "rx_packets", r{}, false},
		{"mlx5_core", "rx_vport_unicast_packets", r{}, false},
		{"mlx5_core", "ch0_events", r{}, false},
		{"mlx5_core", "tx0_xdp_packets", r{}, false},
		{"mlx4_en", "rx3_packets", r{3, kernel.KindRx, false}, true},
		// mana.
		{"mana", "rx_2_packets", r{2, kernel.KindRx, false}, true},
		{"mana", "tx_2_bytes", r{2, kernel.KindTx, true}, true},
		{"mana", "tx_2_xdp_xmit", r{}, false},
		// ena.
		{"ena", "queue_0_rx_cnt", r{0, kernel.KindRx, false}, true},
		{"ena", "queue_5_tx_bytes", r{5, kernel.KindTx, true}, true},
		{"ena", "queue_0_tx_queue_stop", r{}, false},
		{"ena", "queue_0_rx_bad_csum", r{}, false},
		// bnxt_en: [N]: rx_{u,m,b}cast_{packets,bytes}, summed per queue.
		{"bnxt_en", "[0]: rx_ucast_packets", r{0, kernel.KindRx, false}, true},
		{"bnxt_en", "[0]: rx_mcast_packets", r{0, kernel.KindRx, false}, true},
		{"bnxt_en", "[4]: tx_bcast_bytes", r{4, kernel.KindTx, true}, true},
		{"bnxt_en", "[0]: rx_discards", r{}, false},
		{"bnxt_en", "[0]: rx_tpa_packets", r{}, false},
		{"mlx5_core", "[0]: rx_ucast_packets", r{}, false}, // the bnxt pattern is bnxt's only
		// veth: only XDP/NAPI-path counters, deliberately not queue totals.
		{"veth", "rx_queue_0_xdp_packets", r{}, false},
		{"veth", "rx_queue_0_xdp_bytes", r{}, false},
		{"veth", "tx_queue_0_xdp_xmit", r{}, false},
		{"veth", "peer_ifindex", r{}, false},
		// Nonsense.
		{"", "rx_queue_99999999999999999999_packets", r{}, false},
		{"", "rx_queue__packets", r{}, false},
		{"", "", r{}, false},
	} {
		got, ok := parseQueueStatName(tc.driver, tc.name)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseQueueStatName(%q, %q) = %+v, %v; want %+v, %v", tc.driver, tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNetdevnlQueueStatLayout(t *testing.T) {
	// bnxt: unicast+multicast+broadcast summed; a queue with packets but no
	// bytes (the i40e-like tx-1 here) is left out rather than exported as 0.
	names := []string{"rx_bytes", "[0]: rx_ucast_packets", "[0]: rx_mcast_packets", "[0]: rx_bcast_packets",
		"[0]: rx_ucast_bytes", "[0]: rx_mcast_bytes", "[0]: rx_bcast_bytes", "[0]: tx_ucast_packets", "[0]: tx_ucast_bytes",
		"[1]: rx_ucast_packets", "[1]: rx_ucast_bytes"}
	vals := []uint64{999, 10, 2, 1, 1000, 200, 100, 7, 700, 3, 300}
	got := applyQueueStatLayout("eth1", queueStatLayout("bnxt_en", names), vals)
	want := []QueueStats{
		{Device: "eth1", Queue: 0, Kind: kernel.KindRx, Packets: 13, Bytes: 1300, Source: "ethtool"},
		{Device: "eth1", Queue: 1, Kind: kernel.KindRx, Packets: 3, Bytes: 300, Source: "ethtool"},
		{Device: "eth1", Queue: 0, Kind: kernel.KindTx, Packets: 7, Bytes: 700, Source: "ethtool"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bnxt layout:\n got %+v\nwant %+v", got, want)
	}
	got = applyQueueStatLayout("eth2", queueStatLayout("ena", []string{"queue_0_tx_cnt", "queue_1_tx_cnt", "queue_1_tx_bytes"}), []uint64{5, 6, 600})
	want = []QueueStats{{Device: "eth2", Queue: 1, Kind: kernel.KindTx, Packets: 6, Bytes: 600, Source: "ethtool"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("partial layout:\n got %+v\nwant %+v", got, want)
	}
	if got := queueStatLayout("veth", []string{"peer_ifindex", "rx_queue_0_xdp_packets", "rx_queue_0_xdp_bytes"}); len(got) != 0 {
		t.Errorf("veth layout %+v, want none", got)
	}
}

// ---- what is not supported costs (almost) nothing ----

func TestNetdevnlMissingFamilyIsCached(t *testing.T) {
	fc := genl.NewFamilyCache("netirq-nofam")
	sess, err := openNICSession(testReader, "/sys", nil)
	if err != nil {
		t.Skipf("no socket: %v", err)
	}
	defer sess.Close()
	_, _, err = sess.genl(fc)
	if !errors.Is(err, genl.ErrUnsupported) || !genl.IsUnsupported(err) {
		t.Fatalf("missing family: %v, want errUnsupported", err)
	}
	if testReader.quiet("x", err) != nil {
		t.Error("quiet kept an unsupported error")
	}
	if !fc.Unavailable() {
		t.Fatal("missing family not remembered")
	}
	start := time.Now()
	for range 1000 {
		if !fc.Unavailable() {
			t.Fatal("forgot")
		}
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("1000 cached checks took %v", d)
	}
	fc.Reset()
	if fc.Unavailable() {
		t.Error("reset did not forget")
	}
	if testReader.quiet("x", unix.EPERM) != nil || testReader.quiet("x", unix.EOPNOTSUPP) != nil || testReader.quiet("x", unix.ENODEV) != nil {
		t.Error("EPERM/EOPNOTSUPP/ENODEV not quiet")
	}
	if testReader.quiet("x", unix.ENOBUFS) == nil {
		t.Error("ENOBUFS made quiet")
	}
}

// No devices, or devices that the exporter's namespace does not have
// (fixtures from other hosts: no ifindex file), read nothing and fail nothing.
func TestNetdevnlForeignSysfs(t *testing.T) {
	for _, host := range []string{"fc-2cpu", "bigiron-8cpu"} {
		sys := filepath.Join("..", "..", "..", "testdata", "hosts", host, "sys")
		devs, _ := sysfs.ReadNetDevices(sys, nil)
		if len(devs) == 0 {
			t.Fatalf("%s: no devices", host)
		}
		r := testReader.QueueStats(sys, devs)
		res := testReader.Ethtool(sys, devs)
		ch, rss, err := res.Channels, res.RSS, res.Err
		if r.Err != nil || err != nil || len(r.Stats)+len(r.Queues)+len(r.NAPIs)+len(ch)+len(rss) != 0 {
			t.Errorf("%s: read %+v, %v %v %v from a foreign sysfs", host, r, ch, rss, err)
		}
	}
	if r := testReader.QueueStats("/sys", nil); r.Err != nil || r.Stats != nil {
		t.Errorf("no devices: %+v", r)
	}
}

func TestNetdevnlSameDevice(t *testing.T) {
	mac := []byte{0x02, 0xfc, 0, 0, 0, 1}
	for _, tc := range []struct {
		sysIndex int
		sysAddr  string
		index    int
		addr     []byte
		want     bool
	}{
		{4, "02:fc:00:00:00:01", 4, mac, true},
		{4, "02:fc:00:00:00:02", 4, mac, false}, // other namespace, same name and index
		{2, "02:fc:00:00:00:01", 4, mac, false},
		{1, "00:00:00:00:00:00", 1, make([]byte, 6), true},
		{4, "", 4, mac, true},                  // no address in sysfs (tun)
		{4, "02:fc:00:00:00:01", 4, nil, true}, // no hardware address
		{0, "", 0, nil, false},
		// InfiniBand: 20 bytes, SIOCGIFHWADDR gives the first 14.
		{5, "00:00:10:29:fe:80:00:00:00:00:00:00:0c:42:a1:03:00:8e:d4:6c", 5,
			[]byte{0, 0, 0x10, 0x29, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x0c, 0x42}, true},
	} {
		if got := sameDevice(tc.sysIndex, tc.sysAddr, tc.index, tc.addr); got != tc.want {
			t.Errorf("sameDevice(%d, %q, %d, %x) = %v, want %v", tc.sysIndex, tc.sysAddr, tc.index, tc.addr, got, tc.want)
		}
	}
}

// ---- live: this machine ----

// TestNetdevnlLiveHost reads the host's own devices: on this build VM eth0
// is virtio_net, which has netdev qstats (Linux 6.10+) and an RX queue
// linked to a NAPI instance without an IRQ.
func TestNetdevnlLiveHost(t *testing.T) {
	devs, err := sysfs.ReadNetDevices("/sys", nil)
	if err != nil || len(devs) == 0 {
		t.Skipf("no /sys/class/net: %v", err)
	}
	r1 := testReader.QueueStats("/sys", devs)
	if r1.Err != nil {
		t.Fatalf("queue stats: %v", r1.Err)
	}
	t.Logf("stats %+v\nqueues %+v\nnapis %+v", r1.Stats, r1.Queues, r1.NAPIs)
	virtio := ""
	for _, d := range devs {
		if d.Driver == "virtio_net" {
			virtio = d.Name
		}
	}
	if virtio == "" {
		t.Skip("no virtio_net device on this machine")
	}
	rx0 := func(r QueueStatsResult) *QueueStats {
		for i, s := range r.Stats {
			if s.Device == virtio && s.Kind == kernel.KindRx && s.Queue == 0 {
				return &r.Stats[i]
			}
		}
		return nil
	}
	s1 := rx0(r1)
	if s1 == nil {
		t.Fatalf("%s rx-0 has no stats (qstats and ethtool -S both failed)", virtio)
	}
	if s1.Source != "netlink" || s1.Packets == 0 || s1.Bytes < s1.Packets {
		t.Errorf("%s rx-0: %+v, want netlink qstats with traffic", virtio, *s1)
	}
	var napiID uint32
	for _, q := range r1.Queues {
		if q.Device == virtio && q.Kind == kernel.KindRx && q.Queue == 0 {
			napiID = q.NAPIID
		}
	}
	if napiID == 0 {
		t.Errorf("%s rx-0 not linked to a NAPI: %+v", virtio, r1.Queues)
	}
	found := false
	for _, n := range r1.NAPIs {
		found = found || (n.ID == napiID && n.Device == virtio)
	}
	if !found {
		t.Errorf("NAPI %d of %s rx-0 missing from %+v", napiID, virtio, r1.NAPIs)
	}
	if *captureNetlink {
		captureHostReplies(t, devs)
	}
	r2 := testReader.QueueStats("/sys", devs)
	if s2 := rx0(r2); s2 == nil || s2.Packets < s1.Packets || s2.Bytes < s1.Bytes {
		t.Errorf("%s rx-0 went backwards: %+v then %+v", virtio, *s1, s2)
	}
	// A second read must be cheap: families and stats layouts are cached.
	start := time.Now()
	testReader.QueueStats("/sys", devs)
	t.Logf("cached read of %d devices: %v", len(devs), time.Since(start))
}

// ---- live: a lab veth pair (root) ----

// TestNetdevnlLiveVeth reads a lab's receiver veth (4 queues) from inside
// its namespace: queue-get lists its queues, without NAPI; with GRO on
// (set by the test on its own veth) it has 4 NAPI instances, and with
// threaded NAPI each has a thread; it has no per-queue packet counters
// (qstats: none; ethtool -S: XDP path only), which is not an error. An ifb
// with 4 queues behind an ingress redirect exercises the ethtool -S
// fallback: its per-queue counters rise with the flood.
func TestNetdevnlLiveVeth(t *testing.T) {
	testutil.NeedRoot(t)
	lab := netlab.New(t, netlab.Options{Queues: 4})
	useLabNetNS(t, lab)
	dev := lab.RxDevice()
	nsPath := filepath.Join("/run/netns", lab.ReceiverNS())
	read := func() QueueStatsResult {
		t.Helper()
		devs, err := sysfs.ReadNetDevices(lab.SysfsRoot(), nil)
		if err != nil {
			t.Fatal(err)
		}
		r := testReader.QueueStats(lab.SysfsRoot(), devs)
		if r.Err != nil {
			t.Fatalf("queue stats in the lab: %v", r.Err)
		}
		return r
	}

	r := read()
	var rx, tx int
	for _, q := range r.Queues {
		if q.Device != dev {
			continue
		}
		if q.NAPIID != 0 {
			t.Errorf("veth queue with a NAPI before GRO: %+v", q)
		}
		switch q.Kind {
		case kernel.KindRx:
			rx++
		case kernel.KindTx:
			tx++
		}
	}
	if rx != 4 || tx != 4 {
		t.Errorf("queue-get: %d rx and %d tx queues of %s, want 4 and 4: %+v", rx, tx, dev, r.Queues)
	}
	for _, s := range r.Stats {
		if s.Device == dev {
			t.Errorf("veth has per-queue stats %+v: its XDP counters must not be read as queue totals", s)
		}
	}
	if len(r.NAPIs) != 0 {
		t.Errorf("NAPIs before GRO: %+v", r.NAPIs)
	}

	labEthtoolSet(t, nsPath, dev, testEthtoolSGRO, 1)
	if err := lab.SetThreaded(true); err != nil {
		t.Fatalf("threaded NAPI on the veth: %v", err)
	}
	r = read()
	threads := 0
	for _, n := range r.NAPIs {
		if n.Device != dev || n.IRQ != 0 {
			t.Errorf("NAPI %+v: want %s's, without IRQ", n, dev)
		}
		if n.ThreadPID > 0 {
			threads++
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", n.ThreadPID))
			if !strings.HasPrefix(string(comm), "napi/") { // napi/<dev>-<id>, cut at 15 characters
				t.Errorf("NAPI %d thread %d is %q", n.ID, n.ThreadPID, comm)
			}
		}
	}
	if len(r.NAPIs) != 4 || threads != 4 {
		t.Errorf("with GRO and threaded NAPI: %d NAPIs, %d with a thread; want 4 and 4: %+v", len(r.NAPIs), threads, r.NAPIs)
	}

	if *captureNetlink {
		captureLabReplies(t, lab)
	}

	ifb := lab.AddIFB(t)
	before := read()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	res, err := lab.Flood(ctx, netlab.FloodOptions{Duration: 2 * time.Second, Rate: 20000, Flows: 32})
	if err != nil {
		t.Fatal(err)
	}
	after := read()
	sum := func(r QueueStatsResult, kind kernel.IRQKind) (total uint64, queues map[int]uint64) {
		queues = map[int]uint64{}
		for _, s := range r.Stats {
			if s.Device == ifb && s.Kind == kind {
				if s.Source != "ethtool" {
					t.Errorf("ifb stats from %q, want ethtool", s.Source)
				}
				total += s.Packets
				queues[s.Queue] = s.Packets
			}
		}
		return
	}
	b, bq := sum(before, kernel.KindRx)
	a, aq := sum(after, kernel.KindRx)
	t.Logf("flood: sent %d, received %d; ifb rx per queue before %v after %v", res.Sent, res.Received, bq, aq)
	if len(aq) != 4 {
		t.Errorf("ifb rx queues with stats: %v, want 4", aq)
	}
	if a-b < res.Sent*9/10 {
		t.Errorf("ifb rx packets rose by %d, want about the %d sent", a-b, res.Sent)
	}
	if bt, _ := sum(before, kernel.KindTx); bt != 0 {
		if at, _ := sum(after, kernel.KindTx); at <= bt {
			t.Errorf("ifb tx packets did not rise: %d → %d", bt, at)
		}
	}
}

// captureLabReplies rewrites the veth fixtures of testdata/netlink
// (-netlink.capture), from the lab namespace the readers point at.
func captureLabReplies(t *testing.T, lab *netlab.Lab) {
	t.Helper()
	devs, _ := sysfs.ReadNetDevices(lab.SysfsRoot(), nil)
	sess, err := openNICSession(testReader, lab.SysfsRoot(), devs)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	note := fmt.Sprintf("captured by TestNetdevnlLiveVeth -netlink.capture on Linux %s:\n"+
		"a netlab veth (4 rx/4 tx queues) with GRO and threaded NAPI on, in the lab's receiver namespace (plus lo)", kernelRelease())
	netdev, fam, err := sess.genl(testReader.netdev)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cmd  uint8
	}{{"queue_veth", netdevCmdQueueGet}, {"napi_veth", netdevCmdNAPIGet}} {
		msgs, err := genl.Dump(netdev, fam, c.cmd, nil)
		if err != nil {
			t.Fatal(err)
		}
		writeHexFixture(t, c.name, note, payloads(msgs))
	}
	ethtool, efam, err := sess.genl(testReader.ethtool)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := ethtoolRequestHeader(ethtoolAChannelsHeader, "")
	msgs, err := genl.Dump(ethtool, efam, ethtoolMsgChannelsGet, req)
	if err != nil {
		t.Fatal(err)
	}
	writeHexFixture(t, "channels_veth", note, payloads(msgs))
}

func payloads(msgs []genetlink.Message) [][]byte {
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		out[i] = m.Data
	}
	return out
}

// captureHostReplies rewrites the host fixtures of testdata/netlink
// (-netlink.capture): the virtio_net eth0 of the build VM.
func captureHostReplies(t *testing.T, devs []sysfs.NetDevice) {
	t.Helper()
	sess, err := openNICSession(testReader, "/sys", devs)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	note := fmt.Sprintf("captured by TestNetdevnlLiveHost -netlink.capture on Linux %s:\n"+
		"the host namespace of a Firecracker VM: eth0 = virtio_net with one queue pair, lo, ifb0, ifb1", kernelRelease())
	for _, fc := range []*genl.FamilyCache{testReader.netdev, testReader.ethtool} {
		conn, _, err := sess.genl(fc)
		if err != nil {
			t.Fatal(err)
		}
		ae := netlink.NewAttributeEncoder()
		ae.String(genl.CtrlAttrFamilyName, fc.Name())
		req, _ := ae.Encode()
		msgs, err := conn.Execute(genetlink.Message{
			Header: genetlink.Header{Command: genl.CtrlCmdGetFamily, Version: genl.CtrlVersion}, Data: req,
		}, genl.IDCtrl, netlink.Request)
		if err != nil {
			t.Fatal(err)
		}
		writeHexFixture(t, "family_"+fc.Name(), note, payloads(msgs))
	}
	conn, fam, _ := sess.genl(testReader.netdev)
	scope := encodeAttrs(t, func(ae *netlink.AttributeEncoder) { ae.Uint32(netdevAQStatsScope, netdevQStatsScopeQueue) })
	for _, c := range []struct {
		name string
		cmd  uint8
		req  []byte
	}{{"qstats_virtio", netdevCmdQStatsGet, scope}, {"queue_virtio", netdevCmdQueueGet, nil}, {"napi_virtio", netdevCmdNAPIGet, nil}} {
		msgs, err := genl.Dump(conn, fam, c.cmd, c.req)
		if err != nil {
			t.Fatal(err)
		}
		writeHexFixture(t, c.name, note, payloads(msgs))
	}
	econn, efam, _ := sess.genl(testReader.ethtool)
	for _, c := range []struct {
		name string
		cmd  uint8
		hdr  uint16
	}{{"channels_virtio", ethtoolMsgChannelsGet, ethtoolAChannelsHeader}, {"rss_virtio", ethtoolMsgRSSGet, ethtoolARSSHeader},
		{"rings_virtio", ethtoolMsgRingsGet, ethtoolARingsHeader}} {
		req, _ := ethtoolRequestHeader(c.hdr, "")
		msgs, err := genl.Dump(econn, efam, c.cmd, req)
		if err != nil {
			t.Fatal(err)
		}
		writeHexFixture(t, c.name, note, payloads(msgs))
	}
}

func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// ---- unprivileged ----

// TestNetdevnlUnprivileged runs both readers on the host's devices as
// nobody (uid/gid 65534, no capabilities) in a child process: everything
// they ask must be answered without privileges, or skipped quietly.
func TestNetdevnlUnprivileged(t *testing.T) {
	if os.Getenv("NETIRQ_UNPRIV_CHILD") == "1" {
		unprivilegedChild()
		return
	}
	testutil.NeedRoot(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary sits in a directory only root may enter: copy it.
	dir, err := os.MkdirTemp("", "netirq-unpriv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "collector.test")
	raw, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, raw, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestNetdevnlUnprivileged$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NETIRQ_UNPRIV_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child as nobody: %v\n%s", err, out)
	}
	var res unprivResult
	line := out
	if i := strings.Index(string(out), "UNPRIV "); i >= 0 {
		line = []byte(strings.SplitN(string(out[i+7:]), "\n", 2)[0])
	}
	if err := json.Unmarshal(line, &res); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	t.Logf("as nobody (uid %d): %+v", res.UID, res)
	if res.UID != 65534 || res.EthtoolErr != "" || res.QueueErr != "" {
		t.Errorf("as nobody: %+v", res)
	}
	devs, _ := sysfs.ReadNetDevices("/sys", nil)
	for _, d := range devs {
		if d.Driver == "virtio_net" {
			if res.Channels[d.Name].Combined == 0 {
				t.Errorf("%s channels not readable unprivileged: %+v", d.Name, res.Channels)
			}
			found := false
			for _, s := range res.Stats {
				found = found || (s.Device == d.Name && s.Source == "netlink")
			}
			if !found {
				t.Errorf("%s qstats not readable unprivileged: %+v", d.Name, res.Stats)
			}
		}
	}
}

type unprivResult struct {
	UID        int
	Channels   map[string]Channels
	RSS        map[string]RSSTable
	Rings      map[string]Rings
	EthtoolErr string
	Stats      []QueueStats
	Queues     []QueueNAPI
	NAPIs      []NAPI
	QueueErr   string
}

func unprivilegedChild() {
	devs, _ := sysfs.ReadNetDevices("/sys", nil)
	res := unprivResult{UID: os.Getuid()}
	et := testReader.Ethtool("/sys", devs)
	res.Channels, res.RSS, res.Rings = et.Channels, et.RSS, et.Rings
	if et.Err != nil {
		res.EthtoolErr = et.Err.Error()
	}
	r := testReader.QueueStats("/sys", devs)
	res.Stats, res.Queues, res.NAPIs = r.Stats, r.Queues, r.NAPIs
	if r.Err != nil {
		res.QueueErr = r.Err.Error()
	}
	b, _ := json.Marshal(res)
	fmt.Printf("UNPRIV %s\n", b)
}
