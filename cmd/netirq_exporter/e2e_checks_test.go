//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/promtest"
)

// The end-to-end test's checks of rules, routes, runbook links and alerts.

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

func e2eSummarize(msgs []promtest.WebhookMessage) string {
	var parts []string
	for _, m := range msgs {
		for _, a := range m.Alerts {
			parts = append(parts, fmt.Sprintf("%s:%s%v", m.Receiver, a.Status, a.Labels))
		}
	}
	return fmt.Sprint(parts)
}
