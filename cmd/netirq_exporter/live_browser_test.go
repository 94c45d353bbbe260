//go:build linux

package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/netirq/netirq_exporter/internal/live"
	"github.com/netirq/netirq_exporter/internal/netlab"
	"github.com/netirq/netirq_exporter/internal/promtest"
	"github.com/netirq/netirq_exporter/internal/report"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// TestLiveBrowser loads /live in a real browser (headless Chromium, the
// Debian package) while a real flood runs, and asserts on the DOM the
// browser built:
//
//   - flood: TestScenarioPages' seed004 funnel (a lab veth whose four RX
//     queues all RPS-steer to CPU 1, a UDP flood sent from CPU 0), the
//     exporter pointed at the lab's sysfs. The first diagnosis is CPU 1,
//     fed by the lab's device; CPU 1, and only it, is marked hot in the
//     table, the heat map and the flow map; the device's four queues are
//     listed with RPS CPUs 1; both pictures are SVG.
//   - hostile: the bigiron-8cpu fixture with a device named
//     q"<img src=x onerror=alert(1)> (a sysfs name may hold anything but
//     '/'): it shows as text, and no img or script element exists.
//
// For both: no console error, exception or dialog; no request but to the
// exporter; the page reloads itself (a second load event within
// Refresh + 10 s). The flood page's screenshot is kept in
// $NETIRQ_ARTIFACTS (default .artifacts/ at the repository's root) as
// live-flood.png, the hostile one as live-hostile.png.
//
// Needs root (the lab), chromium and 2 CPUs; skips without them, fails
// under CI=true.
func TestLiveBrowser(t *testing.T) {
	if err := netlab.Prerequisites(); err != nil {
		promtest.SkipOrFatal(t, err.Error())
	}
	chromium := promtest.LookTool(t, "chromium", "chromium")
	if runtime.NumCPU() < 2 {
		promtest.SkipOrFatal(t, "the funnel steers to CPU 1: needs 2 CPUs")
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin, loadgen := filepath.Join(t.TempDir(), "netirq_exporter"), filepath.Join(t.TempDir(), "netirq_loadgen")
	for _, b := range [][2]string{{bin, "./cmd/netirq_exporter"}, {loadgen, "./cmd/netirq_loadgen"}} {
		if err := e2eGoBuild(ctx, root, b[0], b[1]); err != nil {
			t.Fatal(err)
		}
	}
	artifacts := liveArtifactsDir(t, root)

	t.Run("flood", func(t *testing.T) {
		lab := netlab.New(t, netlab.Options{Queues: 4, SenderTxQueues: 5, LoadgenPath: loadgen})
		for q := range lab.Queues() {
			if err := lab.SetRPS(q, "2"); err != nil {
				t.Fatal(err)
			}
		}
		addr := e2eStartExporter(t, bin, "--path.sysfs="+lab.SysfsRoot())
		stop := liveFlood(ctx, t, lab)
		defer stop()
		r := liveWaitDiagnosis(ctx, t, addr, lab.RxDevice())
		t.Logf("report after %s: CPU %d fed by %s via %s", time.Since(start).Round(time.Second), r.Diagnosis[0].CPU, r.Diagnosis[0].FedBy[0].Device, r.Diagnosis[0].FedBy[0].Via)
		doc := liveInBrowser(ctx, t, chromium, addr, filepath.Join(artifacts, "live-flood.png"))
		liveCheckFunnel(t, doc, lab.RxDevice(), lab.Queues())
	})
	t.Run("hostile", func(t *testing.T) {
		const name = `q"<img src=x onerror=alert(1)>`
		tree := testutil.CopyTree(t, filepath.Join(root, "testdata", "hosts", "bigiron-8cpu"))
		liveHostileDevice(t, tree, name)
		addr := e2eStartExporter(t, bin, "--path.procfs="+filepath.Join(tree, "proc"), "--path.sysfs="+filepath.Join(tree, "sys"))
		doc := liveInBrowser(ctx, t, chromium, addr, filepath.Join(artifacts, "live-hostile.png"))
		if n := testutil.Elements(doc, "", func(n *html.Node) bool { return n.Data == "img" || n.Data == "script" }); len(n) > 0 {
			t.Errorf("the device name made %d img/script elements", len(n))
		}
		heads := testutil.Elements(doc, "h3", func(n *html.Node) bool { return testutil.Text(n) == name })
		labels := testutil.Elements(doc, "text", func(n *html.Node) bool { return strings.HasPrefix(testutil.Text(n), name+" ") })
		if len(heads) != 1 || len(labels) < 2 {
			t.Errorf("the device name shows as text in %d headings and %d SVG labels, want 1 and 2 (heat map, flow map)", len(heads), len(labels))
		}
	})
	t.Logf("total %s", time.Since(start).Round(100*time.Millisecond))
}

// liveArtifactsDir is where the screenshots go: $NETIRQ_ARTIFACTS, or
// .artifacts/ at the repository's root.
func liveArtifactsDir(t *testing.T, root string) string {
	dir := os.Getenv("NETIRQ_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(root, ".artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// liveFlood floods the lab from CPU 0 until the returned stop is called
// (at most 5 floods of a minute); stop waits for it to end.
func liveFlood(ctx context.Context, t *testing.T, lab *netlab.Lab) func() {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; i < 5 && ctx.Err() == nil; i++ {
			res, err := lab.Flood(ctx, netlab.FloodOptions{Duration: netlab.MaxFloodDuration, Flows: 256, SenderCPUs: []int{0}})
			if err != nil {
				if !errors.Is(err, context.Canceled) && ctx.Err() == nil {
					t.Errorf("flood: %v", err)
				}
				return
			}
			t.Logf("flood: sent %d (%.0f pps), received %d, rx drops %d", res.Sent, res.PPS, res.Received, res.RxDropped)
		}
	})
	var once sync.Once
	return func() { once.Do(func() { cancel(); wg.Wait() }) }
}

// liveWaitDiagnosis polls /live.json until its first diagnosis is CPU 1
// fed by dev (at most 90 s), and returns that report.
func liveWaitDiagnosis(ctx context.Context, t *testing.T, addr, dev string) report.Report {
	t.Helper()
	var r report.Report
	client := &http.Client{Timeout: 40 * time.Second}
	for i := 0; i < 30; i++ {
		resp, err := client.Get("http://" + addr + liveJSONPath)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r = report.Report{}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v: %.300s", liveJSONPath, err, b)
		}
		if len(r.Diagnosis) > 0 && r.Diagnosis[0].CPU == 1 && len(r.Diagnosis[0].FedBy) > 0 && r.Diagnosis[0].FedBy[0].Device == dev {
			return r
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(3 * time.Second):
		}
	}
	t.Fatalf("no diagnosis of CPU 1 fed by %s in 90 s: %+v (unknown: %q)", dev, r.Diagnosis, r.DiagnosisUnknown)
	return r
}

// liveInBrowser opens /live, waits for it to reload itself, checks what
// the browser saw (no error, no dialog, no request off the exporter),
// keeps a screenshot and returns the DOM after the reload.
func liveInBrowser(ctx context.Context, t *testing.T, chromium, addr, shot string) *html.Node {
	t.Helper()
	tab := newChromeTab(ctx, t, chromium)
	began := time.Now()
	if err := tab.open("http://" + addr + livePath); err != nil {
		t.Fatalf("loading %s: %v", livePath, err)
	}
	loaded := time.Since(began)
	if err := tab.waitLoads(2, live.DefaultRefresh+10*time.Second); err != nil {
		t.Errorf("the page did not reload itself: %v", err)
	}
	page, err := tab.dom()
	if err != nil {
		t.Fatal(err)
	}
	png, err := tab.screenshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	seen := tab.seen()
	t.Logf("first load %s, %d loads, %d requests (%s), screenshot %s", loaded.Round(time.Millisecond), seen.loads,
		len(seen.requests), strings.Join(slices.Compact(slices.Sorted(slices.Values(seen.requests))), ", "), shot)
	for _, w := range seen.warnings {
		t.Logf("browser warning: %s", w)
	}
	if len(seen.errors) > 0 {
		t.Errorf("browser errors: %q", seen.errors)
	}
	if len(seen.dialogs) > 0 {
		t.Errorf("dialogs opened (a script ran): %q", seen.dialogs)
	}
	if off := offHost(seen.requests, addr); len(off) > 0 {
		t.Errorf("requests that did not go to the exporter (%s): %q", addr, off)
	}
	return testutil.ParseHTML(t, page)
}

// liveCheckFunnel asserts what the funnel's page must show.
func liveCheckFunnel(t *testing.T, doc *html.Node, dev string, queues int) {
	t.Helper()
	attr := func(n *html.Node, k string) string { v, _ := testutil.Attr(n, k); return v }
	cpus := func(ns []*html.Node) []string {
		var out []string
		for _, n := range ns {
			out = append(out, cmp.Or(attr(n, "data-cpu"), testutil.Text(n)))
		}
		return out
	}
	diag := testutil.Elements(doc, "div", func(n *html.Node) bool { return testutil.HasClass(n, "hot-cpu") })
	if len(diag) == 0 || attr(diag[0], "data-cpu") != "1" || !strings.Contains(testutil.Text(diag[0]), dev) || !strings.Contains(testutil.Text(diag[0]), "rps_cpus") {
		t.Errorf("the first diagnosis is not CPU 1 fed by %s with an rps_cpus fix", dev)
	}
	rows := testutil.Elements(doc, "tr", func(n *html.Node) bool { return testutil.HasClass(n, "hot") })
	nodes := testutil.Elements(doc, "g", func(n *html.Node) bool { return testutil.HasClass(n, "hot") })
	cols := testutil.Elements(doc, "text", func(n *html.Node) bool { return testutil.HasClass(n, "col") && testutil.HasClass(n, "hot") })
	for what, ns := range map[string][]*html.Node{"table rows": rows, "flow map nodes": nodes, "heat map columns": cols} {
		if got := cpus(ns); !slices.Equal(got, []string{"1"}) {
			t.Errorf("hot CPUs marked in the %s: %v, want CPU 1 alone", what, got)
		}
	}
	devs := testutil.Elements(doc, "div", func(n *html.Node) bool { return testutil.HasClass(n, "device") && attr(n, "data-device") == dev })
	if len(devs) != 1 {
		t.Fatalf("%d sections for %s, want 1", len(devs), dev)
	}
	rx := testutil.Elements(devs[0], "tr", func(n *html.Node) bool { return attr(n, "data-kind") == "rx" })
	if len(rx) != queues {
		t.Errorf("%s lists %d rx queues, want %d", dev, len(rx), queues)
	}
	for _, r := range rx {
		cells := testutil.Elements(r, "td", nil)
		if len(cells) < 7 || testutil.Text(cells[6]) != "1" {
			t.Errorf("%s queue %s: RPS CPUs not 1: %s", dev, attr(r, "data-queue"), testutil.Text(r))
		}
	}
	for _, id := range []string{"heatmap", "flowmap"} {
		figs := testutil.Elements(doc, "figure", func(n *html.Node) bool { return attr(n, "id") == id })
		if len(figs) != 1 || len(testutil.Elements(figs[0], "svg", nil)) != 1 {
			t.Errorf("no SVG in #%s", id)
		}
	}
	t.Logf("DOM: diagnosis of CPU %s, %d hot table rows, %s listed with %d rx queues, %d SVG elements",
		attr(diag[0], "data-cpu"), len(rows), dev, len(rx), len(testutil.Elements(doc, "svg", nil)))
}

// liveHostileDevice adds to a host tree a virtual device called name, its
// one RX queue RPS-steered to CPU 1 (so that the page shows it).
func liveHostileDevice(t *testing.T, tree, name string) {
	t.Helper()
	dev := filepath.Join(tree, "sys", "devices", "virtual", "net", name)
	for rel, content := range map[string]string{"threaded": "0\n", "queues/rx-0/rps_cpus": "02\n",
		"queues/rx-0/rps_flow_cnt": "0\n", "queues/tx-0/xps_rxqs": "0\n"} {
		p := filepath.Join(dev, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(fmt.Sprintf("../../devices/virtual/net/%s", name), filepath.Join(tree, "sys", "class", "net", name)); err != nil {
		t.Fatal(err)
	}
}
