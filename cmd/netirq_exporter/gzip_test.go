package main

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAcceptsGzip: Accept-Encoding by RFC 9110, 12.5.3: q=0 refuses a
// coding, "*" stands for the unlisted ones, the higher q wins, gzip wins
// a tie, and no or an empty header means identity.
func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"": false, "identity": false, "gzip": true, "GZIP": true, "x-gzip": true, "*": true,
		"gzip, deflate": true, "deflate, GZIP;q=0.5": true, "br, deflate": false,
		"gzip;q=0": false, "gzip; q=0.000": false, "br, gzip; q=0.0": false, "gzip;Q=0": false,
		"*;q=0": false, "*;q=0, gzip": true, "*, gzip;q=0": false, "*;q=0.5, identity;q=1": false,
		"gzip;q=0.5, identity;q=1": false, "gzip;q=1, identity;q=0.5": true, "gzip;q=0.5, identity;q=0.5": true,
		"gzip;q=0.001": true, "identity;q=0, gzip;q=0.1": true, "identity;q=0": false,
		"gzip;q=nan": false, "gzip;q=2": false, "gzip;q=junk, identity": false,
		" gzip ; q = 0.8 , identity ; q = 0.9": false, ",,gzip,,": true,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

// TestFastGzip: a client asking for gzip gets a gzip body that decodes to
// exactly what an identity client gets.
func TestFastGzip(t *testing.T) {
	body := strings.Repeat("netirq_irq_interrupts_total{cpu=\"1\"} 42\n", 1000)
	h := fastGzip(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}))
	plain := httptest.NewRecorder()
	h.ServeHTTP(plain, httptest.NewRequest("GET", "/metrics", nil))
	if plain.Header().Get("Content-Encoding") != "" || plain.Body.String() != body {
		t.Fatalf("identity response changed: encoding %q", plain.Header().Get("Content-Encoding"))
	}
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	zipped := httptest.NewRecorder()
	h.ServeHTTP(zipped, req)
	if zipped.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", zipped.Header().Get("Content-Encoding"))
	}
	if zipped.Body.Len() >= len(body)/5 {
		t.Errorf("gzip body %d bytes for %d plain: not compressed", zipped.Body.Len(), len(body))
	}
	r, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	if string(got) != body {
		t.Error("gzip body does not decode to the plain body")
	}
}
