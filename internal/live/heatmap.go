package live

import (
	"fmt"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/report"
)

// The CPU × queue heat map: a column per CPU; three rows of per-CPU load
// (network work, busy, packets processed), then a row per queue that has
// an IRQ or an RPS mask, its cells the IRQ's interrupts/s on each CPU,
// RPS targets marked and the IRQ's effective CPUs outlined.

const (
	cell       = 16  // cell side, px
	headerH    = 34  // CPU numbers above the cells
	maxRows    = 256 // queue rows drawn; the rest are counted
	labelChars = 48  // longer row labels are cut
)

type heatMap struct {
	Width, Height, LabelW int
	Cols                  []heatCol
	Rows                  []heatRow
	Cells                 []heatCell
	Outlines              []heatCell // the IRQ's effective CPUs
	Marks                 []heatCell // RPS targets (X, Y: the centre)
	Omitted               int        // queue rows not drawn (maxRows)
}

type heatCol struct {
	X, Y  int // the label's anchor
	Label string
	Hot   bool
}

type heatRow struct {
	Y     int // the label's baseline
	Label string
	Load  bool // a per-CPU load row, not a queue
}

type heatCell struct {
	X, Y  int
	Fill  string
	Title string
}

// heatQueue is one queue row to draw.
type heatQueue struct {
	dev string
	q   report.ReportQueue
}

func buildHeatMap(r report.Report, irqRates map[int]map[int]float64, hot map[int]bool) *heatMap {
	col := map[int]int{}
	for i, c := range r.CPUs {
		col[c.CPU] = i
	}
	queues, omitted := drawnQueues(r)
	h := &heatMap{LabelW: labelWidth(r, queues), Omitted: omitted}
	h.Width = h.LabelW + len(r.CPUs)*cell + 8
	h.Height = headerH + (3+len(queues))*cell + 8
	for i, c := range r.CPUs {
		h.Cols = append(h.Cols, heatCol{X: h.LabelW + i*cell + cell/2 + 3, Y: headerH - 4, Label: strconv.Itoa(c.CPU), Hot: hot[c.CPU]})
	}
	h.addLoadRows(r)
	maxRate := 0.0
	for _, hq := range queues {
		for _, v := range irqRates[hq.q.IRQ] {
			maxRate = max(maxRate, v)
		}
	}
	for i, hq := range queues {
		h.addQueueRow(3+i, hq, irqRates[hq.q.IRQ], maxRate, col)
	}
	return h
}

// drawnQueues are the rows of the map and the flow diagram: queues with
// an IRQ or an RPS mask, at most maxRows.
func drawnQueues(r report.Report) (out []heatQueue, omitted int) {
	for _, d := range r.Devices {
		for _, q := range d.Queues {
			if q.IRQ <= 0 && q.RPSCPUs == "" {
				continue
			}
			if len(out) == maxRows {
				omitted++
				continue
			}
			out = append(out, heatQueue{d.Name, q})
		}
	}
	return out, omitted
}

func labelWidth(r report.Report, queues []heatQueue) int {
	n := len("packets processed/s")
	for _, hq := range queues {
		n = max(n, len([]rune(queueLabel(hq))))
	}
	return min(n, labelChars+1)*7 + 12
}

// queueLabel is "eth0 rx-3 · IRQ 42", cut to labelChars.
func queueLabel(hq heatQueue) string {
	s := hq.dev + " " + queueName(hq.q)
	if hq.q.IRQ > 0 {
		s += " · IRQ " + strconv.Itoa(hq.q.IRQ)
	}
	if r := []rune(s); len(r) > labelChars {
		s = string(r[:labelChars]) + "…"
	}
	return s
}

// queueName is "rx-3", "combined-0", or the kind of a vector that serves
// no queue.
func queueName(q report.ReportQueue) string {
	if q.Queue < 0 {
		return q.Kind
	}
	return q.Kind + "-" + strconv.Itoa(q.Queue)
}

// addLoadRows adds the per-CPU rows: network work and busy (percent of
// the CPU), packets processed (of the busiest CPU's).
func (h *heatMap) addLoadRows(r report.Report) {
	maxProcessed := 0.0
	for _, c := range r.CPUs {
		if c.ProcessedPerSecond != nil {
			maxProcessed = max(maxProcessed, *c.ProcessedPerSecond)
		}
	}
	rows := []struct {
		label string
		value func(report.ReportCPU) (float64, string, bool)
	}{
		{"network work %", func(c report.ReportCPU) (float64, string, bool) {
			return percentCell(c.NetWorkPercent, "network work")
		}},
		{"busy %", func(c report.ReportCPU) (float64, string, bool) { return percentCell(c.BusyPercent, "busy") }},
		{"packets processed/s", func(c report.ReportCPU) (float64, string, bool) {
			if c.ProcessedPerSecond == nil || maxProcessed == 0 {
				return 0, "", false
			}
			return *c.ProcessedPerSecond / maxProcessed, report.FormatRate(c.ProcessedPerSecond) + " packets processed/s", true
		}},
	}
	for i, row := range rows {
		y := headerH + i*cell
		h.Rows = append(h.Rows, heatRow{Y: y + cell - 4, Label: row.label, Load: true})
		for j, c := range r.CPUs {
			if v, what, ok := row.value(c); ok && v > 0 {
				h.Cells = append(h.Cells, heatCell{X: h.LabelW + j*cell, Y: y, Fill: heatColor(v),
					Title: fmt.Sprintf("CPU %d: %s", c.CPU, what)})
			}
		}
	}
}

func percentCell(p *float64, what string) (float64, string, bool) {
	if p == nil {
		return 0, "", false
	}
	return *p / 100, report.FormatPercent(p) + " % " + what, true
}

// addQueueRow adds queue row i: its IRQ's rates per CPU (of maxRate), its
// effective CPUs outlined, its RPS CPUs marked.
func (h *heatMap) addQueueRow(i int, hq heatQueue, rates map[int]float64, maxRate float64, col map[int]int) {
	y := headerH + i*cell
	label := queueLabel(hq)
	h.Rows = append(h.Rows, heatRow{Y: y + cell - 4, Label: label})
	for cpu, v := range rates {
		if j, ok := col[cpu]; ok && v > 0 && maxRate > 0 {
			h.Cells = append(h.Cells, heatCell{X: h.LabelW + j*cell, Y: y, Fill: heatColor(v / maxRate),
				Title: fmt.Sprintf("CPU %d, %s: %s interrupts/s", cpu, label, report.FormatRate(&v))})
		}
	}
	for _, cpu := range cpuList(hq.q.EffectiveCPUs) {
		if j, ok := col[cpu]; ok {
			h.Outlines = append(h.Outlines, heatCell{X: h.LabelW + j*cell, Y: y,
				Title: fmt.Sprintf("CPU %d: effective CPU of IRQ %d", cpu, hq.q.IRQ)})
		}
	}
	for _, cpu := range cpuList(hq.q.RPSCPUs) {
		if j, ok := col[cpu]; ok {
			h.Marks = append(h.Marks, heatCell{X: h.LabelW + j*cell + cell/2, Y: y + cell/2,
				Title: fmt.Sprintf("CPU %d: RPS target of %s", cpu, label)})
		}
	}
}

// cpuList parses a kernel CPU list ("0-3,8"); "" or a bad list is none.
func cpuList(s string) []int {
	if s == "" {
		return nil
	}
	set, err := cpuset.ParseCPUList(s)
	if err != nil {
		return nil
	}
	return set.List()
}

// heatColor maps 0..1 to a pale yellow → orange → dark red ramp.
func heatColor(v float64) string {
	stops := [][3]float64{{255, 247, 188}, {254, 153, 41}, {189, 0, 38}}
	v = min(max(v, 0), 1)
	seg := 0
	if v > 0.5 {
		seg, v = 1, v-0.5
	}
	v *= 2
	a, b := stops[seg], stops[seg+1]
	return fmt.Sprintf("#%02x%02x%02x", int(a[0]+(b[0]-a[0])*v), int(a[1]+(b[1]-a[1])*v), int(a[2]+(b[2]-a[2])*v))
}
