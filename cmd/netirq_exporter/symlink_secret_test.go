package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/collector"
	"github.com/netirq/netirq_exporter/internal/testutil"
	"github.com/prometheus/client_golang/prometheus"
)

// symlinkSecret is what the files outside the tree hold: a shadow-like
// line (no colon-free text for the interrupts parser to swallow) and a
// line without a colon.
const symlinkSecret = "root:$6$hunter2SALT$hunter2HASH:19000:0:99999:7:::\nhunter2 private key material\n"

// symlinkCase replaces files of bigiron-8cpu by symlinks to a file
// outside the tree; want are the failures the log and the report's
// warnings must name (by file).
type symlinkCase struct {
	name  string
	files []string
	want  []string
}

var symlinkCases = []symlinkCase{
	{"attributes", []string{
		"sys/devices/virtual/net/veth0/threaded",
		"sys/devices/virtual/net/veth0/queues/rx-0/rps_cpus",
		"proc/irq/103/smp_affinity_list",
		"proc/irq/103/affinity_hint",
	}, []string{"veth0/threaded: not an integer", "rx-0/rps_cpus: cpu mask", "irq/103/smp_affinity_list: cpu list", "irq/103/affinity_hint: cpu mask"}},
	{"tables", []string{"proc/interrupts", "proc/softirqs", "proc/net/softnet_stat", "proc/stat"},
		[]string{"proc/interrupts: 2 malformed lines", "proc/softirqs: softirqs: 3 problems", "softnet_stat: 2 problems", "proc/stat: stat: no cpuN lines"}},
}

// TestReportAndScrapeNeverQuoteSymlinkTargets: files of the tree that are
// symlinks to a secret outside it fail their parts, and the errors (in the
// log, in the report's warnings) name the files, never what they hold:
// the secret appears in no log line, metric or report.
func TestReportAndScrapeNeverQuoteSymlinkTargets(t *testing.T) {
	for _, tc := range symlinkCases {
		t.Run(tc.name, func(t *testing.T) {
			root := symlinkTree(t, tc.files)
			var logs testutil.LogBuffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			cfg := fixtureConfig(root)
			exporter, err := collector.NewExporter(cfg, logger)
			if err != nil {
				t.Fatal(err)
			}
			var metrics, text, js bytes.Buffer
			if err := exporter.WriteText(&metrics, prometheus.NewRegistry()); err != nil {
				t.Fatal(err)
			}
			runReport(cfg, logger, &reportOptions{interval: minReportInterval}, &text)
			runReport(cfg, logger, &reportOptions{interval: minReportInterval, json: true}, &js)
			for what, out := range map[string]string{"log": logs.String(), "metrics": metrics.String(),
				"report": text.String(), "report --json": js.String()} {
				if i := strings.Index(out, "hunter2"); i >= 0 {
					t.Errorf("the %s holds the secret: …%s…", what, out[max(0, i-200):min(len(out), i+100)])
				}
			}
			for _, want := range tc.want {
				if !strings.Contains(logs.String(), want) || !strings.Contains(text.String(), want) {
					t.Errorf("the log or the report's warnings do not say %q\nlog:\n%s\nreport:\n%s", want, logs.String(), text.String())
				}
			}
		})
	}
}

// symlinkTree copies bigiron-8cpu and makes each of files a symlink to
// one file outside the copy that holds symlinkSecret.
func symlinkTree(t *testing.T, files []string) string {
	t.Helper()
	root := testutil.CopyTree(t, "../../testdata/hosts/bigiron-8cpu")
	secret := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(secret, []byte(symlinkSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, rel := range files {
		p := filepath.Join(root, rel)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(secret, p); err != nil {
			t.Fatal(err)
		}
	}
	return root
}
