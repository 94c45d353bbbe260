package main

import (
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// fastGzip compresses responses at gzip.BestSpeed for clients that accept
// gzip (Prometheus always does). promhttp's own gzip runs at the default
// level, which cost about half of a 256-CPU scrape in BENCHMARKS.md; the
// text format compresses well at level 1 too.
func fastGzip(next http.Handler) http.Handler {
	writers := sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
		return w
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			next.ServeHTTP(w, r)
			return
		}
		gz := writers.Get().(*gzip.Writer)
		defer writers.Put(gz)
		gz.Reset(w)
		w.Header().Set("Content-Encoding", "gzip")
		next.ServeHTTP(gzipResponseWriter{ResponseWriter: w, gz: gz}, r)
		gz.Close()
	})
}

type gzipResponseWriter struct {
	http.ResponseWriter
	gz *gzip.Writer
}

func (g gzipResponseWriter) Write(b []byte) (int, error) { return g.gz.Write(b) }

// acceptsGzip reports whether an Accept-Encoding header allows gzip
// (q=0 refuses it).
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
