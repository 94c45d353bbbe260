package procfs

import (
	"strconv"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// TestReadKernelThreadsBacklog: with thread_backlog_napi (or PREEMPT_RT)
// a 6.10+ kernel runs one backlog_napi/N per CPU, bound to it like
// ksoftirqd/N. They sort after the napi threads and before ksoftirqd.
func TestReadKernelThreadsBacklog(t *testing.T) {
	p := testutil.NewFakeProc(t)
	p.Kthreadd(14, 22, 30, 31, 400)
	p.Thread(14, "ksoftirqd/0", 4, 18, 0, "0")
	p.Thread(22, "ksoftirqd/1", 7, 230, 1, "1")
	p.Thread(31, "backlog_napi/1", 0, 4120, 1, "1")
	p.Thread(30, "backlog_napi/0", 0, 15, 0, "0")
	p.Thread(400, "napi/eth0-8193", 0, 99, 1, "0-1")
	got, err := ReadKernelThreads(p.Root, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkThreads(t, got, []KernelThread{
		{PID: 400, Name: "napi/eth0-8193", Device: "eth0", NAPIID: 8193, CPU: -1, SystemSeconds: 0.99, LastCPU: 1, Allowed: cpuset.NewCPUSet(0, 1)},
		{PID: 30, Name: "backlog_napi/0", Backlog: true, CPU: 0, SystemSeconds: 0.15, LastCPU: 0, Allowed: cpuset.NewCPUSet(0)},
		{PID: 31, Name: "backlog_napi/1", Backlog: true, CPU: 1, SystemSeconds: 41.2, LastCPU: 1, Allowed: cpuset.NewCPUSet(1)},
		{PID: 14, Name: "ksoftirqd/0", CPU: 0, UserSeconds: 0.04, SystemSeconds: 0.18, LastCPU: 0, Allowed: cpuset.NewCPUSet(0)},
		{PID: 22, Name: "ksoftirqd/1", CPU: 1, UserSeconds: 0.07, SystemSeconds: 2.3, LastCPU: 1, Allowed: cpuset.NewCPUSet(1)},
	})
	if !ThreadBacklog.PerCPU() || !ThreadKsoftirqd.PerCPU() || ThreadNAPI.PerCPU() {
		t.Errorf("PerCPU: backlog and ksoftirqd are per CPU, napi threads are not")
	}
}

// FuzzParseKernelThreadName: a name parses only into the thread it names:
// the kind's prefix, and the CPU or device and ID printed back give the
// name again.
func FuzzParseKernelThreadName(f *testing.F) {
	for _, s := range []string{"napi/eth0-8193", "napi/veth-a-b-12", "ksoftirqd/3", "backlog_napi/0", "backlog_napi/8191",
		"backlog_napi/8192", "napi/eth0-", "ksoftirqd/03", "kworker/0:1H", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		th, ok := ParseKernelThreadName(name)
		if th.Name != name || th.LastCPU != -1 {
			t.Fatalf("%q: %+v", name, th)
		}
		if !ok {
			return
		}
		// The kernel prints no leading zeros, but the parser takes them:
		// compare the number, not the digits.
		var prefix string
		var num uint64
		switch th.Kind() {
		case ThreadNAPI:
			prefix, num = napiThreadPrefix+th.Device+"-", uint64(th.NAPIID)
		case ThreadBacklog:
			prefix, num = backlogThreadPrefix, uint64(th.CPU)
		case ThreadKsoftirqd:
			prefix, num = ksoftirqdThreadPrefix, uint64(th.CPU)
		default:
			t.Fatalf("%q: kind %d", name, th.Kind())
		}
		if th.Kind().PerCPU() != (th.CPU >= 0) || th.CPU >= cpuset.MaxCPUs {
			t.Fatalf("%q: kind %d with CPU %d", name, th.Kind(), th.CPU)
		}
		digits, found := strings.CutPrefix(name, prefix)
		if v, err := strconv.ParseUint(digits, 10, 64); !found || err != nil || v != num {
			t.Fatalf("%q parsed as %+v: not %q followed by %d", name, th, prefix, num)
		}
	})
}
