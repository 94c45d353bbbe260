package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/netirq/netirq_exporter/collector"
	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// `netirq_exporter report` takes two snapshots --interval apart and prints
// per device the queue → IRQ → CPU table with interrupt and packet rates,
// per CPU the interrupt/softirq load, and the misconfiguration findings
// with their fix commands. BuildReport is the pure part: two snapshots in,
// one Report out; runReport reads and prints.

const (
	minReportInterval = 500 * time.Millisecond
	maxReportInterval = 60 * time.Second
)

// Report is the one-shot report. Its JSON field names are stable and
// documented in the README ("One-shot report").
type Report struct {
	Host string `json:"host"`
	// Time is when the second snapshot was taken; IntervalSeconds is the
	// time between the two, which every rate is computed over.
	Time            time.Time      `json:"time"`
	IntervalSeconds float64        `json:"interval_seconds"`
	Devices         []ReportDevice `json:"devices"`
	// OmittedDevices are virtual devices with no IRQ, no RPS/XPS mask and no
	// queue traffic (lo, idle bridges ...), left out of Devices.
	OmittedDevices []string            `json:"omitted_devices"`
	CPUs           []ReportCPU         `json:"cpus"`
	Findings       []diagnosis.Finding `json:"findings"`
	// Warnings name the files that could not be read fully.
	Warnings []string `json:"warnings"`
}

// ReportDevice is one net device and its queue table.
type ReportDevice struct {
	Name       string        `json:"name"`
	Driver     string        `json:"driver"`
	BusAddress string        `json:"bus_address"`
	NUMANode   int           `json:"numa_node"` // -1 unknown
	Threaded   int           `json:"threaded"`  // /sys/class/net/<dev>/threaded; -1 absent
	Queues     []ReportQueue `json:"queues"`
}

// ReportQueue is one row of a device's queue table: an IRQ with the queue
// it serves, or a queue without an IRQ (virtual devices).
type ReportQueue struct {
	Queue int    `json:"queue"` // -1 for a vector that serves no queue (kind "other")
	Kind  string `json:"kind"`  // rx, tx, combined or other
	IRQ   int    `json:"irq"`   // 0: the queue has no IRQ of its own
	// CPU lists in the kernel's list format ("0-3,8"); "" when not
	// applicable or unknown (RPS/XPS "" also means off).
	SMPAffinity   string `json:"smp_affinity"`
	EffectiveCPUs string `json:"effective_cpus"`
	Nodes         string `json:"nodes"` // NUMA nodes of the effective CPUs
	RPSCPUs       string `json:"rps_cpus"`
	XPSCPUs       string `json:"xps_cpus"`
	// Rates over the interval; null when unknown (no IRQ, no per-queue
	// statistics, a counter that went backwards).
	InterruptsPerSecond *float64 `json:"interrupts_per_second"`
	RxPacketsPerSecond  *float64 `json:"rx_packets_per_second"`
	TxPacketsPerSecond  *float64 `json:"tx_packets_per_second"`
}

// ReportCPU is one CPU's load over the interval.
type ReportCPU struct {
	CPU      int  `json:"cpu"`
	Node     int  `json:"node"` // -1 unknown
	Isolated bool `json:"isolated"`
	NohzFull bool `json:"nohz_full"`
	// Percent of the CPU's time (all /proc/stat modes) in softirq and hard
	// IRQ context.
	SoftirqPercent *float64 `json:"softirq_percent"`
	IRQPercent     *float64 `json:"irq_percent"`
	// NET_RX and NET_TX softirqs/s (/proc/softirqs); interrupts/s of all NIC
	// IRQs on the CPU; softnet processed, dropped and time-squeeze events/s.
	NetRxPerSecond         *float64 `json:"net_rx_per_second"`
	NetTxPerSecond         *float64 `json:"net_tx_per_second"`
	NICInterruptsPerSecond *float64 `json:"nic_interrupts_per_second"`
	ProcessedPerSecond     *float64 `json:"processed_per_second"`
	DroppedPerSecond       *float64 `json:"dropped_per_second"`
	SqueezedPerSecond      *float64 `json:"squeezed_per_second"`
}

// BuildReport compares two snapshots of one host, prev taken before cur.
// It reads nothing and changes neither snapshot.
func BuildReport(prev, cur *snapshot.Snapshot) Report {
	r := Report{Time: cur.Time, IntervalSeconds: cur.Time.Sub(prev.Time).Seconds(),
		Devices: []ReportDevice{}, OmittedDevices: []string{}, CPUs: []ReportCPU{},
		Findings: diagnosis.Evaluate(cur), Warnings: snapshotWarnings(cur)}
	if r.Findings == nil {
		r.Findings = []diagnosis.Finding{}
	}
	dt := r.IntervalSeconds
	prevIRQ, curIRQ := irqTotals(prev), irqTotals(cur)

	// IRQ rows per device, in /proc/interrupts order.
	rows := map[string][]ReportQueue{}
	var handles []string // IRQ devices that are no net device ("0000:01:00.0")
	known := map[string]bool{}
	for _, d := range cur.NetDevices {
		known[d.Name] = true
	}
	if cur.Interrupts != nil {
		for _, line := range cur.Interrupts.IRQs {
			class := cur.IRQClasses[line.IRQ]
			if !class.IsNIC() {
				continue
			}
			row := ReportQueue{Queue: class.Queue, Kind: string(class.Kind), IRQ: line.IRQ}
			if class.Kind == kernel.KindOther {
				row.Queue = -1
			}
			if aff, ok := cur.Affinity[line.IRQ]; ok {
				row.SMPAffinity = aff.SMPAffinity.String()
				row.EffectiveCPUs = aff.Effective.String()
				row.Nodes = nodeList(aff.Effective, cur.Topology)
			}
			if p, ok := prevIRQ[line.IRQ]; ok {
				row.InterruptsPerSecond = rate(p, curIRQ[line.IRQ], dt, false)
			}
			if _, seen := rows[class.Device]; !seen && !known[class.Device] {
				handles = append(handles, class.Device)
			}
			rows[class.Device] = append(rows[class.Device], row)
		}
	}

	stats := func(s *snapshot.Snapshot) map[statKey]uint64 {
		out := map[statKey]uint64{}
		for _, q := range s.QueueStats {
			out[statKey{q.Device, q.Queue, q.Kind}] = q.Packets
		}
		return out
	}
	prevStats, curStats := stats(prev), stats(cur)
	pps := func(dev string, queue int, kind kernel.IRQKind) *float64 {
		k := statKey{dev, queue, kind}
		c, okc := curStats[k]
		p, okp := prevStats[k]
		if !okc || !okp {
			return nil
		}
		return rate(p, c, dt, false)
	}

	for _, d := range cur.NetDevices {
		dev := ReportDevice{Name: d.Name, Driver: d.Driver, BusAddress: d.BusAddress, NUMANode: d.NUMANode, Threaded: d.Threaded}
		queues := rows[d.Name]
		covered := map[string]bool{}
		for _, q := range queues {
			switch q.Kind {
			case "rx", "tx":
				covered[q.Kind+strconv.Itoa(q.Queue)] = true
			case "combined":
				covered["rx"+strconv.Itoa(q.Queue)], covered["tx"+strconv.Itoa(q.Queue)] = true, true
			}
		}
		for _, q := range d.RxQueues {
			if !covered["rx"+strconv.Itoa(q.Index)] {
				queues = append(queues, ReportQueue{Queue: q.Index, Kind: "rx"})
			}
		}
		for _, q := range d.TxQueues {
			if !covered["tx"+strconv.Itoa(q.Index)] {
				queues = append(queues, ReportQueue{Queue: q.Index, Kind: "tx"})
			}
		}
		busy := !d.IsVirtual() || len(rows[d.Name]) > 0
		for i := range queues {
			q := &queues[i]
			if q.Kind == "rx" || q.Kind == "combined" {
				if rq, ok := findRx(d, q.Queue); ok {
					q.RPSCPUs = rq.RPSCPUs.String()
				}
				q.RxPacketsPerSecond = pps(d.Name, q.Queue, kernel.KindRx)
			}
			if q.Kind == "tx" || q.Kind == "combined" {
				if tq, ok := findTx(d, q.Queue); ok {
					q.XPSCPUs = tq.XPSCPUs.String()
				}
				q.TxPacketsPerSecond = pps(d.Name, q.Queue, kernel.KindTx)
			}
			busy = busy || q.RPSCPUs != "" || q.XPSCPUs != "" ||
				(q.RxPacketsPerSecond != nil && *q.RxPacketsPerSecond > 0) ||
				(q.TxPacketsPerSecond != nil && *q.TxPacketsPerSecond > 0)
		}
		if !busy {
			r.OmittedDevices = append(r.OmittedDevices, d.Name)
			continue
		}
		dev.Queues = sortQueues(queues)
		r.Devices = append(r.Devices, dev)
	}
	for _, h := range handles {
		r.Devices = append(r.Devices, ReportDevice{Name: h, NUMANode: -1, Threaded: -1, Queues: sortQueues(rows[h])})
	}

	r.CPUs = cpuRows(prev, cur, dt)
	return r
}

type statKey struct {
	dev   string
	queue int
	kind  kernel.IRQKind
}

func findRx(d sysfs.NetDevice, index int) (sysfs.RxQueue, bool) {
	for _, q := range d.RxQueues {
		if q.Index == index {
			return q, true
		}
	}
	return sysfs.RxQueue{}, false
}

func findTx(d sysfs.NetDevice, index int) (sysfs.TxQueue, bool) {
	for _, q := range d.TxQueues {
		if q.Index == index {
			return q, true
		}
	}
	return sysfs.TxQueue{}, false
}

// sortQueues orders rows by queue, then combined/rx/tx; vectors that serve
// no queue come last.
func sortQueues(qs []ReportQueue) []ReportQueue {
	order := map[string]int{"combined": 0, "rx": 1, "tx": 2, "other": 3}
	slices.SortStableFunc(qs, func(a, b ReportQueue) int {
		if (a.Queue < 0) != (b.Queue < 0) {
			if a.Queue < 0 {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.Queue, b.Queue), cmp.Compare(order[a.Kind], order[b.Kind]), cmp.Compare(a.IRQ, b.IRQ))
	})
	if qs == nil {
		return []ReportQueue{}
	}
	return qs
}

// irqTotals sums each numbered IRQ's counts over all CPUs.
func irqTotals(s *snapshot.Snapshot) map[int]uint64 {
	out := map[int]uint64{}
	if s.Interrupts == nil {
		return out
	}
	for _, line := range s.Interrupts.IRQs {
		var sum uint64
		for _, c := range line.Counts {
			sum += c
		}
		out[line.IRQ] = sum
	}
	return out
}

// rate is (cur-prev)/dt; nil when dt is not positive or the counter went
// backwards, except that a 32-bit counter (softnet_stat) that wrapped is
// taken as one wrap.
func rate(prev, cur uint64, dt float64, wraps32 bool) *float64 {
	if dt <= 0 {
		return nil
	}
	var d uint64
	switch {
	case cur >= prev:
		d = cur - prev
	case wraps32 && prev <= 0xffffffff:
		d = cur + (1 << 32) - prev
	default:
		return nil
	}
	v := float64(d) / dt
	return &v
}

func nodeList(cpus cpuset.CPUSet, topo *sysfs.CPUTopology) string {
	if topo == nil || len(topo.NodeOf) == 0 {
		return ""
	}
	var nodes cpuset.CPUSet
	for _, c := range cpus.List() {
		if n, ok := topo.NodeOf[c]; ok {
			nodes.Add(n)
		}
	}
	return nodes.String()
}

// cpuRows builds the per-CPU table over every CPU either snapshot names.
func cpuRows(prev, cur *snapshot.Snapshot, dt float64) []ReportCPU {
	var all cpuset.CPUSet
	if cur.Topology != nil {
		all = all.Union(cur.Topology.Online)
	}
	for _, t := range cur.CPUTime {
		all.Add(t.CPU)
	}
	if cur.Softirqs != nil {
		for _, c := range cur.Softirqs.CPUs {
			all.Add(c)
		}
	}
	for _, row := range cur.Softnet {
		all.Add(row.CPU)
	}

	times := func(s *snapshot.Snapshot) map[int]procfs.CPUTime {
		out := map[int]procfs.CPUTime{}
		for _, t := range s.CPUTime {
			out[t.CPU] = t
		}
		return out
	}
	softirq := func(s *snapshot.Snapshot, vector string) map[int]uint64 {
		out := map[int]uint64{}
		if s.Softirqs == nil {
			return out
		}
		for _, v := range s.Softirqs.Vectors {
			if v.Name != vector {
				continue
			}
			for i, c := range v.Counts {
				if i < len(s.Softirqs.CPUs) {
					out[s.Softirqs.CPUs[i]] = c
				}
			}
		}
		return out
	}
	softnet := func(s *snapshot.Snapshot) map[int]procfs.SoftnetRow {
		out := map[int]procfs.SoftnetRow{}
		for _, row := range s.Softnet {
			out[row.CPU] = row
		}
		return out
	}
	// NIC interrupts per CPU, over the IRQs classified as NIC IRQs now.
	nicPerCPU := func(s *snapshot.Snapshot) map[int]uint64 {
		out := map[int]uint64{}
		if s.Interrupts == nil {
			return out
		}
		for _, line := range s.Interrupts.IRQs {
			if !cur.IRQClasses[line.IRQ].IsNIC() {
				continue
			}
			for i, c := range line.Counts {
				if i < len(s.Interrupts.CPUs) {
					out[s.Interrupts.CPUs[i]] += c
				}
			}
		}
		return out
	}
	pt, ct := times(prev), times(cur)
	prx, crx := softirq(prev, "NET_RX"), softirq(cur, "NET_RX")
	ptx, ctx := softirq(prev, "NET_TX"), softirq(cur, "NET_TX")
	psn, csn := softnet(prev), softnet(cur)
	pnic, cnic := nicPerCPU(prev), nicPerCPU(cur)
	counter := func(p, c map[int]uint64, cpu int, wraps bool) *float64 {
		pv, okp := p[cpu]
		cv, okc := c[cpu]
		if !okp || !okc {
			return nil
		}
		return rate(pv, cv, dt, wraps)
	}

	out := make([]ReportCPU, 0, all.Count())
	for _, cpu := range all.List() {
		row := ReportCPU{CPU: cpu, Node: -1}
		if topo := cur.Topology; topo != nil {
			if n, ok := topo.NodeOf[cpu]; ok {
				row.Node = n
			}
			row.Isolated, row.NohzFull = topo.Isolated.Contains(cpu), topo.NohzFull.Contains(cpu)
		}
		if a, ok := pt[cpu]; ok {
			if b, ok := ct[cpu]; ok {
				total := cpuTotal(b) - cpuTotal(a)
				if total > 0 {
					row.SoftirqPercent = percent(b.SoftIRQ-a.SoftIRQ, total)
					row.IRQPercent = percent(b.IRQ-a.IRQ, total)
				}
			}
		}
		row.NetRxPerSecond = counter(prx, crx, cpu, false)
		row.NetTxPerSecond = counter(ptx, ctx, cpu, false)
		row.NICInterruptsPerSecond = counter(pnic, cnic, cpu, false)
		if a, ok := psn[cpu]; ok {
			if b, ok := csn[cpu]; ok {
				row.ProcessedPerSecond = rate(a.Processed, b.Processed, dt, true)
				row.DroppedPerSecond = rate(a.Dropped, b.Dropped, dt, true)
				row.SqueezedPerSecond = rate(a.TimeSqueeze, b.TimeSqueeze, dt, true)
			}
		}
		out = append(out, row)
	}
	return out
}

func cpuTotal(t procfs.CPUTime) float64 {
	return t.User + t.Nice + t.System + t.Idle + t.Iowait + t.IRQ + t.SoftIRQ + t.Steal
}

func percent(part, total float64) *float64 {
	v := max(0, 100*part/total)
	return &v
}

// snapshotWarnings lists the parts of s that could not be read fully.
func snapshotWarnings(s *snapshot.Snapshot) []string {
	out := []string{}
	for _, e := range []struct {
		part string
		err  error
	}{
		{"cpu_topology", s.TopologyErr}, {"net_devices", s.NetDevicesErr}, {"interrupts", s.InterruptsErr},
		{"irq_affinity", s.AffinityErr}, {"softirqs", s.SoftirqsErr}, {"softnet", s.SoftnetErr},
		{"stat", s.CPUTimeErr}, {"ethtool", s.EthtoolErr}, {"queue_stats", s.QueueStatsErr},
		{"threads", s.ThreadsErr}, {"tunables", s.TunablesErr},
	} {
		if e.err != nil {
			out = append(out, e.part+": "+strings.ReplaceAll(e.err.Error(), "\n", "; "))
		}
	}
	return out
}

// WriteText prints the report as aligned tables.
func (r Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "netirq_exporter report: %s, %d CPUs, %.2f s between snapshots ending %s\n",
		cmp.Or(r.Host, "unknown host"), len(r.CPUs), r.IntervalSeconds, r.Time.UTC().Format(time.RFC3339))

	for _, d := range r.Devices {
		fmt.Fprintf(ew, "\n%s", d.Name)
		if d.Driver != "" {
			fmt.Fprintf(ew, "  driver %s", d.Driver)
		}
		if d.BusAddress != "" {
			fmt.Fprintf(ew, "  bus %s", d.BusAddress)
		}
		fmt.Fprintf(ew, "  NUMA node %d", d.NUMANode)
		if d.Threaded > 0 {
			fmt.Fprint(ew, "  threaded NAPI")
		}
		fmt.Fprintln(ew)
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  QUEUE\tKIND\tIRQ\tSMP_AFFINITY\tEFFECTIVE\tNODE\tRPS_CPUS\tXPS_CPUS\tIRQS/S\tRX_PKTS/S\tTX_PKTS/S")
		for _, q := range d.Queues {
			queue, irq := "-", "-"
			if q.Queue >= 0 {
				queue = strconv.Itoa(q.Queue)
			}
			if q.IRQ > 0 {
				irq = strconv.Itoa(q.IRQ)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", queue, q.Kind, irq,
				dash(q.SMPAffinity), dash(q.EffectiveCPUs), dash(q.Nodes), dash(q.RPSCPUs), dash(q.XPSCPUs),
				fmtRate(q.InterruptsPerSecond), fmtRate(q.RxPacketsPerSecond), fmtRate(q.TxPacketsPerSecond))
		}
		tw.Flush()
	}
	if len(r.OmittedDevices) > 0 {
		fmt.Fprintf(ew, "\n(not shown: %s: virtual, no IRQ, no RPS/XPS, no traffic)\n", strings.Join(r.OmittedDevices, ", "))
	}

	fmt.Fprintln(ew)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CPU\tNODE\tFLAGS\tSOFTIRQ%\tIRQ%\tNET_RX/S\tNET_TX/S\tNIC_IRQS/S\tPROCESSED/S\tDROPS/S\tSQUEEZES/S")
	for _, c := range r.CPUs {
		var flags []string
		if c.Isolated {
			flags = append(flags, "isolated")
		}
		if c.NohzFull {
			flags = append(flags, "nohz_full")
		}
		node := "-"
		if c.Node >= 0 {
			node = strconv.Itoa(c.Node)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.CPU, node, dash(strings.Join(flags, ",")),
			fmtPercent(c.SoftirqPercent), fmtPercent(c.IRQPercent), fmtRate(c.NetRxPerSecond), fmtRate(c.NetTxPerSecond),
			fmtRate(c.NICInterruptsPerSecond), fmtRate(c.ProcessedPerSecond), fmtRate(c.DroppedPerSecond), fmtRate(c.SqueezedPerSecond))
	}
	tw.Flush()

	if len(r.Findings) == 0 {
		fmt.Fprintln(ew, "\nFindings: none")
	} else {
		fmt.Fprintf(ew, "\nFindings (%d; the exporter changes nothing, the fix is for you to run):\n", len(r.Findings))
		for _, f := range r.Findings {
			var where []string
			for _, p := range [][2]string{{"", f.Device}, {"queue ", f.Queue}, {"IRQ ", f.IRQ}, {"CPU ", f.CPU}} {
				if p[1] != "" {
					where = append(where, p[0]+p[1])
				}
			}
			fmt.Fprintf(ew, "\n  [%s] %s: %s\n    %s\n    fix: %s\n", f.Severity, f.Check, strings.Join(where, " "), f.Message, f.Fix)
		}
	}
	for _, warning := range r.Warnings {
		fmt.Fprintf(ew, "\nwarning: %s\n", warning)
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func fmtRate(v *float64) string {
	switch {
	case v == nil:
		return "-"
	case *v < 10:
		return strconv.FormatFloat(*v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(*v, 'f', 0, 64)
	}
}

func fmtPercent(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

// reportOptions are the report command's own flags.
type reportOptions struct {
	interval time.Duration
	json     bool
}

// addReportCommand defines `report` on app. The exporter's flags
// (--path.procfs, --collector.*) stay global and apply to it too.
func addReportCommand(app *kingpin.Application) (*kingpin.CmdClause, *reportOptions) {
	opts := &reportOptions{}
	cmd := app.Command("report",
		"Print the queue → IRQ → CPU map, per-CPU interrupt and softirq load and the misconfiguration findings with their fix commands, from two snapshots --interval apart, and exit.")
	cmd.Flag("interval", "Time between the two snapshots (0.5s to 60s).").Default("5s").DurationVar(&opts.interval)
	cmd.Flag("json", "Print one JSON document instead of tables.").BoolVar(&opts.json)
	return cmd, opts
}

// runReport reads two snapshots and prints the report; it returns the exit
// code.
func runReport(cfg collector.Config, logger *slog.Logger, opts *reportOptions, out io.Writer) int {
	if opts.interval < minReportInterval || opts.interval > maxReportInterval {
		logger.Error("bad flag", "err", fmt.Sprintf("--interval %s: want %s to %s", opts.interval, minReportInterval, maxReportInterval))
		return 2
	}
	exporter, err := collector.NewExporter(cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	source := exporter.Source()
	prev := source.Snapshot()
	time.Sleep(time.Until(prev.Time.Add(opts.interval)))
	cur := source.Snapshot()

	r := BuildReport(prev, cur)
	r.Host, _ = os.Hostname()
	if cfg.DeviceExclude != nil {
		r.Devices = slices.DeleteFunc(r.Devices, func(d ReportDevice) bool { return cfg.DeviceExclude.MatchString(d.Name) })
		r.Findings = slices.DeleteFunc(r.Findings, func(f diagnosis.Finding) bool {
			return f.Device != "" && cfg.DeviceExclude.MatchString(f.Device)
		})
	}
	if opts.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = r.WriteText(out)
	}
	if err != nil {
		logger.Error("cannot write the report", "err", err)
		return 1
	}
	return 0
}
