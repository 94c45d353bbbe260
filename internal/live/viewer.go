package live

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// Defaults of Options.
const (
	DefaultRefresh     = 5 * time.Second
	DefaultMinInterval = 2 * time.Second
)

// Source is what the Viewer needs of a snapshot.Source.
type Source interface {
	SnapshotBy(ctx context.Context) (*snapshot.Snapshot, error)
	Observe(fn func(*snapshot.Snapshot))
}

// Options configure a Viewer.
type Options struct {
	// Refresh is the page's reload period, and how old the newest snapshot
	// may be before a viewer reads a new one (DefaultRefresh).
	Refresh time.Duration
	// MinInterval is the shortest time between the two snapshots a report
	// compares (DefaultMinInterval): rates over less are noise.
	MinInterval time.Duration
	Exclude     *regexp.Regexp // devices left out, as in the metrics; nil: none
	Host        string         // shown in the title and the JSON's host
	JSONHref    string         // the page's link to the JSON, relative to it
}

// Viewer serves the report of the newest pair of snapshots, rendered once
// per pair.
type Viewer struct {
	src  Source
	opts Options
	hist *History

	mu    sync.Mutex // one viewer at a time decides whether to read
	view  *View      // the newest pair's, nil before the first
	reads int        // snapshots read for viewers
	views int        // reports built
}

// New returns a Viewer that watches src's snapshots from now on.
func New(src Source, opts Options) *Viewer {
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.MinInterval <= 0 {
		opts.MinInterval = DefaultMinInterval
	}
	v := &Viewer{src: src, opts: opts, hist: NewHistory(opts.MinInterval)}
	src.Observe(v.hist.Add)
	return v
}

// Current returns the view of the newest pair of snapshots. It reads a
// snapshot through the Source only when the newest one is Refresh old or
// more, and, when no snapshot is MinInterval older than the newest (the
// first viewer of an exporter no one scrapes), waits for that and reads
// another. Viewers take turns, so a crowd causes one read, not one each.
func (v *Viewer) Current(ctx context.Context) (*View, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if cur := v.hist.Newest(); cur == nil || time.Since(cur.Time) >= v.opts.Refresh {
		if err := v.read(ctx); err != nil {
			return nil, err
		}
	}
	prev, cur := v.hist.Pair()
	if prev == nil {
		select {
		case <-time.After(time.Until(cur.Time.Add(v.opts.MinInterval))):
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for a second snapshot: %w", context.Cause(ctx))
		}
		if err := v.read(ctx); err != nil {
			return nil, err
		}
		if prev, cur = v.hist.Pair(); prev == nil {
			return nil, fmt.Errorf("no two snapshots %s apart", v.opts.MinInterval)
		}
	}
	if v.view == nil || v.view.prev != prev || v.view.cur != cur {
		v.view = newView(prev, cur, v.opts)
		v.views++
	}
	return v.view, nil
}

// read takes a snapshot through the Source (which hands it to the History).
func (v *Viewer) read(ctx context.Context) error {
	if _, err := v.src.SnapshotBy(ctx); err != nil {
		return err
	}
	v.reads++
	return nil
}

// Stats says how many snapshots the viewers made the Source read and how
// many reports were built for them.
func (v *Viewer) Stats() (reads, views int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.reads, v.views
}
