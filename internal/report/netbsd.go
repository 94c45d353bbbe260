package report

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// On NetBSD the report rests on the interrupt list (kern.intr.list, what
// intrctl list prints): per NIC interrupt its device, queue, the CPUs it is
// assigned to and its rate; per CPU the NIC interrupt rate; and the queue
// interrupts stacked on one CPU with the intrctl command that spreads them.
// NetBSD has no softnet_stat and this exporter reads no per-CPU time there,
// so the CPU diagnosis of the Linux report is not made.

// osNetBSD is Report.OS for a report built from NetBSD's parts.
const osNetBSD = "netbsd"

// ReportInterrupt is one NIC interrupt of NetBSD's interrupt list.
type ReportInterrupt struct {
	ID     string `json:"id"`   // the interrupt id: "msix0 vec 3"
	Name   string `json:"name"` // intrctl's device name(s): "wm0TXRX3"
	Device string `json:"device"`
	Queue  int    `json:"queue"` // -1 for a vector that serves no queue
	Kind   string `json:"kind"`  // rx, tx, combined or other
	// AssignedCPUs are the CPUs it is routed to (intrctl's '*'), in the
	// kernel's list format.
	AssignedCPUs string `json:"assigned_cpus"`
	// InterruptsPerSecond over the interval, all CPUs; null when unknown.
	InterruptsPerSecond *float64 `json:"interrupts_per_second"`
}

// buildNetBSDReport is BuildReport for a snapshot of NetBSD's parts.
func buildNetBSDReport(prev, cur *snapshot.Snapshot) Report {
	r := Report{OS: osNetBSD, Time: cur.Time, IntervalSeconds: cur.Time.Sub(prev.Time).Seconds(),
		Diagnosis: []diagnosis.HotCPU{}, DiagnosisUnknown: "NetBSD: no softnet_stat and no per-CPU time are read; see the interrupt distribution",
		Devices: []ReportDevice{}, OmittedDevices: []string{}, CPUs: []ReportCPU{}, Threads: []ReportThread{},
		Interrupts: []ReportInterrupt{}, Findings: diagnosis.NetBSDQueueStacks(cur), UnknownChecks: []UnknownCheck{},
		Warnings: []string{}, Unread: []string{}}
	if r.Findings == nil {
		r.Findings = []diagnosis.Finding{}
	}
	for _, e := range []struct {
		part string
		err  error
	}{{"intr_list", cur.IntrListErr}, {"evcnt", cur.EvcntsErr}} {
		if e.err != nil {
			r.Warnings = append(r.Warnings, e.part+": "+errText(e.err))
		}
	}
	if cur.IntrList == nil {
		r.Unread = append(r.Unread, "kern.intr.list: "+errText(cur.IntrListErr))
		return r
	}
	r.Interrupts, r.CPUs = netbsdRows(prev, cur, r.IntervalSeconds)
	return r
}

// netbsdRows are the NIC interrupt rows and the per-CPU NIC interrupt
// rates over the interval.
func netbsdRows(prev, cur *snapshot.Snapshot, dt float64) ([]ReportInterrupt, []ReportCPU) {
	before := map[string][]uint64{}
	if prev.IntrList != nil {
		for _, l := range prev.IntrList.Lines {
			before[l.ID] = l.Counts
		}
	}
	rows := []ReportInterrupt{}
	cpus := make([]ReportCPU, cur.IntrList.NCPU)
	perCPU := make([]float64, cur.IntrList.NCPU)
	known := prev.IntrList != nil && dt > 0
	for i, l := range cur.IntrList.Lines {
		if i >= len(cur.IntrClasses) || !cur.IntrClasses[i].IsNIC() {
			continue
		}
		cl := cur.IntrClasses[i]
		row := ReportInterrupt{ID: l.ID, Name: l.Devices, Device: cl.Device, Queue: cl.Queue, Kind: string(cl.Kind), AssignedCPUs: l.Assigned.String()}
		if cl.Kind == kernel.KindOther {
			row.Queue = -1
		}
		if p, ok := before[l.ID]; ok && known {
			row.InterruptsPerSecond = rate(sum(p), sum(l.Counts), dt, false)
			for cpu := range min(len(p), len(l.Counts), len(perCPU)) {
				if v := rate(p[cpu], l.Counts[cpu], dt, false); v != nil {
					perCPU[cpu] += *v
				}
			}
		}
		rows = append(rows, row)
	}
	for cpu := range cpus {
		cpus[cpu] = ReportCPU{CPU: cpu, Node: -1}
		if known {
			cpus[cpu].NICInterruptsPerSecond = ptr(perCPU[cpu])
		}
	}
	return rows, cpus
}

func sum(counts []uint64) uint64 {
	var s uint64
	for _, c := range counts {
		s += c
	}
	return s
}

// writeNetBSDText is WriteText for a NetBSD report.
func (r Report) writeNetBSDText(w io.Writer) error {
	ew := &errWriter{w: escapingWriter{w}}
	fmt.Fprintf(ew, "netirq_exporter report: %s (NetBSD), %d CPUs, %.2f s between snapshots ending %s\n",
		cmp.Or(r.Host, "unknown host"), len(r.CPUs), r.IntervalSeconds, r.Time.UTC().Format(time.RFC3339))
	fmt.Fprintln(ew, "\nNIC interrupts (intrctl list):")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  DEVICE\tQUEUE\tKIND\tINTERRUPT\tNAME\tASSIGNED\tIRQS/S")
	for _, q := range r.Interrupts {
		queue := "-"
		if q.Queue >= 0 {
			queue = strconv.Itoa(q.Queue)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", q.Device, queue, q.Kind, q.ID, q.Name, Dash(q.AssignedCPUs), FormatRate(q.InterruptsPerSecond))
	}
	tw.Flush()
	fmt.Fprintln(ew)
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CPU\tNIC_IRQS/S")
	for _, c := range r.CPUs {
		fmt.Fprintf(tw, "%d\t%s\n", c.CPU, FormatRate(c.NICInterruptsPerSecond))
	}
	tw.Flush()
	r.writeFindingsText(ew)
	for _, msg := range append(append([]string{}, r.Warnings...), r.Unread...) {
		fmt.Fprintf(ew, "\nwarning: %s\n", msg)
	}
	return ew.err
}

// writeFindingsText prints the findings as the Linux report does.
func (r Report) writeFindingsText(w io.Writer) {
	if len(r.Findings) == 0 {
		fmt.Fprintln(w, "\nFindings: none")
		return
	}
	fmt.Fprintf(w, "\nFindings (%d; the exporter changes nothing, the fix is for you to run):\n", len(r.Findings))
	for _, f := range r.Findings {
		var where []string
		for _, p := range [][2]string{{"", f.Device}, {"queue ", f.Queue}, {"interrupt ", f.IRQ}, {"CPU ", f.CPU}} {
			if p[1] != "" {
				where = append(where, p[0]+p[1])
			}
		}
		fmt.Fprintf(w, "\n  [%s] %s: %s\n    %s\n    fix: %s\n", f.Severity, f.Check, strings.Join(where, " "), f.Message, f.Fix)
	}
}
