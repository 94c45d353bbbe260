package diagnosis

import (
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
)

// TestNAPIThreadUnpinnedBacklog: on a host booted with thread_backlog_napi
// the napi thread free on all CPUs is still flagged, the backlog_napi/N
// threads are not: the kernel binds each to its CPU and refuses taskset
// (PF_NO_SETAFFINITY), and no IRQ feeds them. Even one reported free on
// every CPU (a kernel that would not bind it) gets no finding: there is no
// working fix to offer.
func TestNAPIThreadUnpinnedBacklog(t *testing.T) {
	s := snaptest.Host(t, []string{"0-3"}, "")
	snaptest.NIC(s, "eth0", -1, 1, 1).Threaded = 1
	snaptest.IRQ(t, s, 60, "eth0", 0, kernel.KindCombined, "2", "2", "")
	s.NAPIs = []nic.NAPI{{ID: 8193, Device: "eth0", IRQ: 60, ThreadPID: 812}}
	s.Threads = []procfs.KernelThread{
		{PID: 812, Name: "napi/eth0-8193", Device: "eth0", NAPIID: 8193, CPU: -1, Allowed: snaptest.CPUs(t, "0-3")},
		{PID: 16, Name: "backlog_napi/0", CPU: 0, Backlog: true, Allowed: snaptest.CPUs(t, "0")},
		{PID: 24, Name: "backlog_napi/1", CPU: 1, Backlog: true, Allowed: snaptest.CPUs(t, "0-3")},
		{PID: 14, Name: "ksoftirqd/0", CPU: 0, Allowed: snaptest.CPUs(t, "0-3")},
	}
	got := run(t, "napi_thread_unpinned", s)
	if len(got) != 1 || got[0].Fix != "taskset -pc 2 812" {
		t.Errorf("want only the napi thread's finding, got:\n%s", dumpFindings(got))
	}
}
