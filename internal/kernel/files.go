package kernel

import (
	"fmt"
	"io"
	"runtime"
	"sync"
)

// InChunks calls fn over contiguous chunks of [0, n), concurrently when n is
// large enough to be worth it: for the per-queue and per-IRQ files, whose
// reads are system calls that keep a CPU busy each, so more goroutines than
// the CPUs Go runs on (GOMAXPROCS) would only queue; at most 8, so that a
// big host's scrape does not take over its CPUs.
func InChunks(n int, fn func(lo, hi int)) {
	workers := min(n/minChunk, runtime.GOMAXPROCS(0), 8)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { fn(n*w/workers, n*(w+1)/workers) })
	}
	wg.Wait()
}

// minChunk is the fewest items a goroutine of InChunks gets: below that
// starting it costs more than it saves.
const minChunk = 16

// ParseFile opens path (a regular file, see OpenRegular) and hands it to
// parse, failing the read past limit bytes with ErrTooLarge (the parser
// keeps what it read before); errors name the file.
func ParseFile[T any](path string, limit int64, parse func(io.Reader) (T, error)) (T, error) {
	f, err := OpenRegular(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	v, err := parse(&cappedReader{r: f, left: limit, cap: limit})
	if err != nil {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return v, err
}
