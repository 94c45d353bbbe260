package snapshot

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/netirq/netirq_exporter/internal/hostgen"
)

// TestObserveSeesEveryRead: an observer sees each snapshot the Source
// reads, once, in read order; overlapping callers that share a read add
// nothing.
func TestObserveSeesEveryRead(t *testing.T) {
	root := t.TempDir()
	if err := hostgen.Generate(root, hostgen.Standard(4, 1, 2, 1)); err != nil {
		t.Fatal(err)
	}
	s := NewSource(Options{ProcPath: filepath.Join(root, "proc"), SysPath: filepath.Join(root, "sys"), Parts: PartAll})
	var mu sync.Mutex
	var seen []*Snapshot
	s.Observe(func(snap *Snapshot) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, snap)
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { s.Snapshot() })
	}
	wg.Wait()
	last := s.Snapshot()
	mu.Lock()
	defer mu.Unlock()
	if uint64(len(seen)) != s.Reads() {
		t.Fatalf("observer saw %d snapshots, the Source read %d", len(seen), s.Reads())
	}
	if seen[len(seen)-1] != last {
		t.Errorf("the last snapshot seen is not the last one read")
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Time.Before(seen[i-1].Time) {
			t.Errorf("snapshot %d (%s) seen after a later one (%s)", i, seen[i].Time, seen[i-1].Time)
		}
	}
}
