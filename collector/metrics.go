package collector

import (
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Cheap metrics for the per-CPU families. prometheus.MustNewConstMetric
// costs about ten allocations per series (its label pairs sorted and
// copied every call, a dto.Metric, the value); the default scrape of a
// 256-CPU host has ~7,000 per-CPU series (cpu time, softnet, softirqs,
// arch interrupts), and MakeLabelPairs was half of all its allocated
// objects. A cellMetric shares its label pairs with the other series of
// the same CPU or row and comes from a slab; the collectors send them in
// the order the registry sorts a family in (cpu as a string first), which
// makes that sort linear.

// cpuLabelPairs renders each CPU number once per scrape: its label value,
// its cpu label pair, and the indexes of cpus in the registry's order
// (by the label as a string: 0, 1, 10, 100, 101, ..., 2, 20 ...).
func cpuLabelPairs(cpus []int) (labels []string, pairs []*dto.LabelPair, order []int) {
	labels = cpuLabels(cpus)
	pairs = make([]*dto.LabelPair, len(labels))
	order = make([]int, len(labels))
	for i, l := range labels {
		pairs[i] = labelPair(&labelCPU, l)
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	return labels, pairs, order
}

// Label names of the cells, shared by their label pairs.
var labelCPU, labelDevice, labelIRQ, labelKind, labelQueue, labelName, labelMode, labelVector = "cpu", "device", "irq", "kind", "queue", "name", "mode", "vector"

// labelPair builds one label pair; value must be valid UTF-8.
func labelPair(name *string, value string) *dto.LabelPair {
	return &dto.LabelPair{Name: name, Value: &value}
}

// cellMetric is the counter or gauge of one cell: what
// prometheus.MustNewConstMetric builds, without its allocations, its label
// pairs (sorted by name, valid UTF-8) shared with the other cells of the
// same CPU or row. The registry treats what Write fills in as read-only.
// A 256-CPU host in dense mode has ~165,000 cells per scrape.
type cellMetric struct {
	desc    *prometheus.Desc
	value   float64
	gauge   bool
	counter dto.Counter
	gaugeV  dto.Gauge
	labels  []*dto.LabelPair
	pairs   [5]*dto.LabelPair
}

// cellSlab hands out cellMetrics from chunks, so that the ~165,000 cells of a
// dense scrape cost a few hundred allocations rather than one each. A chunk
// lives as long as one of its cells does: until the scrape is encoded.
type cellSlab struct{ free []cellMetric }

// newCellMetric is a counter; pairs sorted by label name, at most five.
func (s *cellSlab) newCellMetric(desc *prometheus.Desc, v float64, pairs ...*dto.LabelPair) prometheus.Metric {
	m := s.next(desc, v, pairs)
	m.counter.Value = &m.value
	return m
}

// newGaugeCell is a gauge; pairs sorted by label name, at most five.
func (s *cellSlab) newGaugeCell(desc *prometheus.Desc, v float64, pairs ...*dto.LabelPair) prometheus.Metric {
	m := s.next(desc, v, pairs)
	m.gauge = true
	m.gaugeV.Value = &m.value
	return m
}

func (s *cellSlab) next(desc *prometheus.Desc, v float64, pairs []*dto.LabelPair) *cellMetric {
	if len(s.free) == 0 {
		s.free = make([]cellMetric, 512)
	}
	m := &s.free[0]
	s.free = s.free[1:]
	m.desc, m.value = desc, v
	n := copy(m.pairs[:], pairs)
	m.labels = m.pairs[:n:n]
	return m
}

func (m *cellMetric) Desc() *prometheus.Desc { return m.desc }

func (m *cellMetric) Write(out *dto.Metric) error {
	out.Label = m.labels
	if m.gauge {
		out.Gauge = &m.gaugeV
	} else {
		out.Counter = &m.counter
	}
	return nil
}

// cpuLabels renders CPU numbers once per scrape rather than once per cell.
func cpuLabels(cpus []int) []string {
	out := make([]string, len(cpus))
	for i, c := range cpus {
		out[i] = strconv.Itoa(c)
	}
	return out
}
