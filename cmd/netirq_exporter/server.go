package main

import (
	"net/http"
	"time"
)

// serverLimits bound what one client can make the exporter hold. A scrape
// is one GET with a few short headers, answered in well under a second:
// anything much bigger or slower is a broken or hostile client. A bare
// http.Server has no timeouts and takes 1 MiB of headers: 300 clients
// holding unfinished headers grew the process to 472 MB, past the
// Kubernetes limit (128Mi) and systemd's MemoryMax (256M), and a
// slowloris connection stayed open for ever.
type serverLimits struct {
	maxHeaderBytes    int
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
}

var defaultLimits = serverLimits{
	// Prometheus sends a few hundred bytes of headers; basic auth, a
	// bearer token or a browser's cookies for the host fit in 16 KiB.
	// Past it the client gets 431 (Go reads at most 4 KiB beyond).
	maxHeaderBytes: 16 << 10,
	// A scrape's headers arrive in one packet: 10 s spares a slow link
	// and closes a connection that trickles them (slowloris).
	readHeaderTimeout: 10 * time.Second,
	// The whole request; a GET has no body, so only a trickled body hits it.
	readTimeout: 30 * time.Second,
	// From the end of the headers to the last byte sent, the scrape
	// included: above any sensible scrape_timeout (Prometheus' default
	// is 10 s, and it can be no longer than the interval), so it only
	// cuts clients that stopped reading.
	writeTimeout: 2 * time.Minute,
	// Prometheus keeps its connection from one scrape to the next: longer
	// than the usual intervals (15 s to 1 min), so a scrape costs no new
	// TCP and TLS handshake; an idle connection costs ~10 KB.
	idleTimeout: 2 * time.Minute,
}

// newServer is the exporter's http.Server, with limits.
func newServer(handler http.Handler, l serverLimits) *http.Server {
	return &http.Server{
		Handler:           handler,
		MaxHeaderBytes:    l.maxHeaderBytes,
		ReadHeaderTimeout: l.readHeaderTimeout,
		ReadTimeout:       l.readTimeout,
		WriteTimeout:      l.writeTimeout,
		IdleTimeout:       l.idleTimeout,
	}
}
