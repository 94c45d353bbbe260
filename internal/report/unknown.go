package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// What the report cannot tell: the checks that did not run, and the IRQs
// when /proc/interrupts could not be read or is masked.

// checkResults runs the checks over cur: the findings of those that ran,
// and the others with why they could not.
func checkResults(cur *snapshot.Snapshot) ([]diagnosis.Finding, []UnknownCheck) {
	findings, unknown := []diagnosis.Finding{}, []UnknownCheck{}
	for _, res := range diagnosis.Results(cur) {
		if res.Unknown != "" {
			unknown = append(unknown, UnknownCheck{res.Check.Name, res.Unknown})
			continue
		}
		findings = append(findings, res.Findings...)
	}
	return findings, unknown
}

// writeUnknownChecks prints the checks that did not run, grouped by why.
func (r Report) writeUnknownChecks(w io.Writer) {
	if len(r.UnknownChecks) == 0 {
		return
	}
	fmt.Fprintln(w, "\nChecks not run (what they would find is unknown, not none):")
	var reasons []string
	byReason := map[string][]string{}
	for _, u := range r.UnknownChecks {
		if _, seen := byReason[u.Reason]; !seen {
			reasons = append(reasons, u.Reason)
		}
		byReason[u.Reason] = append(byReason[u.Reason], u.Check)
	}
	for _, why := range reasons {
		fmt.Fprintf(w, "  %s: %s\n", strings.Join(byReason[why], ", "), why)
	}
}

// irqsUnknown says why the IRQs are unknown (the Unread entry of
// /proc/interrupts), "" when they are known.
func (r Report) irqsUnknown() string {
	for _, u := range r.Unread {
		if strings.HasPrefix(u, "/proc/interrupts") {
			return u
		}
	}
	return ""
}
