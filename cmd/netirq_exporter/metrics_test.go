package main

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/netirq/netirq_exporter/internal/testutil"
)

// TestMetricsMethods: HEAD answers a GET's headers without reading a
// snapshot; POST, PUT and DELETE get 405 with Allow, and read nothing
// either; a GET reads one.
func TestMetricsMethods(t *testing.T) {
	e := fixtureExporter(t, false)
	h := metricsHandler(e, &serveOptions{maxRequests: 40}, quietLogger())
	serve := func(method, acceptEncoding string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/metrics", nil)
		req.Header.Set("Accept-Encoding", acceptEncoding)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, enc := range []string{"", "gzip"} {
		rec := serve(http.MethodHead, enc)
		hdr := rec.Header()
		if rec.Code != http.StatusOK || rec.Body.Len() != 0 || hdr.Get("Content-Type") != contentType ||
			hdr.Get("Vary") != "Accept-Encoding" || (hdr.Get("Content-Encoding") == "gzip") != (enc == "gzip") {
			t.Errorf("HEAD, Accept-Encoding %q: %d, %d bytes, headers %v", enc, rec.Code, rec.Body.Len(), hdr)
		}
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		rec := serve(method, "gzip")
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q; want 405 and GET, HEAD", method, rec.Code, rec.Header().Get("Allow"))
		}
	}
	if reads := e.Source().Reads(); reads != 0 {
		t.Errorf("HEAD and refused methods read %d snapshots, want none", reads)
	}
	if rec := serve(http.MethodGet, "gzip"); rec.Code != http.StatusOK || e.Source().Reads() != 1 {
		t.Errorf("GET: %d, %d snapshot reads; want 200 and 1", rec.Code, e.Source().Reads())
	}
}

// TestMetricsContentLength: over a real connection, a scrape's body comes
// with its Content-Length, in either encoding.
func TestMetricsContentLength(t *testing.T) {
	srv := httptest.NewServer(metricsHandler(fixtureExporter(t, false), &serveOptions{maxRequests: 40}, quietLogger()))
	defer srv.Close()
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	for _, enc := range []string{"identity", "gzip"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Accept-Encoding", enc)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.ContentLength <= 0 || resp.ContentLength != int64(len(body)) || resp.TransferEncoding != nil {
			t.Errorf("%s: Content-Length %d, %d bytes, Transfer-Encoding %v", enc, resp.ContentLength, len(body), resp.TransferEncoding)
		}
		if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
			t.Errorf("%s: Content-Length header %q", enc, got)
		}
	}
}

// failingWriter is a connection the client has closed.
type failingWriter struct{ *httptest.ResponseRecorder }

func (failingWriter) Write([]byte) (int, error) { return 0, syscall.EPIPE }

// TestMetricsLogLevels: a client that went away is logged at debug, not
// as an error; a gathering error still is one, and the scrape still gets
// what was gathered.
func TestMetricsLogLevels(t *testing.T) {
	logs := &testutil.LogBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := textHandler(fixtureExporter(t, false), nil, 40, 0, logger)
	h.ServeHTTP(failingWriter{httptest.NewRecorder()}, httptest.NewRequest("GET", "/metrics", nil))
	if out := logs.String(); !strings.Contains(out, "level=DEBUG msg=\"client gone") || strings.Contains(out, "level=ERROR") {
		t.Errorf("a closed connection, logged:\n%s", out)
	}

	logs = &testutil.LogBuffer{}
	logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	broken := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, errors.New("broken gatherer") })
	h = textHandler(fixtureExporter(t, false), broken, 40, 0, logger)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if out := logs.String(); !strings.Contains(out, "level=ERROR msg=\"error gathering metrics\"") || !strings.Contains(out, "broken gatherer") {
		t.Errorf("a gathering error, logged:\n%s", out)
	}
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "netirq_irq_interrupts_total{") {
		t.Errorf("a gathering error: %d, %d bytes; want 200 and what was gathered", rec.Code, rec.Body.Len())
	}
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}
