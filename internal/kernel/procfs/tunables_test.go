package procfs

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

func TestReadTunablesFixture(t *testing.T) {
	procRoot, sysRoot := testutil.FakeTunables(t)
	got, err := ReadTunables(procRoot, sysRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.NetdevBudget != 600 || got.NetdevBudgetUsecs != 8000 || got.NetdevMaxBacklog != 5000 || got.DevWeight != 64 || got.FlowLimitTableLen != 8192 {
		t.Errorf("core: %+v", got)
	}
	if !got.HasFlowLimitCPUs || !got.FlowLimitCPUs.Equal(cpuset.NewCPUSet(0, 2)) {
		t.Errorf("flow_limit_cpu_bitmap: %v %v, want 0,2", got.HasFlowLimitCPUs, got.FlowLimitCPUs)
	}
	wantGRO := map[string]int64{"eth0": 200000, "veth-x": 0, "old0": 0}
	wantDefer := map[string]int64{"eth0": 2, "veth-x": 0, "old0": -1}
	if !equalMaps(got.GROFlushTimeout, wantGRO) || !equalMaps(got.NAPIDeferHardIRQs, wantDefer) {
		t.Errorf("devices: gro %v defer %v; want %v %v", got.GROFlushTimeout, got.NAPIDeferHardIRQs, wantGRO, wantDefer)
	}
	if got.IRQBalanceRunning {
		t.Errorf("ReadTunables does not look for irqbalance")
	}
}

func equalMaps(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestReadTunablesAbsent: a child network namespace's /proc/sys/net/core
// (or a copied tree) without the files: everything -1, no error.
func TestReadTunablesAbsent(t *testing.T) {
	root := t.TempDir()
	got, err := ReadTunables(filepath.Join(root, "proc"), filepath.Join(root, "sys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.NetdevBudget != -1 || got.NetdevBudgetUsecs != -1 || got.NetdevMaxBacklog != -1 || got.DevWeight != -1 ||
		got.FlowLimitTableLen != -1 || got.HasFlowLimitCPUs || len(got.GROFlushTimeout) != 0 || len(got.NAPIDeferHardIRQs) != 0 {
		t.Errorf("got %+v, want everything absent", got)
	}
}

// TestReadTunablesExclude: an excluded device's knobs are not read (they
// are directories here, which fail when read) and not returned.
func TestReadTunablesExclude(t *testing.T) {
	h := testutil.NewHostTree(t)
	h.File("sys/class/net/eth0/gro_flush_timeout", "20000\n")
	h.Dir("sys/class/net/veth0/gro_flush_timeout")
	h.Dir("sys/class/net/veth0/napi_defer_hard_irqs")
	if _, err := ReadTunables(h.Path("proc"), h.Path("sys"), nil); err == nil {
		t.Fatal("veth0's directories read without an error: the test proves nothing")
	}
	got, err := ReadTunables(h.Path("proc"), h.Path("sys"), regexp.MustCompile(`^veth`))
	if _, seen := got.GROFlushTimeout["veth0"]; err != nil || seen || got.GROFlushTimeout["eth0"] != 20000 {
		t.Errorf("got %v, %v; want eth0's alone and no error", got.GROFlushTimeout, err)
	}
}

// TestReadTunablesBadInput: a garbage file is named in the error and left
// absent; every other value is still read.
func TestReadTunablesBadInput(t *testing.T) {
	for _, c := range []struct {
		rel, content string
		check        func(*Tunables) bool
	}{
		{"proc/sys/net/core/netdev_budget", "lots\n", func(g *Tunables) bool { return g.NetdevBudget == -1 && g.NetdevMaxBacklog == 5000 }},
		{"proc/sys/net/core/netdev_budget_usecs", "\x00\x01\xff", func(g *Tunables) bool { return g.NetdevBudgetUsecs == -1 && g.NetdevBudget == 600 }},
		{"proc/sys/net/core/flow_limit_cpu_bitmap", "zz,not-hex\n", func(g *Tunables) bool { return !g.HasFlowLimitCPUs && g.FlowLimitTableLen == 8192 }},
		{"sys/devices/pci0000:00/0000:00:03.0/net/eth0/gro_flush_timeout", "soon\n", func(g *Tunables) bool {
			return g.GROFlushTimeout["eth0"] == -1 && g.NAPIDeferHardIRQs["eth0"] == 2 && g.GROFlushTimeout["veth-x"] == 0
		}},
	} {
		t.Run(filepath.Base(c.rel), func(t *testing.T) {
			procRoot, _ := testutil.FakeTunables(t)
			root := filepath.Dir(procRoot)
			if err := os.WriteFile(filepath.Join(root, c.rel), []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadTunables(procRoot, filepath.Join(root, "sys"), nil)
			if err == nil || !strings.Contains(err.Error(), filepath.Base(c.rel)) {
				t.Errorf("error %v, want one naming %s", err, filepath.Base(c.rel))
			}
			if got == nil || !c.check(got) {
				t.Errorf("got %+v", got)
			}
		})
	}
	t.Run("unreadable class/net", func(t *testing.T) {
		procRoot, sysRoot := testutil.FakeTunables(t)
		classNet := filepath.Join(sysRoot, "class", "net")
		if err := os.RemoveAll(classNet); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(classNet, []byte("not a directory"), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadTunables(procRoot, sysRoot, nil)
		if err == nil || got.NetdevBudget != 600 {
			t.Errorf("got %+v, %v; want the core values and an error", got, err)
		}
	})
}

func TestTunablesFindIRQBalance(t *testing.T) {
	procRoot := filepath.Join(t.TempDir(), "proc")
	testutil.FakeProcesses(t, procRoot, map[int]string{1: "systemd", 2: "kthreadd", 800: "irqbalancer", 801: "xirqbalance"})
	if err := os.MkdirAll(filepath.Join(procRoot, "900"), 0o755); err != nil { // exited: no comm
		t.Fatal(err)
	}
	if pid, err := FindIRQBalance(procRoot); err != nil || pid != 0 {
		t.Errorf("got %d, %v; want none (names must match exactly)", pid, err)
	}
	testutil.FakeProcesses(t, procRoot, map[int]string{1234: "irqbalance"})
	if pid, err := FindIRQBalance(procRoot); err != nil || pid != 1234 {
		t.Errorf("got %d, %v; want 1234", pid, err)
	}
	if _, err := FindIRQBalance(filepath.Join(procRoot, "nope")); err == nil {
		t.Errorf("no error for a missing procfs")
	}
}

// TestTunablesIRQBalanceProbeCache: a running irqbalance is re-checked by its PID
// every time (its exit is seen at once); "not running" is trusted for a
// minute, then /proc is scanned again.
func TestTunablesIRQBalanceProbeCache(t *testing.T) {
	procRoot := filepath.Join(t.TempDir(), "proc")
	testutil.FakeProcesses(t, procRoot, map[int]string{1: "systemd"})
	p := NewIRQBalanceProbe(procRoot)
	t0 := time.Unix(1_000_000, 0)
	check := func(now time.Time, want bool) {
		t.Helper()
		got, err := p.Running(now)
		if err != nil || got != want {
			t.Errorf("at +%v: running %v, %v; want %v", now.Sub(t0), got, err, want)
		}
	}
	check(t0, false)
	testutil.FakeProcesses(t, procRoot, map[int]string{4321: "irqbalance"})
	check(t0.Add(10*time.Second), false) // cached "none"
	check(t0.Add(irqbalanceRescan-time.Second), false)
	check(t0.Add(irqbalanceRescan), true) // rescanned
	check(t0.Add(irqbalanceRescan+time.Second), true)
	if err := os.RemoveAll(filepath.Join(procRoot, "4321")); err != nil {
		t.Fatal(err)
	}
	check(t0.Add(irqbalanceRescan+2*time.Second), false) // exit seen at once
	// A clock that went backwards does not pin the cached answer.
	testutil.FakeProcesses(t, procRoot, map[int]string{4400: "irqbalance"})
	check(t0, true)
}

// TestTunablesLive compares the reader with this machine's files and with
// what sysctl prints.
func TestTunablesLive(t *testing.T) {
	if _, err := os.Stat("/proc/sys/net/core/netdev_budget"); err != nil {
		t.Skipf("no /proc/sys/net/core here: %v", err)
	}
	got, err := ReadTunables("/proc", "/sys", nil)
	if err != nil {
		t.Fatal(err)
	}
	sysctl, sysctlErr := exec.LookPath("sysctl")
	for name, v := range map[string]int64{
		"netdev_budget": got.NetdevBudget, "netdev_budget_usecs": got.NetdevBudgetUsecs,
		"netdev_max_backlog": got.NetdevMaxBacklog, "dev_weight": got.DevWeight, "flow_limit_table_len": got.FlowLimitTableLen,
	} {
		b, err := os.ReadFile("/proc/sys/net/core/" + name)
		if err != nil {
			if v != -1 {
				t.Errorf("%s: unreadable (%v) but read as %d", name, err, v)
			}
			continue
		}
		if want := strings.TrimSpace(string(b)); strconv.FormatInt(v, 10) != want {
			t.Errorf("%s: read %d, the file says %s", name, v, want)
		}
		if sysctlErr == nil {
			out, err := exec.Command(sysctl, "-n", "net.core."+name).Output()
			if err != nil {
				t.Fatalf("sysctl -n net.core.%s: %v", name, err)
			}
			if want := strings.TrimSpace(string(out)); strconv.FormatInt(v, 10) != want {
				t.Errorf("%s: read %d, sysctl prints %s", name, v, want)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/net/core/flow_limit_cpu_bitmap"); err == nil {
		want, err := cpuset.ParseCPUMask(string(b))
		if err != nil || !got.HasFlowLimitCPUs || !got.FlowLimitCPUs.Equal(want) {
			t.Errorf("flow_limit_cpu_bitmap %q: read %v %v", b, got.HasFlowLimitCPUs, got.FlowLimitCPUs)
		}
	}
	devs, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		b, err := os.ReadFile(filepath.Join("/sys/class/net", d.Name(), "gro_flush_timeout"))
		if err != nil {
			continue // bonding_masters
		}
		if want := strings.TrimSpace(string(b)); strconv.FormatInt(got.GROFlushTimeout[d.Name()], 10) != want {
			t.Errorf("%s gro_flush_timeout: read %d, file %s", d.Name(), got.GROFlushTimeout[d.Name()], want)
		}
		b, _ = os.ReadFile(filepath.Join("/sys/class/net", d.Name(), "napi_defer_hard_irqs"))
		if want := strings.TrimSpace(string(b)); strconv.FormatInt(got.NAPIDeferHardIRQs[d.Name()], 10) != want {
			t.Errorf("%s napi_defer_hard_irqs: read %d, file %s", d.Name(), got.NAPIDeferHardIRQs[d.Name()], want)
		}
	}
	t.Logf("netdev_budget %d, netdev_budget_usecs %d, netdev_max_backlog %d, dev_weight %d, flow_limit_table_len %d, flow_limit_cpus %q; %d devices",
		got.NetdevBudget, got.NetdevBudgetUsecs, got.NetdevMaxBacklog, got.DevWeight, got.FlowLimitTableLen, got.FlowLimitCPUs, len(got.GROFlushTimeout))
}

// TestTunablesIRQBalanceLive: the /proc scan agrees with `pgrep -x
// irqbalance`, first as this machine is, then with a stand-in process named
// irqbalance (a copy of sleep: the real daemon would rewrite this machine's
// IRQ affinities), whose exit the probe sees at once.
func TestTunablesIRQBalanceLive(t *testing.T) {
	pgrep := testutil.NeedTool(t, "pgrep", "procps")
	agree := func(what string) int {
		t.Helper()
		began := time.Now()
		pid, err := FindIRQBalance("/proc")
		took := time.Since(began)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pgrep, "-x", "irqbalance").Output()
		var exit *exec.ExitError
		switch {
		case err == nil:
			if pids := strings.Fields(string(out)); pid == 0 || !slices.Contains(pids, strconv.Itoa(pid)) {
				t.Errorf("%s: pgrep finds irqbalance %v, we %d", what, pids, pid)
			}
		case errors.As(err, &exit) && exit.ExitCode() == 1:
			if pid != 0 {
				t.Errorf("%s: pgrep finds no irqbalance, we PID %d", what, pid)
			}
		default:
			t.Fatalf("pgrep: %v", err)
		}
		pids, _ := allPIDs("/proc")
		t.Logf("%s: irqbalance PID %d (0: none); scanning %d processes took %v", what, pid, len(pids), took)
		return pid
	}
	before := agree("this machine")

	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary for the stand-in")
	}
	b, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	standIn := filepath.Join(t.TempDir(), "irqbalance")
	if err := os.WriteFile(standIn, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(standIn, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	defer stop()
	// Wait for the exec to have set the comm.
	for i := 0; i < 100; i++ {
		if c, _ := readProcComm("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/comm"); c == "irqbalance" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pid := agree("with the stand-in"); pid == 0 {
		t.Errorf("the stand-in irqbalance (PID %d) was not found", cmd.Process.Pid)
	}
	probe := NewIRQBalanceProbe("/proc")
	if running, err := probe.Running(time.Now()); err != nil || !running {
		t.Errorf("probe: running %v, %v; want true", running, err)
	}
	stop()
	if running, err := probe.Running(time.Now()); err != nil || running != (before != 0) {
		t.Errorf("probe after the stand-in exited: running %v, %v; want %v", running, err, before != 0)
	}
}

func BenchmarkFindIRQBalance(b *testing.B) {
	cpu := startCPUClock()
	for b.Loop() {
		if _, err := FindIRQBalance("/proc"); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	pids, _ := allPIDs("/proc")
	b.ReportMetric(float64(len(pids)), "pids")
}
