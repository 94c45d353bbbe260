//go:build linux

package main

// TestScenarioPages is the acceptance test of the pages: real traffic in
// namespaces this test makes (internal/netlab), the exporter binary, a real
// Prometheus loading the three shipped rule files and a real Alertmanager
// routing as deploy/alertmanager/alertmanager.yml does to a webhook. Each
// scenario gets its own lab, exporter and Prometheus (so its own instance
// label); the Alertmanager and the webhook are shared.
//
//	seed004  every RX queue's RPS -> CPU 1, flood from CPU 0: page for CPU 1
//	         naming the device, its queues and "rps"; the report's first
//	         diagnosis names the RPS masks; the printed fix is applied and
//	         drops fall to about zero; the page resolves.
//	seed000  a 1-queue veth without RPS: the receive work runs where the
//	         sender runs (CPU 0 here): page for CPU 0 naming the device and
//	         single_queue_no_rps; the report's finding is for that device.
//	seed003  threaded NAPI (GRO on), its kthreads pinned to CPU 1: page for
//	         CPU 1 naming the NAPI threads; the report lists the threads.
//	spread   seed004's flood with RPS over both CPUs: no page
//	         (NetIRQNetworkCapacity, a ticket, is allowed: the host is busy).
//	hog      a user-space busy loop on CPU 1, no traffic: no alert at all.
//	idle     nothing: no alert at all.
//
// What the test changes, and why (everything else is the shipped files):
//
//   - THE `for:` DURATIONS OF netirq-alerts.yml ARE SHORTENED, divided by 15
//     (NetIRQCPUSaturated 5m -> 20s), in a copy whose other lines must be
//     byte-identical (e2eShortenFor). Thresholds are the shipped ones: no
//     override. NETIRQ_E2E_SHIPPED_FOR=1 loads the shipped file unchanged
//     (then run only seed004: -run 'TestScenarioPages/seed004', -timeout 20m).
//   - Addresses and intervals in the example configs (e2ePrometheusConfig,
//     e2eAlertmanagerConfig): scrape and evaluation every 1s.
//
// Margins: the separation is asserted on the signals, not on timing. A bad
// scenario's hot CPU must process at least scenarioBadFairShare times its
// fair share of packets, a spread one at most scenarioSpreadFairShare
// (threshold cpu_imbalance 1.5). Measured on the 2-vCPU build VM, 1m rates:
// bad 2.00 (every packet on one CPU), spread 0.97-1.03 idle machine; see
// the closing note of the issue for the loaded-machine figures.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/netlab"
	"github.com/netirq/netirq_exporter/internal/promtest"
	"github.com/netirq/netirq_exporter/internal/report"
)

const (
	// scenarioBadFairShare and scenarioSpreadFairShare bound the hot CPU's
	// processed packets over its fair share (see the doc above).
	scenarioBadFairShare    = 1.8
	scenarioSpreadFairShare = 1.3
	// scenarioPageWithin bounds the wait for a page from traffic start: the
	// 1m rates need about a minute to climb, then the shortened for (20s).
	scenarioPageWithin = 4 * time.Minute
	// scenarioQuietFor is how long a healthy scenario runs without a page.
	scenarioQuietFor = 2 * time.Minute
)

type scenario struct {
	name   string
	queues int    // veth queues (0: no lab traffic)
	rps    string // every RX queue's rps_cpus mask; "" leaves RPS off
	// threaded: GRO + threaded NAPI, kthreads pinned to CPU 1. The sender
	// then has as many TX queues as the receiver has RX queues: veth hands
	// a packet from TX queue k to RX queue k's NAPI only when k exists
	// there, and to netif_rx on the sending CPU otherwise. Without it the
	// sender gets one more TX queue, so that every RX queue's RPS map is
	// consulted (see internal/netlab's package doc).
	threaded bool
	hog      bool // a user-space busy loop on CPU 1 instead of traffic
	// sinkCPU pins the receiving application; nil leaves it unpinned.
	// seed000's receive work runs on the sending CPU (CPU 0), so the
	// application there would only compete with it: it runs on CPU 1, as
	// an application kept off the NIC's CPU would.
	sinkCPU []int
	hotCPU  string // the CPU that must be paged for; "" for none
	// wantInPage are substrings the page's description must contain (the
	// lab's device name is always checked).
	wantInPage []string
	applyFix   bool // run the report's printed fix and watch drops fall
}

var scenarios = []scenario{
	{name: "seed004", queues: 4, rps: "2", hotCPU: "1", wantInPage: []string{"by rps", "RPS masks"}, applyFix: true},
	{name: "seed000", queues: 1, hotCPU: "0", sinkCPU: []int{1}, wantInPage: []string{"single_queue_no_rps"}},
	{name: "seed003", queues: 4, threaded: true, hotCPU: "1", wantInPage: []string{"by napi_thread", "NAPI threads"}},
	{name: "spread", queues: 4, rps: "3"},
	{name: "hog", hog: true},
	{name: "idle"},
}

// scenarioEnv is what the scenarios share.
type scenarioEnv struct {
	root, exporterBin, loadgenBin string
	rules                         map[string]string
	am                            *promtest.Alertmanager
	hook                          *promtest.Webhook
	satFor                        string
	pipelineChecked               bool
}

func TestScenarioPages(t *testing.T) {
	if err := netlab.Prerequisites(); err != nil {
		promtest.SkipOrFatal(t, err.Error())
	}
	promtest.PrometheusBinary(t)
	promtest.AlertmanagerBinary(t)
	promtest.LookTool(t, "ethtool", "ethtool")    // GRO on the lab's veth (seed003)
	promtest.LookTool(t, "util-linux", "taskset") // the NAPI threads' and the hog's CPU
	if runtime.NumCPU() != 2 {
		// The scenarios name CPUs 0 and 1 and the margins were measured on
		// 2 CPUs; more CPUs change the fair share.
		promtest.SkipOrFatal(t, fmt.Sprintf("the scenarios are written for 2 CPUs, this machine has %d", runtime.NumCPU()))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 28*time.Minute)
	t.Cleanup(cancel)
	env := scenarioSetup(ctx, t)
	var table []string
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			row := runScenario(ctx, t, env, sc)
			table = append(table, fmt.Sprintf("%-8s %s", sc.name, row))
		})
	}
	t.Logf("SCENARIO TABLE (for: %s)\n%s", env.satFor, strings.Join(table, "\n"))
}

// scenarioSetup builds the binaries and starts the shared Alertmanager.
func scenarioSetup(ctx context.Context, t *testing.T) *scenarioEnv {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	env := &scenarioEnv{root: root, exporterBin: filepath.Join(bin, "netirq_exporter"), loadgenBin: filepath.Join(bin, "netirq_loadgen")}
	for _, b := range [][2]string{{env.exporterBin, "./cmd/netirq_exporter"}, {env.loadgenBin, "./cmd/netirq_loadgen"}} {
		if err := e2eGoBuild(ctx, root, b[0], b[1]); err != nil {
			t.Fatal(err)
		}
	}
	alertsDir := filepath.Join(root, "alerts")
	alertsFile, satFor := filepath.Join(alertsDir, "netirq-alerts.yml"), "5m"
	if os.Getenv("NETIRQ_E2E_SHIPPED_FOR") != "1" {
		alertsFile, satFor = e2eShortenFor(t, alertsFile, t.TempDir())
	}
	env.satFor = satFor
	env.rules = map[string]string{
		"netirq-thresholds.yml": filepath.Join(alertsDir, "netirq-thresholds.yml"),
		"netirq-rules.yml":      filepath.Join(alertsDir, "netirq-rules.yml"),
		"netirq-alerts.yml":     alertsFile,
	}
	env.hook = promtest.NewWebhook(t)
	env.am = promtest.StartAlertmanager(t, e2eAlertmanagerConfig(t, filepath.Join(root, "deploy", "alertmanager", "alertmanager.yml"), env.hook.URL))
	return env
}

// scenarioRun is one scenario's running parts.
type scenarioRun struct {
	t        *testing.T
	ctx      context.Context
	env      *scenarioEnv
	sc       scenario
	lab      *netlab.Lab
	prom     *promtest.Prometheus
	instance string
	sel      string
}

func (r *scenarioRun) query(expr string) []promtest.Sample {
	r.t.Helper()
	s, err := r.prom.Query(r.ctx, expr)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// value is the first sample's value of expr, -1 when it has none.
func (r *scenarioRun) value(expr string) float64 {
	r.t.Helper()
	if s := r.query(expr); len(s) > 0 {
		return s[0].Value
	}
	return -1
}

func runScenario(ctx context.Context, t *testing.T, env *scenarioEnv, sc scenario) string {
	r := &scenarioRun{t: t, ctx: ctx, env: env, sc: sc}
	args := []string{}
	if sc.queues > 0 {
		txq := sc.queues + 1
		if sc.threaded {
			txq = sc.queues
		}
		r.lab = netlab.New(t, netlab.Options{Queues: sc.queues, SenderTxQueues: txq, LoadgenPath: env.loadgenBin})
		r.configureLab()
		args = append(args, "--path.sysfs="+r.lab.SysfsRoot())
	} else {
		netlab.HoldTrafficLock(t) // no other lab's traffic while we watch for quiet
	}
	r.instance = e2eStartExporter(t, env.exporterBin, args...)
	r.sel = fmt.Sprintf(`instance=%q`, r.instance)
	promCfg := e2ePrometheusConfig(t, filepath.Join(env.root, "deploy", "prometheus", "prometheus.yml"), r.instance, env.am.Addr, env.rules)
	r.prom = promtest.StartPrometheus(t, promCfg, nil)
	if _, err := r.prom.WaitFor(ctx, fmt.Sprintf(`up{%s}`, r.sel), func(s []promtest.Sample) bool { return len(s) == 1 && s[0].Value == 1 }, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if !env.pipelineChecked {
		// Once: every shipped rule evaluates without error, no collector
		// fails on the lab, and the example routes warning and info alerts.
		env.pipelineChecked = true
		e2eCheckRules(ctx, t, r.prom, env.rules["netirq-thresholds.yml"], env.rules["netirq-rules.yml"], env.rules["netirq-alerts.yml"])
		if s := r.query(fmt.Sprintf(`netirq_scrape_collector_success{%s} == 0`, r.sel)); len(s) > 0 {
			t.Errorf("collectors failing on the lab: %v", s)
		}
		e2eCheckRoutes(ctx, t, env.am, env.hook)
	}

	start := time.Now()
	stop := r.startLoad()
	defer stop()
	if sc.hotCPU == "" {
		return r.expectQuiet(env, start)
	}
	return r.expectPage(env, start, stop)
}

// configureLab sets the scenario's RPS masks or threaded NAPI.
func (r *scenarioRun) configureLab() {
	t := r.t
	for q := range r.lab.Queues() {
		if r.sc.rps != "" {
			if err := r.lab.SetRPS(q, r.sc.rps); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !r.sc.threaded {
		return
	}
	dev, ns := r.lab.RxDevice(), r.lab.ReceiverNS()
	if out, err := exec.CommandContext(r.ctx, "ip", "netns", "exec", ns, "ethtool", "-K", dev, "gro", "on", "rx-udp-gro-forwarding", "on").CombinedOutput(); err != nil {
		t.Fatalf("ethtool -K %s gro on: %v\n%s", dev, err, out)
	}
	if err := r.lab.SetThreaded(true); err != nil {
		t.Fatal(err)
	}
	pids := napiThreadPIDs(t, dev)
	if len(pids) == 0 {
		t.Fatalf("no napi/%s-* kthreads after threaded=1", dev)
	}
	for _, pid := range pids {
		if out, err := exec.CommandContext(r.ctx, "taskset", "-pc", "1", pid).CombinedOutput(); err != nil {
			t.Fatalf("taskset -pc 1 %s: %v\n%s", pid, err, out)
		}
	}
}

// napiThreadPIDs finds the napi/<dev>-<id> kthreads by their comm.
func napiThreadPIDs(t *testing.T, dev string) []string {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*/comm")
	var out []string
	for _, p := range dirs {
		b, err := os.ReadFile(p)
		if err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), "napi/"+dev+"-") {
			out = append(out, filepath.Base(filepath.Dir(p)))
		}
	}
	return out
}

// startLoad starts the scenario's traffic (back-to-back floods, the sender
// on CPU 0 and the sink unpinned) or busy loop; the returned stop is
// idempotent and waits for it to end.
func (r *scenarioRun) startLoad() func() {
	ctx, cancel := context.WithCancel(r.ctx)
	var wg sync.WaitGroup
	switch {
	case r.sc.hog:
		// Its own process group, killed whole: timeout forks the shell, and
		// killing timeout alone would leave the loop running. timeout
		// bounds it if this process dies first.
		cmd := exec.CommandContext(ctx, "taskset", "-c", "1", "timeout", "300", "sh", "-c", "while :; do :; done")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		if err := cmd.Start(); err != nil {
			r.t.Fatal(err)
		}
		wg.Go(func() { cmd.Wait() })
	case r.lab != nil:
		wg.Go(func() {
			// Bounded: at most 10 floods of a minute, well past any wait.
			for i := 0; i < 10 && ctx.Err() == nil; i++ {
				res, err := r.lab.Flood(ctx, netlab.FloodOptions{Duration: netlab.MaxFloodDuration, Flows: 256, SenderCPUs: []int{0}, SinkCPUs: r.sc.sinkCPU})
				if err != nil {
					if !errors.Is(err, context.Canceled) && ctx.Err() == nil {
						r.t.Errorf("flood: %v", err)
					}
					return
				}
				r.t.Logf("flood: sent %d (%.0f pps), received %d, rx drops %d", res.Sent, res.PPS, res.Received, res.RxDropped)
			}
		})
	}
	var once sync.Once
	return func() { once.Do(func() { cancel(); wg.Wait() }) }
}

// signals logs and returns the hot-CPU signals of cpu.
func (r *scenarioRun) signals(cpu string) string {
	s := fmt.Sprintf(`%s, cpu=%q`, r.sel, cpu)
	return fmt.Sprintf("busy %.2f, net work %.2f, fair share x%.2f, drops %.0f/s",
		r.value(fmt.Sprintf(`instance_cpu:netirq_cpu_busy:ratio_rate1m{%s}`, s)),
		r.value(fmt.Sprintf(`instance_cpu:netirq_net_work_utilisation:rate1m{%s}`, s)),
		r.value(fmt.Sprintf(`instance_cpu:netirq_softnet_processed_packets:fair_share_ratio{%s}`, s)),
		r.value(fmt.Sprintf(`instance_cpu:netirq_softnet_dropped_packets:rate1m{%s}`, s)))
}

// expectQuiet: for scenarioQuietFor nothing pages (no NetIRQCPUSaturated
// pending or firing); idle and hog raise no netirq alert at all.
func (r *scenarioRun) expectQuiet(env *scenarioEnv, start time.Time) string {
	t := r.t
	forbidden := `NetIRQCPUSaturated`
	if r.lab == nil {
		forbidden = `NetIRQ.*`
	}
	expr := fmt.Sprintf(`ALERTS{alertname=~%q, alertname!~"NetIRQMisconfiguration", %s}`, forbidden, r.sel)
	maxFair := 0.0
	for i := 0; time.Since(start) < scenarioQuietFor && i < 1000; i++ {
		if s := r.query(expr); len(s) > 0 {
			t.Errorf("FALSE PAGE after %s: %v (%s / %s)", time.Since(start).Round(time.Second), s, r.signals("0"), r.signals("1"))
			break
		}
		for _, cpu := range []string{"0", "1"} {
			maxFair = max(maxFair, r.value(fmt.Sprintf(`instance_cpu:netirq_softnet_processed_packets:fair_share_ratio{%s, cpu=%q}`, r.sel, cpu)))
		}
		time.Sleep(2 * time.Second)
	}
	if _, a, ok := env.hook.Find(func(m promtest.WebhookMessage, a promtest.WebhookAlert) bool {
		return a.Labels["instance"] == r.instance && a.Labels["severity"] == "critical"
	}); ok {
		t.Errorf("FALSE PAGE at the webhook: %v", a.Labels)
	}
	if r.sc.rps != "" && maxFair > scenarioSpreadFairShare {
		t.Errorf("spread traffic reached %.2f times the fair share on one CPU, want at most %g (threshold 1.5)", maxFair, scenarioSpreadFairShare)
	}
	row := fmt.Sprintf("no page in %s; highest fair-share ratio %.2f; CPU 0: %s; CPU 1: %s; alerts: %s",
		scenarioQuietFor, maxFair, r.signals("0"), r.signals("1"), alertNames(r.query(fmt.Sprintf(`ALERTS{%s}`, r.sel))))
	t.Log(row)
	return row
}

func alertNames(s []promtest.Sample) string {
	var out []string
	for _, x := range s {
		out = append(out, x.Labels["alertname"]+"/"+x.Labels["alertstate"])
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ",")
}

// expectPage waits for the page of the hot CPU, checks what it says and what
// the report says, applies the fix where asked, and waits for the resolve.
func (r *scenarioRun) expectPage(env *scenarioEnv, start time.Time, stop func()) string {
	t := r.t
	hot, dev := r.sc.hotCPU, r.lab.RxDevice()
	isPage := func(m promtest.WebhookMessage, a promtest.WebhookAlert) bool {
		return a.Labels["alertname"] == "NetIRQCPUSaturated" && a.Labels["instance"] == r.instance && a.Status == "firing"
	}
	var msg promtest.WebhookMessage
	var alert promtest.WebhookAlert
	got := false
	// With the shipped for: (NETIRQ_E2E_SHIPPED_FOR=1) the page comes that
	// much later.
	within := scenarioPageWithin
	if d, err := time.ParseDuration(env.satFor); err == nil && d > 20*time.Second {
		within += d
	}
	for i := 0; i < int(within/(5*time.Second)) && !got; i++ {
		var err error
		msg, alert, err = env.hook.WaitFor(r.ctx, isPage, 5*time.Second)
		got = err == nil
		t.Logf("+%3.0fs CPU %s: %s", time.Since(start).Seconds(), hot, r.signals(hot))
	}
	if !got {
		t.Fatalf("no page within %s of traffic; CPU 0: %s; CPU 1: %s; alerts %s; webhook got: %s", within, r.signals("0"), r.signals("1"),
			alertNames(r.query(fmt.Sprintf(`ALERTS{%s}`, r.sel))), e2eSummarize(env.hook.Messages()))
	}
	toPage := msg.Received.Sub(start)
	if alert.Labels["cpu"] != hot {
		t.Errorf("FALSE PAGE: for CPU %s, want CPU %s: %v", alert.Labels["cpu"], hot, alert.Labels)
	}
	desc := alert.Annotations["description"]
	t.Logf("PAGE after %s at %s: %s\n  summary: %s\n  description: %s", toPage.Round(time.Second), msg.Receiver, promtest.FormatLabels(alert.Labels), alert.Annotations["summary"], desc)
	for _, want := range append([]string{dev}, r.sc.wantInPage...) {
		if !strings.Contains(desc, want) {
			t.Errorf("the page's description does not name %q", want)
		}
	}
	e2eCheckRunbookURL(t, alert.Annotations["runbook_url"], "netirqcpusaturated", filepath.Join(env.root, "alerts", "RUNBOOK.md"))
	if msg.Receiver != "pager" {
		t.Errorf("the page went to receiver %q, want the example's critical route to pager", msg.Receiver)
	}
	if strings.Contains(desc, "eth0") || strings.Contains(desc, "<no value>") || strings.Contains(desc, "error executing") {
		t.Errorf("the page names an idle device or renders badly: %q", desc)
	}
	fair := r.value(fmt.Sprintf(`instance_cpu:netirq_softnet_processed_packets:fair_share_ratio{%s, cpu=%q}`, r.sel, hot))
	if fair < scenarioBadFairShare {
		t.Errorf("CPU %s processes %.2f times its fair share, want at least %g", hot, fair, scenarioBadFairShare)
	}
	first := r.checkReport(dev)
	var fixedAt time.Time
	if r.sc.applyFix {
		// With the flood running and the page firing: every dashboard panel
		// query returns data (or has a stated reason not to, e2eNoData).
		e2eCheckDashboards(r.ctx, t, r.prom, filepath.Join(env.root, "dashboards"), r.instance, map[string]string{
			"job": e2eJob, "instance": r.instance, "device": dev, "cpu": hot,
		})
		fixedAt = r.applyFix(first)
	}
	stop()
	// Time to resolve: from the fix, else from the end of the traffic. A
	// resolve before that is a flap of the page, counted and logged.
	since, cause := time.Now(), "the end of traffic"
	if !fixedAt.IsZero() {
		since, cause = fixedAt, "the fix"
	}
	flaps := 0
	for _, m := range env.hook.Messages() {
		for _, a := range m.Alerts {
			if a.Labels["alertname"] == "NetIRQCPUSaturated" && a.Labels["instance"] == r.instance && a.Status == "resolved" && m.Received.Before(since) {
				flaps++
			}
		}
	}
	isResolved := func(m promtest.WebhookMessage, a promtest.WebhookAlert) bool {
		return a.Labels["alertname"] == "NetIRQCPUSaturated" && a.Labels["instance"] == r.instance && a.Status == "resolved" && !m.Received.Before(since)
	}
	toResolve := "not within 3m"
	if m, _, err := env.hook.WaitFor(r.ctx, isResolved, 3*time.Minute); err == nil {
		toResolve = m.Received.Sub(since).Round(time.Second).String()
	} else {
		t.Errorf("the page did not resolve within 3m of %s", cause)
	}
	if _, a, ok := env.hook.Find(func(m promtest.WebhookMessage, a promtest.WebhookAlert) bool {
		return a.Labels["instance"] == r.instance && a.Labels["severity"] == "critical" && a.Labels["cpu"] != hot
	}); ok {
		t.Errorf("FALSE PAGE: %v", a.Labels)
	}
	return fmt.Sprintf("page after %s (CPU %s, fair share x%.2f), resolved %s after %s, %d resolve(s) before it; report: %s",
		toPage.Round(time.Second), hot, fair, toResolve, cause, flaps, first)
}

// checkReport runs `report --json` during the traffic and checks that its
// first diagnosis is the hot CPU, fed by the lab's device, with a fix; it
// returns the first diagnosis as one line.
func (r *scenarioRun) checkReport(dev string) string {
	t := r.t
	ctx, cancel := context.WithTimeout(r.ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, r.exporterBinary(), "report", "--json", "--interval", "10s", "--path.sysfs="+r.lab.SysfsRoot()).Output()
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	var rep report.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("report JSON: %v", err)
	}
	text, _ := exec.CommandContext(ctx, r.exporterBinary(), "report", "--interval", "2s", "--path.sysfs="+r.lab.SysfsRoot()).Output()
	t.Logf("report (text, first lines):\n%s", firstLines(string(text), 12))
	if len(rep.Diagnosis) == 0 {
		t.Fatalf("the report diagnoses no hot CPU (unknown: %q)", rep.DiagnosisUnknown)
	}
	h := rep.Diagnosis[0]
	if fmt.Sprint(h.CPU) != r.sc.hotCPU || len(h.FedBy) == 0 || h.FedBy[0].Device != dev || len(h.Fix) == 0 {
		t.Fatalf("first diagnosis: CPU %d (%s) fed by %+v, fix %q; want CPU %s fed by %s with a fix", h.CPU, h.Why, h.FedBy, h.Fix, r.sc.hotCPU, dev)
	}
	switch {
	case r.sc.rps != "":
		if h.FedBy[0].Via != "rps" || !strings.Contains(h.Fix[0], "rps_cpus") {
			t.Errorf("first diagnosis: via %s, fix %q; want the RPS masks", h.FedBy[0].Via, h.Fix[0])
		}
	case r.sc.threaded:
		n := 0
		for _, th := range rep.Threads {
			if strings.HasPrefix(th.Name, "napi/"+dev+"-") {
				n++
			}
		}
		if n == 0 || h.FedBy[0].Via != "napi_thread" {
			t.Errorf("report: %d napi/%s-* threads, via %s; want the threads", n, dev, h.FedBy[0].Via)
		}
	default:
		found := false
		for _, f := range rep.Findings {
			if f.Check == "single_queue_no_rps" && f.Device == dev {
				found = true
			}
			if f.Check == "single_queue_no_rps" && f.Device != dev && found == false {
				t.Errorf("single_queue_no_rps for %s ranks above the device with traffic", f.Device)
			}
		}
		if !found {
			t.Errorf("no single_queue_no_rps finding for %s", dev)
		}
	}
	return fmt.Sprintf("CPU %d fed by %s via %s, fix %q", h.CPU, h.FedBy[0].Device, h.FedBy[0].Via, h.Fix[0])
}

func (r *scenarioRun) exporterBinary() string { return r.env.exporterBin }

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// fixCommand matches the report's RPS fix: echo MASK > /sys/class/net/DEV/queues/rx-N/rps_cpus.
var fixCommand = regexp.MustCompile(`echo ([0-9a-f,]+) > /sys/class/net/([^/ ]+)/queues/rx-([0-9]+)/rps_cpus`)

// applyFix applies the printed RPS commands to the lab's sysfs (the device
// lives in the lab's namespace, not under the host's /sys), then waits for
// CPU 1's drops to fall to about zero with the flood still running.
func (r *scenarioRun) applyFix(first string) time.Time {
	t := r.t
	cmds := fixCommand.FindAllStringSubmatch(first, -1)
	if len(cmds) != r.lab.Queues() {
		t.Fatalf("the fix %q has %d rps_cpus commands, want %d", first, len(cmds), r.lab.Queues())
	}
	for _, c := range cmds {
		if c[2] != r.lab.RxDevice() {
			t.Fatalf("the fix names %s, want %s", c[2], r.lab.RxDevice())
		}
		var q int
		fmt.Sscan(c[3], &q)
		if err := r.lab.SetRPS(q, c[1]); err != nil {
			t.Fatal(err)
		}
	}
	fixed := time.Now()
	drops := fmt.Sprintf(`instance_cpu:netirq_softnet_dropped_packets:rate1m{%s, cpu=%q}`, r.sel, r.sc.hotCPU)
	before := r.value(drops)
	// The fix spreads the hot CPU's work: its share of the processed
	// packets falls to a fair one (at most cpu_imbalance, 1.5, the shipped
	// threshold, times it) and its drops to at most half. Not to zero: a
	// flood that keeps both CPUs of this VM busy still overflows a backlog
	// now and then: the spread scenario drops 8-37/s; after the fix
	// measured 404 -> 8.7, 966 -> 28, 752 -> 36, 18 -> 0, and once, with
	// both CPUs at 0.94 busy, 695 -> 325 per second. The 1m rate forgets
	// the drops before the fix after a minute: the rates are read only once
	// their whole window follows the fix, and drops come in bursts (when a
	// flood starts).
	limit := max(1, before/2)
	share := fmt.Sprintf(`instance_cpu:netirq_softnet_processed_packets:fair_share_ratio{%s, cpu=%q}`, r.sel, r.sc.hotCPU)
	time.Sleep(65 * time.Second)
	if _, err := r.prom.WaitFor(r.ctx, drops, func(s []promtest.Sample) bool { return len(s) == 1 && s[0].Value <= limit }, 40*time.Second); err != nil {
		t.Errorf("drops on CPU %s did not fall to %.1f/s within 105s of the fix (from %.0f/s): %v", r.sc.hotCPU, limit, before, err)
	}
	if v := r.value(share); v > 1.5 {
		t.Errorf("CPU %s still processes %.2f times its fair share after the fix", r.sc.hotCPU, v)
	}
	t.Logf("FIX applied (%d rps_cpus commands): CPU %s drops %.0f/s -> %.1f/s after %s; %s", len(cmds), r.sc.hotCPU, before, r.value(drops),
		time.Since(fixed).Round(time.Second), r.signals(r.sc.hotCPU))
	return fixed
}
