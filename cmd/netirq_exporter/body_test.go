package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// countingEncoder counts its encodings; the first one waits for release,
// so that the other scrapes arrive while it runs.
type countingEncoder struct {
	calls   atomic.Int32
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (c *countingEncoder) encode(w io.Writer, snap *snapshot.Snapshot) {
	c.calls.Add(1)
	c.once.Do(func() { close(c.started); <-c.release })
	fmt.Fprintf(w, "snapshot of %d\n", snap.Time.UnixNano())
}

// TestBodyCacheShares: scrapes of one snapshot share one encoding per
// encoding, byte for byte; a newer snapshot replaces the bodies kept; a
// scrape that comes with an older one gets the newer body, with no
// encoding of its own.
func TestBodyCacheShares(t *testing.T) {
	enc := &countingEncoder{started: make(chan struct{}), release: make(chan struct{})}
	c := newBodyCache(enc.encode)
	snap := &snapshot.Snapshot{Time: time.Now()}

	bodies := make([][]byte, 50)
	var wg sync.WaitGroup
	wg.Go(func() { bodies[0] = c.get(snap, gzipped) })
	<-enc.started
	for i := 1; i < len(bodies); i++ {
		wg.Go(func() { bodies[i] = c.get(snap, gzipped) })
	}
	close(enc.release)
	wg.Wait()
	if n := enc.calls.Load(); n != 1 {
		t.Fatalf("%d encodings for %d scrapes of one snapshot, want 1", n, len(bodies))
	}
	for i, b := range bodies {
		if len(b) == 0 || &b[0] != &bodies[0][0] {
			t.Fatalf("scrape %d got other bytes than scrape 0", i)
		}
	}
	c.get(snap, identity)
	c.get(snap, identity)
	if n := enc.calls.Load(); n != 2 {
		t.Errorf("%d encodings after an identity scrape, want 2 (one per encoding)", n)
	}

	newer := &snapshot.Snapshot{Time: snap.Time.Add(time.Second)}
	c.get(newer, gzipped)
	if n := enc.calls.Load(); n != 3 || c.snap != newer || c.bodies[identity] != nil {
		t.Errorf("after a newer snapshot: %d encodings, kept the newer: %v, identity body kept: %v",
			n, c.snap == newer, c.bodies[identity] != nil)
	}
	late, fresh := c.get(snap, gzipped), c.get(newer, gzipped)
	if n := enc.calls.Load(); n != 3 || c.snap != newer || &late[0] != &fresh[0] {
		t.Errorf("a late scrape of the older snapshot: %d encodings (want 3), newer kept: %v, got the newer body: %v",
			n, c.snap == newer, &late[0] == &fresh[0])
	}
}
