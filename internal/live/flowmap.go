package live

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/report"
)

// The queue → IRQ → CPU diagram: the drawn queues on the left, their IRQs
// in the middle, the CPUs they reach on the right. An IRQ's edges go to its
// effective CPUs, as wide as its interrupts/s there; an RPS mask is a
// dashed edge from the queue straight to each CPU it steers packets to.

const (
	rowH   = 20  // px between nodes of a column
	colGap = 220 // px between the columns
)

type flowMap struct {
	Width, Height int
	Nodes         []flowNode
	Edges         []flowEdge
	Omitted       int
}

type flowNode struct {
	X, Y   int    // the node's centre
	Label  string // drawn left of queues, right of IRQs and CPUs
	Kind   string // queue, irq or cpu
	Hot    bool
	CPU    int // cpu nodes: the CPU
	LabelX int
	Anchor string // the label's text-anchor
	Title  string
}

type flowEdge struct {
	D     string // the path
	Width string
	RPS   bool
	Title string
}

// flowLayout places one column's nodes.
type flowLayout struct {
	x, n, height int
}

func (l flowLayout) y(i int) int { return (l.height-l.n*rowH)/2 + i*rowH + rowH/2 }

func buildFlowMap(queues []heatQueue, omitted int, irqRates map[int]map[int]float64, hot map[int]bool, labelW int) *flowMap {
	irqs, cpus := flowColumns(queues, hot)
	f := &flowMap{Omitted: omitted}
	f.Height = max(len(queues), len(irqs), len(cpus), 1)*rowH + 8
	lq := flowLayout{x: labelW, n: len(queues), height: f.Height}
	li := flowLayout{x: labelW + colGap, n: len(irqs), height: f.Height}
	lc := flowLayout{x: labelW + 2*colGap, n: len(cpus), height: f.Height}
	f.Width = lc.x + 90
	irqAt, cpuAt := map[int]int{}, map[int]int{}
	for i, irq := range irqs {
		irqAt[irq] = li.y(i)
		f.Nodes = append(f.Nodes, flowNode{X: li.x, Y: li.y(i), Label: "IRQ " + strconv.Itoa(irq), Kind: "irq", LabelX: li.x + 9, Anchor: "start"})
	}
	for i, cpu := range cpus {
		cpuAt[cpu] = lc.y(i)
		f.Nodes = append(f.Nodes, flowNode{X: lc.x, Y: lc.y(i), Label: "CPU " + strconv.Itoa(cpu), Kind: "cpu", Hot: hot[cpu], CPU: cpu,
			LabelX: lc.x + 10, Anchor: "start"})
	}
	maxIRQ, maxPkts := flowMaxima(queues, irqRates)
	for i, hq := range queues {
		y, label := lq.y(i), queueLabel(hq)
		f.Nodes = append(f.Nodes, flowNode{X: lq.x, Y: y, Label: label, Kind: "queue", LabelX: lq.x - 8, Anchor: "end"})
		if hq.q.IRQ > 0 {
			f.Edges = append(f.Edges, flowEdge{D: curve(lq.x, y, li.x, irqAt[hq.q.IRQ]), Width: edgeWidth(hq.q.InterruptsPerSecond, maxIRQ),
				Title: fmt.Sprintf("%s: %s interrupts/s", label, report.FormatRate(hq.q.InterruptsPerSecond))})
			for _, cpu := range cpuList(hq.q.EffectiveCPUs) {
				v, ok := irqRates[hq.q.IRQ][cpu]
				rate := &v
				if !ok {
					rate = nil
				}
				f.Edges = append(f.Edges, flowEdge{D: curve(li.x, irqAt[hq.q.IRQ], lc.x, cpuAt[cpu]), Width: edgeWidth(rate, maxIRQ),
					Title: fmt.Sprintf("IRQ %d → CPU %d (effective): %s interrupts/s there", hq.q.IRQ, cpu, report.FormatRate(rate))})
			}
		}
		for _, cpu := range cpuList(hq.q.RPSCPUs) {
			f.Edges = append(f.Edges, flowEdge{D: curve(lq.x, y, lc.x, cpuAt[cpu]), Width: edgeWidth(hq.q.RxPacketsPerSecond, maxPkts), RPS: true,
				Title: fmt.Sprintf("%s → CPU %d by RPS (queue: %s packets/s)", label, cpu, report.FormatRate(hq.q.RxPacketsPerSecond))})
		}
	}
	return f
}

// flowColumns lists the drawn queues' IRQs in order, and the CPUs they
// reach (effective or RPS) with the hot ones, sorted.
func flowColumns(queues []heatQueue, hot map[int]bool) (irqs, cpus []int) {
	seenIRQ, seenCPU := map[int]bool{}, map[int]bool{}
	addCPU := func(c int) {
		if !seenCPU[c] {
			seenCPU[c] = true
			cpus = append(cpus, c)
		}
	}
	for _, hq := range queues {
		if hq.q.IRQ > 0 && !seenIRQ[hq.q.IRQ] {
			seenIRQ[hq.q.IRQ] = true
			irqs = append(irqs, hq.q.IRQ)
			for _, c := range cpuList(hq.q.EffectiveCPUs) {
				addCPU(c)
			}
		}
		for _, c := range cpuList(hq.q.RPSCPUs) {
			addCPU(c)
		}
	}
	for c, h := range hot {
		if h {
			addCPU(c)
		}
	}
	slices.Sort(cpus)
	return irqs, cpus
}

// flowMaxima are the highest per-CPU interrupt rate and queue packet rate,
// the edges' full width.
func flowMaxima(queues []heatQueue, irqRates map[int]map[int]float64) (irq, pkts float64) {
	for _, hq := range queues {
		if r := hq.q.InterruptsPerSecond; r != nil {
			irq = max(irq, *r)
		}
		if r := hq.q.RxPacketsPerSecond; r != nil {
			pkts = max(pkts, *r)
		}
		for _, v := range irqRates[hq.q.IRQ] {
			irq = max(irq, v)
		}
	}
	return irq, pkts
}

// curve is a horizontal S from (x1, y1) to (x2, y2).
func curve(x1, y1, x2, y2 int) string {
	mid := (x1 + x2) / 2
	return fmt.Sprintf("M%d %dC%d %d %d %d %d %d", x1, y1, mid, y1, mid, y2, x2, y2)
}

// edgeWidth is 1 px for an unknown or zero rate, up to 9 px for max (by
// the square root, so that small flows stay visible).
func edgeWidth(v *float64, maxV float64) string {
	w := 1.0
	if v != nil && maxV > 0 && *v > 0 {
		w += 8 * math.Sqrt(*v/maxV)
	}
	return strconv.FormatFloat(w, 'f', 1, 64)
}
