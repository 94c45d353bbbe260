package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/netirq/netirq_exporter/collector"
	"github.com/netirq/netirq_exporter/internal/live"
)

// The live view: /live, the report as a page that reloads itself, and
// /live.json, what `report --json` prints. Both come from the snapshots
// the exporter takes for its scrapes (internal/live); the toolkit's web
// config (TLS, basic auth) wraps them as it wraps /metrics.

const (
	livePath     = "/live"
	liveJSONPath = "/live.json"
	// liveTimeout bounds a viewer's wait: a snapshot read (the Source's
	// own deadline), and the first viewer's wait for a second snapshot.
	liveTimeout = 30 * time.Second
)

// registerLive adds the live page and its JSON to mux, unless the metrics
// are served at one of their paths (a second registration would panic).
func registerLive(mux *http.ServeMux, exporter *collector.Exporter, metricsPath string, logger *slog.Logger) {
	if metricsPath == livePath || metricsPath == liveJSONPath {
		logger.Warn("no live view: --web.telemetry-path takes its path", "path", metricsPath)
		return
	}
	host, _ := os.Hostname()
	v := live.New(exporter.Source(), live.Options{Host: host, Exclude: exporter.DeviceExclude(),
		JSONHref: liveJSONPath[1:]}) // relative: the page may sit below a proxy's prefix
	mux.Handle(livePath, liveHandler(v, false, logger))
	mux.Handle(liveJSONPath, liveHandler(v, true, logger))
}

// liveHandler serves v's current view as the page or as JSON, to GET and
// HEAD.
func liveHandler(v *live.Viewer, asJSON bool, logger *slog.Logger) http.Handler {
	csp := live.CSP()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), liveTimeout)
		defer cancel()
		view, err := v.Current(ctx)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		body, contentType := view.HTML, "text/html; charset=utf-8"
		if asJSON {
			body, contentType = view.JSON, "application/json"
		}
		b, err := body()
		if err != nil {
			logger.Error("rendering the live view", "err", err)
			http.Error(w, "cannot render the report", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method == http.MethodGet {
			w.Write(b)
		}
	})
}
