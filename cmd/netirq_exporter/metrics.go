package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/netirq/netirq_exporter/collector"
)

// contentType is the text format 0.0.4, which every Prometheus accepts.
var contentType = string(expfmt.NewFormat(expfmt.TypeTextPlain))

// metricsHandler serves the exporter's metrics, and with selfMetrics the
// Go runtime and process metrics of the exporter itself, through
// Exporter.WriteText (textHandler), gzip'd when asked; promhttp's
// instrumentation counts the scrapes (GETs).
func metricsHandler(exporter *collector.Exporter, maxRequests int, selfMetrics bool, logger *slog.Logger) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector("netirq"))
	if selfMetrics {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	handler := textHandler(exporter, reg, maxRequests, logger)
	if selfMetrics {
		handler = promhttp.InstrumentMetricHandler(reg, handler)
	}
	return getOrHead(fastGzip(handler))
}

// getOrHead passes GETs to next. A HEAD gets the headers a GET would, with
// no scrape: a health check or a curl -I must not cost a read of every
// file. Anything else is 405; a POST or DELETE used to run a full scrape.
func getOrHead(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			next.ServeHTTP(w, r)
		case http.MethodHead:
			w.Header().Add("Vary", "Accept-Encoding")
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
// and MaxRequestsInFlight, always in the text format (0.0.4), which every
// Prometheus accepts, through Exporter.WriteText: it writes the per-CPU
// families directly, most of the series, at a fraction of a registry's
// cost (BENCHMARKS.md).
func textHandler(exporter *collector.Exporter, others prometheus.Gatherer, maxRequests int, logger *slog.Logger) http.Handler {
	var inFlight chan struct{}
	if maxRequests > 0 {
		inFlight = make(chan struct{}, maxRequests)
	}
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
		w.Header().Set("Content-Type", contentType)
		if err := exporter.WriteText(w, others); err != nil {
			logger.Error("error gathering or writing metrics", "err", err)
		}
	})
}
