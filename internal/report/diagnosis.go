package report

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// The report's diagnosis (collector.Diagnose), its thread table and the
// ranking of findings by traffic.

// withRxRates returns cur with DeviceRxRates, computed from prev's device
// counters when the Source did not (a snapshot read by another Source, a
// test's). cur itself is not changed.
func withRxRates(prev, cur *snapshot.Snapshot) *snapshot.Snapshot {
	if cur.DeviceRxRates != nil {
		return cur
	}
	rates := snapshot.RxRatesBetween(prev, cur)
	if rates == nil {
		return cur
	}
	c := *cur
	c.DeviceRxRates = rates
	return &c
}

// devicePPS is d's receive and send rate since prev; nil when unknown.
func devicePPS(prev *snapshot.Snapshot, d sysfs.NetDevice, dt float64) (rx, tx *float64) {
	if !d.HasStats {
		return nil, nil
	}
	for _, p := range prev.NetDevices {
		if p.Name == d.Name && p.HasStats {
			return rate(p.RxPackets, d.RxPackets, dt, false), rate(p.TxPackets, d.TxPackets, dt, false)
		}
	}
	return nil, nil
}

// rankFindings orders findings about devices that received packets first,
// then those about no device, then those about idle devices, each group in
// check order: a person reads the one that matters first.
func rankFindings(cur *snapshot.Snapshot, fs []diagnosis.Finding) {
	rank := func(f diagnosis.Finding) int {
		if f.Device == "" {
			return 1
		}
		if r, ok := cur.DeviceRxRates[f.Device]; ok && r == 0 {
			return 2
		}
		return 0
	}
	slices.SortStableFunc(fs, func(a, b diagnosis.Finding) int { return cmp.Compare(rank(a), rank(b)) })
}

// diagnosisUnknown says why no CPU could be judged, "" when every CPU was
// and none is starved.
func diagnosisUnknown(cur *snapshot.Snapshot) string {
	switch {
	case cur.CPUTime == nil:
		return "/proc/stat could not be read: " + errText(cur.CPUTimeErr)
	case cur.Softnet == nil:
		return "/proc/net/softnet_stat could not be read: " + errText(cur.SoftnetErr)
	}
	return ""
}

func errText(err error) string {
	if err == nil {
		return "not read"
	}
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// threadRows lists each napi/ kthread, and each backlog_napi/N and
// ksoftirqd/N that used CPU.
func threadRows(prev, cur *snapshot.Snapshot, dt float64) []ReportThread {
	used := diagnosis.ThreadCPUSeconds(prev, cur)
	out := []ReportThread{}
	for _, t := range cur.Threads {
		row := ReportThread{Name: t.Name, PID: t.PID, LastCPU: t.LastCPU, AllowedCPU: t.Allowed.String()}
		if u, ok := used[t.PID]; ok && dt > 0 {
			row.CPUPercent = hundred(ptr(max(0, u/dt)))
		}
		if t.Kind().PerCPU() && (row.CPUPercent == nil || *row.CPUPercent < 0.1) {
			continue // an idle ksoftirqd or backlog_napi: one per CPU, all alike
		}
		out = append(out, row)
	}
	return out
}

func ptr(v float64) *float64 { return &v }

// writeDiagnosis prints the hot CPUs, what feeds each and the fix.
func (r Report) writeDiagnosis(w io.Writer) {
	switch {
	case len(r.Diagnosis) == 0 && r.DiagnosisUnknown != "":
		fmt.Fprintf(w, "\nDiagnosis: unknown: %s\n", r.DiagnosisUnknown)
		return
	case len(r.Diagnosis) == 0:
		fmt.Fprintln(w, "\nDiagnosis: no CPU is starved by network work.")
		return
	}
	fmt.Fprintln(w, "\nDiagnosis:")
	for _, h := range r.Diagnosis {
		kind := "imbalance: other CPUs could take this work"
		if !h.Imbalanced {
			kind = "capacity: the work is spread already"
		}
		fmt.Fprintf(w, "  CPU %d is starved by network work (%s; %s): busy %s%%, network work %s%% (softirq %s%%, irq %s%%, NAPI threads %s%%); %s packets/s processed (%s%% of the host's), %s dropped/s, %s squeezed/s\n",
			h.CPU, h.Why, kind, pct(h.Busy), pct(h.NetWork), pct(h.SoftIRQ), pct(h.IRQ), pct(h.NAPIThread),
			FormatRate(h.Processed), pct(h.ProcessedShare), FormatRate(h.Dropped), FormatRate(h.Squeezed))
		r.writeWait(w, h.CPU)
		irqs := r.irqsUnknown()
		switch {
		case len(h.FedBy) == 0 && irqs != "":
			fmt.Fprintf(w, "    fed by: unknown: %s\n", irqs)
		case len(h.FedBy) == 0:
			fmt.Fprintln(w, "    fed by: no device with traffic is steered to it")
		}
		for _, f := range h.FedBy {
			fmt.Fprintf(w, "    fed by: %s%s via %s (%s packets/s received)\n", f.Device, queueList(f.Queues), f.Via, FormatRate(f.RxPacketsPerSecond))
		}
		for _, fix := range h.Fix {
			fmt.Fprintf(w, "    fix: %s\n", fix)
		}
		switch {
		case len(h.Fix) == 0 && irqs != "":
			fmt.Fprintln(w, "    fix: unknown while the IRQs are")
		case len(h.Fix) == 0:
			fmt.Fprintln(w, "    fix: none by configuration: the work already reaches every CPU it may; less traffic, cheaper packets (GRO, offloads) or more CPUs (RUNBOOK.md, NetIRQNetworkCapacity)")
		}
	}
}

func pct(v *float64) string { return FormatPercent(hundred(v)) }

// queueList is " queues 0-3" style text for the queues of a feed.
func queueList(qs []int) string {
	if len(qs) == 0 {
		return ""
	}
	set := cpuset.NewCPUSet(qs...) // a list of small integers, printed as ranges
	word := " queue "
	if len(qs) > 1 {
		word = " queues "
	}
	return word + set.String()
}

// idleDevices are the devices shown that neither received nor sent over
// the interval: their findings say so.
func (r Report) idleDevices() map[string]bool {
	idle := map[string]bool{}
	for _, d := range r.Devices {
		idle[d.Name] = d.RxPacketsPerSecond != nil && *d.RxPacketsPerSecond == 0 &&
			d.TxPacketsPerSecond != nil && *d.TxPacketsPerSecond == 0
	}
	return idle
}

// writeThreads prints the NAPI kthreads and the busy ksoftirqd threads.
func (r Report) writeThreads(w io.Writer) {
	if len(r.Threads) == 0 {
		return
	}
	fmt.Fprintln(w, "\nReceive kthreads (threaded NAPI, backlog_napi, ksoftirqd):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  THREAD\tPID\tCPU%\tLAST_CPU\tALLOWED_CPUS")
	for _, t := range r.Threads {
		last := "-"
		if t.LastCPU >= 0 {
			last = strconv.Itoa(t.LastCPU)
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\n", t.Name, t.PID, FormatPercent(t.CPUPercent), last, Dash(t.AllowedCPU))
	}
	tw.Flush()
}

// unreadParts names the files the report rests on that the snapshot could
// not read at all (nothing, or nothing but an error) or only up to their
// size cap, and a masked /proc/interrupts, which hides every IRQ just as
// well.
func unreadParts(cur *snapshot.Snapshot) []string {
	out := []string{}
	for _, p := range []struct {
		part snapshot.Part
		read bool
		name string
		err  error
	}{
		{snapshot.PartInterrupts, cur.Interrupts != nil, "/proc/interrupts", cur.InterruptsErr},
		{snapshot.PartNetDevices, cur.NetDevices != nil, "/sys/class/net", cur.NetDevicesErr},
		{snapshot.PartCPUTime, cur.CPUTime != nil, "/proc/stat", cur.CPUTimeErr},
		{snapshot.PartSoftnet, cur.Softnet != nil, "/proc/net/softnet_stat", cur.SoftnetErr},
	} {
		switch {
		case p.part == snapshot.PartInterrupts && cur.InterruptsMasked():
			out = append(out, snapshot.InterruptsMaskedReason)
		case !p.read || cur.Unknown(p.part) != "" || errors.Is(p.err, kernel.ErrTooLarge):
			out = append(out, p.name+": "+errText(p.err))
		}
	}
	return out
}
