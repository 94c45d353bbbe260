package procfs

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// affinitySummary writes an IRQAffinity with CPU lists; "-" for a set the
// kernel did not provide.
type affinitySummary struct {
	SMP, Effective, Hint string
	Node                 int
}

func summarizeAffinity(a IRQAffinity) affinitySummary {
	s := affinitySummary{SMP: a.SMPAffinity.String(), Effective: "-", Hint: "-", Node: a.Node}
	if a.HasEffective {
		s.Effective = a.Effective.String()
	}
	if a.HasHint {
		s.Hint = a.Hint.String()
	}
	return s
}

func TestAffinityFixtures(t *testing.T) {
	for _, tc := range []struct {
		host string
		irq  int
		want affinitySummary
	}{
		// Firecracker: virtio2 config, input.0 (eth0 rx), output.0 (eth0 tx).
		// virtio_net hints its queue vectors at both CPUs; the config
		// vector has no hint (all-zero mask: empty but present).
		{fcHostRoot, 37, affinitySummary{"0-1", "0", "", -1}},
		{fcHostRoot, 38, affinitySummary{"0-1", "1", "0-1", -1}},
		{fcHostRoot, 39, affinitySummary{"0-1", "0", "0-1", -1}},
		{fcHostRoot, 26, affinitySummary{"0-1", "1", "", -1}}, // ttyS0, IO-APIC
		// bigiron: see testdata/hosts/bigiron-8cpu/SOURCE.md.
		{bigironHostRoot, 0, affinitySummary{"0-7", "0", "", -1}},
		{bigironHostRoot, 98, affinitySummary{"0-3", "0", "", 0}},
		{bigironHostRoot, 99, affinitySummary{"0", "0", "0", 0}},
		{bigironHostRoot, 100, affinitySummary{"1", "1", "1", 0}},
		{bigironHostRoot, 101, affinitySummary{"1", "1", "2", 0}},
		{bigironHostRoot, 102, affinitySummary{"3", "3", "3", 0}},
		{bigironHostRoot, 103, affinitySummary{"4-5", "5", "4", 0}},
		{bigironHostRoot, 104, affinitySummary{"6", "6", "5", 0}},
		{bigironHostRoot, 105, affinitySummary{"2", "2", "6", 0}},
		{bigironHostRoot, 106, affinitySummary{"0-6", "4", "7", 0}},
	} {
		aff, err := ReadIRQAffinity(filepath.Join(tc.host, "proc"), tc.irq)
		if err != nil {
			t.Errorf("%s irq %d: %v", filepath.Base(tc.host), tc.irq, err)
			continue
		}
		if aff.IRQ != tc.irq {
			t.Errorf("IRQ field %d, want %d", aff.IRQ, tc.irq)
		}
		if got := summarizeAffinity(aff); got != tc.want {
			t.Errorf("%s irq %d = %+v, want %+v", filepath.Base(tc.host), tc.irq, got, tc.want)
		}
	}
}

// irqDir writes /proc/irq/<n>/ files of a fake host; an empty value leaves
// the file out.
func irqDir(h testutil.HostTree, irq string, files map[string]string) {
	h.Dir("proc/irq/" + irq)
	for name, content := range files {
		if content != "" {
			h.File("proc/irq/"+irq+"/"+name, content)
		}
	}
}

func TestAffinityFallbacksAndAbsentFiles(t *testing.T) {
	h := testutil.NewHostTree(t)
	// Kernel before 4.15: no effective_affinity* files; no node (no
	// CONFIG_NUMA); no affinity_hint.
	irqDir(h, "10", map[string]string{"smp_affinity_list": "0-3\n", "smp_affinity": "f\n"})
	// Only the masks: smp_affinity_list and effective_affinity_list absent.
	irqDir(h, "11", map[string]string{"smp_affinity": "00000000,00000030\n", "effective_affinity": "20\n", "affinity_hint": "0\n", "node": "1\n"})
	// Missing effective_affinity_list but its mask present is still "has".
	irqDir(h, "12", map[string]string{"smp_affinity_list": "2\n", "effective_affinity": "4\n", "node": "0\n"})
	for _, tc := range []struct {
		irq  int
		want affinitySummary
	}{
		{10, affinitySummary{"0-3", "-", "-", -1}},
		{11, affinitySummary{"4-5", "5", "", 1}},
		{12, affinitySummary{"2", "2", "-", 0}},
	} {
		aff, err := ReadIRQAffinity(h.Path("proc"), tc.irq)
		if err != nil {
			t.Errorf("irq %d: %v", tc.irq, err)
		}
		if got := summarizeAffinity(aff); got != tc.want {
			t.Errorf("irq %d = %+v, want %+v", tc.irq, got, tc.want)
		}
	}
}

func TestAffinityVanishedIRQ(t *testing.T) {
	h := testutil.NewHostTree(t)
	h.Dir("proc/irq/5")
	aff, err := ReadIRQAffinity(h.Path("proc"), 77)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v, want one wrapping fs.ErrNotExist", err)
	}
	if aff.IRQ != 77 || aff.Node != -1 || aff.HasEffective || aff.HasHint {
		t.Errorf("affinity %+v", aff)
	}
	if _, err := ReadIRQAffinity(h.Path("proc"), -1); err == nil {
		t.Error("no error for IRQ -1")
	}
}

func TestAffinityBrokenFiles(t *testing.T) {
	h := testutil.NewHostTree(t)
	irqDir(h, "20", map[string]string{
		"smp_affinity_list":       "0-3\n",
		"effective_affinity_list": "3-1\n", // garbage
		"affinity_hint":           "g0\n",  // garbage
		"node":                    "0\n",
	})
	// An IRQ directory without any smp_affinity file.
	irqDir(h, "21", map[string]string{"effective_affinity_list": "1\n", "node": "-1\n"})

	aff, err := ReadIRQAffinity(h.Path("proc"), 20)
	if err == nil {
		t.Fatal("no error for garbage files")
	}
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("garbage looks like a freed IRQ to the caller: %v", err)
	}
	for _, want := range []string{"irq 20", "effective_affinity_list", "affinity_hint"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if got, want := summarizeAffinity(aff), (affinitySummary{"0-3", "-", "-", 0}); got != want {
		t.Errorf("irq 20 = %+v, want %+v", got, want)
	}

	aff, err = ReadIRQAffinity(h.Path("proc"), 21)
	if err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "smp_affinity") {
		t.Errorf("irq 21: error %v, want a non-ErrNotExist error naming smp_affinity", err)
	}
	if got, want := summarizeAffinity(aff), (affinitySummary{"", "1", "-", -1}); got != want {
		t.Errorf("irq 21 = %+v, want %+v", got, want)
	}
}

// TestAffinityUnreadable: root reads whatever the permissions, so as root the
// test runs as nobody in a child process (testutil.RerunAsNobody).
func TestAffinityUnreadable(t *testing.T) {
	if testutil.RerunAsNobody(t) {
		return
	}
	h := testutil.NewHostTree(t)
	irqDir(h, "30", map[string]string{"smp_affinity_list": "0\n", "effective_affinity_list": "0\n", "node": "0\n"})
	if !h.Unreadable("proc/irq/30/smp_affinity_list") {
		t.Fatalf("chmod 0 does not stop this process's reads (euid %d): no EACCES to test", os.Geteuid())
	}
	aff, err := ReadIRQAffinity(h.Path("proc"), 30)
	if err == nil || !errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v, want fs.ErrPermission", err)
	}
	if got, want := summarizeAffinity(aff), (affinitySummary{"", "0", "-", 0}); got != want {
		t.Errorf("irq 30 = %+v, want %+v", got, want)
	}
}

func TestRPSSockFlowEntries(t *testing.T) {
	for _, tc := range []struct {
		host string
		want int64
	}{
		{fcHostRoot, 0},
		{bigironHostRoot, 32768},
	} {
		n, err := ReadRPSSockFlowEntries(filepath.Join(tc.host, "proc"))
		if err != nil || n != tc.want {
			t.Errorf("%s: %d, %v; want %d", filepath.Base(tc.host), n, err, tc.want)
		}
	}

	h := testutil.NewHostTree(t)
	h.Dir("proc")
	n, err := ReadRPSSockFlowEntries(h.Path("proc"))
	if n != -1 || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("absent file: %d, %v; want -1 and fs.ErrNotExist (no CONFIG_RPS)", n, err)
	}
	for _, content := range []string{"lots\n", "-5\n", "\n"} {
		h.File("proc/sys/net/core/rps_sock_flow_entries", content)
		n, err := ReadRPSSockFlowEntries(h.Path("proc"))
		if n != -1 || err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("content %q: %d, %v; want -1 and a parse error", content, n, err)
		}
	}
}

// TestIRQAffinityLiveHost reads the affinity of this machine's eth0 RX
// IRQ (split from the sysfs package's TestNetDevLiveHost, which cannot
// import the /proc readers). It expects the Firecracker VM of
// testdata/hosts/fc-2cpu and skips elsewhere.
func TestIRQAffinityLiveHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("not Linux")
	}
	if _, err := os.Stat("/sys/class/net/eth0"); err != nil {
		t.Skipf("no /sys/class/net/eth0 on this machine (%v)", err)
	}
	devs, _ := sysfs.ReadNetDevices("/sys", nil)
	var eth0 sysfs.NetDevice
	for _, d := range devs {
		if d.Name == "eth0" {
			eth0 = d
		}
	}
	if eth0.VirtioName == "" {
		t.Skip("eth0 is not a virtio device")
	}
	topo, err := sysfs.ReadCPUTopology("/sys")
	if err != nil || topo == nil {
		t.Fatalf("ReadCPUTopology(/sys): %v", err)
	}
	irq := liveRxIRQ(t, eth0)
	aff, err := ReadIRQAffinity("/proc", irq)
	if err != nil {
		t.Fatalf("ReadIRQAffinity(/proc, %d): %v", irq, err)
	}
	t.Logf("irq %d: smp_affinity %q effective %q (has %v) hint %q (has %v) node %d",
		irq, aff.SMPAffinity, aff.Effective, aff.HasEffective, aff.Hint, aff.HasHint, aff.Node)
	if aff.SMPAffinity.IsEmpty() || aff.SMPAffinity.Intersect(topo.Possible).Count() != aff.SMPAffinity.Count() {
		t.Errorf("smp_affinity %q empty or beyond possible %q", aff.SMPAffinity, topo.Possible)
	}
	if !aff.HasEffective || aff.Effective.IsEmpty() || aff.Effective.Intersect(topo.Online).Count() != aff.Effective.Count() {
		t.Errorf("effective %q (has %v): want a non-empty set of online CPUs", aff.Effective, aff.HasEffective)
	}
}

// liveRxIRQ finds eth0's first RX IRQ: the /proc/interrupts line named
// "<virtio>-input.0" among the device's MSI IRQs.
func liveRxIRQ(t *testing.T, eth0 sysfs.NetDevice) int {
	t.Helper()
	f, err := os.Open("/proc/interrupts")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		num, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		irq, err := strconv.Atoi(strings.TrimSpace(num))
		if err != nil {
			continue
		}
		if strings.HasSuffix(strings.TrimSpace(rest), " "+eth0.VirtioName+"-input.0") {
			if !slices.Contains(eth0.MSIIRQs, irq) {
				t.Errorf("rx irq %d not among eth0's msi_irqs %v", irq, eth0.MSIIRQs)
			}
			return irq
		}
	}
	t.Fatalf("no %s-input.0 line in /proc/interrupts", eth0.VirtioName)
	return 0
}

// Fixture trees: see testdata/hosts/*/SOURCE.md.
const (
	fcHostRoot      = "../../../testdata/hosts/fc-2cpu"
	bigironHostRoot = "../../../testdata/hosts/bigiron-8cpu"
)
