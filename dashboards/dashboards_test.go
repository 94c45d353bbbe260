package dashboards

// The lint test for the Grafana dashboards in this directory. What it checks,
// and where the metric names come from, is written next to each check.
//
// Grid layout: a collapsed row stores its panels inside the row ("panels")
// with the positions they get when the row is expanded. Grafana then moves
// every panel below the row down to make room, so those panels can never
// collide with top-level panels: they are checked against each other only
// (and must sit below their row). Everything else, rows included, is one
// layout that must not overlap.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

const (
	readmePath = "../README.md"
	rulesGlob  = "../alerts/*.yml"
)

// fallbackRecorded is used only when no alerts/*.yml exists: the recording
// rules agreed on for issue 3. Once the rule files exist they are the only
// source, and a dashboard using a recording rule they lack fails.
var fallbackRecorded = []string{
	"instance_cpu:netirq_softirq_utilisation:rate1m",
	"instance_cpu:netirq_irq_utilisation:rate1m",
	"instance_cpu:netirq_irq_softirq_utilisation:rate1m",
	"instance_cpu:netirq_net_rx_softirqs:rate1m",
	"instance_cpu:netirq_net_tx_softirqs:rate1m",
	"instance_cpu:netirq_softnet_processed_packets:rate1m",
	"instance_cpu:netirq_softnet_dropped_packets:rate1m",
	"instance_cpu:netirq_softnet_times_squeezed:rate1m",
	"instance_cpu:netirq_softnet_received_rps:rate1m",
	"instance_device_queue:netirq_irq_interrupts:rate1m",
	"instance_cpu:netirq_nic_irq_interrupts:rate1m",
	"instance:netirq_softnet_processed_busiest_cpu_share:ratio",
	"instance:netirq_busiest_cpu_irq_softirq_utilisation:max",
	"instance:netirq_irq_softirq_utilisation:avg",
	"instance_device:netirq_rx_queue_imbalance:ratio",
	"instance:netirq_softirq_seconds_per_packet:ratio",
	"instance:netirq_softnet_dropped_packets:rate1m",
	"instance:netirq_softnet_processed_packets:rate1m",
}

// prometheusSeries are made by Prometheus itself.
var prometheusSeries = []string{"ALERTS", "ALERTS_FOR_STATE", "up"}

// rateInterval stands in for $__rate_interval in the convention checks, so
// a rate() over any other range (a literal [5m], $__interval) is caught.
const rateInterval = 3*time.Minute + 17*time.Second

// exportedMetrics reads the metric names from the README's "## Metrics"
// table: every backquoted name in the first cell of a row ("`a`, `b`" rows
// name several). The README is the one documented list of what the
// exporter exports, so a metric renamed there must be renamed here too.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(readmePath)
	if err != nil {
		t.Fatalf("metric names come from the README: %v", err)
	}
	defer f.Close()
	names := map[string]bool{}
	name := regexp.MustCompile("`([a-zA-Z_:][a-zA-Z0-9_:]*)`")
	in := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Metrics"
			continue
		}
		if !in || !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			if strings.HasPrefix(m[1], "netirq_") {
				names[m[1]] = true
			}
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) < 20 {
		t.Fatalf("found only %d metric names in the Metrics table of %s; has its format changed?", len(names), readmePath)
	}
	return names
}

// recordedMetrics returns the record: names of the rule files in alerts/,
// and whether they exist (else the fallback list).
func recordedMetrics(t *testing.T) (map[string]bool, bool) {
	t.Helper()
	files, err := filepath.Glob(rulesGlob)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	if len(files) == 0 {
		t.Logf("no %s yet: using the agreed list of recording rules", rulesGlob)
		for _, n := range fallbackRecorded {
			names[n] = true
		}
		return names, false
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var rf struct {
			Groups []struct {
				Rules []struct {
					Record string `yaml:"record"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(b, &rf); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					names[r.Record] = true
				}
			}
		}
	}
	return names, true
}

// catalog is every metric name a dashboard may use.
type catalog struct {
	exported  map[string]bool // README Metrics table
	recorded  map[string]bool // alerts/*.yml record: names, or fallbackRecorded
	haveRules bool            // recorded comes from alerts/*.yml
}

// check returns why name is unknown, or nil.
func (c catalog) check(name string) error {
	switch {
	case c.exported[name] || c.recorded[name] || slices.Contains(prometheusSeries, name):
		return nil
	case strings.Contains(name, ":") && c.haveRules:
		return fmt.Errorf("%s is not recorded by any rule in %s", name, rulesGlob)
	case strings.Contains(name, ":"):
		return fmt.Errorf("%s is not one of the agreed recording rules", name)
	default:
		return fmt.Errorf("%s is not in the Metrics table of %s", name, readmePath)
	}
}

// matchesAny reports whether a __name__ matcher matches a known name.
func (c catalog) matchesAny(m *labels.Matcher) bool {
	for _, set := range []map[string]bool{c.exported, c.recorded} {
		for n := range set {
			if m.Matches(n) {
				return true
			}
		}
	}
	return slices.ContainsFunc(prometheusSeries, m.Matches)
}

func TestDashboards(t *testing.T) {
	ds, err := Load(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) == 0 {
		t.Fatal("no dashboards (*.json) found")
	}
	var known catalog
	known.exported = exportedMetrics(t)
	known.recorded, known.haveRules = recordedMetrics(t)

	uids := map[string]string{}
	for _, d := range ds {
		if d.UID == "" {
			t.Errorf("%s: no uid", d.File)
		} else if other, ok := uids[d.UID]; ok {
			t.Errorf("%s: uid %q already used by %s", d.File, d.UID, other)
		}
		uids[d.UID] = d.File
	}

	for _, d := range ds {
		t.Run(d.File, func(t *testing.T) {
			checkDashboard(t, d)
			checkLayout(t, d)
			checkVariables(t, d, known)
			checkQueries(t, d, known)
			checkLinks(t, d, uids)
		})
	}
}

func checkDashboard(t *testing.T, d *Dashboard) {
	if d.Title == "" {
		t.Errorf("%s: no title", d.File)
	}
	if d.ID != nil {
		t.Errorf("%s: id is %d, want null (Grafana assigns it on import)", d.File, *d.ID)
	}
	if !slices.Contains(d.Tags, "netirq") {
		t.Errorf("%s: tags %q lack netirq", d.File, d.Tags)
	}
	ids := map[int]string{}
	for _, p := range d.AllPanels() {
		if p.Type == "" {
			t.Errorf("%s: panel %q (id %d) has no type", d.File, p.Title, p.ID)
		}
		if p.Title == "" {
			t.Errorf("%s: panel id %d (%s) has no title", d.File, p.ID, p.Type)
		}
		if p.ID <= 0 {
			t.Errorf("%s: panel %q has no id", d.File, p.Title)
		} else if other, ok := ids[p.ID]; ok {
			t.Errorf("%s: panels %q and %q share id %d", d.File, other, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.Type == "row" {
			if len(p.Targets) != 0 {
				t.Errorf("%s: row %q has queries", d.File, p.Title)
			}
			continue
		}
		if len(p.Panels) != 0 {
			t.Errorf("%s: panel %q is not a row but holds panels", d.File, p.Title)
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("%s: panel %q: datasource uid must be ${datasource}, got %+v", d.File, p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 && p.Type != "text" {
			t.Errorf("%s: panel %q has no queries", d.File, p.Title)
		}
	}
}

type rect struct {
	title      string
	x, y, w, h int
}

func (a rect) overlaps(b rect) bool {
	return a.x < b.x+b.w && b.x < a.x+a.w && a.y < b.y+b.h && b.y < a.y+a.h
}

func checkLayout(t *testing.T, d *Dashboard) {
	place := func(p Panel) (rect, bool) {
		g := p.GridPos
		if g == nil {
			t.Errorf("%s: panel %q has no gridPos", d.File, p.Title)
			return rect{}, false
		}
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			t.Errorf("%s: panel %q: gridPos %+v outside the 24-column grid", d.File, p.Title, *g)
			return rect{}, false
		}
		return rect{p.Title, g.X, g.Y, g.W, g.H}, true
	}
	noOverlap := func(rs []rect, where string) {
		for i := range rs {
			for j := i + 1; j < len(rs); j++ {
				if rs[i].overlaps(rs[j]) {
					t.Errorf("%s: %spanels %q %v and %q %v overlap", d.File, where, rs[i].title, rs[i], rs[j].title, rs[j])
				}
			}
		}
	}
	var top []rect
	for _, p := range d.Panels {
		r, ok := place(p)
		if !ok {
			continue
		}
		top = append(top, r)
		if p.Type != "row" {
			continue
		}
		if r.w != 24 {
			t.Errorf("%s: row %q is %d wide, want 24", d.File, p.Title, r.w)
		}
		if !p.Collapsed && len(p.Panels) != 0 {
			t.Errorf("%s: row %q is expanded but holds panels (they would not show)", d.File, p.Title)
		}
		var nested []rect
		for _, c := range p.Panels {
			if cr, ok := place(c); ok {
				if cr.y <= r.y {
					t.Errorf("%s: panel %q of collapsed row %q is not below the row", d.File, c.Title, p.Title)
				}
				nested = append(nested, cr)
			}
		}
		noOverlap(nested, fmt.Sprintf("in collapsed row %q: ", p.Title))
	}
	noOverlap(top, "")
}

// variableQuery matches the query variables the dashboards use.
var variableQuery = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

func checkVariables(t *testing.T, d *Dashboard, known catalog) {
	vars := map[string]Variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if v, ok := vars["datasource"]; !ok || v.Type != "datasource" || v.QueryString() != "prometheus" {
		t.Errorf("%s: want a datasource variable \"datasource\" of type prometheus, got %+v", d.File, v)
	}
	for _, name := range []string{"job", "instance"} {
		if v, ok := vars[name]; !ok || v.Type != "query" {
			t.Errorf("%s: want a query variable %q", d.File, name)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		if v.Datasource == nil || v.Datasource.UID != "${datasource}" {
			t.Errorf("%s: variable %s: datasource uid must be ${datasource}", d.File, v.Name)
		}
		q := v.QueryString()
		m := variableQuery.FindStringSubmatch(q)
		if m == nil {
			t.Errorf("%s: variable %s: query %q is not label_values(selector, label)", d.File, v.Name, q)
			continue
		}
		if m[2] != v.Name {
			t.Errorf("%s: variable %s: query %q takes values of label %s", d.File, v.Name, q, m[2])
		}
		ms, err := parser.ParseMetricSelector(Substitute(m[1], d.Vars()))
		if err != nil {
			t.Errorf("%s: variable %s: query %q: %v", d.File, v.Name, q, err)
			continue
		}
		for _, mt := range ms {
			if mt.Name != labels.MetricName {
				continue
			}
			names := []string{mt.Value}
			if mt.Type == labels.MatchRegexp {
				names = strings.Split(mt.Value, "|") // a plain alternation of names
			}
			for _, name := range names {
				if err := known.check(name); err != nil {
					t.Errorf("%s: variable %s: query %q: %v", d.File, v.Name, q, err)
				}
			}
		}
		if v.Name == "instance" && !strings.Contains(m[1], "$job") {
			t.Errorf("%s: variable instance: query %q does not depend on $job", d.File, q)
		}
	}
}

// jobInstance are the matchers every selector must carry.
var jobInstance = map[string]*regexp.Regexp{
	"job":      regexp.MustCompile(`^\$(job|\{job(:\w+)?\})$`),
	"instance": regexp.MustCompile(`^\$(instance|\{instance(:\w+)?\})$`),
}

func checkQueries(t *testing.T, d *Dashboard, known catalog) {
	// Convention checks parse the query with only the built-in variables
	// replaced: $job stays in its matcher's value, where it can be seen.
	lintVars := map[string]string{}
	for k, v := range Builtins {
		lintVars[k] = v
	}
	lintVars["__rate_interval"] = rateInterval.String()
	queryVars := d.Vars()

	for _, p := range d.AllPanels() {
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			fail := func(format string, args ...any) {
				t.Helper()
				t.Errorf("%s: panel %q: expr %q: %s", d.File, p.Title, tg.Expr, fmt.Sprintf(format, args...))
			}
			if tg.RefID == "" || refs[tg.RefID] {
				fail("refId %q empty or not unique in the panel", tg.RefID)
			}
			refs[tg.RefID] = true
			if tg.Datasource != nil && tg.Datasource.UID != "${datasource}" {
				fail("target datasource uid must be ${datasource}, got %q", tg.Datasource.UID)
			}
			if strings.TrimSpace(tg.Expr) == "" {
				fail("empty expr")
				continue
			}
			// What Queries hands to a real Prometheus must parse.
			if _, err := parser.ParseExpr(Substitute(tg.Expr, queryVars)); err != nil {
				fail("does not parse with the variables substituted: %v", err)
				continue
			}
			expr, err := parser.ParseExpr(Substitute(tg.Expr, lintVars))
			if err != nil {
				fail("does not parse with only the built-in variables substituted (dashboard variables belong in matcher values): %v", err)
				continue
			}
			parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
				switch n := node.(type) {
				case *parser.VectorSelector:
					checkSelector(n, known, fail)
				case *parser.Call:
					checkRate(n, fail)
				}
				return nil
			})
		}
	}
}

// checkSelector checks that the selector's metric names are known (by name
// or by __name__ matchers: a regex one must match a known name) and that it
// is limited to the dashboard's job and instance (=~"$job", =~"$instance"),
// or explicitly to series without them (job="", instance="").
func checkSelector(n *parser.VectorSelector, known catalog, fail func(string, ...any)) {
	seen := map[string]bool{}
	for _, m := range n.LabelMatchers {
		switch {
		case m.Name == labels.MetricName && m.Type == labels.MatchEqual:
			if err := known.check(m.Value); err != nil {
				fail("%v", err)
			}
		case m.Name == labels.MetricName:
			if !known.matchesAny(m) {
				fail("__name__%s%q matches no known metric", m.Type, m.Value)
			}
		case jobInstance[m.Name] != nil:
			// label="" deliberately selects series without the label,
			// such as alerts about no single host.
			noLabel := m.Type == labels.MatchEqual && m.Value == ""
			if !noLabel && (m.Type != labels.MatchRegexp || !jobInstance[m.Name].MatchString(m.Value)) {
				fail("selector %s: want %s=~\"$%s\" (the variable can be multi-valued) or %s=\"\", got %s", n, m.Name, m.Name, m.Name, m)
			}
			seen[m.Name] = true
		}
	}
	for _, l := range []string{"job", "instance"} {
		if !seen[l] {
			fail("selector %s lacks %s=~\"$%s\"", n, l, l)
		}
	}
}

// checkRate checks that rate(), irate() and increase() run over
// $__rate_interval and over a counter: recorded series are rates already.
func checkRate(n *parser.Call, fail func(string, ...any)) {
	switch n.Func.Name {
	case "rate", "irate", "increase":
	default:
		return
	}
	ms, ok := n.Args[0].(*parser.MatrixSelector)
	if !ok {
		fail("%s() over %s, want a range selector over [$__rate_interval]", n.Func.Name, n.Args[0])
		return
	}
	if ms.Range != rateInterval {
		fail("%s() over [%s], want [$__rate_interval]", n.Func.Name, ms.Range)
	}
	if vs, ok := ms.VectorSelector.(*parser.VectorSelector); ok && !strings.HasSuffix(vs.Name, "_total") {
		fail("%s() of %q, which is not a counter (recorded series are rates already)", n.Func.Name, vs.Name)
	}
}

// dashboardURL matches a link to a dashboard by uid.
var dashboardURL = regexp.MustCompile(`/d/([A-Za-z0-9_-]+)`)

// checkLinks checks that every /d/<uid> in the dashboard (header links and
// data links alike) points at one of the dashboards here, and that the
// header links reach the other dashboards.
func checkLinks(t *testing.T, d *Dashboard, uids map[string]string) {
	b, err := os.ReadFile(d.File)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range dashboardURL.FindAllStringSubmatch(string(b), -1) {
		if _, ok := uids[m[1]]; !ok {
			t.Errorf("%s: link to dashboard uid %q, which is none of the dashboards here", d.File, m[1])
		}
	}
	byTag := false
	linked := map[string]bool{}
	for _, l := range d.Links {
		if l.Type == "dashboards" && slices.Contains(l.Tags, "netirq") {
			byTag = true
		}
		for _, m := range dashboardURL.FindAllStringSubmatch(l.URL, -1) {
			linked[m[1]] = true
		}
	}
	if byTag {
		return
	}
	for uid, file := range uids {
		if uid != d.UID && !linked[uid] {
			t.Errorf("%s: no link to %s (uid %s)", d.File, file, uid)
		}
	}
}

// TestQueries checks what Queries returns: every target, no variable left.
func TestQueries(t *testing.T) {
	qs, err := Queries(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) == 0 {
		t.Fatal("no queries")
	}
	for _, q := range qs {
		if grafanaVar.MatchString(q.Expr) {
			t.Errorf("%s: panel %q: expr %q: variable left after substitution", q.Dashboard, q.Panel, q.Expr)
		}
		if _, err := parser.ParseExpr(q.Expr); err != nil {
			t.Errorf("%s: panel %q: expr %q: %v", q.Dashboard, q.Panel, q.Expr, err)
		}
	}
}

func TestSubstitute(t *testing.T) {
	vars := map[string]string{"__rate_interval": "1m", "job": ".+", "instance": "host:10467"}
	for in, want := range map[string]string{
		`rate(x{job=~"$job"}[$__rate_interval])`:                `rate(x{job=~".+"}[1m])`,
		`x{instance=~"${instance}", job=~"${job:regex}"}`:       `x{instance=~"host:10467", job=~".+"}`,
		`x{instance=~"[[instance]]"}`:                           `x{instance=~"host:10467"}`,
		`label_replace(x, "a", "$1", "b", "(.*)")`:              `label_replace(x, "a", "$1", "b", "(.*)")`,
		`x{device=~"$device"}`:                                  `x{device=~"$device"}`,
		`rate(x[$__rate_interval]) / rate(y[$__rate_interval])`: `rate(x[1m]) / rate(y[1m])`,
	} {
		if got := Substitute(in, vars); got != want {
			t.Errorf("Substitute(%q) = %q, want %q", in, got, want)
		}
	}
}
