package testutil

import (
	"bytes"
	"sync"
)

// LogBuffer is a concurrency-safe writer that keeps the first 1 MiB
// written: a child process's output, for a failing test to show.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write keeps p while the buffer holds less than 1 MiB.
func (w *LogBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() < 1<<20 {
		w.b.Write(p)
	}
	return len(p), nil
}

// String is what was kept.
func (w *LogBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
