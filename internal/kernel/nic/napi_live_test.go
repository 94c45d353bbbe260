//go:build linux

package nic

import (
	"fmt"
	"testing"

	"github.com/mdlayher/genetlink"
	"github.com/netirq/netirq_exporter/internal/kernel/genl"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/netlab"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// TestNetdevnlLiveNAPISettings: a lab veth with GRO on (ethtool -K) and
// threaded NAPI (sysfs) has 4 NAPI instances, each in its thread, with the
// settings the kernel reports per instance (6.13+, threaded 6.17+); after
// napi-set changes single instances, the reader sees each change on its
// instance only.
func TestNetdevnlLiveNAPISettings(t *testing.T) {
	testutil.NeedRoot(t)
	testutil.NeedTool(t, "ethtool", "ethtool")
	lab := netlab.New(t, netlab.Options{Queues: 4})
	useLabNetNS(t, lab)
	if err := lab.SetGRO(true); err != nil {
		t.Fatal(err)
	}
	if err := lab.SetThreaded(true); err != nil {
		t.Fatal(err)
	}
	read := func() map[uint32]NAPI {
		t.Helper()
		devs, err := sysfs.ReadNetDevices(lab.SysfsRoot(), nil)
		if err != nil {
			t.Fatal(err)
		}
		r := testReader.QueueStats(lab.SysfsRoot(), devs)
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		out := map[uint32]NAPI{}
		for _, n := range r.NAPIs {
			out[n.ID] = n
		}
		return out
	}
	napis := read()
	var ids []uint32
	for id, n := range napis {
		s := n.Settings
		if !s.HasDeferHardIRQs || !s.HasGROFlushTimeout || !s.HasIRQSuspendTimeout || !s.HasThreaded ||
			s.Threaded != NAPIThreadedEnabled || n.ThreadPID == 0 || n.IRQ != 0 {
			t.Errorf("NAPI %d: %+v; want every setting reported, threaded, no IRQ", id, n)
		}
		ids = append(ids, id)
	}
	if len(ids) != 4 {
		t.Fatalf("%d NAPIs, want 4: %+v", len(ids), napis)
	}
	u32 := func(v uint32) *uint32 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	set := func(id uint32, s netlab.NAPISettings) {
		t.Helper()
		if err := lab.SetNAPI(id, s); err != nil {
			t.Fatal(err)
		}
	}
	a, b, c := minID(ids), minID(ids)+1, minID(ids)+2
	set(a, netlab.NAPISettings{DeferHardIRQs: u32(2)})
	set(b, netlab.NAPISettings{Threaded: u32(0)})
	set(c, netlab.NAPISettings{DeferHardIRQs: u32(2), GROFlushTimeout: u64(200_000)})
	// Busy-poll threading is Linux 6.19's; older kernels refuse the value.
	if err := lab.SetNAPI(c, netlab.NAPISettings{Threaded: u32(uint32(NAPIThreadedBusyPoll))}); err != nil {
		t.Logf("threaded busy-poll refused (kernel %s): %v", kernelRelease(), err)
	}
	after := read()
	for id, n := range after {
		want := NAPISettings{HasDeferHardIRQs: true, HasGROFlushTimeout: true, HasIRQSuspendTimeout: true,
			HasThreaded: true, Threaded: NAPIThreadedEnabled}
		switch id {
		case a:
			want.DeferHardIRQs = 2
		case b:
			want.Threaded = NAPIThreadedDisabled
		case c:
			want.DeferHardIRQs, want.GROFlushTimeout = 2, 200_000
			want.Threaded = n.Settings.Threaded // enabled, or busy-poll on 6.19+
		}
		if n.Settings != want {
			t.Errorf("NAPI %d after napi-set: %+v, want %+v", id, n.Settings, want)
		}
		if id == b && n.ThreadPID != 0 {
			t.Errorf("NAPI %d threaded off but thread %d reported", id, n.ThreadPID)
		}
	}
	if *captureNetlink {
		captureNAPISet(t, lab)
	}
}

func minID(ids []uint32) uint32 {
	m := ids[0]
	for _, id := range ids[1:] {
		m = min(m, id)
	}
	return m
}

// captureNAPISet writes napi_veth_set.hex: the lab's NAPIs after napi-set.
func captureNAPISet(t *testing.T, lab *netlab.Lab) {
	t.Helper()
	devs, _ := sysfs.ReadNetDevices(lab.SysfsRoot(), nil)
	sess, err := openNICSession(testReader, lab.SysfsRoot(), devs)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	conn, fam, err := sess.genl(testReader.netdev)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := dumpPayloads(conn, fam, netdevCmdNAPIGet)
	if err != nil {
		t.Fatal(err)
	}
	writeHexFixture(t, "napi_veth_set", fmt.Sprintf("captured by TestNetdevnlLiveNAPISettings -netlink.capture on Linux %s:\n"+
		"the netlab veth (GRO on, threaded) after napi-set: lowest NAPI defer-hard-irqs 2 without gro-flush-timeout,\n"+
		"the next threaded off, the next defer-hard-irqs 2 with gro-flush-timeout 200000 ns", kernelRelease()), msgs)
}

func dumpPayloads(conn *genetlink.Conn, fam genl.Family, cmd uint8) ([][]byte, error) {
	msgs, err := genl.Dump(conn, fam, cmd, nil)
	return payloads(msgs), err
}
