// Package alerts holds netirq_exporter's Prometheus rules: recording rules
// (netirq-rules.yml), alerts (netirq-alerts.yml), default alert thresholds
// (netirq-thresholds.yml), their promtool unit tests (tests/*.yml) and the
// runbook the alerts link to (RUNBOOK.md). The tests here run promtool on
// them and check that the files agree with each other.
package alerts

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	runbookURL  = "https://github.com/netirq/netirq_exporter/blob/main/alerts/RUNBOOK.md#"
	installHint = "install the Debian package prometheus (make deps does, as root)"
)

// promtool returns promtool's path. Without it the test skips, or fails
// when CI=true (CI must run every test).
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		msg := "promtool not found in PATH: " + installHint
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// runPromtool runs promtool with args in the package directory and fails the
// test with promtool's output when it exits non-zero or does not report
// SUCCESS.
func runPromtool(t *testing.T, path string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool %s: no SUCCESS in output\n%s", strings.Join(args, " "), out)
	}
	return string(out)
}

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no files match %s", pattern)
	}
	return files
}

// ruleFiles are our three rule files plus the fixtures the unit tests load
// in their place or beside them.
func ruleFiles(t *testing.T) []string {
	return append(glob(t, "*.yml"), glob(t, filepath.Join("tests", "testdata", "*.yml"))...)
}

func TestPromtoolCheckRules(t *testing.T) {
	path := promtool(t)
	for _, f := range ruleFiles(t) {
		t.Run(f, func(t *testing.T) {
			out := runPromtool(t, path, "check", "rules", "--lint=all", "--lint-fatal", f)
			t.Log(strings.TrimSpace(out))
		})
	}
}

func TestPromtoolTestRules(t *testing.T) {
	path := promtool(t)
	for _, f := range glob(t, filepath.Join("tests", "*.yml")) {
		t.Run(f, func(t *testing.T) {
			runPromtool(t, path, "test", "rules", f)
		})
	}
}

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func submatches(re *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// githubAnchor is the anchor GitHub gives a Markdown heading: lower case,
// punctuation other than '-' and '_' dropped, spaces to '-'.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestThresholdsWiring checks without promtool that every threshold in
// netirq-thresholds.yml has its override pattern in netirq-rules.yml, is
// compared against by an alert or a recording rule, is watched by NetIRQAlertThresholdsMissing,
// and is explained in RUNBOOK.md.
func TestThresholdsWiring(t *testing.T) {
	thresholds, rules, alerts, runbook := read(t, "netirq-thresholds.yml"), read(t, "netirq-rules.yml"),
		read(t, "netirq-alerts.yml"), read(t, "RUNBOOK.md")
	names := submatches(regexp.MustCompile(`(?m)^\s*- record: netirq:alert_threshold:(\w+)\s*$`), thresholds)
	if len(names) == 0 {
		t.Fatal("no netirq:alert_threshold:* rules in netirq-thresholds.yml")
	}
	for _, n := range names {
		pattern := "max by (instance) (netirq:alert_threshold_override:" + n + ")\n" +
			"          or on (instance)\n" +
			"          (group by (instance) (netirq_scrape_collector_success)\n" +
			"            * on () group_left () max(netirq:alert_threshold:" + n + "))"
		if !strings.Contains(rules, "- record: instance:netirq_alert_threshold:"+n+"\n        expr: |\n          "+pattern) {
			t.Errorf("netirq-rules.yml: instance:netirq_alert_threshold:%s is missing or does not follow the override pattern", n)
		}
		// An alert compares against it, or a recording rule the alerts read
		// does (cpu_busy, net_work_share: instance_cpu:..:starved).
		compare := "on (instance) group_left () instance:netirq_alert_threshold:" + n + "\n"
		if !strings.Contains(alerts, compare) && !strings.Contains(rules, compare) {
			t.Errorf("netirq-alerts.yml, netirq-rules.yml: no rule compares against instance:netirq_alert_threshold:%s", n)
		}
		if !strings.Contains(alerts, "absent(netirq:alert_threshold:"+n+"), \"threshold\", \""+n+"\"") {
			t.Errorf("netirq-alerts.yml: NetIRQAlertThresholdsMissing does not watch netirq:alert_threshold:%s", n)
		}
		if !strings.Contains(runbook, "`"+n+"`") {
			t.Errorf("RUNBOOK.md: threshold %s is not explained", n)
		}
	}
	// Fixtures that stand in for a user's full copy must define every name.
	got := submatches(regexp.MustCompile(`(?m)^\s*- record: netirq:alert_threshold:(\w+)\s*$`),
		read(t, filepath.Join("tests", "testdata", "strict-thresholds.yml")))
	if !slices.Equal(got, names) {
		t.Errorf("tests/testdata/strict-thresholds.yml defines %v, netirq-thresholds.yml %v", got, names)
	}
}

// TestAlertsRunbookAndTests checks without promtool that every alert has a
// severity, a runbook_url pointing at its own RUNBOOK.md section, and unit
// tests with both a firing case and a case where it must stay quiet.
func TestAlertsRunbookAndTests(t *testing.T) {
	alerts, runbook := read(t, "netirq-alerts.yml"), read(t, "RUNBOOK.md")
	anchors := map[string]bool{}
	for _, h := range submatches(regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`), runbook) {
		anchors[githubAnchor(h)] = true
	}
	if !anchors["tuning-thresholds"] {
		t.Error(`RUNBOOK.md: no "Tuning thresholds" section`)
	}
	var tests strings.Builder
	for _, f := range glob(t, filepath.Join("tests", "*.yml")) {
		tests.WriteString(read(t, f))
	}

	// Split the alerts file into one chunk per alert rule.
	chunks := regexp.MustCompile(`(?m)^\s*- alert: `).Split(alerts, -1)[1:]
	if len(chunks) < 6 {
		t.Fatalf("netirq-alerts.yml has %d alerts, want at least 6", len(chunks))
	}
	for _, c := range chunks {
		name := strings.TrimSpace(strings.SplitN(c, "\n", 2)[0])
		if !regexp.MustCompile(`^NetIRQ[A-Z][A-Za-z]+$`).MatchString(name) {
			t.Errorf("alert %q: want CamelCase with prefix NetIRQ", name)
		}
		// A static severity label, or (NetIRQMisconfiguration) none and the
		// series' own severity label kept by the expression's `by` clause.
		static := regexp.MustCompile(`\n\s+severity: (critical|warning|info)\n`).MatchString(c)
		kept := !regexp.MustCompile(`\n\s+labels:\n`).MatchString(c) &&
			regexp.MustCompile(`\bby \([^)]*\bseverity\b[^)]*\)`).MatchString(c)
		if !static && !kept {
			t.Errorf("%s: severity must be critical, warning or info (or kept from the series by the expression)", name)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if !regexp.MustCompile(`\n\s+` + a + `: `).MatchString(c) {
				t.Errorf("%s: no %s annotation", name, a)
			}
		}
		urls := submatches(regexp.MustCompile(`\n\s+runbook_url: (\S+)`), c)
		if len(urls) == 1 {
			anchor, ok := strings.CutPrefix(urls[0], runbookURL)
			// A templated anchor ("#{{ $labels.check }}") links to a section
			// per label value; the alert still needs its own section. The
			// collector's tests check a section exists per check.
			templated := strings.HasPrefix(anchor, "{{")
			switch {
			case !ok:
				t.Errorf("%s: runbook_url %s does not start with %s", name, urls[0], runbookURL)
			case templated && !anchors[githubAnchor(name)]:
				t.Errorf("%s: RUNBOOK.md has no heading for #%s", name, githubAnchor(name))
			case templated:
			case anchor != githubAnchor(name):
				t.Errorf("%s: runbook_url anchor #%s, want #%s", name, anchor, githubAnchor(name))
			case !anchors[anchor]:
				t.Errorf("%s: RUNBOOK.md has no heading for #%s", name, anchor)
			}
		}
		fires := regexp.MustCompile(`- exp_labels:\n\s+alertname: ` + name + `\n(\s+\w+: .+\n)+\s+exp_annotations:\n`)
		if !fires.MatchString(tests.String()) {
			t.Errorf("%s: no unit test where it fires with exp_labels and exp_annotations", name)
		}
		if !regexp.MustCompile(`alertname: ` + name + `\n\s+exp_alerts: \[\]`).MatchString(tests.String()) {
			t.Errorf("%s: no unit test where it must not fire (exp_alerts: [])", name)
		}
	}
}
