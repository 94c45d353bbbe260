package procfs

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/testutil"
	procfslib "github.com/prometheus/procfs"
)

const threadsFixture = "../../../testdata/proc_threads/thishost-2cpu-6.18.44-fc-v669"

func TestParseKernelThreadName(t *testing.T) {
	cases := []struct {
		name   string
		ok     bool
		kind   ThreadKind
		device string
		id     uint32
		cpu    int
	}{
		{"napi/eth0-8193", true, ThreadNAPI, "eth0", 8193, -1},
		{"napi/nitp1-258", true, ThreadNAPI, "nitp1", 258, -1},
		{"napi/veth-a-b-12", true, ThreadNAPI, "veth-a-b", 12, -1}, // '-' in the device name: the ID follows the last one
		{"napi/br-lan.100-4294967295", true, ThreadNAPI, "br-lan.100", math.MaxUint32, -1},
		{"ksoftirqd/0", true, ThreadKsoftirqd, "", 0, 0},
		{"ksoftirqd/3", true, ThreadKsoftirqd, "", 0, 3},
		{"ksoftirqd/8191", true, ThreadKsoftirqd, "", 0, 8191},
		{"backlog_napi/0", true, ThreadBacklog, "", 0, 0}, // 6.10+ with thread_backlog_napi or PREEMPT_RT
		{"backlog_napi/255", true, ThreadBacklog, "", 0, 255},
		{"napi/eth0-", false, 0, "", 0, -1},           // cut at the '-' by a pre-5.17 kernel
		{"napi/enp65s0f0-", false, 0, "", 0, -1},      // the same, 15 bytes
		{"napi/-5", false, 0, "", 0, -1},              // no device
		{"napi/eth0", false, 0, "", 0, -1},            // no ID
		{"napi/eth0-8x", false, 0, "", 0, -1},         // not a number
		{"napi/eth0-+8", false, 0, "", 0, -1},         // signs are not digits
		{"napi/eth0-4294967296", false, 0, "", 0, -1}, // beyond u32
		{"ksoftirqd/", false, 0, "", 0, -1},
		{"ksoftirqd/-1", false, 0, "", 0, -1},
		{"ksoftirqd/3x", false, 0, "", 0, -1},
		{"ksoftirqd/8192", false, 0, "", 0, -1}, // beyond NR_CPUS
		{"backlog_napi/", false, 0, "", 0, -1},
		{"backlog_napi/1a", false, 0, "", 0, -1},
		{"backlog_napi/8192", false, 0, "", 0, -1},
		{"backlog_napi", false, 0, "", 0, -1},
		{"kworker/0:1H", false, 0, "", 0, -1},
		{"irq/35-virtio0-input.0", false, 0, "", 0, -1},
		{"napi", false, 0, "", 0, -1},
		{"", false, 0, "", 0, -1},
	}
	for _, c := range cases {
		got, ok := ParseKernelThreadName(c.name)
		if ok != c.ok {
			t.Errorf("%q: ok %v, want %v", c.name, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		if got.Name != c.name || got.Kind() != c.kind || got.Device != c.device || got.NAPIID != c.id || got.CPU != c.cpu || got.LastCPU != -1 {
			t.Errorf("%q: got %+v, want kind %d device %q id %d cpu %d", c.name, got, c.kind, c.device, c.id, c.cpu)
		}
	}
}

func openFixture(t *testing.T, rel string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(threadsFixture, rel))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestParseThreadStatFixtures parses this machine's real stat files and
// checks the result against procfs' own parser.
func TestParseThreadStatFixtures(t *testing.T) {
	fs, err := procfslib.NewFS(threadsFixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pid          int
		comm         string
		utime, stime uint64
		processor    int
	}{
		{14, "ksoftirqd/0", 4, 19, 0},
		{14745, "napi/nitp1-258", 0, 0, 0},
	} {
		got, err := ParseThreadStat(openFixture(t, strconv.Itoa(c.pid)+"/stat"))
		if err != nil {
			t.Fatalf("%d: %v", c.pid, err)
		}
		want := ThreadStat{PID: c.pid, Comm: c.comm, UTime: c.utime, STime: c.stime, Processor: c.processor}
		if got != want {
			t.Errorf("%d: got %+v, want %+v", c.pid, got, want)
		}
		p, err := fs.Proc(c.pid)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := p.Stat()
		if err != nil {
			t.Fatal(err)
		}
		if ps.Comm != got.Comm || uint64(ps.UTime) != got.UTime || uint64(ps.STime) != got.STime || int(ps.Processor) != got.Processor {
			t.Errorf("%d: procfs reads comm %q utime %d stime %d processor %d, we %+v", c.pid, ps.Comm, ps.UTime, ps.STime, ps.Processor, got)
		}
	}
}

func TestParseThreadStatEdgeCases(t *testing.T) {
	tail := func(utime, stime, processor string) string {
		return "S 2 0 0 0 -1 69238848 0 0 0 0 " + utime + " " + stime +
			" 0 0 20 0 1 0 24 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 17 " + processor + " 0 0 0 0 0\n"
	}
	// A comm with blanks and parentheses: the last ')' ends it.
	got, err := ParseThreadStat(strings.NewReader("77 (a) (b c) " + tail("5", "6", "1")))
	if err != nil || got.Comm != "a) (b c" || got.UTime != 5 || got.STime != 6 || got.Processor != 1 || got.PID != 77 {
		t.Errorf("comm with parentheses: %+v, %v", got, err)
	}
	// A pre-2.2 kernel prints no processor field: -1, not an error.
	got, err = ParseThreadStat(strings.NewReader("9 (ksoftirqd/0) S 2 0 0 0 -1 0 0 0 0 0 7 8 0 0\n"))
	if err != nil || got.Processor != -1 || got.UTime != 7 || got.STime != 8 {
		t.Errorf("short stat: %+v, %v", got, err)
	}
	bad := map[string]string{
		"empty":             "",
		"no parentheses":    "14 ksoftirqd/0 S 2 0 0",
		"only an open":      "14 (ksoftirqd/0 S 2 0 0",
		"close before open": "14 )ksoftirqd/0( S 2",
		"bad pid":           "x4 (ksoftirqd/0) " + tail("4", "18", "0"),
		"too few fields":    "14 (ksoftirqd/0) S 2 0 0 0 -1 0 0 0 0 0 4",
		"garbage utime":     "14 (ksoftirqd/0) " + tail("four", "18", "0"),
		"negative stime":    "14 (ksoftirqd/0) " + tail("4", "-18", "0"),
		"bad processor":     "14 (ksoftirqd/0) " + tail("4", "18", "-1"),
		"huge processor":    "14 (ksoftirqd/0) " + tail("4", "18", "99999"),
		"binary":            "\x00\x01\xffnot a kernel file\n::::\n",
		"too long":          "14 (x) " + strings.Repeat("1 ", procThreadReadLimit),
	}
	for name, text := range bad {
		if got, err := ParseThreadStat(strings.NewReader(text)); err == nil {
			t.Errorf("%s: no error, got %+v", name, got)
		} else if len(err.Error()) > 300 {
			t.Errorf("%s: error too long (%d bytes)", name, len(err.Error()))
		}
	}
}

func TestParseThreadAllowedCPUs(t *testing.T) {
	for pid, want := range map[string]cpuset.CPUSet{"14": cpuset.NewCPUSet(0), "14745": cpuset.NewCPUSet(0, 1)} {
		got, err := ParseThreadAllowedCPUs(openFixture(t, pid+"/status"))
		if err != nil || !got.Equal(want) {
			t.Errorf("%s/status: %v, %v; want %v", pid, got, err, want)
		}
	}
	for name, text := range map[string]string{
		"empty":             "",
		"no such line":      "Name:\tksoftirqd/0\nCpus_allowed:\t1\n",
		"garbage list":      "Name:\tx\nCpus_allowed_list:\t0-\n",
		"out of range list": "Cpus_allowed_list:\t0-99999\n",
		"binary":            "\x00\x01\xff::::\n",
	} {
		if got, err := ParseThreadAllowedCPUs(strings.NewReader(text)); err == nil {
			t.Errorf("%s: no error, got %v", name, got)
		}
	}
}

func TestReadKernelThreadsChildren(t *testing.T) {
	p := testutil.StandardThreads(t)
	got, err := ReadKernelThreads(p.Root, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []KernelThread{
		{PID: 301, Name: "napi/eth0-8193", Device: "eth0", NAPIID: 8193, CPU: -1, UserSeconds: 0, SystemSeconds: 0.99, LastCPU: 2, Allowed: cpuset.NewCPUSet(0, 1, 2, 3)},
		{PID: 300, Name: "napi/veth-a-b-8194", Device: "veth-a-b", NAPIID: 8194, CPU: -1, UserSeconds: 0.12, SystemSeconds: 3.45, LastCPU: 3, Allowed: cpuset.NewCPUSet(2, 3)},
		{PID: 14, Name: "ksoftirqd/0", CPU: 0, UserSeconds: 0.04, SystemSeconds: 0.18, LastCPU: 0, Allowed: cpuset.NewCPUSet(0)},
		{PID: 22, Name: "ksoftirqd/1", CPU: 1, UserSeconds: 0.07, SystemSeconds: 2.3, LastCPU: 1, Allowed: cpuset.NewCPUSet(1)},
	}
	checkThreads(t, got, want)
}

func checkThreads(t *testing.T, got, want []KernelThread) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d threads %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.PID != w.PID || g.Name != w.Name || g.Kind() != w.Kind() || g.Device != w.Device || g.NAPIID != w.NAPIID || g.CPU != w.CPU ||
			math.Abs(g.UserSeconds-w.UserSeconds) > 1e-9 || math.Abs(g.SystemSeconds-w.SystemSeconds) > 1e-9 ||
			g.LastCPU != w.LastCPU || !g.Allowed.Equal(w.Allowed) {
			t.Errorf("thread %d: got %+v (allowed %s), want %+v (allowed %s)", i, g, g.Allowed, w, w.Allowed)
		}
	}
}

// TestReadKernelThreadsScanFallback: without the children file, or when
// PID 2 is not kthreadd (a child PID namespace's procfs), every PID is
// scanned, so the thread outside the children list is found too.
func TestReadKernelThreadsScanFallback(t *testing.T) {
	for name, breakIt := range map[string]func(p testutil.FakeProc){
		"no children file": func(p testutil.FakeProc) { os.RemoveAll(filepath.Join(p.Root, "2", "task")) },
		"no PID 2":         func(p testutil.FakeProc) { os.RemoveAll(filepath.Join(p.Root, "2")) },
		"PID 2 is no kthreadd": func(p testutil.FakeProc) {
			p.Write("2/comm", "bash\n")
		},
	} {
		t.Run(name, func(t *testing.T) {
			p := testutil.StandardThreads(t)
			breakIt(p)
			got, err := ReadKernelThreads(p.Root, nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, th := range got {
				names = append(names, th.Name)
			}
			want := "napi/eth0-8193 napi/ghost-1 napi/veth-a-b-8194 ksoftirqd/0 ksoftirqd/1"
			if strings.Join(names, " ") != want {
				t.Errorf("found %v, want %s", names, want)
			}
		})
	}
}

// TestReadKernelThreadsBadInput: a vanished PID is skipped silently; garbage
// stat drops the thread with an error; a missing status keeps it with an
// empty Allowed and an error; an unreadable procfs root is an error.
func TestReadKernelThreadsBadInput(t *testing.T) {
	t.Run("vanished", func(t *testing.T) {
		p := testutil.NewFakeProc(t)
		p.Kthreadd(14, 15, 16, 17)
		p.Thread(14, "ksoftirqd/0", 1, 2, 0, "0")
		// 15, 16 and 17 are listed by kthreadd but exited before their
		// files were read: their directories are gone.
		got, err := ReadKernelThreads(p.Root, nil)
		if err != nil || len(got) != 1 || got[0].PID != 14 {
			t.Errorf("got %+v, %v; want ksoftirqd/0 only, no error", got, err)
		}
	})
	t.Run("pid reused by another thread", func(t *testing.T) {
		p := testutil.NewFakeProc(t)
		p.Kthreadd(14)
		p.Thread(14, "ksoftirqd/0", 1, 2, 0, "0")
		p.Write("14/stat", testutil.FakeStat(14, "kworker/u8:1", 1, 1, 0)) // stat's name wins
		got, err := ReadKernelThreads(p.Root, nil)
		if err != nil || len(got) != 0 {
			t.Errorf("got %+v, %v; want nothing", got, err)
		}
	})
	t.Run("garbage stat", func(t *testing.T) {
		p := testutil.NewFakeProc(t)
		p.Kthreadd(14, 22)
		p.Thread(14, "ksoftirqd/0", 1, 2, 0, "0")
		p.Thread(22, "ksoftirqd/1", 1, 2, 1, "1")
		p.Write("22/stat", "\x00\x01\xffnot a kernel file\n")
		got, err := ReadKernelThreads(p.Root, nil)
		if err == nil || !strings.Contains(err.Error(), "22/stat") {
			t.Errorf("error %v, want one naming 22/stat", err)
		}
		if len(got) != 1 || got[0].PID != 14 {
			t.Errorf("got %+v, want ksoftirqd/0 still read", got)
		}
	})
	t.Run("missing status", func(t *testing.T) {
		p := testutil.NewFakeProc(t)
		p.Kthreadd(14)
		p.Thread(14, "ksoftirqd/0", 1, 2, 0, "0")
		os.Remove(filepath.Join(p.Root, "14", "status"))
		got, err := ReadKernelThreads(p.Root, nil)
		if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "14/status") {
			t.Errorf("error %v, want a missing 14/status", err)
		}
		if len(got) != 1 || !got[0].Allowed.IsEmpty() || got[0].SystemSeconds != 0.02 {
			t.Errorf("got %+v, want ksoftirqd/0 kept with its times and no allowed CPUs", got)
		}
	})
	t.Run("garbage status", func(t *testing.T) {
		p := testutil.NewFakeProc(t)
		p.Kthreadd(14)
		p.Thread(14, "ksoftirqd/0", 1, 2, 0, "zz")
		got, err := ReadKernelThreads(p.Root, nil)
		if err == nil || len(got) != 1 {
			t.Errorf("got %+v, %v; want the thread and an error", got, err)
		}
	})
	t.Run("garbage children", func(t *testing.T) {
		p := testutil.NewFakeProc(t)
		p.Write("2/comm", "kthreadd\n")
		p.Write("2/task/2/children", "14 x -3 \x00 99999999999999 ")
		p.Thread(14, "ksoftirqd/0", 1, 2, 0, "0")
		got, err := ReadKernelThreads(p.Root, nil)
		if err != nil || len(got) != 1 {
			t.Errorf("got %+v, %v; want ksoftirqd/0", got, err)
		}
	})
	t.Run("no procfs", func(t *testing.T) {
		got, err := ReadKernelThreads(filepath.Join(t.TempDir(), "nope"), nil)
		if err == nil || got != nil {
			t.Errorf("got %+v, %v; want an error", got, err)
		}
	})
	t.Run("many problems summarized", func(t *testing.T) {
		p := testutil.NewFakeProc(t)
		var kids []int
		for cpu := range 20 {
			pid := 100 + cpu
			kids = append(kids, pid)
			p.Thread(pid, "ksoftirqd/"+strconv.Itoa(cpu), 1, 2, cpu, "0")
			p.Write(strconv.Itoa(pid)+"/stat", "garbage")
		}
		p.Kthreadd(kids...)
		_, err := ReadKernelThreads(p.Root, nil)
		if err == nil || strings.Count(err.Error(), "\n") > 0 || !strings.Contains(err.Error(), "20 problems") {
			t.Errorf("error %q, want one line counting 20 problems", err)
		}
	})
}

// TestReadKernelThreadsNAPIFromNetlink: a name an old kernel cut at 15
// bytes cannot be parsed; the netdev netlink NAPI list names the thread.
func TestReadKernelThreadsNAPIFromNetlink(t *testing.T) {
	p := testutil.NewFakeProc(t)
	p.Kthreadd(40, 41, 42)
	p.Thread(40, "napi/enp65s0f0-", 1, 5, 1, "0-1") // napi/enp65s0f0np0-8200, cut
	p.Thread(41, "napi/eth100-819", 1, 5, 1, "0-1") // napi/eth100-8193, cut mid-ID
	p.Thread(42, "napi/enp66s0f0-", 1, 5, 1, "0-1") // netlink does not know it
	napis := map[int]nic.NAPI{
		40: {ID: 8200, Device: "enp65s0f0np0", ThreadPID: 40},
		41: {ID: 8193, Device: "eth100", ThreadPID: 41},
	}
	got, err := ReadKernelThreads(p.Root, napis)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Device != "enp65s0f0np0" || got[0].NAPIID != 8200 || got[1].Device != "eth100" || got[1].NAPIID != 8193 {
		t.Errorf("got %+v, want the two threads netlink names", got)
	}
}

// TestKernelThreadsLive reads this machine's /proc: a ksoftirqd/N for every
// online CPU, bound to N, with non-negative times that procfs agrees with;
// the full /proc scan finds the same threads as kthreadd's children list.
func TestKernelThreadsLive(t *testing.T) {
	if _, err := os.Stat("/proc/2/task/2/children"); err != nil {
		t.Skipf("no kthreadd children list here: %v", err)
	}
	online := testutil.OnlineCPUs(t)
	began := time.Now()
	got, err := ReadKernelThreads("/proc", nil)
	viaChildren := time.Since(began)
	if err != nil {
		t.Fatal(err)
	}
	pfs, err := procfslib.NewFS("/proc")
	if err != nil {
		t.Fatal(err)
	}
	byCPU := map[int]KernelThread{}
	for _, th := range got {
		if th.CPU < 0 {
			continue
		}
		if _, dup := byCPU[th.CPU]; dup {
			t.Errorf("two ksoftirqd/%d", th.CPU)
		}
		byCPU[th.CPU] = th
		if th.UserSeconds < 0 || th.SystemSeconds < 0 {
			t.Errorf("%s: negative seconds %+v", th.Name, th)
		}
		if !th.Allowed.Equal(cpuset.NewCPUSet(th.CPU)) {
			t.Errorf("%s: allowed %q, want %d", th.Name, th.Allowed, th.CPU)
		}
		if th.LastCPU != th.CPU {
			t.Errorf("%s: last ran on CPU %d, but it is bound to %d", th.Name, th.LastCPU, th.CPU)
		}
		p, err := pfs.Proc(th.PID)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := p.Stat()
		if err != nil {
			t.Fatal(err)
		}
		// Read after ours: procfs sees the same or more ticks.
		if ps.Comm != th.Name || float64(ps.UTime) < math.Round(th.UserSeconds*userHZ) || float64(ps.STime) < math.Round(th.SystemSeconds*userHZ) {
			t.Errorf("%s: procfs reads %s utime %d stime %d, we %+v", th.Name, ps.Comm, ps.UTime, ps.STime, th)
		}
	}
	for _, cpu := range online.List() {
		if _, ok := byCPU[cpu]; !ok {
			t.Errorf("no ksoftirqd/%d found", cpu)
		}
	}

	// The same through the full scan.
	pids, err := allPIDs("/proc")
	if err != nil {
		t.Fatal(err)
	}
	began = time.Now()
	var scanned []KernelThread
	for _, pid := range pids {
		if th, ok, _ := readKernelThread("/proc", pid, nil); ok {
			scanned = append(scanned, th)
		}
	}
	viaScan := time.Since(began)
	if len(scanned) != len(got) {
		t.Errorf("the /proc scan found %d threads, kthreadd's children %d", len(scanned), len(got))
	}
	children, _ := KthreaddChildren("/proc")
	t.Logf("%d threads (%d ksoftirqd); kthreadd children: %d candidates, %v; full /proc scan: %d candidates, %v",
		len(got), len(byCPU), len(children), viaChildren, len(pids), viaScan)
}

// BenchmarkKernelThreadsChildren and BenchmarkKernelThreadsScan time the
// two ways of finding the threads on this machine's /proc.
// Wall time is noisy on a loaded 2-CPU machine, so they also report the
// process CPU time (user+system, from getrusage) per operation.
func BenchmarkKernelThreadsChildren(b *testing.B) {
	children, ok := KthreaddChildren("/proc")
	if !ok {
		b.Skip("no kthreadd children list")
	}
	cpu := startCPUClock()
	for b.Loop() {
		if _, err := ReadKernelThreads("/proc", nil); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	b.ReportMetric(float64(len(children)), "candidates")
}

// cpuClock measures the process's CPU time over a benchmark.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPUClock() cpuClock { return cpuClock{processCPU()} }

func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64((processCPU()-c.start).Microseconds())/float64(b.N), "cpu-µs/op")
}

func BenchmarkKernelThreadsScan(b *testing.B) {
	cpu := startCPUClock()
	for b.Loop() {
		pids, err := allPIDs("/proc")
		if err != nil {
			b.Fatal(err)
		}
		for _, pid := range pids {
			readKernelThread("/proc", pid, nil)
		}
	}
	cpu.report(b)
	pids, _ := allPIDs("/proc")
	b.ReportMetric(float64(len(pids)), "pids")
}
