package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// TestReportIRQTimeAccounting: the header's second line says how to read
// IRQ% and SOFTIRQ%, and the JSON carries the same.
func TestReportIRQTimeAccounting(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		kernel *procfs.KernelInfo
		times  []procfs.CPUTime
		state  string
		line   string
	}{
		{&procfs.KernelInfo{PSI: true, Version: procfs.KernelVersion{Major: 6, Minor: 18}}, []procfs.CPUTime{{CPU: 0}},
			"off", "IRQ time accounting: off (from /proc/pressure/irq): SOFTIRQ% is sampled"},
		{&procfs.KernelInfo{IRQPressure: procfs.IRQPressure{State: procfs.IRQPressurePresent}}, nil,
			"on", "IRQ time accounting: on (from /proc/pressure/irq): IRQ% and SOFTIRQ% are measured."},
		{nil, []procfs.CPUTime{{CPU: 0, IRQ: 3}}, "on", "IRQ time accounting: on (from the irq column of /proc/stat)"},
		{nil, nil, "unknown", "IRQ time accounting: unknown"},
	} {
		prev := &snapshot.Snapshot{Time: now.Add(-time.Second), Kernel: c.kernel, CPUTime: c.times}
		cur := &snapshot.Snapshot{Time: now, Kernel: c.kernel, CPUTime: c.times}
		r := BuildReport(prev, cur)
		if r.IRQTimeAccounting.State != c.state {
			t.Errorf("state %+v, want %s", r.IRQTimeAccounting, c.state)
		}
		var b bytes.Buffer
		if err := r.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		if second := strings.SplitN(b.String(), "\n", 3)[1]; !strings.HasPrefix(second, c.line) {
			t.Errorf("second line %q, want it to start with %q", second, c.line)
		}
	}
}

// TestReportBQLStalls: the report compares its own two readings, even when
// they come from two Sources: one more stall on bigiron-8cpu's ens1f0 tx-5
// between them is "1 of them in the last …", not "unknown".
func TestReportBQLStalls(t *testing.T) {
	root := testutil.CopyTree(t, "../../testdata/hosts/bigiron-8cpu")
	read := func() *snapshot.Snapshot {
		return snapshot.NewSource(snapshot.Options{ProcPath: filepath.Join(root, "proc"), SysPath: filepath.Join(root, "sys"),
			Parts: snapshot.PartAll &^ (snapshot.PartEthtool | snapshot.PartQueueStats)}).Snapshot()
	}
	prev := read()
	if err := os.WriteFile(filepath.Join(root, "sys/class/net/ens1f0/queues/tx-5/byte_queue_limits/stall_cnt"), []byte("4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cur := read()
	cur.Time = prev.Time.Add(5 * time.Second)
	var msgs []string
	for _, f := range BuildReport(prev, cur).Findings {
		if f.Check == "bql_tx_stalls" {
			msgs = append(msgs, f.Message)
		}
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "4 TX completion stalls on ens1f0 TX queue 5") || !strings.Contains(msgs[0], "1 of them in the last 5s") {
		t.Errorf("stall findings %q", msgs)
	}
}
