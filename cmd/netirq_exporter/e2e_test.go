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
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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
