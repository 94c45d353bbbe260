package diagnosis

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/snapshot/snaptest"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// TestAffinityHintNotApplied: IRQ 50 of eth0 (node 0 of 0-3/4-7) has the
// hint CPU 1 and was placed on CPUs 2-3 (by irqbalance, say). Whether that
// is a finding depends on whether the driver applies its hints on that
// kernel; an IRQ left where the kernel puts unplaced IRQs never is one.
func TestAffinityHintNotApplied(t *testing.T) {
	build := func(driver, release, smp string) *snapshot.Snapshot {
		s := snaptest.Host(t, []string{"0-3", "4-7"}, "")
		snaptest.NIC(s, "eth0", 0, 2, 2).Driver = driver
		snaptest.IRQ(t, s, 50, "eth0", 0, kernel.KindCombined, smp, "2", "1")
		aff := s.Affinity[50]
		aff.Node = 0
		s.Affinity[50] = aff
		s.Kernel = &procfs.KernelInfo{Release: release, DefaultIRQAffinity: snaptest.CPUs(t, "0-7"), HasDefaultIRQAffinity: true}
		if v, err := procfs.ParseKernelRelease(release); err == nil {
			s.Kernel.Version = v
		}
		return s
	}
	for _, c := range []struct {
		driver, release, smp string
		finding              bool
	}{
		{"ice", "6.10.14", "2-3", true},         // ice applied its hint before 6.11
		{"ice", "6.11.0", "2-3", false},         // dee55767dc8c: publishes only
		{"bnxt_en", "6.12.9", "2-3", true},      // applied until 6.13
		{"bnxt_en", "6.13.2", "2-3", false},     // fcf42409c6e1
		{"nfp", "6.13", "2-3", false},           // d9e2e290f714
		{"atlantic", "6.18.1", "2-3", false},    // 2cd78740effc
		{"i40e", "5.17.0", "2-3", false},        // Nitesh Narayan Lal's series
		{"i40e", "5.14.0-427.el9", "2-3", true}, // a release number cannot clear a backport
		{"mlx5_core", "6.18.2", "2-3", true},    // irq_set_affinity_and_hint: applies
		{"bnxt_en", "", "2-3", true},            // release unknown: cannot tell
		// Where the kernel puts an IRQ nobody placed (0-7 ∩ online ∩ node
		// 0): the hint was applied by no one, whatever the driver.
		{"mlx5_core", "6.18.2", "0-3", false},
		{"i40e", "5.14.0-427.el9", "0-3", false},
		{"bnxt_en", "", "0-3", false},
		{"mlx5_core", "6.18.2", "0-7", true}, // not the node-narrowed default
	} {
		got := run(t, "affinity_differs_from_hint", build(c.driver, c.release, c.smp))
		if (len(got) == 1) != c.finding || len(got) > 1 {
			t.Errorf("%s on %q with smp_affinity %s: %d findings, want finding %v", c.driver, c.release, c.smp, len(got), c.finding)
		}
	}
	// Without default_smp_affinity (not read) only the driver table helps.
	s := build("bnxt_en", "", "0-3")
	s.Kernel.HasDefaultIRQAffinity = false
	if got := run(t, "affinity_differs_from_hint", s); len(got) != 1 {
		t.Errorf("default_smp_affinity unknown: %d findings, want the finding", len(got))
	}
}

// TestAffinityHintFixture: bigiron-8cpu's ens1f0 is mlx5_core, whose IRQ
// 101 (hint 2) was moved to CPU 1: a finding. The same tree claiming an
// ice NIC on 6.12 (ice publishes its hints without applying them since
// 6.11) has none; on 6.10 it has it again.
func TestAffinityHintFixture(t *testing.T) {
	hintFindings := func(root string) int {
		n := 0
		for _, f := range fixtureFindings(t, root) {
			if f.Check == "affinity_differs_from_hint" {
				n++
			}
		}
		return n
	}
	if n := hintFindings("../../testdata/hosts/bigiron-8cpu"); n != 1 {
		t.Errorf("bigiron-8cpu (mlx5_core, 6.18): %d hint findings, want IRQ 101's", n)
	}
	root := testutil.CopyTree(t, "../../testdata/hosts/bigiron-8cpu")
	link := filepath.Join(root, "sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0/driver")
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../bus/pci/drivers/ice", link); err != nil {
		t.Fatal(err)
	}
	for release, want := range map[string]int{"6.12.8\n": 0, "6.10.3\n": 1} {
		if err := os.WriteFile(filepath.Join(root, "proc/sys/kernel/osrelease"), []byte(release), 0o644); err != nil {
			t.Fatal(err)
		}
		if n := hintFindings(root); n != want {
			t.Errorf("ice on %s: %d hint findings, want %d", release, n, want)
		}
	}
}
