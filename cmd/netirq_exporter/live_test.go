//go:build linux

package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/live"
	"github.com/netirq/netirq_exporter/internal/report"
)

// TestLiveHandlers: /live and /live.json answer GET and HEAD from the
// snapshots the scrapes took (no read of their own when those are fresh),
// with the page's CSP and no caching; other methods get 405.
func TestLiveHandlers(t *testing.T) {
	exporter := fixtureExporter(t, false)
	h, err := newHandler(exporter, &serveOptions{metricsPath: "/metrics", maxRequests: 40}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// Two scrapes, MinInterval apart: the viewer needs nothing more.
	httpGet(t, srv.URL+"/metrics")
	time.Sleep(live.DefaultMinInterval)
	httpGet(t, srv.URL+"/metrics")
	reads := exporter.Source().Reads()

	resp := liveGet(t, http.MethodGet, srv.URL+livePath)
	page := string(readAll(t, resp))
	if got := exporter.Source().Reads(); got != reads {
		t.Errorf("the page read %d snapshots of its own after two fresh scrapes, want 0", got-reads)
	}
	for k, want := range map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
		"Content-Security-Policy": live.CSP(), "X-Content-Type-Options": "nosniff"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("/live %s: %q, want %q", k, got, want)
		}
	}
	if strings.Count(page, "<svg") != 2 || !strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, `href="live.json"`) {
		t.Errorf("/live lacks its two pictures, its refresh or its JSON link:\n%.2000s", page)
	}

	resp = liveGet(t, http.MethodGet, srv.URL+liveJSONPath)
	var r report.Report
	if err := json.Unmarshal(readAll(t, resp), &r); err != nil {
		t.Fatalf("/live.json: %v", err)
	}
	if resp.Header.Get("Content-Type") != "application/json" || len(r.Devices) == 0 || len(r.CPUs) != 8 || r.IntervalSeconds < live.DefaultMinInterval.Seconds() {
		t.Errorf("/live.json: %s, %d devices, %d CPUs, interval %g s; want JSON of the fixture's 8 CPUs over at least %s",
			resp.Header.Get("Content-Type"), len(r.Devices), len(r.CPUs), r.IntervalSeconds, live.DefaultMinInterval)
	}
	for _, d := range r.Devices {
		if !strings.Contains(page, ">"+d.Name+"</h3>") {
			t.Errorf("the page has no section for %s, which the JSON lists", d.Name)
		}
	}

	if resp := liveGet(t, http.MethodHead, srv.URL+livePath); resp.StatusCode != http.StatusOK || string(readAll(t, resp)) != "" {
		t.Errorf("HEAD /live: %s with a body", resp.Status)
	}
	resp = liveGet(t, http.MethodPost, srv.URL+livePath)
	readAll(t, resp)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /live: %s, Allow %q; want 405 with GET, HEAD", resp.Status, resp.Header.Get("Allow"))
	}
}

func liveGet(t *testing.T, method, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
