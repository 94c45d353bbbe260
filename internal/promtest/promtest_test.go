//go:build linux

package promtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDecodeWebhook(t *testing.T) {
	// A payload as Alertmanager 0.25 posts it (webhook version 4).
	const payload = `{"receiver":"pager","status":"firing","alerts":[{"status":"firing",
	  "labels":{"alertname":"NetIRQCPUSaturated","cpu":"1","instance":"h:10467","job":"netirq","severity":"critical"},
	  "annotations":{"runbook_url":"https://example.org/RUNBOOK.md#netirqcpusaturated"},
	  "startsAt":"2024-01-02T03:04:05.678Z","endsAt":"0001-01-01T00:00:00Z",
	  "generatorURL":"http://p/graph","fingerprint":"0123456789abcdef"}],
	  "groupLabels":{"alertname":"NetIRQCPUSaturated"},"commonLabels":{"severity":"critical"},
	  "commonAnnotations":{},"externalURL":"http://am","version":"4","groupKey":"{}:{}","truncatedAlerts":0}`
	m, err := DecodeWebhook(strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	if m.Receiver != "pager" || m.Status != "firing" || len(m.Alerts) != 1 {
		t.Fatalf("decoded %+v", m)
	}
	a := m.Alerts[0]
	if a.Labels["cpu"] != "1" || a.Annotations["runbook_url"] == "" || a.StartsAt.Year() != 2024 || a.Fingerprint == "" {
		t.Errorf("decoded alert %+v", a)
	}
	if _, err := DecodeWebhook(strings.NewReader(strings.Replace(payload, `"version":"4"`, `"version":"3"`, 1))); err == nil {
		t.Error("version 3 accepted")
	}
	if _, err := DecodeWebhook(strings.NewReader("{")); err == nil {
		t.Error("truncated payload accepted")
	}
}

func TestEditYAML(t *testing.T) {
	out, err := EditYAML("a:\n  b: [1, 2]\n  c: x\n", func(root map[string]any) error {
		a := root["a"].(map[string]any)
		a["c"] = "y"
		a["b"] = append(a["b"].([]any), 3)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if out != "a:\n  b:\n  - 1\n  - 2\n  - 3\n  c: \"y\"\n" {
		t.Errorf("got %q", out)
	}
}

// TestE2EPrometheusAlertmanagerWebhook runs the whole pipeline these helpers
// exist for: Prometheus scraping itself and evaluating an always-firing
// alert, Alertmanager routing it, the webhook receiving it.
func TestE2EPrometheusAlertmanagerWebhook(t *testing.T) {
	PrometheusBinary(t)
	AlertmanagerBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	hook := NewWebhook(t)
	am := StartAlertmanager(t, `
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: `+hook.URL+`/hook
`)
	rules := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(rules, []byte(`
groups:
  - name: promtest
    rules:
      - record: promtest:up:sum
        expr: sum(up)
      - alert: PromtestAlways
        expr: vector(1)
        labels:
          severity: info
        annotations:
          summary: always firing
`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The scrape target is filled in after start (it is Prometheus itself):
	// this also exercises Reload.
	prom := StartPrometheus(t, `
global:
  scrape_interval: 1s
  evaluation_interval: 1s
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['`+am.Addr+`']
`, []string{rules},
		// Alerts evaluated before the notifier has discovered the
		// Alertmanager are dropped, and Prometheus resends a firing alert
		// only every --rules.alert.resend-delay (default 1m). This alert
		// fires on the first evaluation, so resend every second.
		"--rules.alert.resend-delay=1s")
	cfg, err := os.ReadFile(prom.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg2, err := EditYAML(string(cfg), func(root map[string]any) error {
		root["scrape_configs"] = []any{map[string]any{
			"job_name":       "self",
			"static_configs": []any{map[string]any{"targets": []any{prom.Addr}}},
		}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prom.ConfigFile, []byte(cfg2), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := prom.Reload(ctx); err != nil {
		t.Fatal(err)
	}

	up, err := prom.WaitFor(ctx, `up{job="self"}`, func(s []Sample) bool { return len(s) == 1 && s[0].Value == 1 }, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if up[0].Labels["instance"] != prom.Addr {
		t.Errorf("up: %v, want instance %s", up[0], prom.Addr)
	}
	if _, err := prom.WaitFor(ctx, `promtest:up:sum`, nil, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	s, err := prom.Query(ctx, `scalar(up{job="self"}) * 2`)
	if err != nil || len(s) != 1 || s[0].Value != 2 {
		t.Errorf("scalar query: %v, %v", s, err)
	}
	if _, err := prom.Query(ctx, `rate(up[`); err == nil {
		t.Error("a bad query returned no error")
	}
	series, err := prom.QueryRange(ctx, `up{job="self"}`, time.Now().Add(-time.Minute), time.Now(), time.Second)
	if err != nil || len(series) != 1 || len(series[0].Points) == 0 {
		t.Errorf("range query: %v, %v", series, err)
	}
	targets, err := prom.Targets(ctx)
	if err != nil || len(targets) != 1 || targets[0].Health != "up" {
		t.Errorf("targets: %+v, %v", targets, err)
	}

	msg, alert, err := hook.WaitFor(ctx, func(m WebhookMessage, a WebhookAlert) bool {
		return a.Labels["alertname"] == "PromtestAlways" && a.Status == "firing"
	}, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Path != "/hook" || msg.Receiver != "hook" || alert.Annotations["summary"] != "always firing" || alert.Labels["severity"] != "info" {
		t.Errorf("webhook: %+v / %+v", msg, alert)
	}
	groups, err := prom.Rules(ctx)
	if err != nil || len(groups) != 1 || len(groups[0].Rules) != 2 {
		t.Fatalf("rules: %+v, %v", groups, err)
	}
	for _, r := range groups[0].Rules {
		if r.Health != "ok" {
			t.Errorf("rule %s: health %q %s", r.Name, r.Health, r.LastError)
		}
	}
	alerts, err := am.Alerts(ctx)
	if err != nil || len(alerts) != 1 || alerts[0].Labels["alertname"] != "PromtestAlways" {
		t.Errorf("alertmanager alerts: %+v, %v", alerts, err)
	}
	// An alert posted directly, as Prometheus would.
	if err := am.PostAlerts(ctx, PostableAlert{Labels: map[string]string{"alertname": "PromtestPosted", "severity": "warning"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := hook.WaitFor(ctx, func(m WebhookMessage, a WebhookAlert) bool {
		return a.Labels["alertname"] == "PromtestPosted"
	}, 30*time.Second); err != nil {
		t.Error(err)
	}
	if errs := hook.Errors(); len(errs) > 0 {
		t.Errorf("undecodable webhook payloads: %v", errs)
	}
}
