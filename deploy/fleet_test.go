package deploy

// Tests of the fleet configuration blocks in README.md ("Fleet"): the
// federation scrape config and the remote-write filter must be valid
// Prometheus configuration, let through every series the fleet dashboard
// queries and every per-host recorded series, and keep the raw per-CPU
// counters in the cluster. (Running a real federation is another test's.)

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const (
	fleetDashboard = repoRoot + "/dashboards/netirq-fleet.json"
	promtoolHint   = "install the Debian package prometheus (make deps does, as root)"
)

// readmeBlock returns the fenced code block that follows the marker
// <!-- deploy test: NAME --> in README.md.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "<!-- deploy test: "+name+" -->\n")
	if !ok {
		t.Fatalf("README.md has no <!-- deploy test: %s --> marker", name)
	}
	m := regexp.MustCompile("(?s)^```yaml\n(.*?)\n```").FindStringSubmatch(after)
	if m == nil {
		t.Fatalf("README.md: no ```yaml block right after the %s marker", name)
	}
	return m[1] + "\n"
}

type labelMatcher struct {
	name, op string
	re       *regexp.Regexp
	value    string
}

// parseSelector reads a series selector of the forms name, name{...} and
// {...}, with =, !=, =~ and !~ matchers on double-quoted values (enough for
// the README's; promtool checks the real syntax).
func parseSelector(t *testing.T, sel string) []labelMatcher {
	t.Helper()
	m := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)?(?:\{(.*)\})?$`).FindStringSubmatch(strings.TrimSpace(sel))
	if m == nil {
		t.Fatalf("selector %q not understood", sel)
	}
	var ms []labelMatcher
	if m[1] != "" {
		ms = append(ms, labelMatcher{name: "__name__", op: "=", value: m[1]})
	}
	matcher := regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"\s*$`)
	for part := range strings.SplitSeq(m[2], ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		mm := matcher.FindStringSubmatch(part)
		if mm == nil {
			t.Fatalf("selector %q: matcher %q not understood", sel, part)
		}
		lm := labelMatcher{name: mm[1], op: mm[2], value: mm[3]}
		if strings.Contains(lm.op, "~") {
			lm.re = regexp.MustCompile("^(?:" + lm.value + ")$")
		}
		ms = append(ms, lm)
	}
	return ms
}

func matches(ms []labelMatcher, series map[string]string) bool {
	for _, m := range ms {
		v := series[m.name]
		ok := false
		switch m.op {
		case "=":
			ok = v == m.value
		case "!=":
			ok = v != m.value
		case "=~":
			ok = m.re.MatchString(v)
		case "!~":
			ok = !m.re.MatchString(v)
		}
		if !ok {
			return false
		}
	}
	return true
}

// fleetDashboardSeries returns the metric names the fleet dashboard
// queries (panels and template variables).
func fleetDashboardSeries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(fleetDashboard)
	if err != nil {
		t.Fatal(err)
	}
	var d any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	quoted := regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	ident := regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	names := map[string]bool{}
	var walk func(any, string)
	walk = func(v any, key string) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				walk(c, k)
			}
		case []any:
			for _, c := range v {
				walk(c, key)
			}
		case string:
			if key == "expr" || key == "query" || key == "definition" {
				for _, n := range ident.FindAllString(quoted.ReplaceAllString(v, `""`), -1) {
					if n == "ALERTS" || n == "up" || strings.Contains(n, "netirq") {
						names[n] = true
					}
				}
			}
		}
	}
	walk(d, "")
	var list []string
	for n := range names {
		list = append(list, n)
	}
	slices.Sort(list)
	if len(list) < 5 {
		t.Fatalf("found only %q in %s", list, fleetDashboard)
	}
	return list
}

// recordedNames returns the record: names of alerts/*.yml.
func recordedNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, f := range ruleFilesFromMakefile(t) {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^\s*- record:\s*(\S+)`).FindAllStringSubmatch(string(b), -1) {
			names = append(names, m[1])
		}
	}
	return names
}

// rawPerCPU are exporter metrics with a cpu label, from the README's metric
// table: they must stay in the cluster.
func rawPerCPU(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(netirq_[a-z_]+)`[^|]*\\|[^|]*\\|([^|]*)\\|").FindAllStringSubmatch(string(b), -1) {
		if strings.Contains(m[2], "cpu") && m[1] != "netirq_cpu_info" {
			names = append(names, m[1])
		}
	}
	if len(names) < 5 {
		t.Fatalf("found only %q per-CPU metrics in README.md's table", names)
	}
	return names
}

// fleetSeries is one series of each name, labelled as a cluster Prometheus
// has it (job "netirq", alerts named NetIRQ...).
func fleetSeries(name string) map[string]string {
	s := map[string]string{"__name__": name, "job": jobName, "instance": "node-a"}
	if name == "ALERTS" {
		s["alertname"] = "NetIRQCPUSaturated"
	}
	return s
}

// checkFleetFilter checks a filter (keep) against the dashboard's series,
// the recorded series and the raw per-CPU series.
func checkFleetFilter(t *testing.T, what string, keep func(map[string]string) bool) {
	t.Helper()
	dash := fleetDashboardSeries(t)
	for _, n := range dash {
		if !keep(fleetSeries(n)) {
			t.Errorf("%s drops %s, which %s queries", what, n, filepath.Base(fleetDashboard))
		}
	}
	for _, n := range recordedNames(t) {
		level, _, _ := strings.Cut(n, ":")
		perHost := level == "netirq" || level == "instance" || level == "instance_device"
		if got := keep(fleetSeries(n)); perHost && !got {
			t.Errorf("%s drops the per-host recorded series %s", what, n)
		} else if !perHost && got && !slices.Contains(dash, n) {
			t.Errorf("%s keeps the %s-level series %s, which the fleet dashboard does not use", what, level, n)
		}
	}
	for _, n := range rawPerCPU(t) {
		if keep(fleetSeries(n)) {
			t.Errorf("%s keeps the raw per-CPU series %s", what, n)
		}
	}
	if keep(map[string]string{"__name__": "up", "job": "node"}) || keep(map[string]string{"__name__": "ALERTS", "alertname": "NodeDown", "job": jobName}) {
		t.Errorf("%s keeps other jobs' up or other alerts", what)
	}
	t.Logf("%s keeps the fleet dashboard's %d series names: %s", what, len(dash), strings.Join(dash, " "))
}

func TestFleetFederation(t *testing.T) {
	block := readmeBlock(t, "federate")
	var cfg struct {
		ScrapeConfigs []struct {
			HonorLabels bool                `json:"honor_labels"`
			MetricsPath string              `json:"metrics_path"`
			Params      map[string][]string `json:"params"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(block), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.ScrapeConfigs) != 1 {
		t.Fatalf("want one scrape config, got %d", len(cfg.ScrapeConfigs))
	}
	sc := cfg.ScrapeConfigs[0]
	if !sc.HonorLabels || sc.MetricsPath != "/federate" {
		t.Errorf("federation needs honor_labels: true and metrics_path: /federate")
	}
	var selectors [][]labelMatcher
	for _, s := range sc.Params["match[]"] {
		selectors = append(selectors, parseSelector(t, s))
	}
	if len(selectors) == 0 {
		t.Fatal("no match[] selectors")
	}
	checkFleetFilter(t, "the federation match[]", func(s map[string]string) bool {
		return slices.ContainsFunc(selectors, func(ms []labelMatcher) bool { return matches(ms, s) })
	})
}

func TestFleetRemoteWrite(t *testing.T) {
	block := readmeBlock(t, "remote-write")
	var cfg struct {
		RemoteWrite []struct {
			WriteRelabelConfigs []struct {
				SourceLabels []string `json:"source_labels"`
				Separator    string   `json:"separator"`
				Regex        string   `json:"regex"`
				Action       string   `json:"action"`
			} `json:"write_relabel_configs"`
		} `json:"remote_write"`
	}
	if err := yaml.Unmarshal([]byte(block), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.RemoteWrite) != 1 || len(cfg.RemoteWrite[0].WriteRelabelConfigs) != 1 {
		t.Fatalf("want one remote_write with one write_relabel_config")
	}
	rc := cfg.RemoteWrite[0].WriteRelabelConfigs[0]
	if rc.Action != "keep" {
		t.Fatalf("action %q, want keep", rc.Action)
	}
	sep := rc.Separator
	if sep == "" {
		sep = ";"
	}
	re := regexp.MustCompile("^(?:" + rc.Regex + ")$")
	checkFleetFilter(t, "the remote_write filter", func(s map[string]string) bool {
		var vals []string
		for _, l := range rc.SourceLabels {
			vals = append(vals, s[l])
		}
		return re.MatchString(strings.Join(vals, sep))
	})
}

// TestFleetBlocksArePrometheusConfig runs promtool check config on both
// blocks, joined into one configuration.
func TestFleetBlocksArePrometheusConfig(t *testing.T) {
	promtool := requireTool(t, "promtool", promtoolHint)
	cfg := "global:\n  external_labels: {cluster: a}\n" + readmeBlock(t, "federate") + readmeBlock(t, "remote-write")
	path := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "config", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool check config: %v\n%s\n--- config:\n%s", err, out, cfg)
	}
}
