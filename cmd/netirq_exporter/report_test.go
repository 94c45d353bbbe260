package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
)

// copyHost copies a fixture host tree into a temp dir, symlinks as symlinks.
func copyHost(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case info.IsDir():
			return os.MkdirAll(target, 0o755)
		default:
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// bump adds delta to the token-th whitespace-separated field (0-based) of
// the line of file under root that matches lineRe, keeping the column
// width; hex parses and prints the field in hexadecimal (softnet_stat).
func bump(t *testing.T, root, file, lineRe string, token int, delta uint64, hex bool) {
	t.Helper()
	path := filepath.Join(root, file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	re := regexp.MustCompile(lineRe)
	done := false
	for i, line := range lines {
		if done || !re.MatchString(line) {
			continue
		}
		spans := regexp.MustCompile(`\S+`).FindAllStringIndex(line, -1)
		if token >= len(spans) {
			t.Fatalf("%s: line %q has no field %d", file, line, token)
		}
		s, e := spans[token][0], spans[token][1]
		base, format := 10, "%*d"
		if hex {
			base, format = 16, "%0*x"
		}
		v, err := strconv.ParseUint(line[s:e], base, 64)
		if err != nil {
			t.Fatalf("%s: field %q: %v", file, line[s:e], err)
		}
		lines[i] = line[:s] + fmt.Sprintf(format, e-s, v+delta) + line[e:]
		done = true
	}
	if !done {
		t.Fatalf("%s: no line matches %q", file, lineRe)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fixtureConfig(root string) collector.Config {
	cfg := collector.DefaultConfig()
	cfg.ProcPath, cfg.SysPath = filepath.Join(root, "proc"), filepath.Join(root, "sys")
	return cfg
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func approx(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: nil, want %g", what, want)
		return
	}
	if d := *got - want; d > 1e-6 || d < -1e-6 {
		t.Errorf("%s = %g, want %g", what, *got, want)
	}
}

func queueRow(t *testing.T, r Report, dev string, irq int, kind string, queue int) ReportQueue {
	t.Helper()
	for _, d := range r.Devices {
		if d.Name != dev {
			continue
		}
		for _, q := range d.Queues {
			if q.IRQ == irq && q.Kind == kind && q.Queue == queue {
				return q
			}
		}
	}
	t.Fatalf("no %s row for %s queue %d IRQ %d in %+v", kind, dev, queue, irq, r.Devices)
	return ReportQueue{}
}

// TestBuildReportFixture reads bigiron-8cpu twice through the exporter's
// Source, with counters bumped in between, and checks every rate.
func TestBuildReportFixture(t *testing.T) {
	root := copyHost(t, "../../testdata/hosts/bigiron-8cpu")
	exporter, err := collector.NewExporter(fixtureConfig(root), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	// Fresh snapshots (not shared), then pin the interval to 2 s.
	prev := *exporter.Source().Snapshot()
	bump(t, root, "proc/interrupts", `^\s*100:`, 2, 2000, false)          // IRQ 100, CPU 1: +1000/s
	bump(t, root, "proc/interrupts", `^\s*103:`, 6, 600, false)           // IRQ 103, CPU 5: +300/s
	bump(t, root, "proc/stat", `^cpu1 `, 7, 100, false)                   // softirq +1 s
	bump(t, root, "proc/stat", `^cpu1 `, 6, 20, false)                    // irq +0.2 s
	bump(t, root, "proc/stat", `^cpu1 `, 4, 80, false)                    // idle +0.8 s: 2 s in all
	bump(t, root, "proc/softirqs", `^\s*NET_RX:`, 2, 3000, false)         // CPU 1: 1500/s
	bump(t, root, "proc/softirqs", `^\s*NET_TX:`, 2, 40, false)           // CPU 1: 20/s
	bump(t, root, "proc/net/softnet_stat", `^010fa45e `, 1, 0x20, true)   // dropped: 16/s
	bump(t, root, "proc/net/softnet_stat", `^010fa45e `, 2, 0x10, true)   // time_squeeze: 8/s
	bump(t, root, "proc/net/softnet_stat", `^010fa45e `, 0, 0x1000, true) // processed: 2048/s (last: the line's key)
	cur := *exporter.Source().Snapshot()
	cur.Time = prev.Time.Add(2 * time.Second)
	// Per-queue statistics come from netlink, which a tree cannot fake.
	prev.QueueStats = []nic.QueueStats{{Device: "ens1f0", Queue: 1, Kind: kernel.KindRx, Packets: 1000}}
	cur.QueueStats = []nic.QueueStats{{Device: "ens1f0", Queue: 1, Kind: kernel.KindRx, Packets: 5000}}

	r := BuildReport(&prev, &cur)
	if r.IntervalSeconds != 2 {
		t.Errorf("interval %g, want 2", r.IntervalSeconds)
	}

	q1 := queueRow(t, r, "ens1f0", 100, "combined", 1)
	approx(t, "IRQ 100 interrupts/s", q1.InterruptsPerSecond, 1000)
	approx(t, "ens1f0 queue 1 rx packets/s", q1.RxPacketsPerSecond, 2000)
	if q1.TxPacketsPerSecond != nil {
		t.Errorf("queue 1 tx packets/s %v, want null (no stats)", *q1.TxPacketsPerSecond)
	}
	if q1.SMPAffinity != "1" || q1.EffectiveCPUs != "1" || q1.Nodes != "0" || q1.RPSCPUs != "1-3" || q1.XPSCPUs != "1" {
		t.Errorf("queue 1 row %+v", q1)
	}
	q4 := queueRow(t, r, "ens1f0", 103, "combined", 4)
	approx(t, "IRQ 103 interrupts/s", q4.InterruptsPerSecond, 300)
	if q4.EffectiveCPUs != "5" || q4.Nodes != "1" {
		t.Errorf("queue 4 row %+v", q4)
	}
	approx(t, "IRQ 99 interrupts/s", queueRow(t, r, "ens1f0", 99, "combined", 0).InterruptsPerSecond, 0)
	queueRow(t, r, "ens1f0", 98, "other", -1)
	// veth0 has no IRQs but RPS/XPS masks: rows per queue without an IRQ.
	if v := queueRow(t, r, "veth0", 0, "rx", 0); v.RPSCPUs != "4-7" || v.InterruptsPerSecond != nil {
		t.Errorf("veth0 rx-0 row %+v", v)
	}
	if v := queueRow(t, r, "veth0", 0, "tx", 0); v.XPSCPUs != "0-1" {
		t.Errorf("veth0 tx-0 row %+v", v)
	}

	if len(r.CPUs) != 8 {
		t.Fatalf("%d CPU rows, want 8", len(r.CPUs))
	}
	c1 := r.CPUs[1]
	if c1.CPU != 1 || c1.Node != 0 || c1.Isolated {
		t.Errorf("CPU 1 row %+v", c1)
	}
	approx(t, "CPU 1 softirq %", c1.SoftirqPercent, 50)
	approx(t, "CPU 1 irq %", c1.IRQPercent, 10)
	approx(t, "CPU 1 NET_RX/s", c1.NetRxPerSecond, 1500)
	approx(t, "CPU 1 NET_TX/s", c1.NetTxPerSecond, 20)
	approx(t, "CPU 1 NIC interrupts/s", c1.NICInterruptsPerSecond, 1000)
	approx(t, "CPU 1 processed/s", c1.ProcessedPerSecond, 2048)
	approx(t, "CPU 1 dropped/s", c1.DroppedPerSecond, 16)
	approx(t, "CPU 1 squeezed/s", c1.SqueezedPerSecond, 8)
	approx(t, "CPU 5 NIC interrupts/s", r.CPUs[5].NICInterruptsPerSecond, 300)
	if c7 := r.CPUs[7]; !c7.Isolated || !c7.NohzFull || c7.Node != 1 || c7.SoftirqPercent != nil {
		t.Errorf("CPU 7 row %+v (its /proc/stat did not move: no percentage)", c7)
	}
	approx(t, "CPU 0 NET_RX/s", r.CPUs[0].NetRxPerSecond, 0)

	var checks []string
	for _, f := range r.Findings {
		checks = append(checks, f.Check+"/"+f.IRQ+f.Queue)
		if f.Fix == "" || f.Message == "" {
			t.Errorf("finding without fix or message: %+v", f)
		}
	}
	for _, want := range []string{"irq_remote_numa/1034", "rps_on_isolated_cpu/2", "xps_on_isolated_cpu/7", "affinity_differs_from_hint/1012"} {
		if !slices.Contains(checks, want) {
			t.Errorf("finding %s missing from %v", want, checks)
		}
	}

	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ens1f0  driver mlx5_core", "IRQS/S", "SOFTIRQ%", "[warning] irq_remote_numa: ens1f0 queue 4 IRQ 103 CPU 5",
		"fix: echo 0-3 > /proc/irq/103/smp_affinity_list", "isolated,nohz_full"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	t.Logf("\n%s", text.String())
}

// TestBuildReportCounterReset: a counter that goes backwards (IRQ freed and
// reused, CPU hot-unplugged) gives no rate rather than a huge one; a 32-bit
// softnet counter that wrapped is counted across the wrap.
func TestBuildReportCounterReset(t *testing.T) {
	if r := rate(100, 50, 1, false); r != nil {
		t.Errorf("backwards counter: %v, want nil", *r)
	}
	approx(t, "wrapped softnet counter", rate(0xfffffff0, 0x10, 2, true), 16)
	if r := rate(1, 2, 0, false); r != nil {
		t.Errorf("zero interval: %v, want nil", *r)
	}
}

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
// decodes into Report with no unknown field.
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

	var r Report
	dec := json.NewDecoder(strings.NewReader(run("report", "--interval", "0.5s", "--json")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("--json does not decode into Report: %v", err)
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
