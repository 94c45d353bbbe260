package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/snapshot"
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

// TestFastGzip: the gzip body of a snapshot decodes to exactly its
// identity body, and is compressed.
func TestFastGzip(t *testing.T) {
	text := strings.Repeat("netirq_irq_interrupts_total{cpu=\"1\"} 42\n", 1000)
	c := newBodyCache(func(w io.Writer, _ *snapshot.Snapshot) { io.WriteString(w, text) })
	snap := &snapshot.Snapshot{Time: time.Now()}
	plain, zipped := c.get(snap, identity), c.get(snap, gzipped)
	if string(plain) != text {
		t.Fatalf("identity body changed: %d bytes for %d", len(plain), len(text))
	}
	if len(zipped) >= len(text)/5 {
		t.Errorf("gzip body %d bytes for %d plain: not compressed", len(zipped), len(text))
	}
	r, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	if string(got) != text {
		t.Error("gzip body does not decode to the plain body")
	}
}
