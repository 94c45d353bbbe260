package diagnosis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

func TestCheckBQLTxStalls(t *testing.T) {
	now := time.Unix(10_000, 0)
	build := func(dev string, stalls int64, before map[snapshot.TxQueue]int64) *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0-3"}, "")
		s.Time = now
		snaptest.NIC(s, dev, 0, 2, 2)
		snaptest.IRQ(t, s, 61, dev, 1, kernel.KindCombined, "2", "2", "")
		s.BQL = []sysfs.TxQueueBQL{
			{Device: dev, Queue: 0, HasBQL: true, StallCount: 0, StallThresholdMS: -1, StallMaxJiffies: -1},
			{Device: dev, Queue: 1, HasBQL: true, StallCount: stalls, StallThresholdMS: 100, StallMaxJiffies: 103},
		}
		if before != nil {
			s.BQLStallsBefore, s.BQLStallsBeforeTime = before, now.Add(-15*time.Second)
		}
		s.Kernel = &procfs.KernelInfo{Config: procfs.KernelConfig{Present: true, HZ: 250}}
		return s
	}
	q1 := snapshot.TxQueue{Device: "eth0", Queue: 1}
	msg := func(tail string) string {
		return "BQL's stall detector counted 5 TX completion stalls on eth0 TX queue 1 (no completion for at least 100 ms while packets were queued; the longest lasted 412 ms); " +
			tail + ". Its completions are processed where IRQ 61 fires: CPU 2."
	}
	fix := "grep -H . /sys/class/net/eth0/queues/tx-1/tx_timeout /sys/class/net/eth0/queues/tx-1/byte_queue_limits/stall_*; ethtool -S eth0 | grep -iE 'timeout|reset|restart|stop'"
	finding := func(tail string) Finding {
		return Finding{Check: "bql_tx_stalls", Severity: "warning", Device: "eth0", Queue: "1", IRQ: "61", CPU: "2", Message: msg(tail), Fix: fix}
	}
	t.Run("first reading: unknown, not zero", func(t *testing.T) {
		expectFindings(t, run(t, "bql_tx_stalls", build("eth0", 5, nil)),
			finding("whether they still happen is unknown: there is no earlier reading to compare with"))
	})
	t.Run("growing", func(t *testing.T) {
		expectFindings(t, run(t, "bql_tx_stalls", build("eth0", 5, map[snapshot.TxQueue]int64{q1: 3})),
			finding("2 of them in the last 15s"))
	})
	t.Run("still", func(t *testing.T) {
		expectNone(t, run(t, "bql_tx_stalls", build("eth0", 5, map[snapshot.TxQueue]int64{q1: 5})))
	})
	t.Run("counter restarted", func(t *testing.T) {
		expectFindings(t, run(t, "bql_tx_stalls", build("eth0", 5, map[snapshot.TxQueue]int64{q1: 9})),
			finding("all since the counter restarted (the device was re-created) within the last 15s"))
	})
	t.Run("new queue", func(t *testing.T) {
		expectFindings(t, run(t, "bql_tx_stalls", build("eth0", 5, map[snapshot.TxQueue]int64{})),
			finding("whether they still happen is unknown: the queue is new since the last reading"))
	})
	t.Run("no stalls", func(t *testing.T) { expectNone(t, run(t, "bql_tx_stalls", build("eth0", 0, nil))) })
	t.Run("HZ unknown, device name quoted", func(t *testing.T) {
		s := build("q$(id)", 5, nil)
		s.Kernel = nil
		got := run(t, "bql_tx_stalls", s)
		if len(got) != 1 || !strings.Contains(got[0].Message, "the longest lasted 103 jiffies (HZ unknown)") ||
			!strings.HasPrefix(got[0].Fix, "grep -H . /sys/class/net/'q$(id)'/queues/tx-1/tx_timeout") ||
			!strings.HasSuffix(got[0].Fix, "ethtool -S 'q$(id)' | grep -iE 'timeout|reset|restart|stop'") {
			t.Errorf("got %s", dumpFindings(got))
		}
	})
}

// TestBQLStallsThroughTheSource: the exporter's Source hands each snapshot
// the previous one's counters. bigiron-8cpu's tx-5 has 3 stalls: the first
// snapshot's finding says it is unknown whether they still happen; one more
// stall later, the next says so; with no new stall, the third has none.
func TestBQLStallsThroughTheSource(t *testing.T) {
	root := testutil.CopyTree(t, "../../testdata/hosts/bigiron-8cpu")
	src := snapshot.NewSource(snapshot.Options{ProcPath: filepath.Join(root, "proc"), SysPath: filepath.Join(root, "sys"),
		Parts: snapshot.PartAll &^ (snapshot.PartEthtool | snapshot.PartQueueStats)})
	stallsOf := func() []Finding { return run(t, "bql_tx_stalls", src.Snapshot()) }

	first := stallsOf()
	if len(first) != 1 || !strings.Contains(first[0].Message, "3 TX completion stalls on ens1f0 TX queue 5") ||
		!strings.Contains(first[0].Message, "whether they still happen is unknown") ||
		!strings.Contains(first[0].Message, "the longest lasted 412 ms") {
		t.Fatalf("first snapshot: %s", dumpFindings(first))
	}
	cnt := filepath.Join(root, "sys/class/net/ens1f0/queues/tx-5/byte_queue_limits/stall_cnt")
	if err := os.WriteFile(cnt, []byte("4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := stallsOf()
	if len(second) != 1 || !strings.Contains(second[0].Message, "4 TX completion stalls") || !strings.Contains(second[0].Message, "1 of them in the last") {
		t.Fatalf("second snapshot: %s", dumpFindings(second))
	}
	if third := stallsOf(); len(third) != 0 {
		t.Errorf("no new stall: %s", dumpFindings(third))
	}
}
