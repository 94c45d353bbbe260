package collector

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/netirq/netirq_exporter/internal/hostgen"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// textHosts are the fixture hosts and a generated 64-CPU one, in default
// and dense mode.
func textHosts(t *testing.T) map[string]Config {
	t.Helper()
	gen := filepath.Join(t.TempDir(), "host64")
	if err := hostgen.Generate(gen, hostgen.Standard(64, 2, 64, 1)); err != nil {
		t.Fatal(err)
	}
	hosts := map[string]Config{}
	for _, root := range []string{"../testdata/hosts/bigiron-8cpu", "../testdata/hosts/fc-2cpu", gen} {
		for _, dense := range []bool{false, true} {
			cfg := hostConfig(root)
			cfg.Interrupts.All = dense
			cfg.SoftirqsAll = dense // every vector: more rows
			name := filepath.Base(root)
			if dense {
				name += "-dense"
			}
			hosts[name] = cfg
		}
	}
	return hosts
}

// durationLine matches the sample lines of the collector timings, which
// differ from one run over a snapshot to the next.
var durationLine = regexp.MustCompile(`(?m)^netirq_scrape_collector_duration_seconds\{.*\n`)

// TestTextEqualsRegistry checks that WriteText writes what the registry
// and expfmt write for the same snapshot: byte for byte apart from the
// collector timings, and family by family once parsed.
func TestTextEqualsRegistry(t *testing.T) {
	for name, cfg := range textHosts(t) {
		t.Run(name, func(t *testing.T) {
			e := newTestExporter(t, cfg)
			snap := e.source.Snapshot()

			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(snapCollector{e, snap, nil})
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			want := []byte(exposition(t, mfs, nil))

			var got bytes.Buffer
			if err := e.writeText(&got, snap, nil); err != nil {
				t.Fatal(err)
			}
			for _, family := range []string{irqInterruptsName, cpuSecondsName, softirqsName, archInterruptsName,
				namespace + "_softnet_processed_packets_total"} {
				if !bytes.Contains(got.Bytes(), []byte("\n"+family+`{cpu="0"`)) {
					t.Fatalf("no %s series of CPU 0 in the output", family)
				}
			}
			g, w := durationLine.ReplaceAll(got.Bytes(), nil), durationLine.ReplaceAll(want, nil)
			if !bytes.Equal(g, w) {
				t.Errorf("text differs from the registry's: %d vs %d bytes", len(g), len(w))
			}

			// Parsed: every family, sample, label, value, HELP and TYPE,
			// re-encoded one family at a time.
			parse := func(b []byte) map[string]string {
				p := expfmt.NewTextParser(model.UTF8Validation)
				mfs, err := p.TextToMetricFamilies(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				out := map[string]string{}
				for name, mf := range mfs {
					var buf bytes.Buffer
					if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
						t.Fatal(err)
					}
					out[name] = buf.String()
				}
				return out
			}
			pw, pg := parse(w), parse(g)
			if len(pw) != len(pg) {
				t.Errorf("%d families from the registry, %d direct", len(pw), len(pg))
			}
			for name, text := range pw {
				if pg[name] != text {
					t.Errorf("family %s differs", name)
				}
			}
			if n := len(pg[irqInterruptsName]); n == 0 {
				t.Error("no " + irqInterruptsName + " family parsed")
			}
		})
	}
}

// TestTextPromtool runs `promtool check metrics` over the direct output.
func TestTextPromtool(t *testing.T) {
	promtool := testutil.NeedTool(t, "promtool", "prometheus")
	for name, cfg := range textHosts(t) {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := newTestExporter(t, cfg).WriteText(&buf, prometheus.DefaultGatherer); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = &buf
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("promtool check metrics: %v\n%s", err, out)
			}
		})
	}
}

// TestTextCollectorFailure: a collector that fails still shows as
// netirq_scrape_collector_success 0, the others and their per-CPU families
// as usual.
func TestTextCollectorFailure(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("../testdata/hosts/bigiron-8cpu")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "proc", "softirqs")); err != nil {
		t.Fatal(err)
	}
	for _, dense := range []bool{false, true} {
		cfg := hostConfig(root)
		cfg.Interrupts.All = dense
		var buf bytes.Buffer
		if err := newTestExporter(t, cfg).WriteText(&buf, nil); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"\nnetirq_scrape_collector_success{collector=\"softirqs\"} 0\n",
			"\nnetirq_scrape_collector_success{collector=\"interrupts\"} 1\n",
			"\nnetirq_scrape_collector_success{collector=\"cputime\"} 1\n",
			"\n" + irqInterruptsName + `{cpu="0",`,
			"\n" + cpuSecondsName + `{cpu="0",mode="idle"} `,
		} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("dense %v: no %q in the output", dense, want)
			}
		}
		if strings.Contains(buf.String(), softirqsName) {
			t.Errorf("dense %v: %s without /proc/softirqs", dense, softirqsName)
		}
	}
}

// TestGatherWithEqualsGatherers: gatherWith returns what
// prometheus.Gatherers does, families and errors, whether it merges the
// two lists itself or leaves them to Gatherers (a family in both, a
// _count, _sum or _bucket of one in the other, a list out of order, an
// error).
func TestGatherWithEqualsGatherers(t *testing.T) {
	e := newTestExporter(t, hostConfig("../testdata/hosts/bigiron-8cpu"))
	ours := prometheus.NewRegistry()
	ours.MustRegister(snapCollector{e, e.source.Snapshot(), nil})
	self := prometheus.NewRegistry()
	self.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector(namespace))
	oursMFs, err := ours.Gather()
	if err != nil {
		t.Fatal(err)
	}
	selfMFs, err := self.Gather()
	if err != nil {
		t.Fatal(err)
	}
	family := func(name string, typ dto.MetricType) *dto.MetricFamily {
		m := &dto.Metric{Gauge: &dto.Gauge{Value: new(1.0)}}
		if typ == dto.MetricType_SUMMARY {
			m = &dto.Metric{Summary: &dto.Summary{SampleCount: new(uint64(1)), SampleSum: new(1.0)}}
		}
		return &dto.MetricFamily{Name: new(name), Help: new("h"), Type: typ.Enum(), Metric: []*dto.Metric{m}}
	}
	with := func(mfs []*dto.MetricFamily, extra ...*dto.MetricFamily) []*dto.MetricFamily {
		out := append(slices.Clone(mfs), extra...)
		slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
		return out
	}
	reversed := slices.Clone(selfMFs)
	slices.Reverse(reversed)
	if _, merged := mergeFamilies(oursMFs, selfMFs); !merged {
		t.Error("the exporter's families and the self metrics not merged: gatherWith leaves them to Gatherers")
	}
	for _, tc := range []struct {
		name        string
		ours, other prometheus.Gatherer
	}{
		{"self metrics", gathered(oursMFs, nil), gathered(selfMFs, nil)},
		{"no others", gathered(oursMFs, nil), nil},
		{"a family in both", gathered(oursMFs, nil), gathered(with(selfMFs, oursMFs[0]), nil)},
		{"a _count of a summary", gathered(with(oursMFs, family("go_gc_duration_seconds_count", dto.MetricType_GAUGE)), nil),
			gathered(selfMFs, nil)},
		{"a summary of a _sum", gathered(with(oursMFs, family("x_sum", dto.MetricType_GAUGE)), nil),
			gathered(with(selfMFs, family("x", dto.MetricType_SUMMARY)), nil)},
		{"out of order", gathered(oursMFs, nil), gathered(reversed, nil)},
		{"an error", gathered(oursMFs, errors.New("ours failed")), gathered(selfMFs, nil)},
		{"an error of others", gathered(oursMFs, nil), gathered(selfMFs, errors.New("others failed"))},
		{"an error, no others", gathered(oursMFs, errors.New("ours failed")), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gs := prometheus.Gatherers{tc.ours}
			if tc.other != nil {
				gs = append(gs, tc.other)
			}
			wantMFs, wantErr := gs.Gather()
			gotMFs, gotErr := gatherWith(tc.ours, tc.other)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("error %v, Gatherers: %v", gotErr, wantErr)
			}
			if got, want := exposition(t, gotMFs, nil), exposition(t, wantMFs, nil); got != want {
				t.Errorf("%d bytes of text, Gatherers: %d", len(got), len(want))
			}
		})
	}
}
