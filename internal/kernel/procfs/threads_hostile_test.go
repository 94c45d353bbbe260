package procfs

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel"
)

// TestProcSmallReadsRefuseFIFO: the comm and small /proc readers refuse a
// FIFO at once rather than read it as an empty file or wait.
func TestProcSmallReadsRefuseFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "comm")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for name, read := range map[string]func(string) (string, error){"comm": readProcComm, "small": readProcSmall} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := read(fifo); !errors.Is(err, kernel.ErrNotRegular) {
				t.Errorf("%s: %v, want ErrNotRegular", name, err)
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still blocked after 10 s", name)
		}
	}
}
