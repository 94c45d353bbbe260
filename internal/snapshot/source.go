package snapshot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// Source reads Snapshots. Scrapes that arrive while a read is in flight
// wait for it and share its result, so N concurrent scrapes cost one read
// of the files, not N.
//
// A read has a deadline (the scrape's, or Options.Timeout): a part not read
// by then fails alone and the snapshot is returned with the rest, so a read
// stuck in the kernel (a FUSE file, a netlink dump behind rtnl_lock) delays
// one scrape by its timeout and no more. The abandoned read goes on in the
// background; until it returns, later snapshots skip that part at once
// rather than start another read that would stick too, so at most one
// abandoned read per part exists (deadline.go).
type Source struct {
	procPath, sysPath string
	parts             Part
	selector          *IRQSelector
	irqbalance        *procfs.IRQBalanceProbe // where irqbalance was last seen
	nic               *nic.Reader             // the netlink/ioctl readers and their caches
	timeout           time.Duration
	// deviceExclude: the net devices not read (Options.DeviceExclude).
	deviceExclude *regexp.Regexp
	bpf           BPFReader                 // the opt-in eBPF probes; nil: PartBPF is not read
	bqlFields     sysfs.BQLFields           // the byte_queue_limits files PartBQL reads
	kconfig       *procfs.KernelConfigProbe // /proc/config.gz, read once

	mu       sync.Mutex
	inflight *snapshotCall
	reads    atomic.Uint64
	rx       rxRates     // the previous snapshot's device counters (rates.go)
	rxLoss   rxQueueLoss // the previous snapshot's RX queue loss counters (queuerates.go)
	stalls   bqlStalls   // and its BQL stall counters (bqlstalls.go)
	stuck    stuckParts  // the parts whose abandoned read has not returned
	// observers see every snapshot read (Observe), under mu.
	observers []func(*Snapshot)
}

type snapshotCall struct {
	done chan struct{}
	snap *Snapshot
}

// DefaultTimeout is how long a read may take when neither the caller's
// context nor Options.Timeout says: Prometheus' default scrape timeout.
const DefaultTimeout = 10 * time.Second

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
	// Timeout bounds a read whose context has no deadline (Snapshot, the
	// report); 0: DefaultTimeout.
	Timeout time.Duration
	// DeviceExclude names net devices that are not read at all: not their
	// sysfs files, not their tunables, and (absent from the snapshot's
	// NetDevices) not over netlink or ethtool; nil: none.
	DeviceExclude *regexp.Regexp
	// BPF reads the opt-in eBPF probes for PartBPF (bpf.go); the Source
	// closes it. nil: PartBPF is not read.
	BPF BPFReader
	// BQLFields are the files of each TX queue PartBQL reads; 0:
	// sysfs.BQLDefault (a 64-queue NIC has 64 of each).
	BQLFields sysfs.BQLFields
}

// NewSource returns a Source that reads opts.Parts below opts.ProcPath and
// opts.SysPath. Everything it remembers between reads (where irqbalance
// runs, the netlink families, ethtool -S layouts) is its own: two Sources
// share nothing.
func NewSource(opts Options) *Source {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	parts := withNeeds(opts.Parts)
	if opts.BPF == nil {
		parts &^= PartBPF
	}
	bqlFields := opts.BQLFields
	if bqlFields == 0 {
		bqlFields = sysfs.BQLDefault
	}
	return &Source{procPath: opts.ProcPath, sysPath: opts.SysPath, parts: parts,
		selector: opts.Selector, deviceExclude: opts.DeviceExclude, irqbalance: procfs.NewIRQBalanceProbe(opts.ProcPath),
		nic: nic.NewReader(opts.Logger, opts.NetNS), timeout: timeout, bpf: opts.BPF, bqlFields: bqlFields,
		kconfig: procfs.NewKernelConfigProbe(opts.ProcPath)}
}

// Reads is the number of snapshots read so far.
func (s *Source) Reads() uint64 { return s.reads.Load() }

// Snapshot returns a fresh snapshot read within the Source's timeout,
// sharing a read already in flight.
func (s *Source) Snapshot() *Snapshot {
	snap, _ := s.SnapshotBy(context.Background()) // no deadline of its own: it cannot fail
	return snap
}

// SnapshotBy returns a fresh snapshot read by ctx's deadline (the Source's
// timeout when ctx has none), or shares a read in flight. The error is
// ctx's, when ctx ends before the shared read does; a read of its own
// always returns a snapshot, with the parts it could not read in time
// failed.
func (s *Source) SnapshotBy(ctx context.Context) (*Snapshot, error) {
	s.mu.Lock()
	if call := s.inflight; call != nil {
		s.mu.Unlock()
		select {
		case <-call.done:
			return call.snap, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the snapshot read in flight: %w", context.Cause(ctx))
		}
	}
	call := &snapshotCall{done: make(chan struct{})}
	s.inflight = call
	s.mu.Unlock()

	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(s.timeout)
	}
	call.snap = s.read(deadline)
	s.rx.setRates(call.snap)
	s.rxLoss.setRates(call.snap)
	s.stalls.set(call.snap)
	s.reads.Add(1)
	s.notify(call.snap)

	s.mu.Lock()
	s.inflight = nil
	s.mu.Unlock()
	close(call.done)
	return call.snap, nil
}

// Observe registers fn to see every snapshot this Source reads from now
// on, in read order: a viewer that keeps the last few (the live page)
// gets the scrapes' snapshots without reading the files itself. fn runs
// before the read's waiters are released, so it must be quick.
func (s *Source) Observe(fn func(*Snapshot)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.observers = append(s.observers, fn)
}

// notify hands snap to the observers. Reads are one at a time, so they see
// snapshots in the order they were taken.
func (s *Source) notify(snap *Snapshot) {
	s.mu.Lock()
	observers := s.observers
	s.mu.Unlock()
	for _, fn := range observers {
		fn(snap)
	}
}

func (s *Source) proc(name ...string) string {
	return filepath.Join(append([]string{s.procPath}, name...)...)
}

// partRun is one part's read within one snapshot read.
type partRun struct {
	spec     partSpec
	done     chan struct{} // closed when the reader returned (or never started)
	skipped  error         // set when it did not start: an earlier read is stuck
	duration time.Duration // its own work, without waiting for other parts
	finished bool          // under stuckParts.mu: the reader returned
}

// read reads every wanted part once, the parts concurrently, each into a
// scratch Snapshot only its reader writes, timing each (its own work, not
// the time it waited for another part). At the deadline the parts still
// running are abandoned: the returned Snapshot holds copies of the parts
// that finished, so an abandoned reader that finishes later writes to
// nothing anyone reads.
func (s *Source) read(deadline time.Time) *Snapshot {
	scratch := &Snapshot{Time: time.Now(), RPSSockFlowEntries: -1}
	runs, done := s.startRuns()
	for _, run := range runs {
		if run.skipped == nil {
			go s.runPart(run, scratch, done)
		}
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
wait:
	for _, run := range runs {
		select {
		case <-run.done:
		case <-timer.C:
			break wait
		}
	}
	return s.collect(runs, scratch, deadline)
}

// startRuns makes a run per wanted part, the ones whose previous read is
// still stuck skipped (their done closed, so dependants see them unread).
func (s *Source) startRuns() ([]*partRun, map[Part]chan struct{}) {
	var runs []*partRun
	done := map[Part]chan struct{}{}
	for _, sp := range partTable {
		if s.parts&sp.part == 0 {
			continue
		}
		run := &partRun{spec: sp, done: make(chan struct{})}
		if since, stuck := s.stuck.since(sp.part); stuck {
			run.skipped = fmt.Errorf("%s: not read: a read started %s ago has not returned (stuck in the kernel?); it is retried once that read returns",
				sp.name, time.Since(since).Round(time.Second))
			close(run.done)
		}
		runs = append(runs, run)
		done[sp.part] = run.done
	}
	return runs, done
}

// runPart runs one part's reader into scratch, then marks it finished.
func (s *Source) runPart(run *partRun, scratch *Snapshot, done map[Part]chan struct{}) {
	sp, p := run.spec, run.spec.part
	var waited time.Duration
	began := time.Now()
	defer func() {
		// A bug tripped by an odd file fails its part, not the process
		// (collectors are guarded the same way).
		if r := recover(); r != nil {
			scratch.failPart(p, fmt.Errorf("reading %s panicked: %v\n%s", p, r, debug.Stack()))
		}
		s.stuck.finish(run, time.Since(began)-waited)
		close(run.done)
	}()
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
	sp.read(s, scratch, wait)
}

// collect builds the snapshot from the runs that finished; the others
// are abandoned (counted, and skipped by later reads until they return).
func (s *Source) collect(runs []*partRun, scratch *Snapshot, deadline time.Time) *Snapshot {
	snap := &Snapshot{Time: scratch.Time, RPSSockFlowEntries: -1}
	finished := s.stuck.abandonUnfinished(runs)
	for i, run := range runs {
		p := run.spec.part
		switch {
		case run.skipped != nil:
			snap.failPart(p, run.skipped)
		case finished[i]:
			run.spec.keep(snap, scratch)
			snap.ReadDurations = append(snap.ReadDurations, PartDuration{p, run.duration})
		default:
			snap.failPart(p, fmt.Errorf("%s: not read by the scrape deadline (%s after the read began); given up, the read goes on in the background",
				run.spec.name, deadline.Sub(scratch.Time).Round(time.Millisecond)))
		}
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
