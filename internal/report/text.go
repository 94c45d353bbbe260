package report

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// WriteText prints the report as aligned tables.
func (r Report) WriteText(w io.Writer) error {
	if r.OS == osNetBSD {
		return r.writeNetBSDText(w)
	}
	ew := &errWriter{w: escapingWriter{w}}
	fmt.Fprintf(ew, "netirq_exporter report: %s, %d CPUs, %.2f s between snapshots ending %s\n",
		cmp.Or(r.Host, "unknown host"), len(r.CPUs), r.IntervalSeconds, r.Time.UTC().Format(time.RFC3339))
	writeIRQTime(ew, r.IRQTimeAccounting)
	r.writeDiagnosis(ew)

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
		if d.RxPacketsPerSecond != nil && d.TxPacketsPerSecond != nil {
			fmt.Fprintf(ew, "  rx %s tx %s packets/s", FormatRate(d.RxPacketsPerSecond), FormatRate(d.TxPacketsPerSecond))
		}
		writeRing(ew, d)
		fmt.Fprintln(ew)
		cols := columnsOf(d)
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  QUEUE\tKIND\tIRQ\tSMP_AFFINITY\tEFFECTIVE\tNODE\tRPS_CPUS\tXPS_CPUS\tIRQS/S\tRX_PKTS/S\tTX_PKTS/S"+cols.header())
		for _, q := range d.Queues {
			queue, irq := "-", "-"
			if q.Queue >= 0 {
				queue = strconv.Itoa(q.Queue)
			}
			if q.IRQ > 0 {
				irq = strconv.Itoa(q.IRQ)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s%s\n", queue, q.Kind, irq,
				Dash(q.SMPAffinity), Dash(q.EffectiveCPUs), Dash(q.Nodes), Dash(q.RPSCPUs), Dash(q.XPSCPUs),
				FormatRate(q.InterruptsPerSecond), FormatRate(q.RxPacketsPerSecond), FormatRate(q.TxPacketsPerSecond), cols.row(q))
		}
		tw.Flush()
		writeNAPIs(ew, d)
	}
	if len(r.OmittedDevices) > 0 {
		fmt.Fprintf(ew, "\n(not shown: %s: virtual, no IRQ, no RPS/XPS, no traffic)\n", strings.Join(r.OmittedDevices, ", "))
	}
	r.writeThreads(ew)

	fmt.Fprintln(ew)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CPU\tNODE\tFLAGS\tBUSY%\tNET_WORK%\tSOFTIRQ%\tIRQ%\tNET_RX/S\tNET_TX/S\tNIC_IRQS/S\tPROCESSED/S\tDROPS/S\tSQUEEZES/S")
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
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.CPU, node, Dash(strings.Join(flags, ",")),
			FormatPercent(c.BusyPercent), FormatPercent(c.NetWorkPercent), FormatPercent(c.SoftirqPercent), FormatPercent(c.IRQPercent), FormatRate(c.NetRxPerSecond), FormatRate(c.NetTxPerSecond),
			FormatRate(c.NICInterruptsPerSecond), FormatRate(c.ProcessedPerSecond), FormatRate(c.DroppedPerSecond), FormatRate(c.SqueezedPerSecond))
	}
	tw.Flush()

	switch {
	case len(r.Findings) == 0 && len(r.UnknownChecks) > 0:
		fmt.Fprintln(ew, "\nFindings: none among the checks that ran")
	case len(r.Findings) == 0:
		fmt.Fprintln(ew, "\nFindings: none")
	default:
		fmt.Fprintf(ew, "\nFindings (%d; the exporter changes nothing, the fix is for you to run):\n", len(r.Findings))
		idle := r.idleDevices()
		for _, f := range r.Findings {
			var where []string
			for _, p := range [][2]string{{"", f.Device}, {"queue ", f.Queue}, {"IRQ ", f.IRQ}, {"CPU ", f.CPU}} {
				if p[1] != "" {
					where = append(where, p[0]+p[1])
				}
			}
			if idle[f.Device] {
				where = append(where, "(idle over the interval)")
			}
			if len(where) > 0 { // a finding about the host as a whole has none
				where[0] = ": " + where[0]
			}
			fmt.Fprintf(ew, "\n  [%s] %s%s\n    %s\n    fix: %s\n", f.Severity, f.Check, strings.Join(where, " "), f.Message, f.Fix)
		}
	}
	r.writeUnknownChecks(ew)
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

// Dash, FormatRate and FormatPercent print values as the report does, "-"
// when unknown (the live view prints them the same way).
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func FormatRate(v *float64) string {
	switch {
	case v == nil:
		return "-"
	case *v < 10:
		return strconv.FormatFloat(*v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(*v, 'f', 0, 64)
	}
}

func FormatPercent(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

// escapingWriter writes control characters (but newline and tab), C1
// controls and bytes that are not UTF-8 as \xHH: device names, IRQ names
// and file contents come from the kernel and may hold an ESC that would
// drive the terminal showing the report.
type escapingWriter struct{ w io.Writer }

func (e escapingWriter) Write(p []byte) (int, error) {
	if !needsEscape(p) {
		return e.w.Write(p)
	}
	var b []byte
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && size <= 1, r < 0x20 && r != '\n' && r != '\t', r == 0x7f:
			b = fmt.Appendf(b, `\x%02x`, p[i])
			size = 1
		case r >= 0x80 && r < 0xa0:
			for _, c := range p[i : i+size] {
				b = fmt.Appendf(b, `\x%02x`, c)
			}
		default:
			b = append(b, p[i:i+size]...)
		}
		i += size
	}
	if _, err := e.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

func needsEscape(p []byte) bool {
	for _, c := range p {
		if c < 0x20 && c != '\n' && c != '\t' || c >= 0x7f {
			return true
		}
	}
	return false
}
