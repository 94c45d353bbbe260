package snapshot

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
)

// Source reads Snapshots. Scrapes that arrive while a read is in flight
// wait for it and share its result, so N concurrent scrapes cost one read
// of the files, not N.
type Source struct {
	procPath, sysPath string
	parts             Part
	selector          *IRQSelector
	irqbalance        *procfs.IRQBalanceProbe // where irqbalance was last seen
	nic               *nic.Reader             // the netlink/ioctl readers and their caches

	mu       sync.Mutex
	inflight *snapshotCall
	reads    atomic.Uint64
	rx       rxRates // the previous snapshot's device counters (rates.go)
}

type snapshotCall struct {
	done chan struct{}
	snap *Snapshot
}

// Options configure a Source.
type Options struct {
	ProcPath, SysPath string       // the procfs and sysfs mount points
	Parts             Part         // what to read; the parts they need are added
	Selector          *IRQSelector // the IRQs whose /proc/irq/N is read; nil: the NIC IRQs
	Logger            *slog.Logger // for the readers' debug lines; nil: none
	// NetNS is a network namespace file (/run/netns/NAME) whose devices
	// the netlink and ioctl readers ask about; "": the exporter's own.
	// Tests set it to a lab namespace whose sysfs SysPath points at.
	NetNS string
}

// NewSource returns a Source that reads opts.Parts below opts.ProcPath and
// opts.SysPath. Everything it remembers between reads (where irqbalance
// runs, the netlink families, ethtool -S layouts) is its own: two Sources
// share nothing.
func NewSource(opts Options) *Source {
	return &Source{procPath: opts.ProcPath, sysPath: opts.SysPath, parts: withNeeds(opts.Parts),
		selector: opts.Selector, irqbalance: procfs.NewIRQBalanceProbe(opts.ProcPath),
		nic: nic.NewReader(opts.Logger, opts.NetNS)}
}

// Reads is the number of snapshots read so far.
func (s *Source) Reads() uint64 { return s.reads.Load() }

// Snapshot returns a fresh snapshot, sharing a read already in flight.
func (s *Source) Snapshot() *Snapshot {
	s.mu.Lock()
	if call := s.inflight; call != nil {
		s.mu.Unlock()
		<-call.done
		return call.snap
	}
	call := &snapshotCall{done: make(chan struct{})}
	s.inflight = call
	s.mu.Unlock()

	call.snap = s.read()
	s.rx.setRates(call.snap)
	s.reads.Add(1)

	s.mu.Lock()
	s.inflight = nil
	s.mu.Unlock()
	close(call.done)
	return call.snap
}

func (s *Source) proc(name ...string) string {
	return filepath.Join(append([]string{s.procPath}, name...)...)
}

// read reads every wanted part once, the parts concurrently, timing each
// (its own work, not the time it waited for another part).
func (s *Source) read() *Snapshot {
	snap := &Snapshot{Time: time.Now(), RPSSockFlowEntries: -1}
	var wanted []partSpec
	done := map[Part]chan struct{}{}
	for _, sp := range partTable {
		if s.parts&sp.part != 0 {
			wanted = append(wanted, sp)
			done[sp.part] = make(chan struct{})
		}
	}
	durations := make([]time.Duration, len(wanted))
	var wg sync.WaitGroup
	for i, sp := range wanted {
		p := sp.part
		wg.Go(func() {
			defer close(done[p])
			defer func() {
				// A bug tripped by an odd file fails its part, not the
				// process (collectors are guarded the same way).
				if r := recover(); r != nil {
					snap.failPart(p, fmt.Errorf("reading %s panicked: %v\n%s", p, r, debug.Stack()))
				}
			}()
			var waited time.Duration
			wait := func(dep Part) {
				if !slices.Contains(sp.needs, dep) && !slices.Contains(sp.uses, dep) {
					panic(fmt.Sprintf("the %s reader waits for %s, which it neither needs nor uses", p, dep))
				}
				if ch, ok := done[dep]; ok {
					began := time.Now()
					<-ch
					waited += time.Since(began)
				}
			}
			began := time.Now()
			sp.read(s, snap, wait)
			durations[i] = time.Since(began) - waited
		})
	}
	wg.Wait()
	for i, sp := range wanted {
		snap.ReadDurations = append(snap.ReadDurations, PartDuration{sp.part, durations[i]})
	}
	return snap
}

// readAffinity reads /proc/irq/N for every IRQ the selector exports, the
// IRQs shared out over a few goroutines. An IRQ that vanished since
// /proc/interrupts was read is not an error.
func (s *Source) readAffinity(snap *Snapshot) (map[int]procfs.IRQAffinity, error) {
	var irqs []int
	for _, line := range snap.Interrupts.IRQs {
		if s.selector.Detailed(line, snap.IRQClasses[line.IRQ]) {
			irqs = append(irqs, line.IRQ)
		}
	}
	affs := make([]procfs.IRQAffinity, len(irqs))
	errs := make([]error, len(irqs))
	kernel.InChunks(len(irqs), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			affs[i], errs[i] = procfs.ReadIRQAffinity(s.procPath, irqs[i])
		}
	})
	out := make(map[int]procfs.IRQAffinity, len(irqs))
	var failed []error
	for i, irq := range irqs {
		switch err := errs[i]; {
		case err == nil:
			out[irq] = affs[i]
		case errors.Is(err, os.ErrNotExist):
			// The IRQ was freed between the two reads.
		default:
			out[irq] = affs[i]
			failed = append(failed, err)
		}
	}
	problems := kernel.NewProblems("irq affinity")
	for _, err := range failed {
		problems.Add(err)
	}
	return out, problems.Err()
}
