package collector

import (
	"bufio"
	"bytes"
	"math"
	"testing"
	"unicode/utf8"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// oneMatrix is a prometheus.Collector that sends one matrix.
type oneMatrix struct{ m *cpuMatrix }

func (o oneMatrix) Describe(chan<- *prometheus.Desc)    {}
func (o oneMatrix) Collect(ch chan<- prometheus.Metric) { o.m.send(ch) }

// FuzzMatrixTextEqualsRegistry: whatever the label values (quotes,
// backslashes, newlines, any UTF-8), values (NaN, ±Inf, -0, huge) and
// kept cells, a matrix written as text is what a registry and expfmt write
// for the same matrix sent as metrics.
//
//	go test ./collector -run '^$' -fuzz '^FuzzMatrixTextEqualsRegistry$' -fuzztime 10m -parallel 1
func FuzzMatrixTextEqualsRegistry(f *testing.F) {
	f.Add("eth0", "eth1", uint8(3), uint64(7), math.Float64bits(12.5), math.Float64bits(1), uint64(0b1011), false)
	f.Add(`a"b\c`, "x\ny", uint8(12), uint64(3), math.Float64bits(math.NaN()), math.Float64bits(math.Inf(-1)), ^uint64(0), true)
	f.Add("", "é€", uint8(1), uint64(100), math.Float64bits(-1), math.Float64bits(0), uint64(1), false)
	f.Fuzz(func(t *testing.T, label1, label2 string, ncpu uint8, step uint64, v1, v2 uint64, keptBits uint64, gauge bool) {
		if !utf8.ValidString(label1) || !utf8.ValidString(label2) || label1 == label2 {
			t.Skip() // rows are valid UTF-8 and distinct by construction
		}
		n := int(ncpu%64) + 1
		cpus := make([]int, n)
		for i := range cpus {
			cpus[i] = i * int(step%97+1) // gaps: 0, 7, 14 ... sort as strings
		}
		values := func(seed uint64) []float64 {
			out := make([]float64, n)
			for i := range out {
				out[i] = math.Float64frombits(seed + uint64(i)*0x9e3779b97f4a7c15)
			}
			out[0] = math.Float64frombits(seed)
			return out
		}
		kept := &cpuset.CPUSet{}
		for i := range n {
			if keptBits&(1<<(i%64)) != 0 {
				kept.Add(i)
			}
		}
		desc := prometheus.NewDesc("netirq_fuzz_total", "Help with \\ and \n and \"quotes\".", []string{"name", "cpu"}, nil)
		m := &cpuMatrix{desc: desc, name: "netirq_fuzz_total", help: "Help with \\ and \n and \"quotes\".", gauge: gauge,
			cpus: newCPUColumns(cpus), rows: []matrixRow{
				{pairs: []*dto.LabelPair{labelPair(&labelName, label1)}, values: values(v1), kept: kept},
				{pairs: []*dto.LabelPair{labelPair(&labelName, label2)}, counts: []uint64{v2, v2 >> 1, v2 >> 7}},
			}}
		sortRows(m.rows)

		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(oneMatrix{m})
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatalf("registry: %v", err)
		}
		var want bytes.Buffer
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToText(&want, mf); err != nil {
				t.Fatal(err)
			}
		}
		var got bytes.Buffer
		bw := bufio.NewWriter(&got)
		var scratch []byte
		m.write(bw, &scratch)
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("text differs from the registry's:\n got %q\nwant %q", got.String(), want.String())
		}
	})
}
