package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/netirq/netirq_exporter/collector"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// contentType is the text format 0.0.4, which every Prometheus accepts.
var contentType = string(expfmt.NewFormat(expfmt.TypeTextPlain))

// metricsHandler serves the exporter's metrics, and with selfMetrics the
// Go runtime and process metrics of the exporter itself, through
// textHandler; promhttp's instrumentation counts the scrapes (GETs).
func metricsHandler(exporter *collector.Exporter, opts *serveOptions, logger *slog.Logger) http.Handler {
	maxRequests, selfMetrics := opts.maxRequests, !opts.disableExporterMetrics
	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector("netirq"))
	if selfMetrics {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	handler := textHandler(exporter, reg, maxRequests, opts.timeoutOffset, logger)
	if selfMetrics {
		handler = promhttp.InstrumentMetricHandler(reg, handler)
	}
	return getOrHead(handler)
}

// getOrHead passes GETs to next. A HEAD gets the headers a GET would, with
// no scrape: a health check or a curl -I must not cost a read of every
// file. Anything else is 405; a POST or DELETE used to run a full scrape.
func getOrHead(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		switch r.Method {
		case http.MethodGet:
			next.ServeHTTP(w, r)
		case http.MethodHead:
			w.Header().Set("Content-Type", contentType)
			if acceptsGzip(r.Header.Get("Accept-Encoding")) {
				w.Header().Set("Content-Encoding", "gzip")
			}
		default:
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Method not allowed: the metrics are read with GET (or HEAD).", http.StatusMethodNotAllowed)
		}
	})
}

// textHandler serves what promhttp.HandlerFor would with ContinueOnError
// and MaxRequestsInFlight, always in the text format, through
// Exporter.WriteSnapshotText, which writes the per-CPU families directly,
// most of the series, at a fraction of a registry's cost (BENCHMARKS.md).
// Scrapes that share a snapshot share its body (bodyCache), sent with a
// Content-Length.
func textHandler(exporter *collector.Exporter, others prometheus.Gatherer, maxRequests int, timeoutOffset time.Duration,
	logger *slog.Logger) http.Handler {
	var inFlight chan struct{}
	if maxRequests > 0 {
		inFlight = make(chan struct{}, maxRequests)
	}
	bodies := newBodyCache(func(w io.Writer, snap *snapshot.Snapshot) {
		// Into a buffer: an error is the gathering's, not the client's.
		if err := exporter.WriteSnapshotText(w, snap, others); err != nil {
			logger.Error("error gathering metrics", "err", err)
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if inFlight != nil {
			select {
			case inFlight <- struct{}{}:
				defer func() { <-inFlight }()
			default:
				http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", maxRequests),
					http.StatusServiceUnavailable)
				return
			}
		}
		ctx, cancel := scrapeContext(r, timeoutOffset)
		defer cancel()
		snap, err := exporter.SnapshotBy(ctx)
		if err != nil {
			// The deadline passed while this scrape waited for another's
			// read: nothing is written yet.
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		enc := identity
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			enc = gzipped
			w.Header().Set("Content-Encoding", "gzip")
		}
		body := bodies.get(snap, enc)
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if _, err := w.Write(body); err != nil {
			// The client went away (a scrape timeout, a closed
			// connection): nothing is wrong with the exporter.
			logger.Debug("client gone before the end of the response", "err", err, "remote", r.RemoteAddr)
		}
	})
}
