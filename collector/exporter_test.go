package collector

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/testutil"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

var update = flag.Bool("update", false, "rewrite the golden /metrics files under testdata/golden")

// volatile metrics change from run to run and are left out of golden files.
var volatile = []string{
	"netirq_scrape_collector_duration_seconds",
	"netirq_scrape_source_duration_seconds",
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func hostConfig(root string) Config {
	cfg := DefaultConfig()
	cfg.ProcPath = filepath.Join(root, "proc")
	cfg.SysPath = filepath.Join(root, "sys")
	return cfg
}

func newTestExporter(t testing.TB, cfg Config) *Exporter {
	t.Helper()
	e, err := NewExporter(cfg, quietLogger())
	if err != nil {
		t.Fatalf("NewExporter: %v", err)
	}
	return e
}

// gather scrapes e through a pedantic registry, as promhttp would.
func gather(t testing.TB, e *Exporter) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	return mfs
}

func exposition(t testing.TB, mfs []*dto.MetricFamily, skip []string) string {
	t.Helper()
	var buf bytes.Buffer
	for _, mf := range mfs {
		if slices.Contains(skip, mf.GetName()) {
			continue
		}
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

// find returns the samples of metric whose labels include want.
func find(mfs []*dto.MetricFamily, metric string, want map[string]string) []*dto.Metric {
	var out []*dto.Metric
	for _, mf := range mfs {
		if mf.GetName() != metric {
			continue
		}
	next:
		for _, m := range mf.Metric {
			for k, v := range want {
				found := false
				for _, lp := range m.Label {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			out = append(out, m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return m.Untyped.GetValue()
}

// successes maps collector → netirq_scrape_collector_success.
func successes(mfs []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, m := range find(mfs, "netirq_scrape_collector_success", nil) {
		out[m.Label[0].GetValue()] = value(m)
	}
	return out
}

func seriesCount(mfs []*dto.MetricFamily) int {
	n := 0
	for _, mf := range mfs {
		n += len(mf.Metric)
	}
	return n
}

// TestGolden turns each fixture host tree into exactly the /metrics text in
// testdata/golden (go test ./collector -run Golden -update rewrites them).
func TestGolden(t *testing.T) {
	hosts, _ := filepath.Glob("../testdata/hosts/*")
	if len(hosts) < 2 {
		t.Fatalf("want at least 2 fixture hosts under testdata/hosts, found %v", hosts)
	}
	for _, host := range hosts {
		name := filepath.Base(host)
		t.Run(name, func(t *testing.T) {
			e := newTestExporter(t, hostConfig(host))
			mfs := gather(t, e)
			for c, ok := range successes(mfs) {
				if ok != 1 {
					t.Errorf("collector %s failed on fixture %s", c, name)
				}
			}
			got := exposition(t, mfs, volatile)
			golden := filepath.Join("../testdata/golden", name+".metrics")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("/metrics differs from %s (rerun with -update after checking):\n%s", golden, lineDiff(string(want), got))
			}
			t.Logf("%s: %d series", name, seriesCount(mfs))
		})
	}
}

// lineDiff lists the lines only in want (-) or only in got (+), at most 40.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for _, l := range w {
		if !slices.Contains(g, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			out = append(out, "+ "+l)
		}
	}
	if len(out) > 40 {
		out = append(out[:40], "…")
	}
	return strings.Join(out, "\n")
}

// TestPromtoolCheckMetrics runs the real `promtool check metrics` linter
// over the whole output, volatile metrics included, for every fixture host
// and for this machine.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := testutil.NeedTool(t, "promtool", "prometheus")
	hosts, _ := filepath.Glob("../testdata/hosts/*")
	roots := map[string]Config{"this-machine": DefaultConfig()}
	for _, h := range hosts {
		roots[filepath.Base(h)] = hostConfig(h)
	}
	for name, cfg := range roots {
		t.Run(name, func(t *testing.T) {
			cfg.Interrupts.All = true // the dense mode too: every metric family appears
			text := exposition(t, gather(t, newTestExporter(t, cfg)), nil)
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = strings.NewReader(text)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("promtool check metrics: %v\n%s", err, out)
			}
		})
	}
}
