package snapshot

import (
	"context"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel/bpfprobes"
)

// BPFReader is what PartBPF reads: *bpfprobes.Probes, or a test's stand-in.
type BPFReader interface {
	// Read returns the probes' counts, or a Stats with the Mode alone and
	// why they cannot be read (bpfprobes.ErrAttaching, *bpfprobes.Error).
	Read() (*bpfprobes.Stats, error)
	// Wait waits for the probes to be attached, or to fail.
	Wait(ctx context.Context) error
	Close() error
}

// AwaitBPF waits up to timeout for the eBPF probes to be attached (or to
// fail), so that a report's first snapshot already reads them; at once
// without probes. The error is why they are not attached.
func (s *Source) AwaitBPF(timeout time.Duration) error {
	if s.bpf == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.bpf.Wait(ctx)
}

// Close releases what the Source holds beyond memory: the eBPF probes,
// detached. Snapshots read after Close have PartBPF failed.
func (s *Source) Close() error {
	if s.bpf == nil {
		return nil
	}
	return s.bpf.Close()
}
