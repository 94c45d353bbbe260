package main

import (
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/netirq/netirq_exporter/collector"
)

func fixtureExporter(t *testing.T, dense bool) *collector.Exporter {
	t.Helper()
	cfg := collector.DefaultConfig()
	cfg.ProcPath = "../../testdata/hosts/bigiron-8cpu/proc"
	cfg.SysPath = "../../testdata/hosts/bigiron-8cpu/sys"
	cfg.Interrupts.All = dense
	e, err := collector.NewExporter(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestTextHandler: /metrics is the text format, gzip when asked, with the
// exporter's and its own metrics, in default and dense mode.
func TestTextHandler(t *testing.T) {
	for _, c := range []struct {
		dense bool
		zip   bool
	}{{false, false}, {false, true}, {true, false}, {true, true}} {
		h := metricsHandler(fixtureExporter(t, c.dense), &serveOptions{maxRequests: 40}, slog.New(slog.DiscardHandler))
		zip := c.zip
		req := httptest.NewRequest("GET", "/metrics", nil)
		if zip {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("gzip %v: HTTP %d", zip, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		var body io.Reader = rec.Body
		if enc := rec.Header().Get("Content-Encoding"); zip != (enc == "gzip") {
			t.Fatalf("gzip %v: Content-Encoding %q", zip, enc)
		}
		if zip {
			r, err := gzip.NewReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			body = r
		}
		text, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"\nnetirq_irq_interrupts_total{cpu=\"0\",",
			"\nnetirq_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} ",
			"\nnetirq_softnet_processed_packets_total{cpu=\"0\"} ",
			"\nnetirq_irq_info{",
			"\nnetirq_scrape_collector_success{collector=\"interrupts\"} 1\n",
			"\nnetirq_build_info{",
			"\npromhttp_metric_handler_requests_total{code=\"200\"}",
			"\ngo_goroutines ",
		} {
			if !strings.Contains(string(text), want) {
				t.Errorf("dense %v gzip %v: no %q in the output", c.dense, zip, want)
			}
		}
	}
}

// blockingWriter holds the first write of a response until released.
type blockingWriter struct {
	*httptest.ResponseRecorder
	once    sync.Once
	writing chan struct{}
	release chan struct{}
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.writing); <-w.release })
	return w.ResponseRecorder.Write(p)
}

// TestTextHandlerMaxRequests: a request past --web.max-requests gets
// promhttp's 503.
func TestTextHandlerMaxRequests(t *testing.T) {
	h := metricsHandler(fixtureExporter(t, true), &serveOptions{maxRequests: 1, disableExporterMetrics: true}, slog.New(slog.DiscardHandler))
	first := &blockingWriter{ResponseRecorder: httptest.NewRecorder(),
		writing: make(chan struct{}), release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(first, httptest.NewRequest("GET", "/metrics", nil))
		close(done)
	}()
	<-first.writing
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	close(first.release)
	<-done
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("second request: HTTP %d, want 503", rec.Code)
	}
	if got, want := rec.Body.String(), "Limit of concurrent requests reached (1), try again later.\n"; got != want {
		t.Errorf("503 body %q, want %q", got, want)
	}
	if first.Code != http.StatusOK || !strings.Contains(first.Body.String(), "netirq_irq_interrupts_total{") {
		t.Errorf("first request: HTTP %d, %d bytes", first.Code, first.Body.Len())
	}
	// And past the limit, requests go through again.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("third request: HTTP %d", rec.Code)
	}
}
