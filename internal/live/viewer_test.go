package live

import (
	"bytes"
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// fakeSource hands out copies of two fixture snapshots, stamped with the
// time of the read, and counts the reads.
type fakeSource struct {
	t         *testing.T
	mu        sync.Mutex
	reads     int
	observers []func(*snapshot.Snapshot)
}

func (f *fakeSource) SnapshotBy(context.Context) (*snapshot.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	prev, cur := funnelPair(f.t, "veth0")
	s := prev
	if f.reads%2 == 1 {
		s = cur
	}
	c := *s
	c.Time = time.Now()
	f.reads++
	for _, fn := range f.observers {
		fn(&c)
	}
	return &c, nil
}

func (f *fakeSource) Observe(fn func(*snapshot.Snapshot)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.observers = append(f.observers, fn)
}

func (f *fakeSource) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// TestViewerCrowdCostsOneViewer: ten viewers at once make the Source read
// what one viewer does (a snapshot, and a second one MinInterval later),
// get the same view, and one report is built; within Refresh nobody reads
// again; a scrape's snapshot (a read by someone else) is used as it is.
func TestViewerCrowdCostsOneViewer(t *testing.T) {
	src := &fakeSource{t: t}
	v := New(src, Options{Refresh: time.Second, MinInterval: 50 * time.Millisecond, JSONHref: "live.json"})
	views := make([]*View, 10)
	var wg sync.WaitGroup
	for i := range views {
		wg.Go(func() {
			var err error
			if views[i], err = v.Current(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := src.count(); n != 2 {
		t.Errorf("ten first viewers made %d reads, want 2 (one, then one MinInterval later)", n)
	}
	for _, view := range views[1:] {
		if view != views[0] {
			t.Fatalf("viewers got different views of the same pair")
		}
	}
	if view, _ := v.Current(context.Background()); view != views[0] || src.count() != 2 {
		t.Errorf("a viewer within Refresh read again (%d reads) or got another view", src.count())
	}
	// A scrape reads: the next viewer uses that snapshot and reads nothing.
	time.Sleep(60 * time.Millisecond)
	src.SnapshotBy(context.Background())
	view, err := v.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if view == views[0] || src.count() != 3 {
		t.Errorf("after a scrape's read: same view %v, %d reads; want a new view and no read of the viewer's", view == views[0], src.count())
	}
	if reads, built := v.Stats(); reads != 2 || built != 2 {
		t.Errorf("Stats: %d reads, %d views; want 2 and 2", reads, built)
	}
	if a, _ := view.HTML(); len(a) == 0 {
		t.Errorf("empty page")
	}
}

// TestViewerReadsWhenStale: once the newest snapshot is Refresh old, the
// next viewer reads one.
func TestViewerReadsWhenStale(t *testing.T) {
	src := &fakeSource{t: t}
	v := New(src, Options{Refresh: 100 * time.Millisecond, MinInterval: 20 * time.Millisecond})
	if _, err := v.Current(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := src.count()
	time.Sleep(120 * time.Millisecond)
	if _, err := v.Current(context.Background()); err != nil {
		t.Fatal(err)
	}
	if src.count() != n+1 {
		t.Errorf("%d reads after the newest snapshot went stale, want %d", src.count(), n+1)
	}
}

// TestViewerJSONIsTheReport: the JSON is what `report --json` prints for
// the view's report, excluded devices left out.
func TestViewerJSONIsTheReport(t *testing.T) {
	prev, cur := funnelPair(t, "veth0")
	v := newView(prev, cur, Options{Exclude: regexp.MustCompile("^veth"), Host: "h"})
	got, err := v.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := v.Report.WriteJSON(&want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("JSON differs from WriteJSON")
	}
	if bytes.Contains(got, []byte(`"name": "veth0"`)) || !bytes.Contains(got, []byte(`"name": "eth0"`)) {
		t.Errorf("the JSON lists the excluded veth0 or lacks eth0")
	}
}

// TestHistoryPairs: the pair is the newest snapshot and the newest one at
// least minGap older; what no later pair can use is dropped; the list is
// bounded.
func TestHistoryPairs(t *testing.T) {
	h := NewHistory(2 * time.Second)
	at := time.Unix(1000, 0)
	snap := func(sec float64) *snapshot.Snapshot {
		return &snapshot.Snapshot{Time: at.Add(time.Duration(sec * float64(time.Second)))}
	}
	if p, c := h.Pair(); p != nil || c != nil {
		t.Fatal("pair of an empty history")
	}
	s0, s1, s3, s4 := snap(0), snap(1), snap(3), snap(4)
	h.Add(s0)
	h.Add(s1)
	if p, c := h.Pair(); p != nil || c != s1 {
		t.Errorf("1 s apart: pair %v, %v; want none yet", p, c)
	}
	h.Add(s3)
	if p, c := h.Pair(); p != s1 || c != s3 {
		t.Errorf("pair (%v, %v), want (1 s, 3 s)", p, c)
	}
	h.Add(s4)
	if p, _ := h.Pair(); p != s1 {
		t.Errorf("partner of 4 s: %v, want 1 s", p.Time)
	}
	if h.Len() != 3 {
		t.Errorf("%d kept, want 3 (0 s dropped: no later snapshot pairs with it)", h.Len())
	}
	h.Add(snap(2)) // older than the newest: ignored
	if h.Newest() != s4 {
		t.Errorf("an older snapshot became the newest")
	}
	for i := range 100 {
		h.Add(snap(4.5 + float64(i)*0.01))
	}
	if h.Len() > maxHistory {
		t.Errorf("%d kept, want at most %d", h.Len(), maxHistory)
	}
	if p, _ := h.Pair(); p == nil {
		t.Errorf("a burst of snapshots lost the partner")
	}
}
