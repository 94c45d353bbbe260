package collector

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
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

// partReader fills one part of a snapshot. Readers run in the order of
// the Part constants, so a part may use the parts declared before it
// (softnet uses the topology, classification the devices, affinity the
// classification).
type partReader func(s *Source, snap *Snapshot)

// partReaders maps each part to its reader. A reader added by a later file
// registers itself here from its init function.
var partReaders = map[Part]partReader{
	PartTopology: func(s *Source, snap *Snapshot) {
		snap.Topology, snap.TopologyErr = ReadCPUTopology(s.sysPath)
	},
	PartNetDevices: func(s *Source, snap *Snapshot) {
		snap.NetDevices, snap.NetDevicesErr = ReadNetDevices(s.sysPath)
		if n, err := ReadRPSSockFlowEntries(s.procPath); err == nil {
			snap.RPSSockFlowEntries = n
		} else if !errors.Is(err, os.ErrNotExist) {
			snap.NetDevicesErr = errors.Join(snap.NetDevicesErr, err)
		}
	},
	PartInterrupts: func(s *Source, snap *Snapshot) {
		snap.Interrupts, snap.InterruptsErr = parseFile(s.proc("interrupts"), ParseInterrupts)
		if snap.Interrupts != nil {
			snap.IRQClasses = ClassifyIRQs(snap.Interrupts, snap.NetDevices)
		}
	},
	PartAffinity: func(s *Source, snap *Snapshot) {
		if snap.Interrupts != nil {
			snap.Affinity, snap.AffinityErr = s.readAffinity(snap)
		}
	},
	PartSoftirqs: func(s *Source, snap *Snapshot) {
		snap.Softirqs, snap.SoftirqsErr = parseFile(s.proc("softirqs"), ParseSoftirqs)
	},
	PartSoftnet: func(s *Source, snap *Snapshot) {
		var online []int
		if snap.Topology != nil && !snap.Topology.Online.IsEmpty() {
			online = snap.Topology.Online.List()
		}
		snap.Softnet, snap.SoftnetErr = parseFile(s.proc("net", "softnet_stat"), func(r io.Reader) ([]SoftnetRow, error) {
			return ParseSoftnet(r, online)
		})
	},
	PartCPUTime: func(s *Source, snap *Snapshot) {
		snap.CPUTime, snap.CPUTimeErr = ReadCPUTime(s.procPath)
	},
}

// read reads every wanted part once, timing each.
func (s *Source) read() *Snapshot {
	snap := &Snapshot{Time: time.Now(), RPSSockFlowEntries: -1}
	for p := Part(1); p != 0 && p <= partLast; p <<= 1 {
		read, ok := partReaders[p]
		if !ok || s.parts&p == 0 {
			continue
		}
		began := time.Now()
		read(s, snap)
		snap.ReadDurations = append(snap.ReadDurations, PartDuration{p, time.Since(began)})
	}
	return snap
}

// readAffinity reads /proc/irq/N for every IRQ the selector exports. An IRQ
// that vanished since /proc/interrupts was read is not an error.
func (s *Source) readAffinity(snap *Snapshot) (map[int]IRQAffinity, error) {
	out := make(map[int]IRQAffinity)
	var errs []error
	for _, line := range snap.Interrupts.IRQs {
		if !s.selector.Detailed(line, snap.IRQClasses[line.IRQ]) {
			continue
		}
		aff, err := ReadIRQAffinity(s.procPath, line.IRQ)
		switch {
		case err == nil:
			out[line.IRQ] = aff
		case errors.Is(err, os.ErrNotExist):
			// The IRQ was freed between the two reads.
		default:
			out[line.IRQ] = aff
			errs = append(errs, err)
		}
	}
	return out, summarize(errs)
}

// parseFile opens path and hands it to parse, naming the file in errors.
func parseFile[T any](path string, parse func(io.Reader) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return v, err
}

// summarize keeps an error list short: the first three and a count.
func summarize(errs []error) error {
	switch {
	case len(errs) == 0:
		return nil
	case len(errs) <= 3:
		return errors.Join(errs...)
	default:
		return fmt.Errorf("%w (and %d more errors)", errors.Join(errs[:3]...), len(errs)-3)
	}
}
