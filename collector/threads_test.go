//go:build linux

package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sys/unix"

	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/netlab"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// onlyCollectors enables just the named collectors.
func onlyCollectors(cfg Config, names ...string) Config {
	cfg.Enabled = map[string]bool{}
	for name := range factories {
		cfg.Enabled[name] = false
	}
	for _, n := range names {
		cfg.Enabled[n] = true
	}
	return cfg
}

func threadsConfig(procRoot string) Config {
	cfg := DefaultConfig()
	cfg.ProcPath = procRoot
	cfg.SysPath = filepath.Join(filepath.Dir(procRoot), "sys")
	return onlyCollectors(cfg, "threads")
}

// expectValue checks that metric{labels} exists once with value want.
func expectValue(t *testing.T, mfs []*dto.MetricFamily, metric string, labels map[string]string, want float64) {
	t.Helper()
	got := find(mfs, metric, labels)
	if len(got) != 1 {
		t.Errorf("%s%v: %d series, want 1", metric, labels, len(got))
		return
	}
	if v := value(got[0]); v != want {
		t.Errorf("%s%v = %v, want %v", metric, labels, v, want)
	}
}

func TestThreadsCollectorFixture(t *testing.T) {
	p := testutil.StandardThreads(t)
	mfs := gather(t, newTestExporter(t, threadsConfig(p.Root)))
	if s := successes(mfs)["threads"]; s != 1 {
		t.Fatalf("threads collector success %v", s)
	}
	ks := "netirq_ksoftirqd_cpu_seconds_total"
	expectValue(t, mfs, ks, map[string]string{"cpu": "0", "mode": "user"}, 0.04)
	expectValue(t, mfs, ks, map[string]string{"cpu": "0", "mode": "system"}, 0.18)
	expectValue(t, mfs, ks, map[string]string{"cpu": "1", "mode": "user"}, 0.07)
	expectValue(t, mfs, ks, map[string]string{"cpu": "1", "mode": "system"}, 2.3)
	ns := "netirq_napi_thread_cpu_seconds_total"
	veth := map[string]string{"device": "veth-a-b", "napi_id": "8194"}
	expectValue(t, mfs, ns, map[string]string{"device": "veth-a-b", "napi_id": "8194", "mode": "user"}, 0.12)
	expectValue(t, mfs, ns, map[string]string{"device": "veth-a-b", "napi_id": "8194", "mode": "system"}, 3.45)
	expectValue(t, mfs, ns, map[string]string{"device": "eth0", "napi_id": "8193", "mode": "system"}, 0.99)
	expectValue(t, mfs, "netirq_napi_thread_info", map[string]string{"device": "eth0", "napi_id": "8193", "pid": "301", "allowed_cpus": "0-3"}, 1)
	expectValue(t, mfs, "netirq_napi_thread_info", map[string]string{"device": "veth-a-b", "napi_id": "8194", "pid": "300", "allowed_cpus": "2-3"}, 1)
	expectValue(t, mfs, "netirq_napi_thread_last_cpu", veth, 3)
	expectValue(t, mfs, "netirq_napi_thread_last_cpu", map[string]string{"device": "eth0"}, 2)
	if got := find(mfs, "netirq_napi_thread_info", map[string]string{"device": "ghost"}); len(got) != 0 {
		t.Errorf("a napi thread outside kthreadd's children was exported: %v", got)
	}
	for metric, want := range map[string]int{ks: 4, ns: 4, "netirq_napi_thread_info": 2, "netirq_napi_thread_last_cpu": 2} {
		if got := len(find(mfs, metric, nil)); got != want {
			t.Errorf("%s: %d series, want %d", metric, got, want)
		}
	}

	// The netqueues device filter applies to napi threads too.
	cfg := threadsConfig(p.Root)
	cfg.DeviceExclude = regexp.MustCompile(`^veth`)
	mfs = gather(t, newTestExporter(t, cfg))
	if got := find(mfs, ns, map[string]string{"device": "veth-a-b"}); len(got) != 0 {
		t.Errorf("excluded device still exported: %v", got)
	}
	if got := find(mfs, ns, map[string]string{"device": "eth0"}); len(got) != 2 {
		t.Errorf("eth0: %d series, want 2", len(got))
	}
}

// TestThreadsCollectorBadInput: a broken thread costs the collector its
// success, not the other threads' metrics; duplicate names (impossible on
// one host) do not break the scrape; a missing procfs fails cleanly.
func TestThreadsCollectorBadInput(t *testing.T) {
	t.Run("garbage stat", func(t *testing.T) {
		p := testutil.StandardThreads(t)
		p.Write("22/stat", "\x00\x01\xffnot a kernel file\n")
		mfs := gather(t, newTestExporter(t, threadsConfig(p.Root)))
		if s := successes(mfs)["threads"]; s != 0 {
			t.Errorf("success %v, want 0", s)
		}
		if got := find(mfs, "netirq_ksoftirqd_cpu_seconds_total", map[string]string{"cpu": "0"}); len(got) != 2 {
			t.Errorf("ksoftirqd/0 no longer exported")
		}
		if got := find(mfs, "netirq_ksoftirqd_cpu_seconds_total", map[string]string{"cpu": "1"}); len(got) != 0 {
			t.Errorf("ksoftirqd/1 exported from garbage")
		}
	})
	t.Run("missing status", func(t *testing.T) {
		p := testutil.StandardThreads(t)
		os.Remove(filepath.Join(p.Root, "301", "status"))
		mfs := gather(t, newTestExporter(t, threadsConfig(p.Root)))
		if s := successes(mfs)["threads"]; s != 0 {
			t.Errorf("success %v, want 0", s)
		}
		expectValue(t, mfs, "netirq_napi_thread_info", map[string]string{"device": "eth0", "allowed_cpus": ""}, 1)
	})
	t.Run("vanished", func(t *testing.T) {
		p := testutil.StandardThreads(t)
		os.RemoveAll(filepath.Join(p.Root, "300"))
		mfs := gather(t, newTestExporter(t, threadsConfig(p.Root)))
		if s := successes(mfs)["threads"]; s != 1 {
			t.Errorf("success %v, want 1: an exited thread is no failure", s)
		}
		if got := find(mfs, "netirq_napi_thread_info", nil); len(got) != 1 {
			t.Errorf("%d napi threads, want 1", len(got))
		}
	})
	t.Run("duplicates", func(t *testing.T) {
		p := testutil.StandardThreads(t)
		p.Kthreadd(14, 22, 300, 301, 302, 303)
		p.Thread(302, "napi/eth0-8193", 1, 1, 0, "0")
		p.Thread(303, "ksoftirqd/1", 1, 1, 0, "1")
		mfs := gather(t, newTestExporter(t, threadsConfig(p.Root))) // pedantic: fails on duplicates
		if got := find(mfs, "netirq_napi_thread_info", map[string]string{"device": "eth0"}); len(got) != 1 {
			t.Errorf("%d eth0 series, want 1", len(got))
		}
	})
	t.Run("no procfs", func(t *testing.T) {
		mfs := gather(t, newTestExporter(t, threadsConfig(filepath.Join(t.TempDir(), "proc"))))
		if s := successes(mfs)["threads"]; s != 0 {
			t.Errorf("success %v, want 0", s)
		}
	})
}

// TestThreadsKsoftirqdLive: through the exporter on this machine's /proc,
// every online CPU's ksoftirqd has both modes, with non-negative seconds.
func TestThreadsKsoftirqdLive(t *testing.T) {
	online := testutil.OnlineCPUs(t)
	mfs := gather(t, newTestExporter(t, onlyCollectors(DefaultConfig(), "threads")))
	if s := successes(mfs)["threads"]; s != 1 {
		t.Fatalf("threads collector failed on this machine")
	}
	for _, cpu := range online.List() {
		for _, mode := range []string{"user", "system"} {
			got := find(mfs, "netirq_ksoftirqd_cpu_seconds_total", map[string]string{"cpu": strconv.Itoa(cpu), "mode": mode})
			if len(got) != 1 || value(got[0]) < 0 {
				t.Errorf("ksoftirqd/%d %s: %v", cpu, mode, got)
			}
		}
	}
	if n := len(find(mfs, "netirq_ksoftirqd_cpu_seconds_total", nil)); n != 2*online.Count() {
		t.Errorf("%d ksoftirqd series, want %d", n, 2*online.Count())
	}
}

// Legacy ethtool ioctl commands (include/uapi/linux/ethtool.h).
const (
	ethtoolSTSO = 0x0000001f // TSO: every NETIF_F_ALL_TSO bit
	ethtoolSGRO = 0x0000002c // GRO
)

// ethtoolSet turns a feature on or off on dev inside the network namespace
// nsPath with a legacy ethtool ioctl (this machine has no ethtool binary).
func ethtoolSet(nsPath, dev string, cmd uint32, on bool) error {
	const siocEthtool = 0x8946
	return netlab.InNetns(nsPath, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		value := struct{ cmd, data uint32 }{cmd: cmd}
		if on {
			value.data = 1
		}
		var ifr struct {
			name [unix.IFNAMSIZ]byte
			data unsafe.Pointer
			_    [24 - unsafe.Sizeof(uintptr(0))]byte
		}
		copy(ifr.name[:], dev)
		ifr.data = unsafe.Pointer(&value)
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), siocEthtool, uintptr(unsafe.Pointer(&ifr)))
		runtime.KeepAlive(&value)
		if errno != 0 {
			return fmt.Errorf("ethtool ioctl %#x on %s: %w", cmd, dev, errno)
		}
		return nil
	})
}

// TestNAPIThreadsLive makes real napi/<dev>-<id> threads: a veth pair in
// namespaces of its own (netlab), GRO on the receiving end (a veth has nic.NAPI
// instances, and so threaded nic.NAPI, only with GRO or XDP on), threaded nic.NAPI
// on. One thread per RX queue must be found with distinct NAPI IDs, be
// exported, and its CPU time must rise under a UDP flood. For the flood to
// take the NAPI path at all, TSO is turned off on the sending end: veth
// hands a UDP skb from a TSO-capable peer to netif_rx (the backlog, not the
// NAPI thread) unless the receiver has rx-udp-gro-forwarding
// (veth_skb_is_eligible_for_gro). Needs root (skips otherwise, fails under
// CI=true).
func TestNAPIThreadsLive(t *testing.T) {
	const queues = 2
	lab := netlab.New(t, netlab.Options{Queues: queues})
	dev := lab.RxDevice()
	if err := ethtoolSet(filepath.Join("/run/netns", lab.ReceiverNS()), dev, ethtoolSGRO, true); err != nil {
		t.Fatal(err)
	}
	if err := ethtoolSet(filepath.Join("/run/netns", lab.SenderNS()), lab.TxDevice(), ethtoolSTSO, false); err != nil {
		t.Fatal(err)
	}
	if err := lab.SetThreaded(true); err != nil {
		t.Fatal(err)
	}
	var threads []procfs.KernelThread
	deadline := time.Now().Add(5 * time.Second)
	for {
		all, err := procfs.ReadKernelThreads("/proc", nil)
		if err != nil {
			t.Fatal(err)
		}
		threads = threads[:0]
		for _, th := range all {
			if th.CPU < 0 && th.Device == dev {
				threads = append(threads, th)
			}
		}
		if len(threads) == queues || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(threads) != queues {
		t.Fatalf("found %d napi/%s-* threads, want %d (one per RX queue): %+v", len(threads), dev, queues, threads)
	}
	online := testutil.OnlineCPUs(t)
	ids := map[uint32]bool{}
	for _, th := range threads {
		if th.Name != fmt.Sprintf("napi/%s-%d", dev, th.NAPIID) || th.NAPIID == 0 || ids[th.NAPIID] {
			t.Errorf("thread %+v: bad or duplicate NAPI ID", th)
		}
		ids[th.NAPIID] = true
		if th.Allowed.IsEmpty() || !th.Allowed.Intersect(online).Equal(th.Allowed) || !online.Contains(th.LastCPU) {
			t.Errorf("%s: allowed %q, last CPU %d; online %q", th.Name, th.Allowed, th.LastCPU, online)
		}
	}

	e := newTestExporter(t, onlyCollectors(DefaultConfig(), "threads"))
	before := gather(t, e)
	for _, th := range threads {
		id := strconv.FormatUint(uint64(th.NAPIID), 10)
		expectValue(t, before, "netirq_napi_thread_info", map[string]string{"device": dev, "napi_id": id, "pid": strconv.Itoa(th.PID), "allowed_cpus": th.Allowed.String()}, 1)
		if got := find(before, "netirq_napi_thread_last_cpu", map[string]string{"device": dev, "napi_id": id}); len(got) != 1 {
			t.Errorf("no last_cpu for %s", th.Name)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := lab.Flood(ctx, netlab.FloodOptions{Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	after := gather(t, e)
	sum := func(mfs []*dto.MetricFamily) float64 {
		total := 0.0
		for _, m := range find(mfs, "netirq_napi_thread_cpu_seconds_total", map[string]string{"device": dev}) {
			total += value(m)
		}
		return total
	}
	t.Logf("flood: sent %d, received %d, rx_packets +%d; napi threads of %s: %d, CPU seconds %.2f -> %.2f",
		res.Sent, res.Received, res.RxPackets, dev, len(threads), sum(before), sum(after))
	if res.RxPackets < 1000 {
		t.Fatalf("only %d packets reached %s", res.RxPackets, dev)
	}
	if sum(after) <= sum(before) {
		t.Errorf("napi thread CPU time did not rise under the flood")
	}
}

// unprivilegedResult is what the unprivileged child reports.
type unprivilegedResult struct {
	Euid              int
	ChildrenListed    bool
	Threads           []string
	ThreadsErr        string
	Tunables          *procfs.Tunables
	TunablesErr       string
	IRQBalancePID     int
	IRQBalanceErr     string
	Success           map[string]float64
	KsoftirqdSeries   int
	NetCoreBudgetSeen bool
}

const unprivilegedEnv = "NETIRQ_THREADS_UNPRIVILEGED_CHILD"

func describeThreads(ts []procfs.KernelThread) []string {
	var out []string
	for _, th := range ts {
		out = append(out, fmt.Sprintf("%d %s %s", th.PID, th.Name, th.Allowed))
	}
	return out
}

// TestThreadsTunablesUnprivileged runs both readers and the two collectors
// as user nobody (the test binary re-executed with dropped credentials):
// the exporter must not need root. The child must see the same threads (by
// the children list, which is world-readable) and the same tunables.
func TestThreadsTunablesUnprivileged(t *testing.T) {
	if os.Getenv(unprivilegedEnv) == "1" {
		res := unprivilegedResult{Euid: os.Geteuid()}
		_, res.ChildrenListed = procfs.KthreaddChildren("/proc")
		ths, err := procfs.ReadKernelThreads("/proc", nil)
		res.Threads = describeThreads(ths)
		if err != nil {
			res.ThreadsErr = err.Error()
		}
		res.Tunables, err = procfs.ReadTunables("/proc", "/sys", nil)
		if err != nil {
			res.TunablesErr = err.Error()
		}
		res.IRQBalancePID, err = procfs.FindIRQBalance("/proc")
		if err != nil {
			res.IRQBalanceErr = err.Error()
		}
		mfs := gather(t, newTestExporter(t, onlyCollectors(DefaultConfig(), "threads", "tunables")))
		res.Success = successes(mfs)
		res.KsoftirqdSeries = len(find(mfs, "netirq_ksoftirqd_cpu_seconds_total", nil))
		res.NetCoreBudgetSeen = len(find(mfs, "netirq_net_core_netdev_budget", nil)) == 1
		b, _ := json.Marshal(res)
		fmt.Printf("\nUNPRIVILEGED-RESULT %s\n", b)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: the other live tests already ran unprivileged")
	}
	// The test binary may sit in a directory only root can enter: copy it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "netirq-unpriv-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "collector.test")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestThreadsTunablesUnprivileged$", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = []string{unprivilegedEnv + "=1", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child as nobody: %v\n%s", err, out)
	}
	_, js, found := strings.Cut(string(out), "UNPRIVILEGED-RESULT ")
	if !found {
		t.Fatalf("no result from the child:\n%s", out)
	}
	js, _, _ = strings.Cut(js, "\n")
	var res unprivilegedResult
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatalf("%v: %s", err, js)
	}

	mine, err := procfs.ReadKernelThreads("/proc", nil)
	if err != nil {
		t.Fatal(err)
	}
	tun, err := procfs.ReadTunables("/proc", "/sys", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Euid != 65534 {
		t.Fatalf("child ran as euid %d", res.Euid)
	}
	if !res.ChildrenListed {
		t.Errorf("nobody cannot use /proc/2/task/2/children")
	}
	if res.ThreadsErr != "" || res.TunablesErr != "" || res.IRQBalanceErr != "" {
		t.Errorf("errors as nobody: threads %q, tunables %q, irqbalance %q", res.ThreadsErr, res.TunablesErr, res.IRQBalanceErr)
	}
	if got, want := strings.Join(res.Threads, "; "), strings.Join(describeThreads(mine), "; "); got != want {
		t.Errorf("threads as nobody: %s\nas root: %s", got, want)
	}
	if res.Tunables == nil || res.Tunables.NetdevBudget != tun.NetdevBudget || res.Tunables.NetdevMaxBacklog != tun.NetdevMaxBacklog ||
		!maps.Equal(res.Tunables.GROFlushTimeout, tun.GROFlushTimeout) || !maps.Equal(res.Tunables.NAPIDeferHardIRQs, tun.NAPIDeferHardIRQs) ||
		res.Tunables.HasFlowLimitCPUs != tun.HasFlowLimitCPUs {
		t.Errorf("tunables as nobody %+v, as root %+v", res.Tunables, tun)
	}
	if res.Success["threads"] != 1 || res.Success["tunables"] != 1 || res.KsoftirqdSeries == 0 || !res.NetCoreBudgetSeen {
		t.Errorf("exporter as nobody: success %v, %d ksoftirqd series, netdev_budget seen %v", res.Success, res.KsoftirqdSeries, res.NetCoreBudgetSeen)
	}
	t.Logf("as nobody: %d threads, success %v", len(res.Threads), res.Success)
}

// TestThreadsTunablesPromtool lints this machine's output of the two
// collectors with `promtool check metrics`.
func TestThreadsTunablesPromtool(t *testing.T) {
	promtool := testutil.NeedTool(t, "promtool", "prometheus")
	text := exposition(t, gather(t, newTestExporter(t, onlyCollectors(DefaultConfig(), "threads", "tunables"))), nil)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s\n%s", err, out, text)
	}
}
