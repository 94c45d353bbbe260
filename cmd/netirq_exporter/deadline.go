package main

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// scrapeTimeoutHeader is how Prometheus tells a target its scrape timeout.
const scrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

// scrapeContext is r's context with the deadline its scraper gave: the
// header's timeout less offset, so that the answer is written before
// Prometheus gives up, but less at most a tenth of the timeout: encoding
// and sending take milliseconds, and a 1 s scrape_timeout (a 1 s
// interval) must leave the read most of its second on a loaded host.
// Without a usable header the context has no deadline and the Source's
// (--read.timeout) applies.
func scrapeContext(r *http.Request, offset time.Duration) (context.Context, context.CancelFunc) {
	seconds, err := strconv.ParseFloat(r.Header.Get(scrapeTimeoutHeader), 64)
	if err != nil || !(seconds > 0 && seconds <= 3600) { // NaN too
		return context.WithCancel(r.Context())
	}
	timeout := time.Duration(seconds * float64(time.Second))
	return context.WithTimeout(r.Context(), timeout-min(offset, timeout/10))
}
