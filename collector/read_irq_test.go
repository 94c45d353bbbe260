package collector

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
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
func irqDir(h hostTree, irq string, files map[string]string) {
	h.t.Helper()
	h.dir("proc/irq/" + irq)
	for name, content := range files {
		if content != "" {
			h.file("proc/irq/"+irq+"/"+name, content)
		}
	}
}

func TestAffinityFallbacksAndAbsentFiles(t *testing.T) {
	h := newHostTree(t)
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
		aff, err := ReadIRQAffinity(h.path("proc"), tc.irq)
		if err != nil {
			t.Errorf("irq %d: %v", tc.irq, err)
		}
		if got := summarizeAffinity(aff); got != tc.want {
			t.Errorf("irq %d = %+v, want %+v", tc.irq, got, tc.want)
		}
	}
}

func TestAffinityVanishedIRQ(t *testing.T) {
	h := newHostTree(t)
	h.dir("proc/irq/5")
	aff, err := ReadIRQAffinity(h.path("proc"), 77)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v, want one wrapping fs.ErrNotExist", err)
	}
	if aff.IRQ != 77 || aff.Node != -1 || aff.HasEffective || aff.HasHint {
		t.Errorf("affinity %+v", aff)
	}
	if _, err := ReadIRQAffinity(h.path("proc"), -1); err == nil {
		t.Error("no error for IRQ -1")
	}
}

func TestAffinityBrokenFiles(t *testing.T) {
	h := newHostTree(t)
	irqDir(h, "20", map[string]string{
		"smp_affinity_list":       "0-3\n",
		"effective_affinity_list": "3-1\n", // garbage
		"affinity_hint":           "g0\n",  // garbage
		"node":                    "0\n",
	})
	// An IRQ directory without any smp_affinity file.
	irqDir(h, "21", map[string]string{"effective_affinity_list": "1\n", "node": "-1\n"})

	aff, err := ReadIRQAffinity(h.path("proc"), 20)
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

	aff, err = ReadIRQAffinity(h.path("proc"), 21)
	if err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "smp_affinity") {
		t.Errorf("irq 21: error %v, want a non-ErrNotExist error naming smp_affinity", err)
	}
	if got, want := summarizeAffinity(aff), (affinitySummary{"", "1", "-", -1}); got != want {
		t.Errorf("irq 21 = %+v, want %+v", got, want)
	}
}

func TestAffinityUnreadable(t *testing.T) {
	h := newHostTree(t)
	irqDir(h, "30", map[string]string{"smp_affinity_list": "0\n", "effective_affinity_list": "0\n", "node": "0\n"})
	if !h.unreadable("proc/irq/30/smp_affinity_list") {
		t.Skip("running as root (euid 0): permissions do not stop root, so EACCES cannot be produced; run the tests as a normal user to cover this case")
	}
	aff, err := ReadIRQAffinity(h.path("proc"), 30)
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

	h := newHostTree(t)
	h.dir("proc")
	n, err := ReadRPSSockFlowEntries(h.path("proc"))
	if n != -1 || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("absent file: %d, %v; want -1 and fs.ErrNotExist (no CONFIG_RPS)", n, err)
	}
	for _, content := range []string{"lots\n", "-5\n", "\n"} {
		h.file("proc/sys/net/core/rps_sock_flow_entries", content)
		n, err := ReadRPSSockFlowEntries(h.path("proc"))
		if n != -1 || err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("content %q: %d, %v; want -1 and a parse error", content, n, err)
		}
	}
}
