package collector

import (
	"bufio"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Most series of a scrape are per CPU: cpu time by mode, softnet columns,
// softirqs by vector, arch interrupts by name, IRQ cells (7,400 of the
// 9,100 series of a 256-CPU host by default, 99% in dense mode). The
// collectors that export them build each such family as a cpuMatrix, rows
// x CPUs. collect sends a matrix to a registry as cellMetrics; WriteText,
// which /metrics uses, writes it as text directly, a few appends per
// series instead of the registry's checks, hashing and sort and expfmt's
// per-sample work.

// cpuMatrix is one family whose series all have the cpu label, first in
// label-name order, then their row's labels.
type cpuMatrix struct {
	desc  *prometheus.Desc // for the registry
	name  string           // for the text
	help  string
	gauge bool
	cpus  *cpuColumns
	rows  []matrixRow // in the registry's order (sortRows)
}

// cpuColumns are the CPUs of a matrix, rendered once per scrape: their
// label values, label pairs, and the indexes in the order the registry
// sorts them (by the label as a string: 0, 1, 10, 100, ..., 2, 20 ...).
type cpuColumns struct {
	labels []string
	pairs  []*dto.LabelPair
	order  []int
}

func newCPUColumns(cpus []int) *cpuColumns {
	c := &cpuColumns{labels: make([]string, len(cpus)), pairs: make([]*dto.LabelPair, len(cpus)), order: make([]int, len(cpus))}
	for i, cpu := range cpus {
		c.labels[i] = strconv.Itoa(cpu)
		c.pairs[i] = labelPair(&labelCPU, c.labels[i])
		c.order[i] = i
	}
	slices.SortStableFunc(c.order, func(a, b int) int { return strings.Compare(c.labels[a], c.labels[b]) })
	return c
}

// Label names of the matrices' rows, shared by their label pairs.
var labelCPU, labelDevice, labelIRQ, labelKind, labelQueue, labelName, labelMode, labelVector = "cpu", "device", "irq", "kind", "queue", "name", "mode", "vector"

// labelPair builds one label pair; value must be valid UTF-8.
func labelPair(name *string, value string) *dto.LabelPair {
	return &dto.LabelPair{Name: name, Value: &value}
}

// sortRows sorts rows as the registry sorts the series of one CPU: by their
// label values in label-name order.
func sortRows(rows []matrixRow) {
	slices.SortStableFunc(rows, func(a, b matrixRow) int {
		for k := range min(len(a.pairs), len(b.pairs)) {
			if n := strings.Compare(a.pairs[k].GetValue(), b.pairs[k].GetValue()); n != 0 {
				return n
			}
		}
		return len(a.pairs) - len(b.pairs)
	})
}

// matrixRow is one row of a matrix: its labels and a value per CPU index.
type matrixRow struct {
	pairs  []*dto.LabelPair // sorted by name, every name after "cpu"; valid UTF-8
	counts []uint64         // by CPU index, or nil when values holds them
	values []float64
	// kept lists the CPU indexes exported (a cell that never counted is
	// left out); nil keeps every CPU.
	kept *cpuset.CPUSet
}

// value returns the cell of CPU index i and whether it is exported.
func (r *matrixRow) value(i int) (float64, bool) {
	if r.kept != nil && !r.kept.Contains(i) {
		return 0, false
	}
	if r.counts != nil {
		if i >= len(r.counts) {
			return 0, false
		}
		return float64(r.counts[i]), true
	}
	if i >= len(r.values) {
		return 0, false
	}
	return r.values[i], true
}

// send sends the matrix's cells to a registry, in its sort order (which
// makes the registry's sort of the family linear).
func (m *cpuMatrix) send(ch chan<- prometheus.Metric) {
	slab := &cellSlab{}
	var pairs [5]*dto.LabelPair
	for _, i := range m.cpus.order {
		pairs[0] = m.cpus.pairs[i]
		for r := range m.rows {
			row := &m.rows[r]
			if v, ok := row.value(i); ok {
				n := 1 + copy(pairs[1:], row.pairs)
				ch <- slab.newCell(m.desc, m.gauge, v, pairs[:n])
			}
		}
	}
}

// cellMetric is one series of a matrix: what prometheus.MustNewConstMetric
// builds, without its ten allocations (its label pairs sorted and copied
// every call), the label pairs shared with the other cells of the same CPU
// or row. The registry treats what Write fills in as read-only.
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

// newCell is a counter, or a gauge; pairs sorted by label name, at most five.
func (s *cellSlab) newCell(desc *prometheus.Desc, gauge bool, v float64, pairs []*dto.LabelPair) prometheus.Metric {
	if len(s.free) == 0 {
		s.free = make([]cellMetric, 512)
	}
	m := &s.free[0]
	s.free = s.free[1:]
	m.desc, m.value, m.gauge = desc, v, gauge
	n := copy(m.pairs[:], pairs)
	m.labels = m.pairs[:n:n]
	if gauge {
		m.gaugeV.Value = &m.value
	} else {
		m.counter.Value = &m.value
	}
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

// write writes the matrix as the text format (0.0.4) does, HELP and TYPE
// first; nothing when no cell is exported. scratch is a buffer to reuse
// from one matrix to the next. Write errors stay in bw.
func (m *cpuMatrix) write(bw *bufio.Writer, scratch *[]byte) {
	// The label text after cpu's value, per row.
	rowText := make([]string, len(m.rows))
	for r, row := range m.rows {
		var b strings.Builder
		for _, p := range row.pairs {
			b.WriteString(`",`)
			b.WriteString(p.GetName())
			b.WriteString(`="`)
			b.WriteString(quotedEscaper.Replace(p.GetValue()))
		}
		b.WriteString(`"} `)
		rowText[r] = b.String()
	}
	buf := (*scratch)[:0]
	header := false
	for _, i := range m.cpus.order {
		cpu := m.cpus.labels[i] // a number: nothing to escape
		for r := range m.rows {
			v, ok := m.rows[r].value(i)
			if !ok {
				continue
			}
			if !header {
				typ := "counter"
				if m.gauge {
					typ = "gauge"
				}
				buf = append(buf, "# HELP "+m.name+" "+helpEscaper.Replace(m.help)+"\n# TYPE "+m.name+" "+typ+"\n"...)
				header = true
			}
			buf = append(buf, m.name...)
			buf = append(buf, `{cpu="`...)
			buf = append(buf, cpu...)
			buf = append(buf, rowText[r]...)
			buf = appendValue(buf, v)
			buf = append(buf, '\n')
			if len(buf) > 60<<10 {
				bw.Write(buf)
				buf = buf[:0]
			}
		}
	}
	bw.Write(buf)
	*scratch = buf
}

// quotedEscaper escapes a label value, helpEscaper a HELP text, as the
// text format does.
var (
	quotedEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	helpEscaper   = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// appendValue appends v as expfmt writes a sample value.
func appendValue(buf []byte, v float64) []byte {
	switch {
	case v == 1:
		return append(buf, '1')
	case v == 0:
		return append(buf, '0')
	case v == -1:
		return append(buf, "-1"...)
	case math.IsNaN(v):
		return append(buf, "NaN"...)
	case math.IsInf(v, +1):
		return append(buf, "+Inf"...)
	case math.IsInf(v, -1):
		return append(buf, "-Inf"...)
	}
	return strconv.AppendFloat(buf, v, 'g', -1, 64)
}

// matrixCollector is a collector that builds its per-CPU families as
// matrices; Update sends them, WriteText takes them.
type matrixCollector interface {
	Collector
	// updateMatrices sends the collector's other metrics to ch and returns
	// its matrices.
	updateMatrices(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) ([]*cpuMatrix, error)
}

// sendMatrices is Update for a matrixCollector.
func sendMatrices(c matrixCollector, snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	ms, err := c.updateMatrices(snap, ch)
	for _, m := range ms {
		m.send(ch)
	}
	return err
}
