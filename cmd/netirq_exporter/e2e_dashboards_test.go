//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/promtest"
)

// The end-to-end test's dashboard check: every panel query of
// dashboards/*.json returns data against the running exporter.

// e2eDashboardQuery is one panel query read from a dashboard JSON file.
type e2eDashboardQuery struct {
	File, Panel, RefID, Expr string
	Instant                  bool
}

func (d e2eDashboardQuery) key() string { return d.File + " / " + d.Panel + " / " + d.RefID }

// e2eDashboardVar is a templating variable's label_values(selector, label).
type e2eDashboardVar struct {
	File, Name, Selector, Label string
}

var e2eLabelValues = regexp.MustCompile(`^\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$`)

// e2eDashboardQueries walks each dashboard's JSON for panel targets with an
// expr (rows and collapsed rows included) and for label_values variables,
// without the dashboards module.
func e2eDashboardQueries(t *testing.T, dir string) ([]e2eDashboardQuery, []e2eDashboardVar) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in %s: %v", dir, err)
	}
	slices.Sort(files)
	var (
		qs   []e2eDashboardQuery
		vars []e2eDashboardVar
	)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		base := filepath.Base(f)
		var walk func(v any, depth int)
		walk = func(v any, depth int) {
			if depth > 64 {
				t.Fatalf("%s: JSON nested deeper than 64", f)
			}
			switch x := v.(type) {
			case map[string]any:
				if targets, ok := x["targets"].([]any); ok {
					title, _ := x["title"].(string)
					for _, tg := range targets {
						m, _ := tg.(map[string]any)
						expr, _ := m["expr"].(string)
						if strings.TrimSpace(expr) == "" {
							continue
						}
						ref, _ := m["refId"].(string)
						instant, _ := m["instant"].(bool)
						rng, _ := m["range"].(bool)
						qs = append(qs, e2eDashboardQuery{File: base, Panel: title, RefID: ref, Expr: expr, Instant: instant && !rng})
					}
				}
				for k, c := range x {
					if k != "targets" && k != "templating" {
						walk(c, depth+1)
					}
				}
			case []any:
				for _, c := range x {
					walk(c, depth+1)
				}
			}
		}
		walk(doc, 0)
		tmpl, _ := doc["templating"].(map[string]any)
		list, _ := tmpl["list"].([]any)
		for _, v := range list {
			m, _ := v.(map[string]any)
			if m["type"] != "query" {
				continue
			}
			query, _ := m["query"].(string)
			if o, ok := m["query"].(map[string]any); ok {
				query, _ = o["query"].(string)
			}
			name, _ := m["name"].(string)
			if sm := e2eLabelValues.FindStringSubmatch(query); sm != nil {
				vars = append(vars, e2eDashboardVar{File: base, Name: name, Selector: sm[1], Label: sm[2]})
			}
		}
	}
	slices.SortFunc(qs, func(a, b e2eDashboardQuery) int { return strings.Compare(a.key(), b.key()) })
	return qs, vars
}

// e2eGrafanaVar matches $name, ${name}, ${name:fmt} and [[name]] (not $1).
var e2eGrafanaVar = regexp.MustCompile(`\$\{([A-Za-z_]\w*)(?::[^}]*)?\}|\$([A-Za-z_]\w*)|\[\[([A-Za-z_]\w*)(?::[^\]]*)?\]\]`)

// e2eSubstitute replaces Grafana's variables; an unknown one is an error.
func e2eSubstitute(expr string, vars map[string]string) (string, error) {
	var unknown []string
	out := e2eGrafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		s := e2eGrafanaVar.FindStringSubmatch(m)
		name := s[1] + s[2] + s[3]
		if v, ok := vars[name]; ok {
			return v
		}
		unknown = append(unknown, m)
		return m
	})
	if len(unknown) > 0 {
		return out, fmt.Errorf("unknown Grafana variables %v", unknown)
	}
	return out, nil
}

// e2eQueueIRQSeries are the series that exist only for NIC queue IRQs.
var e2eQueueIRQSeries = regexp.MustCompile(`\b(netirq_net_queue_irq_info|netirq_irq_interrupts_total|instance_device_queue:netirq_irq_interrupts:rate1m|instance_device:netirq_rx_queue_imbalance:ratio)\b`)

// e2eNoDataReason is why some dashboard queries may return no data here.
// e2eNoData, the allowlist, lists them; the first that covers a query
// wins. Each reason's precondition is asserted against the exporter's own
// series, so an entry cannot hide a query that should have had data.
type e2eNoDataReason struct {
	why string
	// covers reports whether the reason covers a query (its raw expr).
	covers func(expr string) bool
	// holds must return nothing for the reason to hold (%[1]s: the
	// instance selector, %[2]q: the lab's rx device).
	holds string
	// elsewhere: the query must instead return data with $device set to
	// the devices the dashboard's own $device variable offers.
	elsewhere bool
}

var e2eNoData = []e2eNoDataReason{
	{
		why:    "threaded-NAPI kthreads, which the RPS funnel scenario has none of (seed003 has them)",
		covers: regexp.MustCompile(`\b(netirq_napi_thread_cpu_seconds_total|instance_cpu:netirq_napi_thread_utilisation:rate1m)\b`).MatchString,
		holds:  `netirq_napi_thread_info{%[1]s}`,
	},
	{
		why:    "lists failing collectors, and none fails here",
		covers: regexp.MustCompile(`^\s*netirq_scrape_collector_success\{[^}]*\}\s*==\s*0\s*$`).MatchString,
		holds:  `netirq_scrape_collector_success{%[1]s} == 0`,
	},
	{
		why:    "RSS skew needs a device with 2 or more RX queue IRQs; the veth has none, the host NIC the exporter sees has one",
		covers: regexp.MustCompile(`\binstance_device:netirq_rx_queue_imbalance:ratio\b`).MatchString,
		holds:  `count by (device) (group by (device, queue) (netirq_irq_info{kind=~"rx|combined", %[1]s})) >= 2`,
	},
	{
		why: "queue IRQs of the lab's veth, which has none (RSS/IRQs on veth); " +
			"checked instead for the devices the dashboard's $device offers",
		covers: func(expr string) bool {
			return e2eQueueIRQSeries.MatchString(expr) && regexp.MustCompile(`\$\{?device\b`).MatchString(expr)
		},
		holds:     `netirq_net_queue_irq_info{device=%[2]q, %[1]s} or netirq_irq_interrupts_total{device=%[2]q, %[1]s}`,
		elsewhere: true,
	},
	{
		why:    "IRQ pressure needs IRQ time accounting, which this kernel lacks (netirq_irq_time_accounting 0)",
		covers: regexp.MustCompile(`\bnetirq_pressure_irq_stalled_seconds_total\b`).MatchString,
		holds:  `netirq_irq_time_accounting{%[1]s} == 1 or absent(netirq_irq_time_accounting{%[1]s})`,
	},
	{
		why:    "backlog_napi/N threads, which need the thread_backlog_napi boot parameter or PREEMPT_RT (collector/threads_backlog_test.go has them)",
		covers: regexp.MustCompile(`\bnetirq_backlog_napi_cpu_seconds_total\b`).MatchString,
		holds:  `netirq_backlog_napi_cpu_seconds_total{%[1]s}`,
	},
	{
		why: "ring sizes, BQL, TX stops/wakes and NAPI settings of the lab's veth, which has none of them (no ring, no BQL, " +
			"no qstats beyond packets and bytes, no NAPI without GRO); the exporter's tests read them live from eth0 and an ifb",
		covers: regexp.MustCompile(`\b(netirq_net_ring_descriptors(_max)?|netirq_net_tx_queue_bql_\w+|netirq_net_queue_tx_(stops|wakes)_total|netirq_napi_(defer_hard_irqs|gro_flush_timeout_seconds|irq_suspend_timeout_seconds|threaded))\b`).MatchString,
		holds: `netirq_net_ring_descriptors{device=%[2]q, %[1]s} or netirq_net_tx_queue_bql_limit_bytes{device=%[2]q, %[1]s} or ` +
			`netirq_net_queue_tx_stops_total{device=%[2]q, %[1]s} or netirq_napi_threaded{device=%[2]q, %[1]s}`,
	},
	{
		why:    "RX hardware drop counters, which no driver here keeps (virtio_net and veth report packets and bytes only); alerts/tests/rx-queue-hw-drops.yml covers the rules",
		covers: regexp.MustCompile(`\binstance_device_queue:netirq_net_queue_rx_(hw_drops|hw_drop_overruns|alloc_failures):rate1m\b`).MatchString,
		holds:  `netirq_net_queue_rx_hw_drops_total{%[1]s} or netirq_net_queue_rx_hw_drop_overruns_total{%[1]s} or netirq_net_queue_rx_alloc_failures_total{%[1]s}`,
	},
	{
		why:    "a tx_maxrate limit, which no TX queue here has",
		covers: regexp.MustCompile(`\bnetirq_net_tx_queue_maxrate_bytes_per_second\b`).MatchString,
		holds:  `netirq_net_tx_queue_maxrate_bytes_per_second{%[1]s} > 0`,
	},
	{
		why:    "the opt-in bpf collector (--collector.bpf), off in the scenarios; collector/bpf_lab_test.go runs it on the same funnel",
		covers: regexp.MustCompile(`\b(netirq_bpf_\w+|instance_cpu:netirq_net_rx_(wait_seconds|softirq_exact_utilisation):\w+|instance(_cpu|_device_napi):netirq_\w*budget_exhausted_polls:\w+)\b`).MatchString,
		holds:  `netirq_bpf_probes_info{%[1]s}`,
	},
}

func e2eCheckDashboards(ctx context.Context, t *testing.T, prom *promtest.Prometheus, dir, instance string, own map[string]string) {
	sel := fmt.Sprintf(`instance=%q`, instance)
	for _, nd := range e2eNoData {
		s, err := prom.Query(ctx, fmt.Sprintf(nd.holds, sel, own["device"]))
		if err != nil {
			t.Fatal(err)
		}
		if len(s) > 0 {
			t.Errorf("allowlist reason %q does not hold here (%s returned %v): review e2eNoData", nd.why, nd.holds, s)
		}
	}
	if s, err := prom.Query(ctx, fmt.Sprintf(`count by (device, kind, rule) (netirq_irq_info{kind!="", %s})`, sel)); err == nil {
		t.Logf("NIC IRQs the exporter classified: %v", s)
	}

	qs, vars := e2eDashboardQueries(t, dir)
	subst := map[string]string{
		"__rate_interval": "1m", "__interval": "15s", "__interval_ms": "15000",
		"__range": "5m", "__range_s": "300", "__range_ms": "300000",
	}
	for k, v := range own {
		subst[k] = v
	}
	// The template variables' own queries: logged, and each dashboard's
	// $device offers are where e2eNoData's "elsewhere" queries must have data.
	offered := map[string][]string{} // dashboard file -> $device values
	for _, v := range vars {
		expr, err := e2eSubstitute(v.Selector, subst)
		if err != nil {
			t.Errorf("%s variable %s: %v", v.File, v.Name, err)
			continue
		}
		s, err := prom.Query(ctx, fmt.Sprintf("count by (%s) (%s)", v.Label, expr))
		if err != nil {
			t.Errorf("%s variable %s: %v", v.File, v.Name, err)
			continue
		}
		var vals []string
		for _, x := range s {
			vals = append(vals, x.Labels[v.Label])
		}
		slices.Sort(vals)
		t.Logf("variable %s / $%s offers %v (the test uses %q)", v.File, v.Name, vals, own[v.Name])
		if v.Name == "device" {
			offered[v.File] = vals
		}
	}

	now := time.Now()
	count := func(dq e2eDashboardQuery, vars map[string]string) (int, string, error) {
		expr, err := e2eSubstitute(dq.Expr, vars)
		if err != nil {
			return 0, expr, fmt.Errorf("%v in %s", err, dq.Expr)
		}
		if dq.Instant {
			s, err := prom.QueryInstant(ctx, expr, now)
			return len(s), expr, err
		}
		s, err := prom.QueryRange(ctx, expr, now.Add(-2*time.Minute), now, 5*time.Second)
		return len(s), expr, err
	}
	var allowedEmpty []string
	failed := 0
	for _, dq := range qs {
		n, expr, err := count(dq, subst)
		if err != nil {
			t.Errorf("%s: %v", dq.key(), err)
			failed++
			continue
		}
		if n > 0 {
			continue
		}
		i := slices.IndexFunc(e2eNoData, func(nd e2eNoDataReason) bool { return nd.covers(dq.Expr) })
		switch {
		case i < 0:
			t.Errorf("no data: %s: %s", dq.key(), expr)
			failed++
		case e2eNoData[i].elsewhere:
			devs := offered[dq.File]
			other := map[string]string{}
			for k, v := range subst {
				other[k] = v
			}
			other["device"] = strings.Join(devs, "|")
			n2, expr2, err := count(dq, other)
			if err != nil || n2 == 0 || len(devs) == 0 {
				t.Errorf("no data: %s: neither for the lab's %s (%s) nor for the devices $device offers, %v (%s; err %v)",
					dq.key(), own["device"], expr, devs, expr2, err)
				failed++
				continue
			}
			allowedEmpty = append(allowedEmpty, fmt.Sprintf("%s (%s; has data for %v)", dq.key(), e2eNoData[i].why, devs))
		default:
			allowedEmpty = append(allowedEmpty, fmt.Sprintf("%s (%s)", dq.key(), e2eNoData[i].why))
		}
	}
	t.Logf("%d dashboard queries run: %d with data, %d without but allowed, %d failed", len(qs), len(qs)-len(allowedEmpty)-failed, len(allowedEmpty), failed)
	for _, e := range allowedEmpty {
		t.Logf("no data, allowed: %s", e)
	}
}
