package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/collector"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/report"
)

func fixtureConfig(root string) collector.Config {
	cfg := collector.DefaultConfig()
	cfg.ProcPath, cfg.SysPath = filepath.Join(root, "proc"), filepath.Join(root, "sys")
	return cfg
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// buildBinary builds this command into a temp dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	bin := filepath.Join(t.TempDir(), "netirq_exporter")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestReportBinaryThisMachine runs the real binary's report on this host
// and checks it against an in-process snapshot: every NIC with queue IRQs
// is named with each queue IRQ and its kind (on the Firecracker build VM:
// eth0, IRQ 38 rx and 39 tx), every online CPU has a row, and --json
// decodes into report.Report with no unknown field.
func TestReportBinaryThisMachine(t *testing.T) {
	bin := buildBinary(t)
	exporter, err := collector.NewExporter(collector.DefaultConfig(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	snap := exporter.Source().Snapshot()
	type irqRow struct {
		dev, kind string
		irq       int
	}
	var want []irqRow
	if snap.Interrupts != nil {
		for _, line := range snap.Interrupts.IRQs {
			c := snap.IRQClasses[line.IRQ]
			if c.IsNIC() && c.Queue >= 0 && c.Kind != kernel.KindOther {
				want = append(want, irqRow{c.Device, string(c.Kind), line.IRQ})
			}
		}
	}
	if len(want) == 0 || snap.Topology == nil {
		msg := "this machine has no NIC queue IRQs or no CPU topology to report on"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %v: %v\n%s", bin, args, err, stderr.String())
		}
		return stdout.String()
	}

	text := run("report", "--interval", "1s")
	t.Logf("report on this machine:\n%s", text)
	lines := strings.Split(text, "\n")
	for _, w := range want {
		if !strings.Contains(text, "\n"+w.dev+"  ") {
			t.Errorf("no section for device %s", w.dev)
		}
		found := false
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) > 3 && f[1] == w.kind && f[2] == strconv.Itoa(w.irq) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s row for IRQ %d of %s", w.kind, w.irq, w.dev)
		}
	}
	for _, cpu := range snap.Topology.Online.List() {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, strconv.Itoa(cpu)+" ") }) {
			t.Errorf("no row for CPU %d", cpu)
		}
	}

	var r report.Report
	dec := json.NewDecoder(strings.NewReader(run("report", "--interval", "0.5s", "--json")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("--json does not decode into report.Report: %v", err)
	}
	if r.IntervalSeconds < 0.5 || r.IntervalSeconds > 5 || r.Host == "" || r.Findings == nil || r.Warnings == nil {
		t.Errorf("JSON report header: %+v", r)
	}
	for _, w := range want {
		queueFound := false
		for _, d := range r.Devices {
			for _, q := range d.Queues {
				if d.Name == w.dev && q.IRQ == w.irq && q.Kind == w.kind {
					queueFound = q.InterruptsPerSecond != nil
				}
			}
		}
		if !queueFound {
			t.Errorf("JSON: no %s row with an interrupt rate for IRQ %d of %s", w.kind, w.irq, w.dev)
		}
	}
	if len(r.CPUs) != snap.Topology.Online.Count() {
		t.Errorf("JSON: %d CPU rows, %d CPUs online", len(r.CPUs), snap.Topology.Online.Count())
	}
	for _, c := range r.CPUs {
		if c.SoftirqPercent == nil || c.NetRxPerSecond == nil {
			t.Errorf("JSON: CPU %d lacks softirq_percent or net_rx_per_second: %+v", c.CPU, c)
		}
	}
}

// TestBinaryCommands: no command still serves /metrics with the global
// flags; report refuses an interval out of bounds.
func TestBinaryCommands(t *testing.T) {
	bin := buildBinary(t)

	short, stop := context.WithTimeout(t.Context(), 20*time.Second)
	defer stop()
	cmd := exec.CommandContext(short, bin, "--interval", "1s")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "interval") {
		t.Errorf("--interval without report: %v\n%s", err, out)
	}
	cmd = exec.CommandContext(short, bin, "report", "--interval", "100ms")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "want 500ms to 1m0s") {
		t.Errorf("report --interval 100ms: exit %d (%v), want 2:\n%s", code, err, out)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	serve := exec.CommandContext(ctx, bin, "--web.listen-address=127.0.0.1:0", "--web.disable-exporter-metrics")
	stderr, err := serve.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = serve.Process.Kill()
		_ = serve.Wait()
	}()
	addrRe := regexp.MustCompile(`msg="Listening on" address=(\S+)`)
	addr := ""
	sc := bufio.NewScanner(stderr)
	for addr == "" && sc.Scan() {
		if m := addrRe.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatal("the default command did not start listening")
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `netirq_scrape_collector_success{collector="findings"}`) {
		t.Errorf("GET /metrics: %s\n%.2000s", resp.Status, body)
	}
}
