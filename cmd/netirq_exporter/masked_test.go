package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/report"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// maskedIRQChecks are the checks that need /proc/interrupts.
var maskedIRQChecks = []string{"queue_irqs_share_cpu", "irq_remote_numa", "irq_on_isolated_cpu", "affinity_differs_from_hint", "napi_thread_unpinned"}

// TestReportMaskedInterrupts runs the report command, with the shipped
// defaults, on bigiron-8cpu and on copies whose /proc/interrupts a
// container runtime masked (empty, or the CPU header alone). Intact: exit
// 0, every check run, its 10 findings (3 irq_remote_numa, 1
// affinity_differs_from_hint). Masked (before: exit 0 and the 6 non-IRQ
// findings, as if the IRQs were fine): exit 3, /proc/interrupts unread as
// masked, the 5 IRQ checks listed as not run with that reason, the
// interrupts_masked finding next to the same 6 others, and the text says
// so.
func TestReportMaskedInterrupts(t *testing.T) {
	header := "           CPU0       CPU1       CPU2       CPU3       CPU4       CPU5       CPU6       CPU7\n"
	for _, tc := range []struct {
		name       string
		interrupts *string // nil: the fixture's
	}{{"intact", nil}, {"empty", new(string)}, {"header only", &header}} {
		t.Run(tc.name, func(t *testing.T) {
			root := testutil.CopyTree(t, "../../testdata/hosts/bigiron-8cpu")
			if tc.interrupts != nil {
				must(t, os.WriteFile(filepath.Join(root, "proc/interrupts"), []byte(*tc.interrupts), 0o644))
			}
			cfg := fixtureConfig(root)
			var text, js bytes.Buffer
			code := runReport(cfg, quietLogger(), &reportOptions{interval: minReportInterval}, &text)
			runReport(cfg, quietLogger(), &reportOptions{interval: minReportInterval, json: true}, &js)
			var r report.Report
			must(t, json.Unmarshal(js.Bytes(), &r))
			checks := map[string]int{}
			for _, f := range r.Findings {
				checks[f.Check]++
			}
			var unknown []string
			for _, u := range r.UnknownChecks {
				unknown = append(unknown, u.Check)
			}
			if tc.interrupts == nil {
				if code != exitOK || len(unknown) != 0 || len(r.Findings) != 10 || checks["irq_remote_numa"] != 3 || checks["interrupts_masked"] != 0 {
					t.Errorf("exit %d, not run %v, findings %v; want 0, none, 10 with 3 irq_remote_numa", code, unknown, checks)
				}
				return
			}
			if code != exitIncomplete || !slices.Equal(unknown, maskedIRQChecks) || !slices.Contains(r.Unread, snapshot.InterruptsMaskedReason) {
				t.Errorf("exit %d, not run %v, unread %q; want 3, %v, the masked file", code, unknown, r.Unread, maskedIRQChecks)
			}
			if len(r.Findings) != 7 || checks["interrupts_masked"] != 1 || checks["irq_remote_numa"] != 0 {
				t.Errorf("findings %v: want interrupts_masked and the 6 non-IRQ findings", checks)
			}
			for _, want := range []string{
				"[warning] interrupts_masked\n    /proc/interrupts lists no interrupt",
				"Checks not run (what they would find is unknown, not none):\n  " + strings.Join(maskedIRQChecks, ", ") + ": " + snapshot.InterruptsMaskedReason,
			} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("the report does not say %q:\n%s", want, text.String())
				}
			}
		})
	}
}
