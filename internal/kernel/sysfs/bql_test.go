package sysfs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/testutil"
)

// bqlOf reads the devices of root and their BQL.
func bqlOf(t *testing.T, root string, fields BQLFields) ([]TxQueueBQL, error) {
	t.Helper()
	devs, err := ReadNetDevices(filepath.Join(root, "sys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return ReadBQL(filepath.Join(root, "sys"), devs, fields)
}

// TestReadBQLFixtures: fc-2cpu's files were copied from this VM's eth0,
// ifb0 and ifb1 (6.18: the stall detector's files exist, the detector is
// off); lo has no byte_queue_limits since 6.9 (IFF_NO_QUEUE), only
// tx_maxrate. bigiron-8cpu's are hand-made (see its SOURCE.md).
func TestReadBQLFixtures(t *testing.T) {
	fc, err := bqlOf(t, fcHostRoot, BQLAll)
	if err != nil {
		t.Fatal(err)
	}
	want := []TxQueueBQL{
		{Device: "eth0", Queue: 0, HasBQL: true, Limit: 5565, LimitMin: 0, LimitMax: 1879048192, Inflight: 0, HoldTimeMS: 1000,
			StallThresholdMS: 0, StallCount: 0, StallMaxJiffies: 0, MaxRateMbps: 0},
		{Device: "ifb0", Queue: 0, HasBQL: true, Limit: 0, LimitMin: 0, LimitMax: 1879048192, Inflight: 0, HoldTimeMS: 1000,
			StallThresholdMS: 0, StallCount: 0, StallMaxJiffies: 0, MaxRateMbps: 0},
		{Device: "ifb1", Queue: 0, HasBQL: true, Limit: 0, LimitMin: 0, LimitMax: 1879048192, Inflight: 0, HoldTimeMS: 1000,
			StallThresholdMS: 0, StallCount: 0, StallMaxJiffies: 0, MaxRateMbps: 0},
		{Device: "lo", Queue: 0, Limit: -1, LimitMin: -1, LimitMax: -1, Inflight: -1, HoldTimeMS: -1,
			StallThresholdMS: -1, StallCount: -1, StallMaxJiffies: -1, MaxRateMbps: 0},
	}
	expectBQL(t, fc, want)

	big, err := bqlOf(t, bigironHostRoot, BQLDefault)
	if err != nil {
		t.Fatal(err)
	}
	if len(big) != 10 {
		t.Fatalf("bigiron: %d queues, want ens1f0's 8 and veth0's 2", len(big))
	}
	q5 := big[5]
	if q5.Device != "ens1f0" || q5.Queue != 5 || q5.Limit != 18168 || q5.StallCount != 3 || q5.MaxRateMbps != 0 {
		t.Errorf("ens1f0 tx-5 = %+v", q5)
	}
	if q5.Inflight != -1 || q5.HoldTimeMS != -1 || big[0].StallMaxJiffies != -1 || big[0].StallThresholdMS != -1 {
		t.Errorf("BQLDefault read files it does not ask for: %+v, %+v", q5, big[0])
	}
	if q5.StallMaxJiffies != 412 || q5.StallThresholdMS != 100 {
		t.Errorf("tx-5 stalled (stall_cnt 3), so stall_max and stall_thrs are read too: %+v", q5)
	}
	if big[6].MaxRateMbps != 1000 {
		t.Errorf("ens1f0 tx-6 tx_maxrate %d, want 1000", big[6].MaxRateMbps)
	}
	if v := big[8]; v.Device != "veth0" || v.HasBQL || v.Limit != -1 || v.MaxRateMbps != 0 {
		t.Errorf("veth0 tx-0 = %+v, want no BQL (6.9+ hides it on IFF_NO_QUEUE devices), tx_maxrate 0", v)
	}
}

func expectBQL(t *testing.T, got, want []TxQueueBQL) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d queues, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("queue %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// TestReadBQLOlderKernel: before 6.9 there is no stall detector, and a
// kernel without CONFIG_BQL has no directory at all: absent, no error.
func TestReadBQLOlderKernel(t *testing.T) {
	root := testutil.CopyTree(t, fcHostRoot)
	bql := filepath.Join(root, "sys/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0/queues/tx-0/byte_queue_limits")
	for _, f := range []string{"stall_thrs", "stall_cnt", "stall_max"} {
		if err := os.Remove(filepath.Join(bql, f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.RemoveAll(filepath.Join(root, "sys/devices/virtual/net/ifb0/queues/tx-0/byte_queue_limits")); err != nil {
		t.Fatal(err)
	}
	got, err := bqlOf(t, root, BQLAll)
	if err != nil {
		t.Fatalf("absent files must not be errors: %v", err)
	}
	eth0, ifb0 := got[0], got[1]
	if !eth0.HasBQL || eth0.Limit != 5565 || eth0.StallCount != -1 || eth0.StallThresholdMS != -1 || eth0.StallMaxJiffies != -1 {
		t.Errorf("eth0 without the stall files = %+v", eth0)
	}
	if ifb0.HasBQL || ifb0.Limit != -1 || ifb0.MaxRateMbps != 0 {
		t.Errorf("ifb0 without byte_queue_limits = %+v", ifb0)
	}
}

// TestReadBQLBadFiles: a garbage or negative file is named in the error
// and left -1; the queue's other values and the other queues are kept.
func TestReadBQLBadFiles(t *testing.T) {
	root := testutil.CopyTree(t, fcHostRoot)
	q := filepath.Join(root, "sys/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0/queues/tx-0")
	write := func(rel, content string) {
		if err := os.WriteFile(filepath.Join(q, rel), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("byte_queue_limits/limit", "lots\n")
	write("byte_queue_limits/stall_cnt", "-3\n")
	got, err := bqlOf(t, root, BQLAll)
	if err == nil || !strings.Contains(err.Error(), "byte_queue_limits/limit") || !testutil.ErrMentions(err, "stall_cnt") {
		t.Fatalf("want an error naming limit and stall_cnt, got %v", err)
	}
	if len(got) != 4 || got[0].Limit != -1 || got[0].StallCount != -1 || got[0].LimitMax != 1879048192 || !got[0].HasBQL {
		t.Errorf("eth0 with two bad files = %+v", got[0])
	}
}

// TestReadBQLVanished: a device whose queue directory is gone by the time
// it is read (a container's veth) is left out without an error.
func TestReadBQLVanished(t *testing.T) {
	root := testutil.CopyTree(t, fcHostRoot)
	devs, err := ReadNetDevices(filepath.Join(root, "sys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "sys/devices/virtual/net/ifb1")); err != nil {
		t.Fatal(err)
	}
	got, err := ReadBQL(filepath.Join(root, "sys"), devs, BQLAll)
	if err != nil {
		t.Fatalf("a vanished device is no error: %v", err)
	}
	for _, q := range got {
		if q.Device == "ifb1" {
			t.Errorf("vanished ifb1 still listed: %+v", q)
		}
	}
}

// TestReadBQLLive compares this machine's files, read by hand, with the
// reader's values (the counters and inflight move, so only the values that
// do not: limit_max, hold_time, stall_thrs, tx_maxrate).
func TestReadBQLLive(t *testing.T) {
	devs, err := ReadNetDevices("/sys", nil)
	if err != nil {
		t.Skip(err)
	}
	got, err := ReadBQL("/sys", devs, BQLAll)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range got {
		dir := filepath.Join("/sys/class/net", q.Device, "queues", "tx-"+itoa(q.Queue))
		for _, c := range []struct {
			file string
			v    int64
		}{{"byte_queue_limits/limit_max", q.LimitMax}, {"byte_queue_limits/hold_time", q.HoldTimeMS},
			{"byte_queue_limits/stall_thrs", q.StallThresholdMS}, {"tx_maxrate", q.MaxRateMbps}} {
			b, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				if c.v != -1 {
					t.Errorf("%s/%s unreadable (%v) but read as %d", dir, c.file, err, c.v)
				}
				continue
			}
			if want := strings.TrimSpace(string(b)); want != itoa64(c.v) {
				t.Errorf("%s/%s holds %s, read as %d", dir, c.file, want, c.v)
			}
		}
		t.Logf("%s tx-%d: %+v", q.Device, q.Queue, q)
	}
}

func itoa(v int) string     { return strconv.Itoa(v) }
func itoa64(v int64) string { return strconv.FormatInt(v, 10) }
