//go:build linux

package main

// TestFleetFederation is the acceptance test of issue 6: the fleet pattern of
// deploy/README.md ("Fleet") run for real on this machine, with the Debian
// package's Prometheus:
//
//	exporter, this machine's /proc and /sys ───┐
//	exporter, testdata/hosts/bigiron-8cpu ─────┼─> leaf Prometheus ──/federate──> global Prometheus
//	exporter, hostgen 64-CPU tree ─────────────┘   (rules of alerts/)  └─remote write─> remote-write global
//
// The leaf scrapes the three exporters every second as job "netirq", with the
// three rule files of alerts/ loaded unchanged (evaluated every second) and
// external_labels {cluster: a}. The global Prometheus federates from it with
// the README's `federate` block: its job name, honor_labels, metrics_path and
// match[] selectors exactly as written there (the block is read from the
// README, so the documentation is what is tested); only the target (the
// leaf), the interval and the timeout (1s) are the test's. The leaf also
// remote-writes through the README's `remote-write` block (its
// write_relabel_configs exactly as written; the URL and a 1s batch deadline
// are the test's) to a third Prometheus with the remote-write receiver on.
//
// The two fixture hosts carry simulated traffic: every 500 ms the test adds
// to their interrupt, softirq, softnet and CPU-time counters (fleetTraffic),
// so that the rules that divide by a rate (busiest CPU's share of processed
// packets, cost per packet, RX queue imbalance) have data as on a busy host.
//
// It asserts, on both global servers:
//
//  1. every query of dashboards/netirq-fleet.json returns data, for $instance
//     = All (".+") and for each host on its own, and returns what the same
//     query returns on the leaf (same series, same counts). The few that
//     may legitimately have none are in fleetNoData, each with a reason
//     whose precondition is checked on the leaf.
//  2. the raw per-IRQ and per-CPU series are absent
//     (count({__name__=~"netirq_irq_.*|netirq_softirqs_total|netirq_softnet_.*_total|netirq_cpu_seconds_total"})
//     is empty) while the leaf has them for every host; more generally, no
//     series other than ALERTS carries a cpu, irq or queue label, and no raw
//     name other than the README's few small ones arrives.
//  3. what arrives is exactly what the leaf hands out: the global server's
//     series equal the leaf's /federate answer for the same match[], and the
//     remote-write server's equal the global's. The series per host are
//     measured and logged (leaf raw, leaf recorded, global), with the ratio.
//  4. on a long-term store, single-node VictoriaMetrics (Debian package
//     victoria-metrics), to which the leaf also remote-writes through the
//     README's remote-write-victoriametrics block: it holds what the
//     remote-write server holds, 2. holds there, and every fleet
//     dashboard query returns there what it returns on the leaf
//     (fleet_store_test.go; subtest store_victoriametrics, which skips
//     without the package, fails under CI=true).
//
// Series per host are counted on the global server as all its series
// ({__name__=~".+"}) by instance, less the federation scrape's own up and
// scrape_* series (job "netirq-federate", instance the leaf's address).
// honor_labels keeps the job ("netirq") and instance (the host) the leaf's
// series have; those that have no job there (the alert thresholds, recorded
// by (instance)) get job "netirq-federate" and still count for their host.
// The netirq:alert_threshold:* defaults carry no instance: they are counted
// once per leaf, not per host. ALERTS (one per pending or firing alert) are
// counted apart: they depend on what is wrong on the host, not on its size.
//
// Measured here (Prometheus 2.42, 2-vCPU build VM, default exporter flags;
// deploy/README.md, "Cardinality per host", has the same table):
//
//	host                                 raw on leaf  recorded on leaf  at global (+ALERTS)  raw/global
//	this machine, 2 CPUs                         271                54           35 (+1)            7.7
//	bigiron-8cpu fixture                         523               149           36 (+10)          14.5
//	hostgen, 64 CPUs, 2 NICs x 32 queues        2901              1040           37 (+50)          78.4
//	hostgen, 256 CPUs, 2 NICs x 64 queues       9309              3845           37 (+50)         251.6
//
// (the last with NETIRQ_FLEET_HOSTGEN_CPUS=256; raw counts: the measured
// ones plus the 15 check-status series added since). At the global server a host
// is 35 series (up, netirq_build_info, 13 netirq_scrape_collector_success,
// 11 instance:netirq_alert_threshold:*, 9 other instance: series) plus one
// per NIC with RX queue imbalance data: it does not grow with the CPU
// count, because the fleet dashboard reads per-host recorded series only
// (instance:netirq_online_cpus:count and
// instance:netirq_softnet_times_squeezed:rate1m, not netirq_cpu_info and
// the per-CPU time-squeeze rate).
//
// The ALERTS are NetIRQMisconfiguration, pending (for: 30m) on the hosts'
// findings: one per finding, at most 50 per check.
//
// Needs no root. Needs the Debian package prometheus and the go tool; skips
// without them, fails under CI=true. Runs in about 20 s after the build
// (22 s with the store).
// Everything it starts is stopped by t.Cleanup, every wait and loop is
// bounded.
//
// NETIRQ_FLEET_HOSTGEN_CPUS=N sets the generated host's CPU count (default
// 64; 2 NICs with min(N/2, 64) queues each, as deploy/README.md's table).

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v2"

	"github.com/netirq/netirq_exporter/internal/hostgen"
	"github.com/netirq/netirq_exporter/internal/promtest"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

const (
	// fleetJob is the leaf's job for the exporters: the README's
	// up{job="netirq"} selector and the deploy examples use it.
	fleetJob = "netirq"
	// fleetCluster is the leaf's external_labels cluster.
	fleetCluster = "a"
	// fleetTick is the simulated traffic's period.
	fleetTick = 500 * time.Millisecond
	// fleetCPUsEnv overrides the generated host's CPU count.
	fleetCPUsEnv = "NETIRQ_FLEET_HOSTGEN_CPUS"
	// fleetRawNames are the raw per-IRQ and per-CPU counters that must stay
	// on the leaf.
	fleetRawNames = `netirq_irq_.*|netirq_softirqs_total|netirq_softnet_.*_total|netirq_cpu_seconds_total`
	// fleetSmallRaw are the raw (unrecorded) names the README's blocks let
	// through, besides the recorded ones.
	fleetSmallRaw = `netirq_build_info|netirq_scrape_collector_success|up|ALERTS`
)

// fleetHost is one simulated host: one exporter.
type fleetHost struct {
	name string // its instance label
	what string
	root string // host tree with proc/ and sys/; "" for this machine's
	cpus int    // online CPUs; 0 for this machine (read from the leaf)
	addr string // the exporter's address
}

func (h fleetHost) simulated() bool { return h.root != "" }

func TestFleetFederation(t *testing.T) {
	start := time.Now()
	promtest.PrometheusBinary(t) // skips (or fails under CI=true) before building anything

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)

	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(root, "deploy", "README.md")
	fed := fleetParseFederate(t, fleetReadmeBlock(t, readme, "federate"))
	rwBlock := fleetReadmeBlock(t, readme, "remote-write")
	t.Logf("%s: federate job %q, match[] %q", readme, fed.job, fed.matches)

	cpus := 64
	if v := os.Getenv(fleetCPUsEnv); v != "" {
		if cpus, err = strconv.Atoi(v); err != nil || cpus < 2 || cpus > 1024 {
			t.Fatalf("%s=%q: want 2..1024", fleetCPUsEnv, v)
		}
	}
	queues := min(cpus/2, 64)

	// The exporter, and the host trees.
	bin := filepath.Join(t.TempDir(), "netirq_exporter")
	if err := e2eGoBuild(ctx, root, bin, "./cmd/netirq_exporter"); err != nil {
		if _, lookErr := promtest.FindTool("go"); lookErr != nil {
			promtest.SkipOrFatal(t, "the go tool is not in PATH: "+err.Error())
		}
		t.Fatal(err)
	}
	hgRoot := t.TempDir()
	if err := hostgen.Generate(hgRoot, hostgen.Standard(cpus, 2, queues, 1)); err != nil {
		t.Fatal(err)
	}
	hosts := []*fleetHost{
		{name: "this-host", what: "this machine's /proc and /sys"},
		{name: "bigiron-8cpu", what: "testdata/hosts/bigiron-8cpu, simulated traffic",
			root: testutil.CopyTree(t, filepath.Join(root, "testdata", "hosts", "bigiron-8cpu")), cpus: 8},
		{name: fmt.Sprintf("hostgen-%dcpu", cpus), what: fmt.Sprintf("hostgen, %d CPUs, 2 NICs x %d queues, simulated traffic", cpus, queues),
			root: hgRoot, cpus: cpus},
	}
	var simulated []string
	for _, h := range hosts {
		if h.simulated() {
			simulated = append(simulated, h.root)
		}
	}
	trafficErr := fleetStartTraffic(t, simulated)

	for _, h := range hosts {
		var args []string
		if h.simulated() {
			args = []string{"--path.procfs=" + filepath.Join(h.root, "proc"), "--path.sysfs=" + filepath.Join(h.root, "sys")}
		}
		h.addr = e2eStartExporter(t, bin, args...)
	}

	// The remote-write receiver first: the leaf needs its address.
	rwProm := promtest.StartPrometheus(t, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n", nil,
		"--web.enable-remote-write-receiver")

	// The leaf: the exporters, the rules, remote write as the README says.
	alertsDir := filepath.Join(root, "alerts")
	ruleFiles := []string{
		filepath.Join(alertsDir, "netirq-thresholds.yml"),
		filepath.Join(alertsDir, "netirq-rules.yml"),
		filepath.Join(alertsDir, "netirq-alerts.yml"),
	}
	leafCfg, rwRelabel := fleetLeafConfig(t, hosts, rwBlock, rwProm.URL+"/api/v1/write")
	store, noStore := fleetStartStore(t)
	if store != nil {
		leafCfg = fleetAddRemoteWrite(t, leafCfg, fleetReadmeBlock(t, readme, fleetStoreBlock), store.URL+"/api/v1/write")
	}
	leaf := promtest.StartPrometheus(t, leafCfg, ruleFiles)

	// The global server: the README's federate block, pointed at the leaf.
	globalCfg, err := promtest.EditYAML(fed.block, func(cfg map[string]any) error {
		cfg["global"] = map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"}
		sc := cfg["scrape_configs"].([]any)[0].(map[string]any)
		sc["scrape_interval"], sc["scrape_timeout"] = "1s", "1s"
		sc["static_configs"] = []any{map[string]any{"targets": []any{leaf.Addr}}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	global := promtest.StartPrometheus(t, globalCfg, nil)
	for _, h := range hosts {
		t.Logf("host %-16s exporter %s (%s)", h.name, h.addr, h.what)
	}
	t.Logf("leaf %s, global (federation) %s, global (remote write) %s; write_relabel_configs %v",
		leaf.URL, global.URL, rwProm.URL, rwRelabel)

	// The leaf works: every target up, every rule evaluated without error,
	// and the rate-based rules have data for the simulated hosts.
	waitFor := func(p *promtest.Prometheus, expr string, pred func([]promtest.Sample) bool, timeout time.Duration) []promtest.Sample {
		t.Helper()
		s, err := p.WaitFor(ctx, expr, pred, timeout)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	n := func(want int) func([]promtest.Sample) bool {
		return func(s []promtest.Sample) bool { return len(s) == 1 && s[0].Value == float64(want) }
	}
	waitFor(leaf, fmt.Sprintf(`count(up{job=%q} == 1)`, fleetJob), n(len(hosts)), 30*time.Second)
	e2eCheckRules(ctx, t, leaf, ruleFiles...)
	var simNames []string
	for _, h := range hosts {
		if h.simulated() {
			simNames = append(simNames, regexp.QuoteMeta(h.name))
		}
	}
	for _, rule := range []string{"instance:netirq_softnet_processed_busiest_cpu_share:ratio", "instance:netirq_softirq_seconds_per_packet:ratio",
		"instance_device:netirq_rx_queue_imbalance:ratio", "instance:netirq_housekeeping_cpus:count"} {
		waitFor(leaf, fmt.Sprintf(`count(count by (instance) (%s{instance=~%q}))`, rule, strings.Join(simNames, "|")), n(len(simNames)), 45*time.Second)
	}
	if err := trafficErr(); err != nil {
		t.Fatalf("simulated traffic: %v", err)
	}
	t.Logf("leaf ready after %s", time.Since(start).Round(100*time.Millisecond))

	// (3a) The global server holds exactly what the leaf's /federate hands
	// out for the README's match[], and the remote-write server the same.
	// Wait until the leaf hands out the same series twice in a row (every
	// pending alert and rate-based series there), with every scrape of the
	// last 10s successful (a scrape that times out on a loaded machine
	// makes its series stale for a second), and the global server holds
	// them.
	upAll := fmt.Sprintf(`count(min_over_time(up{job=%q}[10s]) == 1)`, fleetJob)
	var globalSet, prev map[string]map[string]string
	for i := 0; ; i++ {
		want, err := fleetFederateSeries(ctx, leaf.URL, fed.matches)
		if err != nil {
			t.Fatal(err)
		}
		up := fleetQuery(ctx, t, leaf, upAll)
		stable := prev != nil && len(want) == len(prev) && len(up) == 1 && up[0].Value == float64(len(hosts))
		for k := range want {
			_, ok := prev[k]
			stable = stable && ok
		}
		prev = want
		globalSet = fleetGlobalSeries(ctx, t, global, fed.job)
		missing, extra := fleetDiff(want, globalSet)
		if stable && len(missing) == 0 && len(extra) == 0 && len(want) > 0 {
			t.Logf("the global server holds the %d series the leaf's /federate hands out (after %s)", len(want), time.Since(start).Round(100*time.Millisecond))
			break
		}
		if i == 60 {
			t.Fatalf("the global server never matched the leaf's /federate with every scrape up for 10s: missing %v, extra %v; %s: %v; scrape durations %v",
				missing, extra, upAll, up, fleetQuery(ctx, t, leaf, `max_over_time(scrape_duration_seconds[10s])`))
		}
		time.Sleep(time.Second)
	}
	for i := 0; ; i++ {
		rwSet := fleetGlobalSeries(ctx, t, rwProm, fed.job)
		missing, extra := fleetDiff(fleetGlobalSeries(ctx, t, global, fed.job), rwSet)
		if len(missing) == 0 && len(extra) == 0 {
			t.Logf("the remote-write server holds the same %d series", len(rwSet))
			break
		}
		if i == 30 {
			t.Fatalf("the README's remote-write filter and federate match[] ship different series: remote write lacks %v, has in addition %v", missing, extra)
		}
		time.Sleep(time.Second)
	}
	// The federation scrape's own series are its up and scrape_* only; the
	// series that have no job on the leaf get the federation job's.
	var own []string
	for _, s := range fleetQuery(ctx, t, global, fmt.Sprintf(`{job=%q}`, fed.job)) {
		name := s.Labels["__name__"]
		switch {
		case fleetScrapeSeries[name]:
			own = append(own, name)
			if s.Labels["instance"] != leaf.Addr {
				t.Errorf("federation scrape series with instance %q, want the leaf %s: %v", s.Labels["instance"], leaf.Addr, s)
			}
		case !strings.Contains(name, "alert_threshold"):
			t.Errorf("a series other than the alert thresholds got the federation job's label (no job on the leaf): %v", s)
		}
	}
	slices.Sort(own)
	if want := []string{"scrape_duration_seconds", "scrape_samples_post_metric_relabeling", "scrape_samples_scraped", "scrape_series_added", "up"}; !slices.Equal(own, want) {
		t.Errorf("federation job %q's own series %v, want %v", fed.job, own, want)
	}
	jobless := fleetQuery(ctx, t, global, fmt.Sprintf(`count by (instance) ({__name__=~".+:.+", job=%q})`, fed.job))
	t.Logf("recorded series without a job label on the leaf arrive with job=%q (honor_labels keeps only labels the series has): %v", fed.job, jobless)

	for _, g := range []struct {
		name string
		p    *promtest.Prometheus
	}{{"global_federation", global}, {"global_remote_write", rwProm}} {
		t.Run(g.name, func(t *testing.T) {
			fleetCheckGlobal(ctx, t, leaf, g.p, fed.job, hosts)
		})
	}

	// (3b) Series per host: leaf raw and recorded, global (the snapshot
	// checked against /federate above).
	fleetMeasure(ctx, t, leaf, globalSet, hosts)

	// (1) The fleet dashboard on both global servers.
	for _, g := range []struct {
		name string
		p    *promtest.Prometheus
	}{{"dashboard_federation", global}, {"dashboard_remote_write", rwProm}} {
		t.Run(g.name, func(t *testing.T) {
			fleetCheckDashboard(ctx, t, leaf, g.p, filepath.Join(root, "dashboards"), hosts)
		})
	}
	// (4) The long-term store: what the remote-write server got, and the
	// fleet dashboard.
	t.Run("store_victoriametrics", func(t *testing.T) {
		if store == nil {
			promtest.SkipOrFatal(t, noStore)
		}
		fleetCheckStore(ctx, t, leaf, rwProm, store, fed.job, filepath.Join(root, "dashboards"), hosts)
	})
	if err := trafficErr(); err != nil {
		t.Errorf("simulated traffic: %v", err)
	}
	t.Logf("total %s", time.Since(start).Round(100*time.Millisecond))
}

// fleetReadmeBlock returns the fenced yaml block right after the marker
// <!-- deploy test: NAME --> in the README (deploy/fleet_test.go's readmeBlock).
func fleetReadmeBlock(t *testing.T, readme, name string) string {
	t.Helper()
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "<!-- deploy test: "+name+" -->\n")
	if !ok {
		t.Fatalf("%s has no <!-- deploy test: %s --> marker", readme, name)
	}
	m := regexp.MustCompile("(?s)^```yaml\n(.*?)\n```").FindStringSubmatch(after)
	if m == nil {
		t.Fatalf("%s: no ```yaml block right after the %s marker", readme, name)
	}
	return m[1] + "\n"
}

type fleetFederate struct {
	block   string // the README's yaml block
	job     string
	matches []string
}

// fleetParseFederate reads the federate block: one scrape config with
// honor_labels, metrics_path /federate and match[] params.
func fleetParseFederate(t *testing.T, block string) fleetFederate {
	t.Helper()
	var cfg struct {
		ScrapeConfigs []struct {
			JobName     string              `yaml:"job_name"`
			HonorLabels bool                `yaml:"honor_labels"`
			MetricsPath string              `yaml:"metrics_path"`
			Params      map[string][]string `yaml:"params"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(block), &cfg); err != nil {
		t.Fatalf("federate block: %v", err)
	}
	if len(cfg.ScrapeConfigs) != 1 {
		t.Fatalf("federate block: %d scrape configs, want 1", len(cfg.ScrapeConfigs))
	}
	sc := cfg.ScrapeConfigs[0]
	if !sc.HonorLabels || sc.MetricsPath != "/federate" || sc.JobName == "" || len(sc.Params["match[]"]) == 0 {
		t.Fatalf("federate block: want a job_name, honor_labels: true, metrics_path: /federate and match[] params: %+v", sc)
	}
	if sc.JobName == fleetJob {
		t.Fatalf("federate block: job %q is the exporters' job", sc.JobName)
	}
	return fleetFederate{block: block, job: sc.JobName, matches: sc.Params["match[]"]}
}

// fleetLeafConfig is the leaf's prometheus.yml: one scrape job for the
// exporters (each target's instance label the host's name), external
// labels, and the README's remote_write with only its URL replaced and a
// short batch deadline. It returns the config and the write_relabel_configs
// it kept.
func fleetLeafConfig(t *testing.T, hosts []*fleetHost, rwBlock, rwURL string) (string, any) {
	t.Helper()
	var statics []any
	for _, h := range hosts {
		statics = append(statics, map[string]any{"targets": []any{h.addr}, "labels": map[string]any{"instance": h.name}})
	}
	var relabel any
	cfg, err := promtest.EditYAML(rwBlock, func(cfg map[string]any) error {
		rws, _ := cfg["remote_write"].([]any)
		if len(rws) != 1 {
			return fmt.Errorf("want one remote_write entry, got %d", len(rws))
		}
		rw := rws[0].(map[string]any)
		if rw["write_relabel_configs"] == nil {
			return fmt.Errorf("remote_write has no write_relabel_configs")
		}
		relabel = rw["write_relabel_configs"]
		rw["url"] = rwURL
		rw["queue_config"] = map[string]any{"batch_send_deadline": "1s"}
		cfg["global"] = map[string]any{
			"scrape_interval": "1s", "evaluation_interval": "1s",
			"external_labels": map[string]any{"cluster": fleetCluster},
		}
		cfg["scrape_configs"] = []any{map[string]any{"job_name": fleetJob, "static_configs": statics}}
		return nil
	})
	if err != nil {
		t.Fatalf("remote-write block: %v", err)
	}
	return cfg, relabel
}

// fleetFederateSeries GETs the leaf's /federate with match[] and returns its
// series by promtest.FormatLabels key.
func fleetFederateSeries(ctx context.Context, leafURL string, matches []string) (map[string]map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, leafURL+"/federate?"+url.Values{"match[]": matches}.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("/federate: %s: %s", resp.Status, b)
	}
	out := map[string]map[string]string{}
	label := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 64<<20))
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ls := map[string]string{}
		name, rest, hasLabels := strings.Cut(line, "{")
		if !hasLabels {
			name, _, _ = strings.Cut(line, " ")
		} else {
			// The label set ends at the first } outside a quoted value.
			end, inQuote := -1, false
			for i := 0; i < len(rest) && end < 0; i++ {
				switch {
				case inQuote && rest[i] == '\\':
					i++
				case rest[i] == '"':
					inQuote = !inQuote
				case !inQuote && rest[i] == '}':
					end = i
				}
			}
			if end < 0 {
				return nil, fmt.Errorf("/federate: line %q not understood", line)
			}
			for _, m := range label.FindAllStringSubmatch(rest[:end], -1) {
				v, err := strconv.Unquote(`"` + m[2] + `"`)
				if err != nil {
					return nil, fmt.Errorf("/federate: label value %q: %w", m[2], err)
				}
				if v != "" { // an empty label is no label (/federate writes instance="")
					ls[m[1]] = v
				}
			}
		}
		ls["__name__"] = name
		out[promtest.FormatLabels(ls)] = ls
	}
	return out, sc.Err()
}

func fleetQuery(ctx context.Context, t *testing.T, p *promtest.Prometheus, expr string) []promtest.Sample {
	t.Helper()
	s, err := p.Query(ctx, expr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fleetScrapeSeries are the series Prometheus makes for each scrape.
var fleetScrapeSeries = map[string]bool{"up": true, "scrape_duration_seconds": true, "scrape_samples_scraped": true,
	"scrape_samples_post_metric_relabeling": true, "scrape_series_added": true}

// fleetGlobalSeries returns what a global server received, by FormatLabels
// key, labelled as on the leaf: without the federation scrape's own up and
// scrape_* series, and without the job (fedJob) that the federation scrape
// gives the series that have none on the leaf (honor_labels keeps the
// labels a series has; /federate writes instance="" for those without an
// instance, so they get none).
func fleetGlobalSeries(ctx context.Context, t *testing.T, p *promtest.Prometheus, fedJob string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, s := range fleetQuery(ctx, t, p, `{__name__=~".+"}`) {
		ls := s.Labels
		if ls["job"] == fedJob {
			if fleetScrapeSeries[ls["__name__"]] {
				continue
			}
			delete(ls, "job")
		}
		out[promtest.FormatLabels(ls)] = ls
	}
	return out
}

// fleetDiff returns the keys of want missing from got and those of got not
// in want, sorted, at most 10 of each.
func fleetDiff(want, got map[string]map[string]string) (missing, extra []string) {
	for k := range want {
		if _, ok := got[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	return missing[:min(len(missing), 10)], extra[:min(len(extra), 10)]
}

// fleetCheckGlobal asserts (2): the raw counters stay on the leaf, nothing
// per CPU, per IRQ or per queue arrives, every series carries the leaf's
// cluster label, and the per-host CPU count and time squeeze arrive. It
// tries a few times: a scrape of the leaf that times out on a loaded
// machine makes its series stale for a second.
func fleetCheckGlobal(ctx context.Context, t *testing.T, leaf, g *promtest.Prometheus, fedJob string, hosts []*fleetHost) {
	raw := fmt.Sprintf(`count({__name__=~%q})`, fleetRawNames)
	small := regexp.MustCompile(`^(?:` + fleetSmallRaw + `)$`)
	check := func() (problems []string) {
		add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
		if s := fleetQuery(ctx, t, g, raw); len(s) > 0 {
			add("%s on the global server: %v, want no data", raw, s)
		}
		perHost := fleetQuery(ctx, t, leaf, fmt.Sprintf(`count by (instance) ({__name__=~%q})`, fleetRawNames))
		if len(perHost) != len(hosts) {
			add("the leaf has raw per-IRQ/per-CPU series for %d hosts, want %d: %v", len(perHost), len(hosts), perHost)
		}
		for _, l := range []string{"cpu", "irq", "queue"} {
			expr := fmt.Sprintf(`count by (__name__) ({__name__=~".+", __name__!="ALERTS", %s!=""})`, l)
			if s := fleetQuery(ctx, t, g, expr); len(s) > 0 {
				add("series with a %s label reached the global server: %v", l, s)
			}
		}
		names := map[string]bool{}
		for k, ls := range fleetGlobalSeries(ctx, t, g, fedJob) {
			names[ls["__name__"]] = true
			if ls["cluster"] != fleetCluster {
				add("series without the leaf's external label cluster=%q: %s", fleetCluster, k)
			}
		}
		for name := range names {
			if !strings.Contains(name, ":") && !small.MatchString(name) {
				add("raw series %s reached the global server (only %s are expected besides recorded series)", name, fleetSmallRaw)
			}
		}
		// The CPU count per host arrives as one series (the fleet
		// dashboard's CPUs column), and the time squeeze rate per host.
		for _, h := range hosts {
			want := h.cpus
			if want == 0 {
				s := fleetQuery(ctx, t, leaf, fmt.Sprintf(`count(netirq_cpu_info{online="true", instance=%q})`, h.name))
				if len(s) != 1 {
					add("no netirq_cpu_info for %s on the leaf", h.name)
					continue
				}
				want = int(s[0].Value)
			}
			got := fleetQuery(ctx, t, g, fmt.Sprintf(`instance:netirq_online_cpus:count{instance=%q}`, h.name))
			if len(got) != 1 || got[0].Value != float64(want) {
				add("instance:netirq_online_cpus:count for %s: %v, want one series of %d", h.name, got, want)
			}
			sq := fleetQuery(ctx, t, g, fmt.Sprintf(`instance:netirq_softnet_times_squeezed:rate1m{instance=%q}`, h.name))
			if len(sq) != 1 || (h.simulated() && sq[0].Value <= 0) {
				add("instance:netirq_softnet_times_squeezed:rate1m for %s: %v, want one series (> 0 with simulated squeezes)", h.name, sq)
			}
		}
		if len(problems) == 0 {
			t.Logf("%s: none on the global server; on the leaf %v", raw, perHost)
		}
		return problems
	}
	var problems []string
	for try := 0; try < 5; try++ {
		if try > 0 {
			time.Sleep(time.Second)
		}
		if problems = check(); len(problems) == 0 {
			return
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// fleetLevel is a series name's level: the recording rule's level before
// the first colon, or "raw".
func fleetLevel(name string) string {
	if level, _, ok := strings.Cut(name, ":"); ok {
		return level
	}
	return "raw"
}

// fleetMeasure logs the series per host: raw and recorded on the leaf, what
// reaches the global server (ALERTS apart), the ratio; and asserts that the
// global figure does not grow with the CPU count.
func fleetMeasure(ctx context.Context, t *testing.T, leaf *promtest.Prometheus, globalSet map[string]map[string]string, hosts []*fleetHost) {
	byInstance := func(s []promtest.Sample) map[string]float64 {
		m := map[string]float64{}
		for _, x := range s {
			m[x.Labels["instance"]] += x.Value
		}
		return m
	}
	// Over the last 5 s (a range skips staleness markers): one scrape that
	// timed out must not change the figures.
	scraped := byInstance(fleetQuery(ctx, t, leaf, fmt.Sprintf(`max_over_time(scrape_samples_scraped{job=%q}[5s])`, fleetJob)))
	rawCount := byInstance(fleetQuery(ctx, t, leaf, fmt.Sprintf(`count by (instance) (last_over_time({job=%q, __name__!~".*:.*|ALERTS|ALERTS_FOR_STATE|up|scrape_.+"}[5s]))`, fleetJob)))
	recorded := byInstance(fleetQuery(ctx, t, leaf, `count by (instance) (last_over_time({__name__=~".+:.+", instance=~".+"}[5s]))`))
	leafAlerts := byInstance(fleetQuery(ctx, t, leaf, `count by (instance) (last_over_time(ALERTS[5s]))`))

	type perHost struct {
		total, alerts, devices int
		levels                 map[string]int
	}
	global := map[string]*perHost{}
	noInstance := map[string]int{}
	for _, ls := range globalSet {
		inst, name := ls["instance"], ls["__name__"]
		if inst == "" {
			noInstance[name]++
			continue
		}
		ph := global[inst]
		if ph == nil {
			ph = &perHost{levels: map[string]int{}}
			global[inst] = ph
		}
		if name == "ALERTS" {
			ph.alerts++
			continue
		}
		ph.total++
		ph.levels[fleetLevel(name)]++
		if fleetLevel(name) == "instance_device" {
			ph.devices++
		}
	}
	t.Logf("SERIES PER HOST (leaf: raw as scraped, recorded by the rules; global: what the README's federate match[] ships)")
	t.Logf("%-16s %5s %12s %9s %10s %7s %8s  %s", "host", "CPUs", "raw on leaf", "recorded", "at global", "ALERTS", "raw/glob", "global by level")
	for _, h := range hosts {
		ph := global[h.name]
		if ph == nil {
			t.Errorf("no series of %s reached the global server", h.name)
			continue
		}
		if scraped[h.name] != rawCount[h.name] {
			t.Logf("note: %s: scrape_samples_scraped %g, raw series on the leaf %g (series came or went between scrapes)", h.name, scraped[h.name], rawCount[h.name])
		}
		if int(leafAlerts[h.name]) != ph.alerts {
			t.Logf("note: %s: %g ALERTS on the leaf now, %d in the global snapshot (an alert came or went since)", h.name, leafAlerts[h.name], ph.alerts)
		}
		cpus := strconv.Itoa(h.cpus)
		if h.cpus == 0 {
			cpus = "this"
		}
		var lv []string
		for l, c := range ph.levels {
			lv = append(lv, fmt.Sprintf("%s %d", l, c))
		}
		slices.Sort(lv)
		t.Logf("%-16s %5s %12.0f %9.0f %10d %7d %8.1f  %s", h.name, cpus, scraped[h.name], recorded[h.name], ph.total, ph.alerts,
			scraped[h.name]/float64(ph.total), strings.Join(lv, ", "))
		t.Logf("  a fleet of 1000 such hosts: %.0f raw series in the clusters, %d at the global server (+ alerts)", 1000*scraped[h.name], 1000*ph.total)
	}
	var ni []string
	for n, c := range noInstance {
		ni = append(ni, fmt.Sprintf("%s %d", n, c))
	}
	slices.Sort(ni)
	t.Logf("once per leaf, no instance label: %d series (%s)", len(noInstance), strings.Join(ni, ", "))

	// Not per CPU: the two simulated hosts (8 and N CPUs, same collectors,
	// same kind of traffic) ship the same number of series but for their
	// NICs' instance_device series.
	var base []int
	for _, h := range hosts {
		if ph := global[h.name]; ph != nil && h.simulated() {
			base = append(base, ph.total-ph.devices)
		}
	}
	if len(base) == 2 && base[0] != base[1] {
		t.Errorf("per-host series at the global server (without instance_device series) differ between the simulated hosts: %v; they should not depend on the CPU count", base)
	}
}

// fleetNoDataReason is why a fleet dashboard query may return no data on
// the global server for an instance selection. The first reason that
// covers a query wins; it applies only when its precondition holds on the
// leaf, so an entry cannot hide a query that should have had data.
type fleetNoDataReason struct {
	why    string
	covers func(expr string) bool
	// holds must return nothing on the leaf (%s: the instance matcher).
	holds string
	// pending: the same query for pending alerts must have data wherever
	// the leaf has pending NetIRQ alerts, so the ALERTS path is checked.
	pending bool
}

var fleetNoData = []fleetNoDataReason{
	{
		why:    "lists failing collectors, and none fails",
		covers: regexp.MustCompile(`^\s*netirq_scrape_collector_success\{[^}]*\}\s*==\s*0\s*$`).MatchString,
		holds:  `netirq_scrape_collector_success{%s} == 0`,
	},
	{
		why: "firing NetIRQ alerts only: every `for:` of netirq-alerts.yml is 5m or more (NetIRQMisconfiguration 30m), " +
			"longer than this test; checked instead with alertstate pending",
		covers: func(expr string) bool {
			return strings.Contains(expr, `alertstate="firing"`) && !strings.Contains(expr, "or vector(")
		},
		holds:   `ALERTS{alertname=~"NetIRQ.*", alertstate="firing", %s}`,
		pending: true,
	},
	{
		why:    "RSS skew needs a device with 2 or more RX queue IRQs and traffic; the host has none (this build VM's NIC has one RX queue IRQ)",
		covers: regexp.MustCompile(`\binstance_device:netirq_rx_queue_imbalance:ratio\b`).MatchString,
		holds: `(count by (instance, device) (group by (instance, device, queue) (netirq_irq_info{kind=~"rx|combined", %[1]s})) >= 2)
			and on (instance, device)
			(sum by (instance, device) (instance_device_queue:netirq_irq_interrupts:rate1m{kind=~"rx|combined", %[1]s}) > 0)`,
	},
}

var fleetPendingVariant = strings.NewReplacer(`alertstate="firing"`, `alertstate=~"firing|pending"`)

// fleetCheckDashboard asserts (1): every query of netirq-fleet.json has
// data on the global server g and the same result as on the leaf, for
// $instance All and for each host.
func fleetCheckDashboard(ctx context.Context, t *testing.T, leaf, g *promtest.Prometheus, dir string, hosts []*fleetHost) {
	const file = "netirq-fleet.json"
	all, vars := e2eDashboardQueries(t, dir)
	var qs []e2eDashboardQuery
	for _, q := range all {
		if q.File == file {
			qs = append(qs, q)
		}
	}
	if len(qs) < 10 {
		t.Fatalf("only %d queries in %s", len(qs), file)
	}
	var hostNames []string
	for _, h := range hosts {
		hostNames = append(hostNames, h.name)
	}
	slices.Sort(hostNames)

	// The template variables offer the leaf's job and every host.
	subst := map[string]string{
		"__rate_interval": "1m", "__interval": "15s", "__interval_ms": "15000",
		"__range": "5m", "__range_s": "300", "__range_ms": "300000",
		"job": regexp.QuoteMeta(fleetJob), "instance": ".+",
	}
	for _, v := range vars {
		if v.File != file {
			continue
		}
		expr, err := e2eSubstitute(v.Selector, subst)
		if err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
			continue
		}
		var offers []string
		for _, s := range fleetQuery(ctx, t, g, fmt.Sprintf("count by (%s) (%s)", v.Label, expr)) {
			offers = append(offers, s.Labels[v.Label])
		}
		slices.Sort(offers)
		want := map[string][]string{"job": {fleetJob}, "instance": hostNames}[v.Name]
		if !slices.Equal(offers, want) {
			t.Errorf("variable $%s offers %v on the global server, want %v", v.Name, offers, want)
		}
		t.Logf("variable $%s offers %v", v.Name, offers)
	}

	selections := append([]string{".+"}, hostNames...)
	pendingChecked := 0
	var allowed []string
	failed, withData := 0, 0
	for _, sel := range selections {
		vs := map[string]string{}
		for k, v := range subst {
			vs[k] = v
		}
		if sel != ".+" {
			vs["instance"] = regexp.QuoteMeta(sel)
		}
		matcher := fmt.Sprintf(`instance=~%q`, vs["instance"])
		for _, dq := range qs {
			key := fmt.Sprintf("%s [$instance=%s]", dq.key(), sel)
			expr, err := e2eSubstitute(dq.Expr, vs)
			if err != nil {
				t.Errorf("%s: %v", key, err)
				failed++
				continue
			}
			// A few tries: on a loaded machine a scrape of the leaf may
			// time out (1s), and its series go stale for a second.
			var res fleetQueryResult
			for try := 0; try < 3; try++ {
				if try > 0 {
					time.Sleep(time.Second)
				}
				if res = fleetCheckQuery(ctx, leaf, g, dq, expr, matcher); res.err == nil {
					break
				}
			}
			switch {
			case res.err != nil:
				t.Errorf("%s: %v", key, res.err)
				failed++
			case res.allowed == "":
				withData++
			default:
				allowed = append(allowed, fmt.Sprintf("%s (%s)", key, res.allowed))
				if res.pending {
					pendingChecked++
				}
			}
		}
	}
	if pendingChecked == 0 {
		t.Errorf("no pending NetIRQ alert on the leaf: the ALERTS queries went unchecked")
	}
	t.Logf("%d queries x %d $instance selections: %d with data, %d without but allowed, %d failed",
		len(qs), len(selections), withData, len(allowed), failed)
	for _, a := range allowed {
		t.Logf("no data, allowed: %s", a)
	}
}

type fleetQueryResult struct {
	allowed string // the reason it may have no data; "" when it has data
	pending bool   // its pending-alerts variant was checked
	err     error
}

// fleetCheckQuery checks one dashboard query (expr, variables substituted)
// on the global server g: the same result as on the leaf, and data, or
// else a fleetNoData reason that covers it and holds on the leaf for the
// instance matcher.
func fleetCheckQuery(ctx context.Context, leaf, g *promtest.Prometheus, dq e2eDashboardQuery, expr, matcher string) fleetQueryResult {
	if err := fleetSameAsLeaf(ctx, leaf, g, expr); err != nil {
		return fleetQueryResult{err: err}
	}
	has, err := fleetHasData(ctx, g, expr, dq.Instant)
	switch {
	case err != nil:
		return fleetQueryResult{err: err}
	case has:
		return fleetQueryResult{}
	}
	i := slices.IndexFunc(fleetNoData, func(r fleetNoDataReason) bool { return r.covers(dq.Expr) })
	if i < 0 {
		return fleetQueryResult{err: fmt.Errorf("no data on the global server: %s", expr)}
	}
	r := fleetNoData[i]
	s, err := leaf.Query(ctx, fmt.Sprintf(r.holds, matcher))
	switch {
	case err != nil:
		return fleetQueryResult{err: err}
	case len(s) > 0:
		return fleetQueryResult{err: fmt.Errorf("no data, but the reason %q does not hold on the leaf: %v", r.why, s)}
	}
	if !r.pending {
		return fleetQueryResult{allowed: r.why}
	}
	pend, err := leaf.Query(ctx, fmt.Sprintf(`ALERTS{alertname=~"NetIRQ.*", alertstate="pending", %s}`, matcher))
	if err != nil || len(pend) == 0 {
		return fleetQueryResult{allowed: r.why, err: err}
	}
	pexpr := fleetPendingVariant.Replace(expr)
	if has, err := fleetHasData(ctx, g, pexpr, dq.Instant); err != nil || !has {
		return fleetQueryResult{err: fmt.Errorf("the leaf has pending NetIRQ alerts, but %s has no data on the global server (err %v)", pexpr, err)}
	}
	if err := fleetSameAsLeaf(ctx, leaf, g, pexpr); err != nil {
		return fleetQueryResult{err: fmt.Errorf("pending: %w", err)}
	}
	return fleetQueryResult{allowed: r.why + "; has data with pending alerts", pending: true}
}

// fleetHasData runs expr on p as the panel does: instant, or over the last
// two minutes.
func fleetHasData(ctx context.Context, p *promtest.Prometheus, expr string, instant bool) (bool, error) {
	now := time.Now()
	if instant {
		s, err := p.QueryInstant(ctx, expr, now)
		return len(s) > 0, err
	}
	s, err := p.QueryRange(ctx, expr, now.Add(-2*time.Minute), now, 5*time.Second)
	return len(s) > 0, err
}

// fleetSameAsLeaf evaluates expr on the leaf and on g at the same time, a
// few seconds back (both servers hold the leaf's sample timestamps), and
// compares the series (without the cluster label) and the values of
// counts (whole numbers on both sides). It retries a few times: a series
// may appear or go between the two servers' last samples.
func fleetSameAsLeaf(ctx context.Context, leaf, g *promtest.Prometheus, expr string) error {
	var last error
	for i := 0; i < 5; i++ {
		if i > 0 {
			time.Sleep(time.Second)
		}
		at := time.Now().Add(-5 * time.Second)
		ls, err := leaf.QueryInstant(ctx, expr, at)
		if err != nil {
			return err
		}
		gs, err := g.QueryInstant(ctx, expr, at)
		if err != nil {
			return err
		}
		index := func(s []promtest.Sample) map[string]float64 {
			m := map[string]float64{}
			for _, x := range s {
				l := map[string]string{}
				for k, v := range x.Labels {
					if k != "cluster" {
						l[k] = v
					}
				}
				m[promtest.FormatLabels(l)] = x.Value
			}
			return m
		}
		lm, gm := index(ls), index(gs)
		last = nil
		for k, lv := range lm {
			gv, ok := gm[k]
			switch {
			case !ok:
				last = fmt.Errorf("on the leaf but not on the global server: %s => %g", k, lv)
			case lv != gv && lv == math.Trunc(lv) && gv == math.Trunc(gv):
				last = fmt.Errorf("%s: %g on the leaf, %g on the global server", k, lv, gv)
			}
		}
		for k, gv := range gm {
			if _, ok := lm[k]; !ok {
				last = fmt.Errorf("on the global server but not on the leaf: %s => %g", k, gv)
			}
		}
		if last == nil {
			return nil
		}
	}
	return last
}

// fleetStartTraffic advances the counters of the host trees every
// fleetTick until the test ends, and returns a function reporting the
// first error. One round runs before it returns, so a tree it cannot
// rewrite fails the test at once.
func fleetStartTraffic(t *testing.T, roots []string) func() error {
	t.Helper()
	var (
		mu       sync.Mutex
		firstErr error
	)
	round := func() {
		for _, r := range roots {
			if err := fleetTraffic(r); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}
	}
	round()
	if firstErr != nil {
		t.Fatalf("simulated traffic: %v", firstErr)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(fleetTick)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				round()
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
	})
	return func() error {
		mu.Lock()
		defer mu.Unlock()
		return firstErr
	}
}

var (
	fleetField    = regexp.MustCompile(`\S+`)
	fleetDigits   = regexp.MustCompile(`^[0-9]+$`)
	fleetNumbered = regexp.MustCompile(`^[0-9]+:$`)
)

// fleetAdd adds add(i, field) to each whitespace-separated field i of line
// for which it is not zero, keeping at least the field's width; hex fields
// are parsed and printed in hexadecimal, zero-padded.
func fleetAdd(line string, hex bool, add func(i int, field string) uint64) (string, error) {
	var b strings.Builder
	prev := 0
	for i, sp := range fleetField.FindAllStringIndex(line, -1) {
		field := line[sp[0]:sp[1]]
		d := add(i, field)
		if d == 0 {
			continue
		}
		base, format := 10, "%*d"
		if hex {
			base, format = 16, "%0*x"
		}
		v, err := strconv.ParseUint(field, base, 64)
		if err != nil {
			return "", fmt.Errorf("field %d of %q: %w", i, line, err)
		}
		b.WriteString(line[prev:sp[0]])
		fmt.Fprintf(&b, format, sp[1]-sp[0], v+d)
		prev = sp[1]
	}
	b.WriteString(line[prev:])
	return b.String(), nil
}

// fleetTraffic advances a host tree's counters by one fleetTick of
// traffic, each file replaced by a rename so that the exporter never reads
// half of one:
//
//   - /proc/interrupts: every count that is not zero (an IRQ fires where it
//     fired before) grows by 3-12 per tick depending on the IRQ number, so
//     that queues differ (RX queue imbalance > 1);
//   - /proc/softirqs: NET_RX grows by 50-200 per CPU (the busiest CPU's
//     share is below 1), NET_TX by 10;
//   - /proc/net/softnet_stat: processed by 40-160 per CPU, time_squeeze by
//     1 on the first CPU's row;
//   - /proc/stat: of each CPU's 50 ticks (0.5 s of USER_HZ 100) 10 user,
//     5 system, 2 irq, 5 softirq, 28 idle.
func fleetTraffic(root string) error {
	header := func(lines []string) int { return len(strings.Fields(lines[0])) }
	files := []struct {
		rel string
		fn  func(lines []string) error
	}{
		{"proc/interrupts", func(lines []string) error {
			ncpu := header(lines)
			for li := 1; li < len(lines); li++ {
				f := strings.Fields(lines[li])
				if len(f) == 0 || !fleetNumbered.MatchString(f[0]) {
					continue
				}
				irq, _ := strconv.Atoi(strings.TrimSuffix(f[0], ":"))
				var err error
				lines[li], err = fleetAdd(lines[li], false, func(i int, field string) uint64 {
					if i < 1 || i > ncpu || field == "0" || !fleetDigits.MatchString(field) {
						return 0
					}
					return uint64(3 * (irq%4 + 1))
				})
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{"proc/softirqs", func(lines []string) error {
			ncpu := header(lines)
			for li := 1; li < len(lines); li++ {
				f := strings.Fields(lines[li])
				if len(f) == 0 || (f[0] != "NET_RX:" && f[0] != "NET_TX:") {
					continue
				}
				rx := f[0] == "NET_RX:"
				var err error
				lines[li], err = fleetAdd(lines[li], false, func(i int, _ string) uint64 {
					switch {
					case i < 1 || i > ncpu:
						return 0
					case rx:
						return uint64(50 * ((i-1)%4 + 1))
					}
					return 10
				})
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{"proc/net/softnet_stat", func(lines []string) error {
			for li := range lines {
				if strings.TrimSpace(lines[li]) == "" {
					continue
				}
				var err error
				lines[li], err = fleetAdd(lines[li], true, func(i int, _ string) uint64 {
					switch {
					case i == 0:
						return uint64(40 * (li%4 + 1))
					case i == 2 && li == 0:
						return 1
					}
					return 0
				})
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{"proc/stat", func(lines []string) error {
			cpuN := regexp.MustCompile(`^cpu\d+\s`)
			// user nice system idle iowait irq softirq
			ticks := map[int]uint64{1: 10, 3: 5, 4: 28, 6: 2, 7: 5}
			for li := range lines {
				if !cpuN.MatchString(lines[li]) {
					continue
				}
				var err error
				lines[li], err = fleetAdd(lines[li], false, func(i int, _ string) uint64 { return ticks[i] })
				if err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, f := range files {
		path := filepath.Join(root, f.rel)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines := strings.Split(string(b), "\n")
		if len(lines) < 2 {
			return fmt.Errorf("%s: %d lines", path, len(lines))
		}
		if err := f.fn(lines); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		tmp := filepath.Join(filepath.Dir(path), ".fleet-"+filepath.Base(path))
		if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	return nil
}
