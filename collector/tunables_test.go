//go:build linux

package collector

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/testutil"
)

func tunablesConfig(procRoot, sysRoot string) Config {
	cfg := DefaultConfig()
	cfg.ProcPath, cfg.SysPath = procRoot, sysRoot
	return onlyCollectors(cfg, "tunables")
}

func TestTunablesCollectorFixture(t *testing.T) {
	procRoot, sysRoot := testutil.FakeTunables(t)
	testutil.FakeProcesses(t, procRoot, map[int]string{1: "systemd", 612: "irqbalance"})
	mfs := gather(t, newTestExporter(t, tunablesConfig(procRoot, sysRoot)))
	if s := successes(mfs)["tunables"]; s != 1 {
		t.Fatalf("tunables collector success %v", s)
	}
	for metric, want := range map[string]float64{
		"netirq_net_core_netdev_budget":         600,
		"netirq_net_core_netdev_budget_seconds": 0.008,
		"netirq_net_core_netdev_max_backlog":    5000,
		"netirq_net_core_dev_weight":            64,
		"netirq_net_core_flow_limit_table_len":  8192,
		"netirq_net_core_flow_limit_cpus":       2,
		"netirq_irqbalance_running":             1,
	} {
		expectValue(t, mfs, metric, nil, want)
	}
	expectValue(t, mfs, "netirq_net_core_flow_limit_cpus_info", map[string]string{"cpus": "0,2"}, 1)
	gro, deferIRQs := "netirq_net_device_gro_flush_timeout_seconds", "netirq_net_device_napi_defer_hard_irqs"
	expectValue(t, mfs, gro, map[string]string{"device": "eth0"}, 0.0002)
	expectValue(t, mfs, gro, map[string]string{"device": "veth-x"}, 0)
	expectValue(t, mfs, gro, map[string]string{"device": "old0"}, 0)
	expectValue(t, mfs, deferIRQs, map[string]string{"device": "eth0"}, 2)
	expectValue(t, mfs, deferIRQs, map[string]string{"device": "veth-x"}, 0)
	if got := find(mfs, deferIRQs, map[string]string{"device": "old0"}); len(got) != 0 {
		t.Errorf("napi_defer_hard_irqs exported for a device without the file: %v", got)
	}
	if n := len(find(mfs, gro, nil)) + len(find(mfs, deferIRQs, nil)); n != 5 {
		t.Errorf("%d device series, want 5 (no bonding_masters, no vanished device)", n)
	}

	cfg := tunablesConfig(procRoot, sysRoot)
	cfg.DeviceExclude = regexp.MustCompile(`^veth`)
	mfs = gather(t, newTestExporter(t, cfg))
	if got := find(mfs, gro, map[string]string{"device": "veth-x"}); len(got) != 0 {
		t.Errorf("excluded device exported: %v", got)
	}
	expectValue(t, mfs, gro, map[string]string{"device": "eth0"}, 0.0002)
}

// TestTunablesCollectorAbsent: a tree without the files exports no tunable
// (not zeros) and still succeeds; irqbalance is 0 with no such process.
func TestTunablesCollectorAbsent(t *testing.T) {
	root := t.TempDir()
	procRoot := filepath.Join(root, "proc")
	testutil.FakeProcesses(t, procRoot, map[int]string{1: "systemd"})
	mfs := gather(t, newTestExporter(t, tunablesConfig(procRoot, filepath.Join(root, "sys"))))
	if s := successes(mfs)["tunables"]; s != 1 {
		t.Errorf("success %v, want 1: absent files are no failure", s)
	}
	for _, mf := range mfs {
		name := mf.GetName()
		if strings.HasPrefix(name, "netirq_net_core_") || strings.HasPrefix(name, "netirq_net_device_") {
			t.Errorf("%s exported without its file", name)
		}
	}
	expectValue(t, mfs, "netirq_irqbalance_running", nil, 0)
}

func TestTunablesCollectorBadInput(t *testing.T) {
	procRoot, sysRoot := testutil.FakeTunables(t)
	if err := os.WriteFile(filepath.Join(procRoot, "sys", "net", "core", "netdev_max_backlog"), []byte("\x00\x01\xff"), 0o644); err != nil {
		t.Fatal(err)
	}
	mfs := gather(t, newTestExporter(t, tunablesConfig(procRoot, sysRoot)))
	if s := successes(mfs)["tunables"]; s != 0 {
		t.Errorf("success %v, want 0", s)
	}
	if got := find(mfs, "netirq_net_core_netdev_max_backlog", nil); len(got) != 0 {
		t.Errorf("garbage exported: %v", got)
	}
	expectValue(t, mfs, "netirq_net_core_netdev_budget", nil, 600)

	// No procfs at all: irqbalance cannot be looked for.
	root := t.TempDir()
	mfs = gather(t, newTestExporter(t, tunablesConfig(filepath.Join(root, "proc"), filepath.Join(root, "sys"))))
	if s := successes(mfs)["tunables"]; s != 0 {
		t.Errorf("success %v without a procfs, want 0", s)
	}
}

// TestTunablesCollectorLive: through the exporter on this machine, each
// net.core metric equals its file.
func TestTunablesCollectorLive(t *testing.T) {
	if _, err := os.Stat("/proc/sys/net/core/netdev_budget"); err != nil {
		t.Skipf("no /proc/sys/net/core here: %v", err)
	}
	mfs := gather(t, newTestExporter(t, onlyCollectors(DefaultConfig(), "tunables")))
	if s := successes(mfs)["tunables"]; s != 1 {
		t.Fatalf("tunables collector failed on this machine")
	}
	for file, c := range map[string]struct {
		metric string
		div    float64
	}{
		"netdev_budget":        {"netirq_net_core_netdev_budget", 1},
		"netdev_budget_usecs":  {"netirq_net_core_netdev_budget_seconds", 1e6},
		"netdev_max_backlog":   {"netirq_net_core_netdev_max_backlog", 1},
		"dev_weight":           {"netirq_net_core_dev_weight", 1},
		"flow_limit_table_len": {"netirq_net_core_flow_limit_table_len", 1},
	} {
		b, err := os.ReadFile("/proc/sys/net/core/" + file)
		if err != nil {
			if len(find(mfs, c.metric, nil)) != 0 {
				t.Errorf("%s exported without its file", c.metric)
			}
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		if err != nil {
			t.Fatal(err)
		}
		expectValue(t, mfs, c.metric, nil, v/c.div)
	}
	if b, err := os.ReadFile("/sys/class/net/lo/gro_flush_timeout"); err == nil {
		v, _ := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		expectValue(t, mfs, "netirq_net_device_gro_flush_timeout_seconds", map[string]string{"device": "lo"}, v/1e9)
	}
	if len(find(mfs, "netirq_irqbalance_running", nil)) != 1 {
		t.Errorf("netirq_irqbalance_running missing")
	}
}
