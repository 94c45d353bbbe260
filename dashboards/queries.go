// Package dashboards holds the Grafana dashboards (*.json in this directory)
// and what the tests need to read them: Load parses the dashboard files,
// Queries lists every panel query with the Grafana variables substituted so
// that it can be run against a real Prometheus.
//
// This is its own Go module so that the PromQL parser the lint test uses
// (github.com/prometheus/prometheus) stays out of the exporter's
// dependencies.
package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

// Dashboard is the part of a Grafana dashboard JSON model the tests read.
type Dashboard struct {
	File       string   `json:"-"` // base name of the file it was read from
	ID         *int     `json:"id"`
	UID        string   `json:"uid"`
	Title      string   `json:"title"`
	Tags       []string `json:"tags"`
	Links      []Link   `json:"links"`
	Panels     []Panel  `json:"panels"`
	Templating struct {
		List []Variable `json:"list"`
	} `json:"templating"`
}

// Link is a dashboard link (the links in the dashboard's header).
type Link struct {
	Type  string   `json:"type"`
	Title string   `json:"title"`
	URL   string   `json:"url"`
	Tags  []string `json:"tags"`
}

// Panel is a panel, or a row with the panels it holds while collapsed.
type Panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Collapsed  bool           `json:"collapsed"`
	Repeat     string         `json:"repeat"`
	GridPos    *GridPos       `json:"gridPos"`
	Datasource *DatasourceRef `json:"datasource"`
	Targets    []Target       `json:"targets"`
	Panels     []Panel        `json:"panels"` // rows only: the panels of a collapsed row
}

// GridPos is a panel's place in Grafana's 24-column grid.
type GridPos struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// DatasourceRef points a panel or target at a data source.
type DatasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Target is one query of a panel.
type Target struct {
	RefID      string         `json:"refId"`
	Expr       string         `json:"expr"`
	Instant    bool           `json:"instant"`
	Range      bool           `json:"range"`
	Format     string         `json:"format"`
	Datasource *DatasourceRef `json:"datasource"`
}

// Variable is a templating variable. Query is a string for Prometheus
// query variables ("label_values(metric{...}, label)") and for datasource
// variables (the plugin id); newer Grafana versions may store an object
// whose "query" field holds the string.
type Variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	Datasource *DatasourceRef  `json:"datasource"`
}

// QueryString returns the variable's query as a string.
func (v Variable) QueryString() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(v.Query, &o) == nil && o.Query != "" {
		return o.Query
	}
	return v.Definition
}

// AllPanels returns the dashboard's panels in order, with the panels of
// collapsed rows right after their row.
func (d *Dashboard) AllPanels() []Panel {
	var all []Panel
	for _, p := range d.Panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	return all
}

// Load reads every *.json file in dir as a dashboard, sorted by file name.
func Load(dir string) ([]*Dashboard, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var ds []*Dashboard
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		d := &Dashboard{File: filepath.Base(f)}
		if err := json.Unmarshal(b, d); err != nil {
			return nil, fmt.Errorf("%s: %w", d.File, err)
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// Builtins are the values Queries substitutes for Grafana's built-in
// variables.
var Builtins = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "1m",
	"__interval_ms":   "60000",
	"__range":         "1h",
	"__range_s":       "3600",
	"__range_ms":      "3600000",
}

// AnyValue is what Queries substitutes for a dashboard's own variables
// ($job, $instance, $device): the dashboards use them only as the value of
// regex matchers (the lint test enforces it for job and instance), so the
// query runs and matches every series of that label.
const AnyValue = ".+"

// grafanaVar matches $name, ${name}, ${name:format} and [[name]]. A name
// starts with a letter or underscore, so PromQL's "$1" in label_replace is
// left alone.
var grafanaVar = regexp.MustCompile(`\$\{([A-Za-z_]\w*)(?::[^}]*)?\}|\$([A-Za-z_]\w*)|\[\[([A-Za-z_]\w*)(?::[^\]]*)?\]\]`)

// Substitute replaces the Grafana variables in expr that vars has a value
// for and leaves the others as written.
func Substitute(expr string, vars map[string]string) string {
	return grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		sub := grafanaVar.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if v, ok := vars[name]; ok {
			return v
		}
		return m
	})
}

// Vars returns the values Queries substitutes in d's queries: Builtins, and
// AnyValue for each of the dashboard's templating variables. A variable the
// dashboard does not define stays as written (and so fails to parse).
func (d *Dashboard) Vars() map[string]string {
	vars := make(map[string]string, len(Builtins)+len(d.Templating.List))
	for k, v := range Builtins {
		vars[k] = v
	}
	for _, v := range d.Templating.List {
		vars[v.Name] = AnyValue
	}
	return vars
}

// Query is one Prometheus query of a dashboard panel.
type Query struct {
	Dashboard string // file name, e.g. "netirq-host.json"
	Panel     string // panel title (may hold a variable, e.g. "Queues of $device")
	RefID     string
	Instant   bool   // the panel asks for the value at one time (tables, bar gauges, stats)
	Raw       string // the expr as written in the dashboard
	Expr      string // Raw with the variables substituted (see Dashboard.Vars)
}

// Queries returns every panel query of the dashboards in dir (collapsed
// rows included), in dashboard file and panel order, with the Grafana
// variables substituted.
func Queries(dir string) ([]Query, error) {
	ds, err := Load(dir)
	if err != nil {
		return nil, err
	}
	var qs []Query
	for _, d := range ds {
		vars := d.Vars()
		for _, p := range d.AllPanels() {
			for _, t := range p.Targets {
				qs = append(qs, Query{
					Dashboard: d.File,
					Panel:     p.Title,
					RefID:     t.RefID,
					Instant:   t.Instant && !t.Range,
					Raw:       t.Expr,
					Expr:      Substitute(t.Expr, vars),
				})
			}
		}
	}
	return qs, nil
}
