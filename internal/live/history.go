package live

import (
	"sync"
	"time"

	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// maxHistory bounds the snapshots kept: scrapes closer together than the
// minimum interval (a burst of concurrent scrapers that do not overlap)
// must not grow it without end.
const maxHistory = 16

// History keeps the recent snapshots of one Source, oldest first: enough to
// pair the newest with one at least a minimum interval older.
type History struct {
	minGap time.Duration

	mu    sync.Mutex
	snaps []*snapshot.Snapshot
}

// NewHistory keeps what pairs of snapshots minGap or more apart need.
func NewHistory(minGap time.Duration) *History {
	return &History{minGap: minGap}
}

// Add records snap (Source.Observe calls it after every read). A snapshot
// older than the newest one kept is ignored.
func (h *History) Add(snap *snapshot.Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.snaps); n > 0 && snap.Time.Before(h.snaps[n-1].Time) {
		return
	}
	h.snaps = append(h.snaps, snap)
	// Snapshots older than the newest partner of snap can partner no later
	// snapshot either: drop them.
	if i := h.partner(len(h.snaps) - 1); i > 0 {
		h.snaps = append(h.snaps[:0], h.snaps[i:]...)
	}
	if len(h.snaps) > maxHistory {
		// Keep the oldest (the partner) and the newest.
		h.snaps = append(h.snaps[:1], h.snaps[len(h.snaps)-maxHistory+1:]...)
	}
}

// partner is the index of the newest snapshot at least minGap older than
// the one at i; -1 when there is none.
func (h *History) partner(i int) int {
	for j := i - 1; j >= 0; j-- {
		if h.snaps[i].Time.Sub(h.snaps[j].Time) >= h.minGap {
			return j
		}
	}
	return -1
}

// Newest is the newest snapshot kept; nil before the first.
func (h *History) Newest() *snapshot.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.snaps) == 0 {
		return nil
	}
	return h.snaps[len(h.snaps)-1]
}

// Pair returns the newest snapshot and the newest one at least minGap
// older; prev is nil when there is no such pair yet.
func (h *History) Pair() (prev, cur *snapshot.Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.snaps)
	if n == 0 {
		return nil, nil
	}
	cur = h.snaps[n-1]
	if j := h.partner(n - 1); j >= 0 {
		prev = h.snaps[j]
	}
	return prev, cur
}

// Len is the number of snapshots kept.
func (h *History) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.snaps)
}
