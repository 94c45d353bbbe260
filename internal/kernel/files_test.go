package kernel

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// TestInChunksVisitsEachIndexOnce: whatever n and GOMAXPROCS, every index
// of [0, n) is handed out exactly once, in contiguous chunks.
func TestInChunksVisitsEachIndexOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 16} {
		runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 100, 130, 257, 1000} {
			visits := make([]atomic.Int32, n)
			var chunks atomic.Int32
			InChunks(n, func(lo, hi int) {
				chunks.Add(1)
				if lo > hi || lo < 0 || hi > n {
					t.Errorf("procs %d n %d: chunk [%d, %d)", procs, n, lo, hi)
					return
				}
				for i := lo; i < hi; i++ {
					visits[i].Add(1)
				}
			})
			for i := range visits {
				if v := visits[i].Load(); v != 1 {
					t.Fatalf("procs %d n %d: index %d visited %d times", procs, n, i, v)
				}
			}
			if most := int32(min(procs, 8, max(1, n/minChunk))); chunks.Load() > most {
				t.Errorf("procs %d n %d: %d chunks, want at most %d", procs, n, chunks.Load(), most)
			}
		}
	}
}
