package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/collector"
	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/testutil"
	"github.com/prometheus/client_golang/prometheus"
)

// excludedPods is how many pod devices TestReportDeviceExcludeNotRead adds.
const excludedPods = 200

// podTree copies bigiron-8cpu and adds vpod0..vpod<n-1>: virtual devices
// whose rx-0 RPS mask names isolated CPU 7 (an rps_on_isolated_cpu finding
// each, were they read) and whose other files are directories, which fail
// when read (xps_cpus, rx_packets, gro_flush_timeout).
func podTree(t *testing.T, n int) string {
	t.Helper()
	root := testutil.CopyTree(t, "../../testdata/hosts/bigiron-8cpu")
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		if content == "" {
			must(t, os.Mkdir(p, 0o755))
			return
		}
		must(t, os.WriteFile(p, []byte(content), 0o644))
	}
	for i := range n {
		name := fmt.Sprintf("vpod%d", i)
		dev := "sys/devices/virtual/net/" + name
		must(t, os.Symlink("../../devices/virtual/net/"+name, filepath.Join(root, "sys/class/net", name)))
		write(dev+"/threaded", "0\n")
		write(dev+"/queues/rx-0/rps_cpus", "80\n")
		write(dev+"/queues/rx-0/rps_flow_cnt", "0\n")
		write(dev+"/queues/tx-0/xps_cpus", "")
		write(dev+"/statistics/rx_packets", "")
		write(dev+"/gro_flush_timeout", "")
	}
	return root
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestReportDeviceExcludeNotRead: with --collector.device-exclude=^vpod the
// 200 pod devices are not read at all: their unreadable files fail no
// collector, and they are in no snapshot, metric, finding or report line.
// Without the exclude the same tree fails netqueues and tunables and has
// 200 more rps_on_isolated_cpu findings (the pods are really there).
func TestReportDeviceExcludeNotRead(t *testing.T) {
	root := podTree(t, excludedPods)
	cfg := fixtureConfig(root)

	all, err := collector.NewExporter(cfg, quietLogger())
	must(t, err)
	snap := all.Source().Snapshot()
	if snap.NetDevicesErr == nil || snap.TunablesErr == nil || podFindings(diagnosis.Evaluate(snap)) != excludedPods {
		t.Fatalf("without the exclude: net devices error %v, tunables error %v, %d pod findings; want errors and %d",
			snap.NetDevicesErr, snap.TunablesErr, podFindings(diagnosis.Evaluate(snap)), excludedPods)
	}

	cfg.DeviceExclude = regexp.MustCompile(`^vpod`)
	var logs testutil.LogBuffer
	exporter, err := collector.NewExporter(cfg, loggerTo(&logs))
	must(t, err)
	snap = exporter.Source().Snapshot()
	for _, d := range snap.NetDevices {
		if strings.HasPrefix(d.Name, "vpod") {
			t.Fatalf("excluded device %s in the snapshot", d.Name)
		}
	}
	if snap.NetDevicesErr != nil || snap.TunablesErr != nil {
		t.Errorf("excluded devices were read: %v; %v", snap.NetDevicesErr, snap.TunablesErr)
	}
	var metrics, text, js bytes.Buffer
	must(t, exporter.WriteText(&metrics, prometheus.NewRegistry()))
	code := runReport(cfg, loggerTo(&logs), &reportOptions{interval: minReportInterval}, &text)
	runReport(cfg, loggerTo(&logs), &reportOptions{interval: minReportInterval, json: true}, &js)
	for what, out := range map[string]string{"log": logs.String(), "metrics": metrics.String(), "report": text.String(), "report --json": js.String()} {
		if i := strings.Index(out, "vpod"); i >= 0 {
			t.Errorf("the %s names an excluded device: …%s…", what, out[max(0, i-200):min(len(out), i+100)])
		}
	}
	if code != exitOK || strings.Contains(metrics.String(), "_success{collector=\"netqueues\"} 0") {
		t.Errorf("report exit %d, netqueues failing: want both fine\n%s", code, logs.String())
	}
}

func podFindings(fs []diagnosis.Finding) int {
	n := 0
	for _, f := range fs {
		if strings.HasPrefix(f.Device, "vpod") {
			n++
		}
	}
	return n
}

// loggerTo logs in logfmt to w.
func loggerTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// TestReportDeviceExcludeFlagNames: --collector.device-exclude and its old
// name --collector.netqueues.device-exclude set the same exclude, before or
// after the report command; both given must agree.
func TestReportDeviceExcludeFlagNames(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" for an error
	}{
		{[]string{"--collector.device-exclude=^veth"}, "^veth"},
		{[]string{"--collector.netqueues.device-exclude=^veth"}, "^veth"},
		{[]string{"report", "--collector.device-exclude=^cali"}, "^cali"},
		{[]string{"--collector.device-exclude=^veth", "--collector.netqueues.device-exclude=^veth"}, "^veth"},
		{[]string{"--collector.device-exclude=^veth", "--collector.netqueues.device-exclude=^cali"}, ""},
		{[]string{"--collector.device-exclude=("}, ""},
	} {
		c := newCLI()
		c.app.Terminate(func(int) { t.Fatalf("%q: kingpin terminated", tc.args) })
		c.app.ErrorWriter(io.Discard)
		if _, err := c.app.Parse(tc.args); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		cfg, err := c.buildConfig()
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%q: exclude %v, want an error", tc.args, cfg.DeviceExclude)
		case tc.want != "" && (err != nil || cfg.DeviceExclude == nil || cfg.DeviceExclude.String() != tc.want):
			t.Errorf("%q: exclude %v, %v; want %s", tc.args, cfg.DeviceExclude, err, tc.want)
		}
	}
}
