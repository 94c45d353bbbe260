package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"sync"

	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// Overlapping scrapes share one snapshot (snapshot.Source); they share its
// encoded body too. Encoding every scrape on its own made 100 concurrent
// gzip scrapes build 100 registries and fill 100 gzip writers (1.17 MB
// each at BestSpeed) over the same numbers: a peak RSS of 60-72 MB, where
// node_exporter needed 36-44 MB (BENCHMARKS.md, "Under load").

// encoding is how a body is sent: the text as it is, or gzip'd.
type encoding int

const (
	identity encoding = iota
	gzipped
	numEncodings
)

// bodyCache holds the bodies of the newest snapshot, one per encoding.
// The first scrape to ask for one encodes it; scrapes that ask meanwhile
// or later wait and share the bytes. A newer snapshot replaces them all,
// so what stays in memory between scrapes is one scrape's bodies.
type bodyCache struct {
	// encode writes the text of snap; it logs its own errors, once per
	// body, rather than once per scrape that shares it.
	encode func(w io.Writer, snap *snapshot.Snapshot)

	mu     sync.Mutex
	snap   *snapshot.Snapshot
	bodies [numEncodings]*bodyCall
	sizes  [numEncodings]int // the last body's size, to size the next buffer
}

type bodyCall struct {
	done chan struct{}
	body []byte
}

func newBodyCache(encode func(w io.Writer, snap *snapshot.Snapshot)) *bodyCache {
	return &bodyCache{encode: encode}
}

// get returns the body of snap in enc, or of a newer snapshot when the
// cache has moved on: that one was read after snap, so after the scrape
// began, and is as good an answer. (Encoding snap alone instead would
// bring back what the cache is for: under 100 concurrent scrapes many
// scrapes of one snapshot arrive here only after the next was read.)
// The bytes must not be modified: other scrapes send them too.
func (c *bodyCache) get(snap *snapshot.Snapshot, enc encoding) []byte {
	c.mu.Lock()
	if c.snap == nil || snap.Time.After(c.snap.Time) {
		c.snap, c.bodies = snap, [numEncodings]*bodyCall{}
	}
	snap = c.snap
	if call := c.bodies[enc]; call != nil {
		c.mu.Unlock()
		<-call.done
		return call.body
	}
	call := &bodyCall{done: make(chan struct{})}
	c.bodies[enc] = call
	hint := c.sizes[enc]
	c.mu.Unlock()
	// Closed even if encode panics (net/http recovers the handler), so
	// that no scrape waits for ever.
	defer close(call.done)
	call.body = c.build(snap, enc, hint)
	c.mu.Lock()
	c.sizes[enc] = len(call.body)
	c.mu.Unlock()
	return call.body
}

// gzipWriters keeps a BestSpeed writer (1.17 MB of state) for the next
// body: promhttp's default level cost about half of a 256-CPU scrape, and
// the text format compresses well at level 1 too.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// build encodes snap in enc into a buffer sized for the last body plus a
// margin, so that it rarely grows (each growth copies the body).
func (c *bodyCache) build(snap *snapshot.Snapshot, enc encoding, hint int) []byte {
	var buf bytes.Buffer
	buf.Grow(hint + hint/8)
	if enc == identity {
		c.encode(&buf, snap)
		return buf.Bytes()
	}
	gz := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(gz)
	gz.Reset(&buf)
	c.encode(gz, snap)
	gz.Close() // into a bytes.Buffer: cannot fail
	return buf.Bytes()
}
