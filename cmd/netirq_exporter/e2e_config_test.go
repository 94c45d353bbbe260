//go:build linux

package main

import (
	"context"
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
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/promtest"
)

// The end-to-end test's setup: building and starting the exporter, the
// Prometheus and Alertmanager configurations it runs with.

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
