package diagnosis

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// fixtureResults reads a host tree as fixtureFindings does and returns
// every check's result.
func fixtureResults(t *testing.T, root string) []Result {
	t.Helper()
	snap := snapshot.NewSource(snapshot.Options{ProcPath: filepath.Join(root, "proc"), SysPath: filepath.Join(root, "sys"), Parts: snapshot.PartAll}).Snapshot()
	fixture := *snap
	fixture.Channels, fixture.RSS, fixture.QueueStats, fixture.QueueNAPIs, fixture.NAPIs, fixture.EthtoolErr = nil, nil, nil, nil, nil, nil
	return Results(&fixture)
}

// irqCheckNames are the checks that need /proc/interrupts.
var irqCheckNames = []string{"queue_irqs_share_cpu", "irq_remote_numa", "irq_on_isolated_cpu", "affinity_differs_from_hint", "napi_thread_unpinned"}

// TestMaskedInterruptsMakeIRQChecksUnknown: bigiron-8cpu with its
// /proc/interrupts emptied, or cut to its CPU header, as a container
// runtime masks it: the IRQ checks do not run (their result is unknown,
// not "0 findings"; before, irq_remote_numa said 0 here and 3 on the
// intact tree), interrupts_masked has its one finding, and every other
// check still runs with the intact tree's findings. The intact tree has
// no unknown check and no interrupts_masked finding.
func TestMaskedInterruptsMakeIRQChecksUnknown(t *testing.T) {
	intact := fixtureResults(t, "../../testdata/hosts/bigiron-8cpu")
	for _, r := range intact {
		if r.Unknown != "" || r.Check.Name == "interrupts_masked" && len(r.Findings) != 0 {
			t.Fatalf("intact bigiron-8cpu: %s unknown (%s) or with %d findings", r.Check.Name, r.Unknown, len(r.Findings))
		}
	}
	for name, content := range map[string]string{"empty": "", "header only": "           CPU0       CPU1       CPU2       CPU3       CPU4       CPU5       CPU6       CPU7\n"} {
		t.Run(name, func(t *testing.T) {
			root := testutil.CopyTree(t, "../../testdata/hosts/bigiron-8cpu")
			if err := os.WriteFile(filepath.Join(root, "proc/interrupts"), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			for i, r := range fixtureResults(t, root) {
				irq := slices.Contains(irqCheckNames, r.Check.Name)
				switch {
				case irq && (r.Unknown != snapshot.InterruptsMaskedReason || r.Findings != nil):
					t.Errorf("%s: unknown %q with %d findings, want unknown: masked", r.Check.Name, r.Unknown, len(r.Findings))
				case r.Check.Name == "interrupts_masked" && (r.Unknown != "" || len(r.Findings) != 1 || r.Findings[0].Device != ""):
					t.Errorf("interrupts_masked: unknown %q, findings %v; want one, about no device", r.Unknown, r.Findings)
				case !irq && r.Check.Name != "interrupts_masked" && (r.Unknown != "" || len(r.Findings) != len(intact[i].Findings)):
					t.Errorf("%s: unknown %q with %d findings, want it run with the intact tree's %d", r.Check.Name, r.Unknown, len(r.Findings), len(intact[i].Findings))
				}
			}
		})
	}
}

// TestBrokenInterruptsAreNotMasked: a /proc/interrupts of garbage, or one
// that does not exist, is not masked but unreadable: the IRQ checks are
// unknown for that reason, and interrupts_masked says nothing. One of
// named rows only (s390x prints no numbered IRQ) is neither: every check
// runs.
func TestBrokenInterruptsAreNotMasked(t *testing.T) {
	for name, tc := range map[string]struct {
		content string
		unknown bool // the IRQ checks
	}{
		"garbage":                 {"\x00\x01 not a kernel file\n", true},
		"missing":                 {"", true},
		"arch lines only (s390x)": {"           CPU0\nEXT:       2432\nI/O:        123\n", false},
	} {
		t.Run(name, func(t *testing.T) {
			root := testutil.CopyTree(t, "../../testdata/hosts/bigiron-8cpu")
			p := filepath.Join(root, "proc/interrupts")
			err := os.Remove(p)
			if name != "missing" {
				err = os.WriteFile(p, []byte(tc.content), 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range fixtureResults(t, root) {
				irq := slices.Contains(irqCheckNames, r.Check.Name)
				switch {
				case r.Unknown == snapshot.InterruptsMaskedReason || r.Check.Name == "interrupts_masked" && len(r.Findings) != 0:
					t.Errorf("%s: unknown %q, %d findings: taken as masked", r.Check.Name, r.Unknown, len(r.Findings))
				case (irq && tc.unknown) != (r.Unknown != ""):
					t.Errorf("%s: unknown %q", r.Check.Name, r.Unknown)
				}
			}
		})
	}
}
