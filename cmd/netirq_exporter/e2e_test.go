package main

// TestE2EAlertPipeline is the acceptance test of issue 3: the exporter
// binary, a real Prometheus loading the three shipped rule files and a real
// Alertmanager, both configured from the example configs in deploy/, watch a
// real UDP flood in the netlab lab (two network namespaces joined by a
// 4-queue veth pair; the exporter reads the lab's sysfs) and must:
//
//  1. stay quiet (NetIRQCPUSaturated, NetIRQRxConcentrated neither pending
//     nor firing, nothing at the webhook) while RPS spreads the flood over
//     every CPU;
//  2. fire NetIRQCPUSaturated for CPU 1 and page through Alertmanager's
//     critical route to a webhook once every RX queue's RPS points at CPU 1;
//  3. give every panel query of every dashboard in dashboards/ data, the
//     few that cannot have data here excepted (e2eNoData, with reasons).
//
// What the test changes, and why (everything else is the shipped files):
//
//   - deploy/prometheus/prometheus.yml: the exporter's and Alertmanager's
//     addresses (127.0.0.1, free ports), the scrape and evaluation
//     intervals (1s instead of 15s) and the rule_files paths (this
//     checkout's alerts/). deploy/alertmanager/alertmanager.yml: the webhook
//     URLs (this test's receiver, one path per receiver) and group_wait /
//     group_interval (1s). Both are edited as parsed YAML
//     (promtest.EditYAML), so the examples are known to load and to route
//     as shipped.
//   - The saturation threshold is lowered to e2eSaturation for the
//     exporter's instance the way users do it: our own rule file recording
//     netirq:alert_threshold_override:cpu_saturation{instance=...}
//     (alerts/RUNBOOK.md, "Tuning thresholds", way (b));
//     netirq-thresholds.yml is loaded unchanged.
//   - THE `for:` DURATIONS OF netirq-alerts.yml ARE SHORTENED (divided by
//     15: NetIRQCPUSaturated 5m -> 20s). Prometheus cannot take `for` from a
//     series, so no user-facing mechanism changes it, and the real 5 minutes
//     (plus the minute the 1m rate needs to climb and the traffic needed to
//     keep it there) would make this test take about 8 minutes. The test
//     loads a copy of the shipped file in which only the `for:` lines differ
//     and asserts that every other line is byte-identical. Set
//     NETIRQ_E2E_SHIPPED_FOR=1 to load the shipped file unchanged and wait
//     the real `for` (about 8.5 minutes: run with -timeout 15m).
//
// Load on this 2-vCPU VM (sender and sink pinned to CPU 0, 256 UDP flows,
// full speed; softirq time is tick-sampled: CONFIG_IRQ_TIME_ACCOUNTING is
// off), measured while other test binaries shared the machine:
//
//	every RX queue's RPS on CPU 1:   CPU 1 irq+softirq 0.46-0.67
//	RPS over both CPUs, sustained:   CPU 1 0.42-0.56, CPU 0 0.30-0.35
//	RPS over both CPUs, after 30 s:  busiest CPU's 1m rate 0.17-0.30
//
// Spreading barely lowers CPU 1's load here: an RPS target that idles
// between packets pays an IPI and a wake-up (a VM exit) per small batch,
// 2-3 times the per-packet cost of a CPU that stays busy, and the sender
// runs faster when CPU 0 does no receive work. No threshold separates
// sustained spread traffic from concentrated traffic with a margin on this
// machine, so phase 1 floods for 30 s, as specified: the 1m rate then
// shows about half of the load. Phase 1 thus checks that spread traffic
// raises no alert; it does not claim that sustained spread traffic could
// never reach the threshold. The threshold, 0.4, sits between phase 1's
// highest level and the lowest concentrated level seen.
//
// Needs root (network namespaces, sysfs mount) and the Debian packages
// prometheus and prometheus-alertmanager; skips without them, fails under
// CI=true. Everything it starts is stopped by t.Cleanup, and every wait and
// loop is bounded.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/netlab"
	"github.com/netirq/netirq_exporter/internal/promtest"
)

const (
	e2eJob = "netirq" // the example's job name, kept as shipped

	// e2eSaturation is the test's cpu_saturation override (default 0.9,
	// which a 2-vCPU VM never reaches with one sender CPU; see above).
	e2eSaturation = 0.4
	// e2eForDivisor shortens every `for:` of the test copy of the alerts.
	e2eForDivisor = 15

	e2eRunbookURLPrefix = "https://github.com/netirq/netirq_exporter/blob/main/alerts/RUNBOOK.md#"

	// e2ePhase1Flood: see the test's doc.
	e2ePhase1Flood = 30 * time.Second
	// e2eIdleUtilisation is what the busiest CPU's 1m irq+softirq rate must
	// fall to before phase 2, so that phase 2's timing starts from idle.
	e2eIdleUtilisation = 0.1
	// e2eFloodFlows: RPS spreads by flow hash, so more flows split the
	// spread phase's packets more evenly (64 flows gave 42/58 %).
	e2eFloodFlows = 256
)

func TestE2EAlertPipeline(t *testing.T) {
	start := time.Now()
	// Prerequisites first, before building anything.
	if err := netlab.Prerequisites(); err != nil {
		promtest.SkipOrFatal(t, err.Error())
	}
	promtest.PrometheusBinary(t)
	promtest.AlertmanagerBinary(t)
	if runtime.NumCPU() < 2 {
		promtest.SkipOrFatal(t, fmt.Sprintf("needs at least 2 CPUs (RPS to CPU 1), this machine has %d", runtime.NumCPU()))
	}
	shippedFor := os.Getenv("NETIRQ_E2E_SHIPPED_FOR") == "1"

	ctx, cancel := context.WithTimeout(context.Background(), 14*time.Minute)
	t.Cleanup(cancel)

	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	alertsDir := filepath.Join(root, "alerts")

	// Build the exporter and the load generator.
	bin := t.TempDir()
	exporterBin, loadgenBin := filepath.Join(bin, "netirq_exporter"), filepath.Join(bin, "netirq_loadgen")
	var wg sync.WaitGroup
	buildErrs := make([]error, 2)
	for i, b := range [][2]string{{exporterBin, "./cmd/netirq_exporter"}, {loadgenBin, "./cmd/netirq_loadgen"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buildErrs[i] = e2eGoBuild(ctx, root, b[0], b[1])
		}()
	}
	wg.Wait()
	if err := errors.Join(buildErrs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("built exporter and loadgen in %s", time.Since(start).Round(time.Millisecond))

	// The lab: 5 sender TX queues so that every receiver RX queue's RPS map
	// is consulted (veth hands tx queue k to rx queue k-1's map, see
	// netlab's package doc).
	lab := netlab.New(t, netlab.Options{Queues: 4, SenderTxQueues: 5, LoadgenPath: loadgenBin})
	dev := lab.RxDevice()
	setRPS := func(t *testing.T, mask string) {
		t.Helper()
		for q := range lab.Queues() {
			if err := lab.SetRPS(q, mask); err != nil {
				t.Fatal(err)
			}
		}
	}
	setRPS(t, "3") // phase 1's spread, set before the first scrape
	flood := func(ctx context.Context, d time.Duration) (netlab.FloodResult, error) {
		return lab.Flood(ctx, netlab.FloodOptions{Duration: d, Flows: e2eFloodFlows, SenderCPUs: []int{0}, SinkCPUs: []int{0}})
	}

	exporterAddr := e2eStartExporter(t, exporterBin, "--path.sysfs="+lab.SysfsRoot())
	instance := exporterAddr // Prometheus' instance label of a static target
	t.Logf("lab %s (rx device %s), exporter on %s", lab.Name(), dev, exporterAddr)

	// Alertmanager from the example, sending to our webhook.
	hook := promtest.NewWebhook(t)
	amCfg := e2eAlertmanagerConfig(t, filepath.Join(root, "deploy", "alertmanager", "alertmanager.yml"), hook.URL)
	am := promtest.StartAlertmanager(t, amCfg)

	// Rule files: thresholds and recording rules as shipped, the alerts as
	// shipped or with shortened `for`, plus our override.
	ruleDir := t.TempDir()
	alertsFile := filepath.Join(alertsDir, "netirq-alerts.yml")
	satFor := "5m"
	if !shippedFor {
		alertsFile, satFor = e2eShortenFor(t, alertsFile, ruleDir)
	}
	satForDur, err := time.ParseDuration(satFor)
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]string{
		"netirq-thresholds.yml": filepath.Join(alertsDir, "netirq-thresholds.yml"),
		"netirq-rules.yml":      filepath.Join(alertsDir, "netirq-rules.yml"),
		"netirq-alerts.yml":     alertsFile,
	}
	override := filepath.Join(ruleDir, "e2e-overrides.yml")
	e2eWriteFile(t, override, fmt.Sprintf(`# Test-only: RUNBOOK.md "Tuning thresholds" way (b), a per-instance override.
groups:
  - name: e2e.netirq_overrides
    rules:
      - record: netirq:alert_threshold_override:cpu_saturation
        expr: vector(%g)
        labels:
          instance: %q
`, e2eSaturation, instance))
	promCfg := e2ePrometheusConfig(t, filepath.Join(root, "deploy", "prometheus", "prometheus.yml"), exporterAddr, am.Addr, rules)
	prom := promtest.StartPrometheus(t, promCfg, []string{override})
	t.Logf("prometheus %s, alertmanager %s, webhook %s; NetIRQCPUSaturated for=%s (shipped: 5m), cpu_saturation override %g",
		prom.URL, am.URL, hook.URL, satFor, e2eSaturation)

	sel := fmt.Sprintf(`instance=%q`, instance)
	q := func(t *testing.T, expr string) []promtest.Sample {
		t.Helper()
		s, err := prom.Query(ctx, expr)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	waitFor := func(t *testing.T, expr string, pred func([]promtest.Sample) bool, timeout time.Duration) []promtest.Sample {
		t.Helper()
		s, err := prom.WaitFor(ctx, expr, pred, timeout)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	one := func(v float64) func([]promtest.Sample) bool {
		return func(s []promtest.Sample) bool { return len(s) == 1 && s[0].Value == v }
	}

	// The pipeline works before any traffic: target up, the override in
	// effect, the other thresholds at their defaults, the lab's RPS masks
	// visible, every rule evaluating without error, no collector failing,
	// the example's warning and info routes.
	waitFor(t, fmt.Sprintf(`up{job=%q, %s}`, e2eJob, sel), one(1), 30*time.Second)
	waitFor(t, fmt.Sprintf(`instance:netirq_alert_threshold:cpu_saturation{%s}`, sel), one(e2eSaturation), 30*time.Second)
	waitFor(t, fmt.Sprintf(`instance:netirq_alert_threshold:rx_concentration_min_cpus{%s}`, sel), one(4), 30*time.Second)
	waitFor(t, fmt.Sprintf(`count(netirq_net_rx_queue_rps_info{device=%q, rps_cpus="0-1", %s})`, dev, sel), one(4), 30*time.Second)
	waitFor(t, fmt.Sprintf(`count(instance_cpu:netirq_irq_softirq_utilisation:rate1m{%s})`, sel), one(float64(runtime.NumCPU())), 30*time.Second)
	e2eCheckRules(ctx, t, prom, rules["netirq-thresholds.yml"], rules["netirq-rules.yml"], rules["netirq-alerts.yml"], override)
	if s := q(t, fmt.Sprintf(`netirq_scrape_collector_success{%s} == 0`, sel)); len(s) > 0 {
		t.Errorf("collectors failing on the lab: %v", s)
	}
	e2eCheckRoutes(ctx, t, am, hook)
	t.Logf("pipeline ready after %s", time.Since(start).Round(time.Millisecond))

	quiet := fmt.Sprintf(`ALERTS{alertname=~"NetIRQCPUSaturated|NetIRQRxConcentrated", %s}`, sel)
	utilExpr := fmt.Sprintf(`instance_cpu:netirq_irq_softirq_utilisation:rate1m{%s}`, sel)
	softExpr := fmt.Sprintf(`instance_cpu:netirq_softirq_utilisation:rate1m{%s}`, sel)
	util1 := fmt.Sprintf(`instance_cpu:netirq_irq_softirq_utilisation:rate1m{cpu="1", %s}`, sel)
	soft1 := fmt.Sprintf(`instance_cpu:netirq_softirq_utilisation:rate1m{cpu="1", %s}`, sel)
	shareExpr := fmt.Sprintf(`instance_cpu:netirq_softnet_processed_packets:rate1m{%s} / on (instance, job) group_left () instance:netirq_softnet_processed_packets:rate1m{%s}`, sel, sel)
	logFlood := func(t *testing.T, r netlab.FloodResult) {
		t.Helper()
		t.Logf("flood: sent %d (%.0f pps), received %d, rx drops %d, socket drops %d", r.Sent, r.PPS, r.Received, r.RxDropped, r.SocketDrops)
	}

	// Phase 1: RPS over every CPU. Nothing may be pending or firing.
	t.Run("spread", func(t *testing.T) {
		p1 := time.Now()
		done := make(chan e2eFlood, 1)
		go func() {
			r, err := flood(ctx, e2ePhase1Flood)
			done <- e2eFlood{r, err}
		}()
		var (
			out   e2eFlood
			ended time.Time
			peak  float64
		)
		// Poll every second while the flood runs and 5 s after it (the 1m
		// rates peak when it ends).
		for i := 0; i < int(e2ePhase1Flood/time.Second)+60; i++ {
			if ended.IsZero() {
				select {
				case out = <-done:
					ended = time.Now()
				default:
				}
			} else if time.Since(ended) > 5*time.Second {
				break
			}
			if s := q(t, quiet); len(s) > 0 {
				t.Errorf("%s after %s of spread traffic: %v", quiet, time.Since(p1).Round(time.Second), s)
				break
			}
			for _, s := range q(t, utilExpr) {
				peak = max(peak, s.Value)
			}
			time.Sleep(time.Second)
		}
		if ended.IsZero() {
			out = <-done // bounded by the flood's own limits
		}
		if out.err != nil {
			t.Fatalf("flood: %v", out.err)
		}
		logFlood(t, out.res)
		if out.res.Sent < 100000 {
			t.Errorf("the flood sent only %d packets", out.res.Sent)
		}
		e2eLogSamples(t, "irq+softirq utilisation (1m)", q(t, utilExpr))
		e2eLogSamples(t, "softirq utilisation (1m)", q(t, softExpr))
		t.Logf("busiest CPU's irq+softirq (1m) peaked at %.3f (threshold %g)", peak, e2eSaturation)
		// The work really was spread: every CPU processed a fair share.
		share := q(t, shareExpr)
		e2eLogSamples(t, "share of processed packets (1m)", share)
		if len(share) != runtime.NumCPU() {
			t.Errorf("processed-packet shares for %d CPUs, want %d", len(share), runtime.NumCPU())
		}
		for _, s := range share {
			if s.Value < 0.2 {
				t.Errorf("CPU %s processed only %.0f%% of the packets with RPS on every CPU", s.Labels["cpu"], 100*s.Value)
			}
		}
		if _, a, ok := hook.Find(e2eIsAlert("NetIRQCPUSaturated|NetIRQRxConcentrated")); ok {
			t.Errorf("webhook got %s during spread traffic: %v", a.Labels["alertname"], a.Labels)
		}
		e2eLogAlerts(ctx, t, prom)
	})
	if t.Failed() {
		return
	}

	// Let the 1m rates drain so that phase 2's time to alert starts from
	// idle (bounded; if they do not drain, phase 2 only gets quicker).
	if _, err := prom.WaitFor(ctx, fmt.Sprintf(`max(%s)`, utilExpr), func(s []promtest.Sample) bool {
		return len(s) == 1 && s[0].Value < e2eIdleUtilisation
	}, 75*time.Second); err != nil {
		t.Logf("rates did not drain below %g: %v", e2eIdleUtilisation, err)
	}
	if s := q(t, quiet); len(s) > 0 {
		t.Fatalf("%s after spread traffic: %v", quiet, s)
	}
	if _, a, ok := hook.Find(e2eIsAlert("NetIRQCPUSaturated|NetIRQRxConcentrated")); ok {
		t.Fatalf("webhook got %s after spread traffic: %v", a.Labels["alertname"], a.Labels)
	}

	// Phase 2: every RX queue's RPS on CPU 1, the sender and the sink on
	// CPU 0. Flood (back-to-back floods of at most a minute, the lab's
	// limit) until NetIRQCPUSaturated reaches the pager webhook, and keep
	// flooding through phase 3.
	setRPS(t, "2")
	waitFor(t, fmt.Sprintf(`count(netirq_net_rx_queue_rps_info{device=%q, rps_cpus="1", %s})`, dev, sel), one(4), 30*time.Second)
	phase2Limit := satForDur + 3*time.Minute
	floodCtx, stopFlood := context.WithCancel(ctx)
	floods := make(chan e2eFlood, 64)
	var floodWG sync.WaitGroup
	floodWG.Add(1)
	go func() {
		defer floodWG.Done()
		defer close(floods)
		// Bounded: phase 2 and phase 3 fit in this many floods.
		for i := 0; i < int((phase2Limit+3*time.Minute)/netlab.MaxFloodDuration)+1 && floodCtx.Err() == nil; i++ {
			r, err := flood(floodCtx, netlab.MaxFloodDuration)
			floods <- e2eFlood{r, err}
			if err != nil {
				return
			}
		}
	}()
	trafficStart := time.Now()
	stopped := false
	stopTraffic := func() {
		if stopped {
			return
		}
		stopped = true
		stopFlood()
		floodWG.Wait()
		for f := range floods {
			switch {
			case f.err != nil && !errors.Is(f.err, context.Canceled):
				t.Errorf("flood: %v", f.err)
			case f.err == nil:
				logFlood(t, f.res)
			}
		}
	}
	t.Cleanup(stopTraffic)

	t.Run("concentrated", func(t *testing.T) {
		isSat := func(m promtest.WebhookMessage, a promtest.WebhookAlert) bool {
			return a.Labels["alertname"] == "NetIRQCPUSaturated" && a.Labels["cpu"] == "1" &&
				a.Labels["instance"] == instance && a.Status == "firing"
		}
		var (
			msg   promtest.WebhookMessage
			alert promtest.WebhookAlert
			got   bool
		)
		deadline := trafficStart.Add(phase2Limit)
		for i := 0; i < int(phase2Limit/(5*time.Second))+2 && time.Now().Before(deadline) && !got; i++ {
			var err error
			msg, alert, err = hook.WaitFor(ctx, isSat, 5*time.Second)
			got = err == nil
			state := "inactive"
			if s := q(t, fmt.Sprintf(`ALERTS{alertname="NetIRQCPUSaturated", cpu="1", %s}`, sel)); len(s) > 0 {
				state = s[0].Labels["alertstate"]
			}
			t.Logf("+%2.0fs CPU 1 softirq %.3f, irq+softirq %.3f (1m rates); NetIRQCPUSaturated{cpu=\"1\"} %s",
				time.Since(trafficStart).Seconds(), e2eFirst(q(t, soft1)), e2eFirst(q(t, util1)), state)
			// 2 usable CPUs < rx_concentration_min_cpus (4): the alert must
			// hold back however concentrated NET_RX is.
			if s := q(t, fmt.Sprintf(`ALERTS{alertname="NetIRQRxConcentrated", %s}`, sel)); len(s) > 0 && runtime.NumCPU() < 4 {
				t.Errorf("NetIRQRxConcentrated %s on a %d-CPU host (rx_concentration_min_cpus is 4): %v", s[0].Labels["alertstate"], runtime.NumCPU(), s)
			}
			select {
			case f, ok := <-floods:
				if ok && f.err != nil {
					t.Fatalf("flood: %v", f.err)
				}
				if ok {
					logFlood(t, f.res)
				}
			default:
			}
		}
		if !got {
			t.Fatalf("NetIRQCPUSaturated{cpu=\"1\"} did not reach the webhook within %s of traffic; received: %s", phase2Limit, e2eSummarize(hook.Messages()))
		}
		t.Logf("TIMING: traffic start -> NetIRQCPUSaturated{cpu=\"1\"} at the pager webhook: %s (for=%s, threshold %g, scrape and evaluation every 1s, group_wait 1s)",
			msg.Received.Sub(trafficStart).Round(100*time.Millisecond), satFor, e2eSaturation)
		if pa, err := prom.Alerts(ctx); err == nil {
			for _, a := range pa {
				if a.Labels["alertname"] == "NetIRQCPUSaturated" && a.Labels["cpu"] == "1" {
					t.Logf("Prometheus: NetIRQCPUSaturated{cpu=\"1\"} pending from traffic start +%s, value %s",
						a.ActiveAt.Sub(trafficStart).Round(100*time.Millisecond), a.Value)
				}
			}
		}
		soft := q(t, soft1)
		e2eLogSamples(t, "softirq utilisation (1m) at delivery", q(t, softExpr))
		e2eLogSamples(t, "irq+softirq utilisation (1m) at delivery", q(t, utilExpr))
		if len(soft) != 1 || soft[0].Value <= e2eSaturation {
			t.Errorf("CPU 1 softirq utilisation %v, want > %g: the saturation should be softirq work", soft, e2eSaturation)
		}
		share := q(t, shareExpr)
		e2eLogSamples(t, "share of processed packets (1m)", share)
		for _, s := range share {
			if s.Labels["cpu"] == "1" && s.Value < 0.8 {
				t.Errorf("CPU 1 processed only %.0f%% of the packets with every RX queue's RPS on it", 100*s.Value)
			}
		}

		// What the pager receives.
		if msg.Receiver != "pager" || msg.Path != "/pager" {
			t.Errorf("NetIRQCPUSaturated went to receiver %q (path %s), want the example's critical route to pager", msg.Receiver, msg.Path)
		}
		want := map[string]string{"alertname": "NetIRQCPUSaturated", "cpu": "1", "severity": "critical", "instance": instance, "job": e2eJob}
		for k, v := range want {
			if alert.Labels[k] != v {
				t.Errorf("webhook alert label %s=%q, want %q (labels %v)", k, alert.Labels[k], v, alert.Labels)
			}
		}
		e2eCheckRunbookURL(t, alert.Annotations["runbook_url"], "netirqcpusaturated", filepath.Join(alertsDir, "RUNBOOK.md"))
		for k, v := range alert.Annotations {
			if strings.Contains(v, "<no value>") || strings.Contains(v, "error executing") || strings.Contains(v, "{{") {
				t.Errorf("annotation %s badly rendered: %q", k, v)
			}
		}
		// The description's threshold comes from a query of the effective
		// threshold: it must show the override.
		if d := alert.Annotations["description"]; !strings.Contains(d, fmt.Sprintf("threshold %s", e2eHumanizePercentage(e2eSaturation))) {
			t.Errorf("description does not show the overridden threshold %s: %q", e2eHumanizePercentage(e2eSaturation), d)
		}
		t.Logf("webhook: receiver %s, labels %v, annotations %v", msg.Receiver, alert.Labels, alert.Annotations)
		e2eLogAlerts(ctx, t, prom)
	})
	if t.Failed() {
		return
	}

	// Phase 3, with the flood still running and the alert firing: every
	// dashboard panel query returns data.
	t.Run("dashboards", func(t *testing.T) {
		e2eCheckDashboards(ctx, t, prom, filepath.Join(root, "dashboards"), instance, map[string]string{
			"job": e2eJob, "instance": instance, "device": dev,
		})
	})
	stopTraffic()
	if errs := hook.Errors(); len(errs) > 0 {
		t.Errorf("undecodable webhook payloads: %v", errs)
	}
	t.Logf("total %s", time.Since(start).Round(time.Second))
}

type e2eFlood struct {
	res netlab.FloodResult
	err error
}

func e2eGoBuild(ctx context.Context, dir, out, pkg string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// e2eStartExporter runs the exporter binary on a free 127.0.0.1 port and waits
// for /metrics.
func e2eStartExporter(t *testing.T, bin string, args ...string) string {
	t.Helper()
	for attempt := 0; attempt < 3; attempt++ {
		addr := promtest.FreeAddr(t)
		p := promtest.StartProcess(t, "netirq_exporter", t.TempDir(), bin, append([]string{"--web.listen-address=" + addr}, args...)...)
		client := &http.Client{Timeout: 5 * time.Second}
		for i := 0; i < 100 && !p.Exited(); i++ {
			resp, err := client.Get("http://" + addr + "/metrics")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return addr
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		p.Stop()
		if !strings.Contains(p.Logs(), "address already in use") {
			t.Fatalf("netirq_exporter did not serve /metrics on %s:\n%s", addr, p.Logs())
		}
	}
	t.Fatal("netirq_exporter: no free port after 3 attempts")
	return ""
}

func e2eWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

var e2eForLine = regexp.MustCompile(`^(\s+)for: (\S+)$`)

// e2eShortenFor writes a copy of the shipped alerts file into dir with every
// `for:` divided by e2eForDivisor, checks that nothing else differs, and
// returns the copy's path and NetIRQCPUSaturated's new `for`.
func e2eShortenFor(t *testing.T, shipped, dir string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	orig := strings.Split(string(b), "\n")
	out := make([]string, len(orig))
	alert, satFor := "", ""
	var changed []string
	for i, line := range orig {
		out[i] = line
		if m := regexp.MustCompile(`^\s+- alert: (\S+)$`).FindStringSubmatch(line); m != nil {
			alert = m[1]
		}
		m := e2eForLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		d, err := time.ParseDuration(m[2])
		if err != nil || d%(e2eForDivisor*time.Second) != 0 {
			t.Fatalf("%s:%d: `for: %s` is not a whole number of %ds", shipped, i+1, m[2], e2eForDivisor)
		}
		short := fmt.Sprintf("%ds", int(d/e2eForDivisor/time.Second))
		out[i] = m[1] + "for: " + short
		changed = append(changed, fmt.Sprintf("%s %s->%s", alert, m[2], short))
		if alert == "NetIRQCPUSaturated" {
			satFor = short
		}
	}
	// The copy is the shipped file but for the `for:` lines.
	for i := range orig {
		if out[i] != orig[i] && (e2eForLine.FindStringSubmatch(orig[i]) == nil || e2eForLine.FindStringSubmatch(out[i]) == nil) {
			t.Fatalf("line %d differs beyond its for: %q vs %q", i+1, orig[i], out[i])
		}
	}
	if satFor == "" || slices.ContainsFunc(changed, func(c string) bool { return strings.HasPrefix(c, " ") }) {
		t.Fatalf("rewrote `for:` lines %v; want one per alert, NetIRQCPUSaturated's among them", changed)
	}
	copyPath := filepath.Join(dir, "netirq-alerts.yml")
	e2eWriteFile(t, copyPath, strings.Join(out, "\n"))
	t.Logf("TEST COPY of netirq-alerts.yml: only `for:` shortened (/%d): %s; every other line byte-identical to the shipped file", e2eForDivisor, strings.Join(changed, ", "))
	return copyPath, satFor
}

// e2ePrometheusConfig loads deploy/prometheus/prometheus.yml and rewrites only
// addresses, intervals and rule file paths: the netirq job's target becomes
// the exporter, the Alertmanager target ours, scrape and evaluation
// intervals 1s, and each rule_files entry the file of the same base name in
// rules. It checks the example's own settings on the way.
func e2ePrometheusConfig(t *testing.T, example, exporterAddr, amAddr string, rules map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	out, err := promtest.EditYAML(string(b), func(root map[string]any) error {
		global, ok := root["global"].(map[string]any)
		if !ok {
			return errors.New("no global section")
		}
		global["scrape_interval"], global["evaluation_interval"] = "1s", "1s"

		files, _ := root["rule_files"].([]any)
		var bases []string
		for i, f := range files {
			s, _ := f.(string)
			base := filepath.Base(s)
			bases = append(bases, base)
			p, ok := rules[base]
			if !ok {
				return fmt.Errorf("rule_files lists %q, not one of the shipped rule files", s)
			}
			files[i] = p
		}
		slices.Sort(bases)
		if !slices.Equal(bases, []string{"netirq-alerts.yml", "netirq-rules.yml", "netirq-thresholds.yml"}) {
			return fmt.Errorf("rule_files lists %v, want the three netirq rule files", bases)
		}

		alerting, _ := root["alerting"].(map[string]any)
		ams, _ := alerting["alertmanagers"].([]any)
		if len(ams) != 1 {
			return fmt.Errorf("want one alertmanagers entry, got %d", len(ams))
		}
		am, _ := ams[0].(map[string]any)
		if _, ok := am["static_configs"]; !ok {
			return errors.New("alertmanagers[0] has no static_configs")
		}
		am["static_configs"] = []any{map[string]any{"targets": []any{amAddr}}}

		jobs, _ := root["scrape_configs"].([]any)
		found := false
		for _, j := range jobs {
			job, _ := j.(map[string]any)
			if job["job_name"] != e2eJob {
				continue
			}
			found = true
			if job["scrape_interval"] != "15s" {
				return fmt.Errorf("job %s: scrape_interval %v, the example should show 15s", e2eJob, job["scrape_interval"])
			}
			scs, _ := job["static_configs"].([]any)
			for _, sc := range scs {
				targets, _ := sc.(map[string]any)["targets"].([]any)
				for _, tg := range targets {
					if s, _ := tg.(string); !strings.HasSuffix(s, ":10467") {
						return fmt.Errorf("job %s: target %v is not on port 10467", e2eJob, tg)
					}
				}
			}
			job["scrape_interval"] = "1s"
			job["static_configs"] = []any{map[string]any{"targets": []any{exporterAddr}}}
		}
		if !found {
			return fmt.Errorf("no scrape job %q", e2eJob)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", example, err)
	}
	return out
}

// e2eAlertmanagerConfig loads deploy/alertmanager/alertmanager.yml and rewrites
// only the webhook URLs (to hookURL/<receiver>) and the root route's
// group_wait and group_interval (1s).
func e2eAlertmanagerConfig(t *testing.T, example, hookURL string) string {
	t.Helper()
	b, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	out, err := promtest.EditYAML(string(b), func(root map[string]any) error {
		route, ok := root["route"].(map[string]any)
		if !ok {
			return errors.New("no route")
		}
		route["group_wait"], route["group_interval"] = "1s", "1s"
		receivers, _ := root["receivers"].([]any)
		hooks := map[string]int{}
		for _, r := range receivers {
			rcv, _ := r.(map[string]any)
			name, _ := rcv["name"].(string)
			whs, _ := rcv["webhook_configs"].([]any)
			for _, w := range whs {
				w.(map[string]any)["url"] = hookURL + "/" + name
				hooks[name]++
			}
		}
		if hooks["pager"] != 1 || hooks["ticket"] != 1 || hooks["null"] != 0 {
			return fmt.Errorf("webhook receivers %v, want pager and ticket with one webhook each, null none", hooks)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", example, err)
	}
	return out
}

// e2eCheckRules waits until every rule of every file has been evaluated and
// fails on any rule whose evaluation errs.
func e2eCheckRules(ctx context.Context, t *testing.T, prom *promtest.Prometheus, files ...string) {
	t.Helper()
	var bad []string
	for i := 0; i < 60; i++ {
		groups, err := prom.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		bad = bad[:0]
		n := 0
		for _, f := range files {
			if !slices.ContainsFunc(groups, func(g promtest.RuleGroup) bool { return g.File == f }) {
				bad = append(bad, "no rule group from "+f)
			}
		}
		for _, g := range groups {
			for _, r := range g.Rules {
				n++
				if r.Health != "ok" {
					bad = append(bad, fmt.Sprintf("%s/%s: %s %s", g.Name, r.Name, r.Health, r.LastError))
				}
			}
		}
		if len(bad) == 0 {
			t.Logf("%d rules in %d groups evaluate without error", n, len(groups))
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("rules not healthy after 30s: %v", bad)
}

// e2eCheckRoutes sends a warning and an info alert straight to Alertmanager:
// the example routes warning to the ticket webhook and drops info.
func e2eCheckRoutes(ctx context.Context, t *testing.T, am *promtest.Alertmanager, hook *promtest.Webhook) {
	t.Helper()
	ends := time.Now().Add(10 * time.Second)
	if err := am.PostAlerts(ctx,
		promtest.PostableAlert{Labels: map[string]string{"alertname": "E2ERouteWarning", "severity": "warning", "job": "e2e"}, EndsAt: ends},
		promtest.PostableAlert{Labels: map[string]string{"alertname": "E2ERouteInfo", "severity": "info", "job": "e2e"}, EndsAt: ends},
	); err != nil {
		t.Fatal(err)
	}
	m, _, err := hook.WaitFor(ctx, e2eIsAlert("E2ERouteWarning"), 20*time.Second)
	if err != nil {
		t.Fatalf("a warning alert did not reach the ticket webhook: %v", err)
	}
	if m.Receiver != "ticket" || m.Path != "/ticket" {
		t.Errorf("warning alert went to receiver %q (path %s), want ticket", m.Receiver, m.Path)
	}
	// Both were posted together: with group_wait 1s, the info one would
	// have arrived by now if it were routed anywhere.
	time.Sleep(3 * time.Second)
	if m, _, ok := hook.Find(e2eIsAlert("E2ERouteInfo")); ok {
		t.Errorf("an info alert reached receiver %q; the example sends info to null", m.Receiver)
	}
}

func e2eIsAlert(nameRE string) func(promtest.WebhookMessage, promtest.WebhookAlert) bool {
	re := regexp.MustCompile(`^(?:` + nameRE + `)$`)
	return func(_ promtest.WebhookMessage, a promtest.WebhookAlert) bool {
		return re.MatchString(a.Labels["alertname"])
	}
}

// e2eCheckRunbookURL checks that url is the runbook's address with anchor, and
// that RUNBOOK.md has a heading GitHub gives that anchor.
func e2eCheckRunbookURL(t *testing.T, url, anchor, runbook string) {
	t.Helper()
	if url != e2eRunbookURLPrefix+anchor {
		t.Errorf("runbook_url %q, want %q", url, e2eRunbookURLPrefix+anchor)
	}
	b, err := os.ReadFile(runbook)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok && e2eGithubAnchor(h) == anchor {
			return
		}
	}
	t.Errorf("%s has no heading with anchor #%s", runbook, anchor)
}

// e2eGithubAnchor is GitHub's heading slug: lower case, spaces to dashes,
// punctuation dropped.
func e2eGithubAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// e2eHumanizePercentage formats like Prometheus' template function of that
// name for the round values used here.
func e2eHumanizePercentage(v float64) string {
	return strconv.FormatFloat(v*100, 'g', 4, 64) + "%"
}

func e2eFirst(s []promtest.Sample) float64 {
	if len(s) == 0 {
		return -1
	}
	return s[0].Value
}

func e2eLogSamples(t *testing.T, what string, s []promtest.Sample) {
	t.Helper()
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = fmt.Sprintf("cpu %s: %.3f", x.Labels["cpu"], x.Value)
	}
	slices.Sort(parts)
	t.Logf("%s: %s", what, strings.Join(parts, ", "))
}

func e2eLogAlerts(ctx context.Context, t *testing.T, prom *promtest.Prometheus) {
	t.Helper()
	as, err := prom.Alerts(ctx)
	if err != nil {
		t.Error(err)
		return
	}
	var parts []string
	for _, a := range as {
		parts = append(parts, fmt.Sprintf("%s{cpu=%q} %s", a.Labels["alertname"], a.Labels["cpu"], a.State))
	}
	slices.Sort(parts)
	t.Logf("active alerts: %v", parts)
}

func e2eSummarize(msgs []promtest.WebhookMessage) string {
	var parts []string
	for _, m := range msgs {
		for _, a := range m.Alerts {
			parts = append(parts, fmt.Sprintf("%s:%s%v", m.Receiver, a.Status, a.Labels))
		}
	}
	return fmt.Sprint(parts)
}

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
