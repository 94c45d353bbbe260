//go:build linux

// Package promtest runs the real Prometheus and Alertmanager servers for
// tests: each on 127.0.0.1 with a free port and its own temporary storage,
// stopped (SIGTERM, then SIGKILL) and cleaned up with t.Cleanup even when the
// test fails; the server's log tail is attached to a failing test. It also
// has a PromQL query client (instant, range, WaitFor) and a webhook receiver
// that decodes what Alertmanager sends.
//
// Binaries are looked up in PATH: prometheus (Debian package prometheus) and
// prometheus-alertmanager or alertmanager (Debian package
// prometheus-alertmanager). A missing binary skips the test with what to
// install, except under CI=true, where it fails it (CI must run every test).
//
// Every wait here is bounded in time, and every poll loop in count.
package promtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/testutil"
	yaml "go.yaml.in/yaml/v2"
)

// Debian packages that provide the binaries (`make deps` installs them as
// root).
const (
	PrometheusPackage   = "prometheus"
	AlertmanagerPackage = "prometheus-alertmanager"
)

const (
	// ReadyTimeout bounds the wait for a server's /-/ready.
	ReadyTimeout = 60 * time.Second
	// stopTimeout is how long a server gets to exit after SIGTERM.
	stopTimeout = 10 * time.Second
	// portAttempts bounds the restarts on a port taken between our probe
	// and the server's bind.
	portAttempts = 3
	// pollInterval is the WaitFor and readiness poll period.
	pollInterval = 250 * time.Millisecond
	// logTail is how much of a server's log a failing test shows.
	logTail = 8 << 10
	// maxBody bounds every HTTP body read here.
	maxBody = 32 << 20
)

// SkipOrFatal skips the test with msg, or fails it when the environment
// variable CI is "true" (CI never silently skips).
func SkipOrFatal(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: this test must not skip)", msg)
	}
	t.Skip("skipping: " + msg)
}

// LookTool returns the path of the first of names found in PATH. When none
// is, it skips the test saying which Debian package to install (or fails it
// under CI=true).
func LookTool(t testing.TB, debPackage string, names ...string) string {
	t.Helper()
	if p, err := FindTool(names...); err == nil {
		return p
	}
	SkipOrFatal(t, fmt.Sprintf("%s not found in PATH: install Debian package %s (make deps does, as root)",
		strings.Join(names, " or "), debPackage))
	return ""
}

// FindTool returns the path of the first of names found in PATH.
func FindTool(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of %v in PATH", names)
}

// PrometheusBinary is LookTool for prometheus.
func PrometheusBinary(t testing.TB) string {
	t.Helper()
	return LookTool(t, PrometheusPackage, "prometheus")
}

// AlertmanagerBinary is LookTool for Alertmanager (Debian names it
// prometheus-alertmanager, upstream alertmanager).
func AlertmanagerBinary(t testing.TB) string {
	t.Helper()
	return LookTool(t, AlertmanagerPackage, "prometheus-alertmanager", "alertmanager")
}

// FreeAddr returns 127.0.0.1:<port> for a port that was free a moment ago.
// Another process may take it before it is used; the Start functions here
// retry with a new port when the server reports it in use.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("promtest: finding a free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// Process is a server process started by this package.
type Process struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	logs *testutil.LogBuffer
}

// Logs returns what the process wrote to stdout and stderr (its first MiB).
func (p *Process) Logs() string { return p.logs.String() }

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM, waits up to 10 s, then SIGKILLs and waits up to 5 s
// more. It is safe to call more than once.
func (p *Process) Stop() error {
	if p.Exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return fmt.Errorf("%s (pid %d) ignored SIGTERM for %s; killed", p.Name, p.PID(), stopTimeout)
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.Name, p.PID())
	}
}

// StartProcess starts bin with args in dir, its output kept in memory, and
// registers a cleanup that stops it and, when the test failed, logs the tail
// of its output. The process gets SIGKILL if the test binary dies first.
func StartProcess(t testing.TB, name, dir, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{Name: name, done: make(chan struct{}), logs: &testutil.LogBuffer{}}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("promtest: starting %s: %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("promtest: %v", err)
		}
		if t.Failed() {
			t.Logf("%s (pid %d) log tail:\n%s", name, p.PID(), tail(p.Logs(), logTail))
		}
	})
	return p
}

// waitReady polls url until it answers 200, the process exits, or timeout.
func waitReady(p *Process, rawURL string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for i := 0; time.Now().Before(deadline) && i < int(timeout/pollInterval)+1; i++ {
		if p.Exited() {
			return fmt.Errorf("%s exited before it was ready (%s)", p.Name, p.cmd.ProcessState)
		}
		resp, err := client.Get(rawURL)
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(pollInterval)
	}
	return fmt.Errorf("%s not ready at %s within %s", p.Name, rawURL, timeout)
}

// startServer starts a server on a free 127.0.0.1 port, retrying with
// another port when the one found free was taken meanwhile, and waits for
// its /-/ready.
func startServer(t testing.TB, name, dir, bin string, args func(addr string) []string) (*Process, string) {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < portAttempts; attempt++ {
		addr := FreeAddr(t)
		p := StartProcess(t, name, dir, bin, args(addr)...)
		err := waitReady(p, "http://"+addr+"/-/ready", ReadyTimeout)
		if err == nil {
			return p, addr
		}
		lastErr = fmt.Errorf("%w\n%s log tail:\n%s", err, name, tail(p.Logs(), logTail))
		_ = p.Stop()
		if !strings.Contains(p.Logs(), "address already in use") {
			break
		}
	}
	t.Fatalf("promtest: %v", lastErr)
	return nil, ""
}

// Prometheus is a running Prometheus server.
type Prometheus struct {
	URL        string // http://127.0.0.1:PORT
	Addr       string // 127.0.0.1:PORT, also what Prometheus uses as its own instance
	Dir        string // temporary directory: prometheus.yml and data/
	ConfigFile string
	Process    *Process
	client     *http.Client
}

// StartPrometheus writes configYAML to a temporary prometheus.yml, appends
// ruleFiles (made absolute) to its rule_files, and runs prometheus with a
// temporary --storage.tsdb.path, --web.listen-address 127.0.0.1:<free port>
// and --web.enable-lifecycle (so Reload works), plus extraArgs. It returns
// once /-/ready answers (at most ReadyTimeout). Relative paths already in
// the config resolve against the temporary directory, so pass absolute
// ones. Stopped and removed by t.Cleanup.
//
// Alerts that fire in the first seconds may be sent before the notifier has
// discovered the Alertmanager; Prometheus then drops them and resends only
// after --rules.alert.resend-delay (default 1m). Pass
// "--rules.alert.resend-delay=1s" in extraArgs when that matters.
func StartPrometheus(t testing.TB, configYAML string, ruleFiles []string, extraArgs ...string) *Prometheus {
	t.Helper()
	bin := PrometheusBinary(t)
	dir := t.TempDir()
	cfg := configYAML
	if len(ruleFiles) > 0 {
		var abs []any
		for _, f := range ruleFiles {
			a, err := filepath.Abs(f)
			if err != nil {
				t.Fatalf("promtest: %v", err)
			}
			if _, err := os.Stat(a); err != nil {
				t.Fatalf("promtest: rule file: %v", err)
			}
			abs = append(abs, a)
		}
		var err error
		cfg, err = EditYAML(cfg, func(root map[string]any) error {
			existing, _ := root["rule_files"].([]any)
			root["rule_files"] = append(existing, abs...)
			return nil
		})
		if err != nil {
			t.Fatalf("promtest: adding rule files to the Prometheus config: %v", err)
		}
	}
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	p, addr := startServer(t, "prometheus", dir, bin, func(addr string) []string {
		return append([]string{
			"--config.file=" + cfgFile,
			"--storage.tsdb.path=" + data,
			"--web.listen-address=" + addr,
			"--web.enable-lifecycle",
		}, extraArgs...)
	})
	return &Prometheus{URL: "http://" + addr, Addr: addr, Dir: dir, ConfigFile: cfgFile, Process: p,
		client: &http.Client{Timeout: 30 * time.Second}}
}

// Reload asks Prometheus to re-read its configuration and rule files
// (POST /-/reload).
func (p *Prometheus) Reload(ctx context.Context) error {
	resp, b, err := roundTrip(ctx, p.client, http.MethodPost, p.URL+"/-/reload", nil)
	if err != nil {
		return err
	}
	return wantOK("reload", resp, b)
}

// roundTrip sends one request (a JSON body when body is not nil) and reads
// at most maxBody of the answer.
func roundTrip(ctx context.Context, client *http.Client, method, url string, body []byte) (*http.Response, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp, b, err
}

// wantOK is the error for an answer other than 200 OK, naming what was asked.
func wantOK(what string, resp *http.Response, body []byte) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", what, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// Sample is one element of an instant query result. A scalar result is one
// Sample without labels.
type Sample struct {
	Labels map[string]string
	Value  float64
	Time   time.Time
}

func (s Sample) String() string {
	return fmt.Sprintf("%s => %g", FormatLabels(s.Labels), s.Value)
}

// Series is one element of a range query result.
type Series struct {
	Labels map[string]string
	Points []Point
}

// Point is a sample of a Series.
type Point struct {
	Time  time.Time
	Value float64
}

// FormatLabels renders a label set as {a="b", c="d"}, sorted by name.
func FormatLabels(ls map[string]string) string {
	names := make([]string, 0, len(ls))
	for n := range ls {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s=%q", n, ls[n])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// APIError is an error answer of the Prometheus HTTP API.
type APIError struct {
	Status    int
	ErrorType string
	Message   string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("prometheus API: %d %s: %s", e.Status, e.ErrorType, e.Message)
}

// apiGet GETs an /api/v1 path and decodes its data field into out.
func (p *Prometheus) apiGet(ctx context.Context, path string, params url.Values, out any) error {
	u := p.URL + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	resp, b, err := roundTrip(ctx, p.client, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	var env struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("prometheus API %s: %s: undecodable answer %q: %w", path, resp.Status, tail(string(b), 512), err)
	}
	if env.Status != "success" {
		return &APIError{Status: resp.StatusCode, ErrorType: env.ErrorType, Message: env.Error}
	}
	return json.Unmarshal(env.Data, out)
}

type apiValue [2]json.RawMessage // [unix seconds, "value"]

func (v apiValue) parse() (time.Time, float64, error) {
	var ts float64
	if err := json.Unmarshal(v[0], &ts); err != nil {
		return time.Time{}, 0, err
	}
	var s string
	if err := json.Unmarshal(v[1], &s); err != nil {
		return time.Time{}, 0, err
	}
	f, err := strconv.ParseFloat(s, 64)
	sec := int64(ts)
	return time.Unix(sec, int64((ts-float64(sec))*1e9)), f, err
}

// Query runs an instant query at the current time.
func (p *Prometheus) Query(ctx context.Context, expr string) ([]Sample, error) {
	return p.QueryInstant(ctx, expr, time.Time{})
}

// QueryInstant runs an instant query at time at (zero: now). Vector and
// scalar results are returned as samples; a string result is an error.
func (p *Prometheus) QueryInstant(ctx context.Context, expr string, at time.Time) ([]Sample, error) {
	params := url.Values{"query": {expr}}
	if !at.IsZero() {
		params.Set("time", formatTime(at))
	}
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.apiGet(ctx, "/api/v1/query", params, &data); err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, err)
	}
	switch data.ResultType {
	case "vector":
		var res []struct {
			Metric map[string]string `json:"metric"`
			Value  apiValue          `json:"value"`
		}
		if err := json.Unmarshal(data.Result, &res); err != nil {
			return nil, err
		}
		out := make([]Sample, 0, len(res))
		for _, r := range res {
			ts, v, err := r.Value.parse()
			if err != nil {
				return nil, fmt.Errorf("query %q: %w", expr, err)
			}
			out = append(out, Sample{Labels: r.Metric, Value: v, Time: ts})
		}
		return out, nil
	case "scalar":
		var v apiValue
		if err := json.Unmarshal(data.Result, &v); err != nil {
			return nil, err
		}
		ts, f, err := v.parse()
		if err != nil {
			return nil, fmt.Errorf("query %q: %w", expr, err)
		}
		return []Sample{{Labels: map[string]string{}, Value: f, Time: ts}}, nil
	default:
		return nil, fmt.Errorf("query %q: result type %q, want vector or scalar", expr, data.ResultType)
	}
}

// QueryRange runs a range query.
func (p *Prometheus) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	params := url.Values{"query": {expr}, "start": {formatTime(start)}, "end": {formatTime(end)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Values []apiValue        `json:"values"`
		} `json:"result"`
	}
	if err := p.apiGet(ctx, "/api/v1/query_range", params, &data); err != nil {
		return nil, fmt.Errorf("range query %q: %w", expr, err)
	}
	if data.ResultType != "matrix" {
		return nil, fmt.Errorf("range query %q: result type %q, want matrix", expr, data.ResultType)
	}
	out := make([]Series, 0, len(data.Result))
	for _, r := range data.Result {
		s := Series{Labels: r.Metric}
		for _, v := range r.Values {
			ts, f, err := v.parse()
			if err != nil {
				return nil, fmt.Errorf("range query %q: %w", expr, err)
			}
			s.Points = append(s.Points, Point{Time: ts, Value: f})
		}
		out = append(out, s)
	}
	return out, nil
}

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64)
}

// WaitFor runs the instant query expr every 250 ms until pred accepts its
// result, and returns that result. It gives up after timeout (or when ctx
// ends) with an error that includes the last result or query error. A nil
// pred accepts any non-empty result.
func (p *Prometheus) WaitFor(ctx context.Context, expr string, pred func([]Sample) bool, timeout time.Duration) ([]Sample, error) {
	if pred == nil {
		pred = func(s []Sample) bool { return len(s) > 0 }
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var (
		last    []Sample
		lastErr error
	)
poll:
	for i := 0; i < int(timeout/pollInterval)+1; i++ {
		last, lastErr = p.Query(ctx, expr)
		if lastErr == nil && pred(last) {
			return last, nil
		}
		select {
		case <-ctx.Done():
			break poll
		case <-time.After(pollInterval):
		}
	}
	if lastErr != nil {
		return nil, fmt.Errorf("waited %s for %q: last error: %w", timeout, expr, lastErr)
	}
	return last, fmt.Errorf("waited %s for %q: last result %v", timeout, expr, last)
}

// RuleGroup is a rule group as /api/v1/rules reports it.
type RuleGroup struct {
	Name  string `json:"name"`
	File  string `json:"file"`
	Rules []Rule `json:"rules"`
}

// Rule is a recording or alerting rule with its evaluation health.
type Rule struct {
	Name      string            `json:"name"`
	Query     string            `json:"query"`
	Type      string            `json:"type"`   // "recording" or "alerting"
	Health    string            `json:"health"` // "ok", "err" or "unknown" (not evaluated yet)
	LastError string            `json:"lastError"`
	State     string            `json:"state"` // alerting rules: inactive, pending, firing
	Duration  float64           `json:"duration"`
	Labels    map[string]string `json:"labels"`
}

// Rules returns the loaded rule groups (GET /api/v1/rules).
func (p *Prometheus) Rules(ctx context.Context) ([]RuleGroup, error) {
	var data struct {
		Groups []RuleGroup `json:"groups"`
	}
	err := p.apiGet(ctx, "/api/v1/rules", nil, &data)
	return data.Groups, err
}

// ActiveAlert is a pending or firing alert as Prometheus reports it.
type ActiveAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
	Value       string            `json:"value"`
}

// Alerts returns the pending and firing alerts (GET /api/v1/alerts).
func (p *Prometheus) Alerts(ctx context.Context) ([]ActiveAlert, error) {
	var data struct {
		Alerts []ActiveAlert `json:"alerts"`
	}
	err := p.apiGet(ctx, "/api/v1/alerts", nil, &data)
	return data.Alerts, err
}

// Target is a scrape target as /api/v1/targets reports it.
type Target struct {
	Labels    map[string]string `json:"labels"`
	ScrapeURL string            `json:"scrapeUrl"`
	Health    string            `json:"health"`
	LastError string            `json:"lastError"`
}

// Targets returns the active scrape targets (GET /api/v1/targets).
func (p *Prometheus) Targets(ctx context.Context) ([]Target, error) {
	var data struct {
		Active []Target `json:"activeTargets"`
	}
	err := p.apiGet(ctx, "/api/v1/targets", url.Values{"state": {"active"}}, &data)
	return data.Active, err
}

// Alertmanager is a running Alertmanager.
type Alertmanager struct {
	URL        string // http://127.0.0.1:PORT
	Addr       string // 127.0.0.1:PORT
	Dir        string
	ConfigFile string
	Process    *Process
}

// StartAlertmanager writes configYAML to a temporary alertmanager.yml and
// runs Alertmanager with a temporary --storage.path, --web.listen-address
// 127.0.0.1:<free port> and clustering off (--cluster.listen-address=),
// plus extraArgs. It returns once /-/ready answers. Stopped and removed by
// t.Cleanup.
func StartAlertmanager(t testing.TB, configYAML string, extraArgs ...string) *Alertmanager {
	t.Helper()
	bin := AlertmanagerBinary(t)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgFile, []byte(configYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	p, addr := startServer(t, "alertmanager", dir, bin, func(addr string) []string {
		return append([]string{
			"--config.file=" + cfgFile,
			"--storage.path=" + data,
			"--web.listen-address=" + addr,
			"--cluster.listen-address=",
		}, extraArgs...)
	})
	return &Alertmanager{URL: "http://" + addr, Addr: addr, Dir: dir, ConfigFile: cfgFile, Process: p}
}

// AMAlert is an alert as Alertmanager's API v2 lists it.
type AMAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"` // active, suppressed, unprocessed
	} `json:"status"`
	Receivers []struct {
		Name string `json:"name"`
	} `json:"receivers"`
}

// Alerts lists the alerts Alertmanager holds (GET /api/v2/alerts).
func (a *Alertmanager) Alerts(ctx context.Context) ([]AMAlert, error) {
	resp, b, err := roundTrip(ctx, amClient, http.MethodGet, a.URL+"/api/v2/alerts", nil)
	if err != nil {
		return nil, err
	}
	if err := wantOK("alertmanager /api/v2/alerts", resp, b); err != nil {
		return nil, err
	}
	var out []AMAlert
	return out, json.Unmarshal(b, &out)
}

// PostableAlert is an alert to send to Alertmanager directly (as Prometheus
// would), for testing routes. Zero StartsAt means now; zero EndsAt lets
// Alertmanager apply its resolve_timeout.
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// PostAlerts sends alerts to Alertmanager (POST /api/v2/alerts).
func (a *Alertmanager) PostAlerts(ctx context.Context, alerts ...PostableAlert) error {
	b, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	resp, body, err := roundTrip(ctx, amClient, http.MethodPost, a.URL+"/api/v2/alerts", b)
	if err != nil {
		return err
	}
	return wantOK("alertmanager POST /api/v2/alerts", resp, body)
}

// amClient asks Alertmanager's API.
var amClient = &http.Client{Timeout: 30 * time.Second}

// WebhookMessage is Alertmanager's webhook payload (version "4"), plus the
// request path it was posted to and when it arrived.
type WebhookMessage struct {
	Path              string            `json:"-"`
	Received          time.Time         `json:"-"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"` // firing or resolved
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []WebhookAlert    `json:"alerts"`
}

// WebhookAlert is one alert of a WebhookMessage.
type WebhookAlert struct {
	Status       string            `json:"status"` // firing or resolved
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// DecodeWebhook decodes one webhook payload and checks its version.
func DecodeWebhook(r io.Reader) (WebhookMessage, error) {
	var m WebhookMessage
	dec := json.NewDecoder(io.LimitReader(r, maxBody))
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("webhook payload: %w", err)
	}
	if m.Version != "4" {
		return m, fmt.Errorf("webhook payload version %q, want \"4\"", m.Version)
	}
	return m, nil
}

// Webhook is an HTTP server on 127.0.0.1 that collects Alertmanager webhook
// payloads posted to any path under URL (use one path per receiver to tell
// them apart: URL+"/pager", URL+"/ticket").
type Webhook struct {
	URL string

	srv    *httptest.Server
	mu     sync.Mutex
	msgs   []WebhookMessage
	errs   []error
	notify chan struct{} // closed and replaced on every message
}

// NewWebhook starts a webhook receiver, closed by t.Cleanup.
func NewWebhook(t testing.TB) *Webhook {
	t.Helper()
	w := &Webhook{notify: make(chan struct{})}
	// httptest listens on 127.0.0.1:0.
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	w.URL = w.srv.URL
	t.Cleanup(w.srv.Close)
	return w
}

func (w *Webhook) serve(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(rw, "POST only", http.StatusMethodNotAllowed)
		return
	}
	m, err := DecodeWebhook(r.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.errs = append(w.errs, fmt.Errorf("%s: %w", r.URL.Path, err))
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	m.Path, m.Received = r.URL.Path, time.Now()
	w.msgs = append(w.msgs, m)
	close(w.notify)
	w.notify = make(chan struct{})
}

// Messages returns the payloads received so far, in arrival order.
func (w *Webhook) Messages() []WebhookMessage {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]WebhookMessage(nil), w.msgs...)
}

// Errors returns the payloads that could not be decoded.
func (w *Webhook) Errors() []error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]error(nil), w.errs...)
}

// Find returns the first received message and alert that match, if any.
func (w *Webhook) Find(match func(WebhookMessage, WebhookAlert) bool) (WebhookMessage, WebhookAlert, bool) {
	for _, m := range w.Messages() {
		for _, a := range m.Alerts {
			if match(m, a) {
				return m, a, true
			}
		}
	}
	return WebhookMessage{}, WebhookAlert{}, false
}

// WaitFor waits until a message holding an alert that match accepts has
// arrived (or has already), at most timeout.
func (w *Webhook) WaitFor(ctx context.Context, match func(WebhookMessage, WebhookAlert) bool, timeout time.Duration) (WebhookMessage, WebhookAlert, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		w.mu.Lock()
		ch := w.notify
		w.mu.Unlock()
		if m, a, ok := w.Find(match); ok {
			return m, a, nil
		}
		select {
		case <-ch:
		case <-timer.C:
			return WebhookMessage{}, WebhookAlert{}, fmt.Errorf("no matching webhook alert within %s (%d messages received)", timeout, len(w.Messages()))
		case <-ctx.Done():
			return WebhookMessage{}, WebhookAlert{}, ctx.Err()
		}
	}
}

// EditYAML parses a YAML document into generic values (mappings as
// map[string]any, sequences as []any), lets edit change it, and returns it
// marshalled again. Comments and key order are not kept; use it for test
// copies of configuration files, not to rewrite the files themselves.
func EditYAML(doc string, edit func(root map[string]any) error) (string, error) {
	var raw any
	if err := yaml.Unmarshal([]byte(doc), &raw); err != nil {
		return "", err
	}
	if raw == nil {
		raw = map[any]any{}
	}
	conv, err := stringKeys(raw)
	if err != nil {
		return "", err
	}
	root, ok := conv.(map[string]any)
	if !ok {
		return "", errors.New("YAML document is not a mapping")
	}
	if err := edit(root); err != nil {
		return "", err
	}
	out, err := yaml.Marshal(root)
	return string(out), err
}

// stringKeys turns yaml.v2's map[any]any into map[string]any, recursively.
func stringKeys(v any) (any, error) {
	switch x := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("non-string YAML key %v", k)
			}
			c, err := stringKeys(val)
			if err != nil {
				return nil, err
			}
			m[ks] = c
		}
		return m, nil
	case []any:
		for i := range x {
			c, err := stringKeys(x[i])
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	default:
		return v, nil
	}
}
