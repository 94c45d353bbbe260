package snapshot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// Source reads Snapshots. Scrapes that arrive while a read is in flight
// wait for it and share its result, so N concurrent scrapes cost one read
// of the files, not N.
type Source struct {
	procPath, sysPath string
	parts             Part
	selector          *IRQSelector

	mu       sync.Mutex
	inflight *snapshotCall
	reads    atomic.Uint64
}

type snapshotCall struct {
	done chan struct{}
	snap *Snapshot
}

// NewSource returns a Source that reads the given parts below procPath and
// sysPath. selector picks the IRQs whose /proc/irq/N is read.
func NewSource(procPath, sysPath string, parts Part, selector *IRQSelector) *Source {
	// Classification needs the devices, and affinity needs the IRQ list.
	if parts&(PartInterrupts|PartAffinity) != 0 {
		parts |= PartInterrupts | PartNetDevices
	}
	// softnet_stat rows without an index column belong to online CPUs.
	if parts&PartSoftnet != 0 {
		parts |= PartTopology
	}
	return &Source{procPath: procPath, sysPath: sysPath, parts: parts, selector: selector}
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

// partReader fills one part of a snapshot. The parts are read
// concurrently: a scrape is mostly system calls on ~1,000 small files, and
// its wall time is what a scraper waits for. A reader that uses another
// part calls wait(thatPart) before touching it; wait returns once that part
// is read, at once when it is not read at all. A part may only wait for
// parts declared before it (softnet for the topology, classification for
// the devices, affinity for the classification), so there is no cycle.
type partReader func(s *Source, snap *Snapshot, wait func(Part))

// partReaders maps each part to its reader. A reader added by a later file
// registers itself here from its init function.
var partReaders = map[Part]partReader{
	PartTopology: func(s *Source, snap *Snapshot, _ func(Part)) {
		snap.Topology, snap.TopologyErr = sysfs.ReadCPUTopology(s.sysPath)
	},
	PartNetDevices: func(s *Source, snap *Snapshot, _ func(Part)) {
		snap.NetDevices, snap.NetDevicesErr = sysfs.ReadNetDevices(s.sysPath)
		if n, err := procfs.ReadRPSSockFlowEntries(s.procPath); err == nil {
			snap.RPSSockFlowEntries = n
		} else if !errors.Is(err, os.ErrNotExist) {
			snap.NetDevicesErr = errors.Join(snap.NetDevicesErr, err)
		}
	},
	PartInterrupts: func(s *Source, snap *Snapshot, wait func(Part)) {
		snap.Interrupts, snap.InterruptsErr = kernel.ParseFile(s.proc("interrupts"), procfs.ParseInterrupts)
		wait(PartNetDevices) // parsed while the devices are read, classified after
		if snap.Interrupts != nil {
			snap.IRQClasses = irqclass.ClassifyIRQs(snap.Interrupts, snap.NetDevices)
		}
	},
	PartAffinity: func(s *Source, snap *Snapshot, wait func(Part)) {
		wait(PartInterrupts)
		if snap.Interrupts != nil {
			snap.Affinity, snap.AffinityErr = s.readAffinity(snap)
		}
	},
	PartSoftirqs: func(s *Source, snap *Snapshot, _ func(Part)) {
		snap.Softirqs, snap.SoftirqsErr = kernel.ParseFile(s.proc("softirqs"), procfs.ParseSoftirqs)
	},
	PartSoftnet: func(s *Source, snap *Snapshot, wait func(Part)) {
		wait(PartTopology)
		var online []int
		if snap.Topology != nil && !snap.Topology.Online.IsEmpty() {
			online = snap.Topology.Online.List()
		}
		snap.Softnet, snap.SoftnetErr = kernel.ParseFile(s.proc("net", "softnet_stat"), func(r io.Reader) ([]procfs.SoftnetRow, error) {
			return procfs.ParseSoftnet(r, online)
		})
	},
	PartCPUTime: func(s *Source, snap *Snapshot, _ func(Part)) {
		snap.CPUTime, snap.CPUTimeErr = procfs.ReadCPUTime(s.procPath)
	},
}

// read reads every wanted part once, the parts concurrently, timing each
// (its own work, not the time it waited for another part).
func (s *Source) read() *Snapshot {
	snap := &Snapshot{Time: time.Now(), RPSSockFlowEntries: -1}
	var wanted []Part
	done := map[Part]chan struct{}{}
	for p := Part(1); p != 0 && p <= partLast; p <<= 1 {
		if _, ok := partReaders[p]; ok && s.parts&p != 0 {
			wanted = append(wanted, p)
			done[p] = make(chan struct{})
		}
	}
	durations := make([]time.Duration, len(wanted))
	var wg sync.WaitGroup
	for i, p := range wanted {
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
				if dep >= p {
					panic(fmt.Sprintf("the %s reader waits for %s, a later part", p, dep))
				}
				if ch, ok := done[dep]; ok {
					began := time.Now()
					<-ch
					waited += time.Since(began)
				}
			}
			began := time.Now()
			partReaders[p](s, snap, wait)
			durations[i] = time.Since(began) - waited
		})
	}
	wg.Wait()
	for i, p := range wanted {
		snap.ReadDurations = append(snap.ReadDurations, PartDuration{p, durations[i]})
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
	return out, kernel.Summarize(failed)
}
