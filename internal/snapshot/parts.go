package snapshot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// partSpec is one part of the snapshot: its name (in logs and in
// netirq_scrape_source_duration_seconds), the parts it needs, the parts it
// uses when they are read anyway, where its error goes, and its reader.
//
// The parts are read concurrently: a scrape is mostly system calls on
// ~1,000 small files, and its wall time is what a scraper waits for. A
// reader calls wait(p) before touching part p, which must be one of its
// needs or uses; wait returns once p is read, at once when it is not read
// at all. needs are read whenever the part is (NewSource adds them); uses
// are only waited for. Both name parts earlier in the table, so there is
// no cycle.
type partSpec struct {
	part  Part
	name  string
	needs []Part
	uses  []Part
	err   func(*Snapshot) *error
	read  func(s *Source, snap *Snapshot, wait func(Part))
	// keep copies the part's fields (all that read sets) from the
	// readers' scratch snapshot into the one returned (source.go).
	keep func(dst, src *Snapshot)
}

// partTable lists every part, in the order of the Part bits (the order of
// Snapshot.ReadDurations). To add a part: a Part constant, its fields in
// Snapshot, and a row here.
var partTable = []partSpec{
	{part: PartTopology, name: "cpu_topology",
		keep: func(d, s *Snapshot) { d.Topology, d.TopologyErr = s.Topology, s.TopologyErr },
		err:  func(s *Snapshot) *error { return &s.TopologyErr },
		read: func(s *Source, snap *Snapshot, _ func(Part)) {
			snap.Topology, snap.TopologyErr = sysfs.ReadCPUTopology(s.sysPath)
		}},
	{part: PartNetDevices, name: "net_devices",
		keep: func(d, s *Snapshot) {
			d.NetDevices, d.NetDevicesErr, d.RPSSockFlowEntries = s.NetDevices, s.NetDevicesErr, s.RPSSockFlowEntries
		},
		err: func(s *Snapshot) *error { return &s.NetDevicesErr },
		read: func(s *Source, snap *Snapshot, _ func(Part)) {
			snap.NetDevices, snap.NetDevicesErr = sysfs.ReadNetDevices(s.sysPath, s.deviceExclude)
			if n, err := procfs.ReadRPSSockFlowEntries(s.procPath); err == nil {
				snap.RPSSockFlowEntries = n
			} else if !errors.Is(err, os.ErrNotExist) {
				snap.NetDevicesErr = errors.Join(snap.NetDevicesErr, err)
			}
		}},
	{part: PartInterrupts, name: "interrupts", needs: []Part{PartNetDevices},
		keep: func(d, s *Snapshot) {
			d.Interrupts, d.InterruptsErr, d.IRQClasses = s.Interrupts, s.InterruptsErr, s.IRQClasses
		},
		err: func(s *Snapshot) *error { return &s.InterruptsErr },
		read: func(s *Source, snap *Snapshot, wait func(Part)) {
			snap.Interrupts, snap.InterruptsErr = kernel.ParseFile(s.proc("interrupts"), procfs.InterruptsCap, procfs.ParseInterrupts)
			wait(PartNetDevices) // parsed while the devices are read, classified after
			if snap.Interrupts != nil {
				snap.IRQClasses = irqclass.ClassifyIRQs(snap.Interrupts, snap.NetDevices)
			}
		}},
	{part: PartAffinity, name: "irq_affinity", needs: []Part{PartInterrupts},
		keep: func(d, s *Snapshot) { d.Affinity, d.AffinityErr = s.Affinity, s.AffinityErr },
		err:  func(s *Snapshot) *error { return &s.AffinityErr },
		read: func(s *Source, snap *Snapshot, wait func(Part)) {
			wait(PartInterrupts)
			if snap.Interrupts != nil {
				snap.Affinity, snap.AffinityErr = s.readAffinity(snap)
			}
		}},
	{part: PartSoftirqs, name: "softirqs",
		keep: func(d, s *Snapshot) { d.Softirqs, d.SoftirqsErr = s.Softirqs, s.SoftirqsErr },
		err:  func(s *Snapshot) *error { return &s.SoftirqsErr },
		read: func(s *Source, snap *Snapshot, _ func(Part)) {
			snap.Softirqs, snap.SoftirqsErr = kernel.ParseFile(s.proc("softirqs"), procfs.SoftirqsCap, procfs.ParseSoftirqs)
		}},
	{part: PartSoftnet, name: "softnet", needs: []Part{PartTopology}, // rows without an index column belong to online CPUs
		keep: func(d, s *Snapshot) { d.Softnet, d.SoftnetErr = s.Softnet, s.SoftnetErr },
		err:  func(s *Snapshot) *error { return &s.SoftnetErr },
		read: func(s *Source, snap *Snapshot, wait func(Part)) {
			wait(PartTopology)
			var online []int
			if snap.Topology != nil && !snap.Topology.Online.IsEmpty() {
				online = snap.Topology.Online.List()
			}
			snap.Softnet, snap.SoftnetErr = kernel.ParseFile(s.proc("net", "softnet_stat"), procfs.SoftnetCap, func(r io.Reader) ([]procfs.SoftnetRow, error) {
				return procfs.ParseSoftnet(r, online)
			})
		}},
	{part: PartCPUTime, name: "stat",
		keep: func(d, s *Snapshot) { d.CPUTime, d.CPUTimeErr = s.CPUTime, s.CPUTimeErr },
		err:  func(s *Snapshot) *error { return &s.CPUTimeErr },
		read: func(s *Source, snap *Snapshot, _ func(Part)) {
			snap.CPUTime, snap.CPUTimeErr = procfs.ReadCPUTime(s.procPath)
		}},
	{part: PartEthtool, name: "ethtool", uses: []Part{PartNetDevices},
		keep: func(d, s *Snapshot) {
			d.Channels, d.RSS, d.Rings, d.EthtoolErr = s.Channels, s.RSS, s.Rings, s.EthtoolErr
		},
		err: func(s *Snapshot) *error { return &s.EthtoolErr },
		read: func(s *Source, snap *Snapshot, wait func(Part)) {
			wait(PartNetDevices)
			r := s.nic.Ethtool(s.sysPath, snap.NetDevices)
			snap.Channels, snap.RSS, snap.Rings, snap.EthtoolErr = r.Channels, r.RSS, r.Rings, r.Err
		}},
	{part: PartQueueStats, name: "queue_stats", uses: []Part{PartNetDevices},
		keep: func(d, s *Snapshot) {
			d.QueueStats, d.QueueNAPIs, d.NAPIs, d.QueueStatsErr = s.QueueStats, s.QueueNAPIs, s.NAPIs, s.QueueStatsErr
		},
		err: func(s *Snapshot) *error { return &s.QueueStatsErr },
		read: func(s *Source, snap *Snapshot, wait func(Part)) {
			wait(PartNetDevices)
			r := s.nic.QueueStats(s.sysPath, snap.NetDevices)
			snap.QueueStats, snap.QueueNAPIs, snap.NAPIs, snap.QueueStatsErr = r.Stats, r.Queues, r.NAPIs, r.Err
		}},
	{part: PartThreads, name: "threads", uses: []Part{PartQueueStats}, // the NAPI → thread map, when read
		keep: func(d, s *Snapshot) { d.Threads, d.ThreadsErr = s.Threads, s.ThreadsErr },
		err:  func(s *Snapshot) *error { return &s.ThreadsErr },
		read: func(s *Source, snap *Snapshot, wait func(Part)) {
			wait(PartQueueStats)
			var napis map[int]nic.NAPI
			for _, n := range snap.NAPIs {
				if n.ThreadPID > 0 {
					if napis == nil {
						napis = map[int]nic.NAPI{}
					}
					napis[n.ThreadPID] = n
				}
			}
			snap.Threads, snap.ThreadsErr = procfs.ReadKernelThreads(s.procPath, napis)
		}},
	{part: PartTunables, name: "tunables",
		keep: func(d, s *Snapshot) { d.Tunables, d.TunablesErr = s.Tunables, s.TunablesErr },
		err:  func(s *Snapshot) *error { return &s.TunablesErr },
		read: func(s *Source, snap *Snapshot, _ func(Part)) {
			t, err := procfs.ReadTunables(s.procPath, s.sysPath, s.deviceExclude)
			running, ibErr := s.irqbalance.Running(time.Now())
			t.IRQBalanceRunning = running
			snap.Tunables, snap.TunablesErr = t, errors.Join(err, ibErr)
		}},
	{part: PartPagePools, name: "page_pools", uses: []Part{PartNetDevices},
		keep: func(d, s *Snapshot) { d.PagePools, d.PagePoolsErr = s.PagePools, s.PagePoolsErr },
		err:  func(s *Snapshot) *error { return &s.PagePoolsErr },
		read: func(s *Source, snap *Snapshot, wait func(Part)) {
			wait(PartNetDevices)
			r := s.nic.PagePools(s.sysPath, snap.NetDevices)
			snap.PagePools, snap.PagePoolsErr = r.Pools, r.Err
		}},
	{part: PartBPF, name: "bpf",
		keep: func(d, s *Snapshot) { d.BPF, d.BPFErr = s.BPF, s.BPFErr },
		err:  func(s *Snapshot) *error { return &s.BPFErr },
		read: func(s *Source, snap *Snapshot, _ func(Part)) { snap.BPF, snap.BPFErr = s.bpf.Read() }},
	bsdIntrListPart, bsdEvcntPart,
	{part: PartBQL, name: "bql", needs: []Part{PartNetDevices}, // the TX queues to read
		keep: func(d, s *Snapshot) { d.BQL, d.BQLErr = s.BQL, s.BQLErr },
		err:  func(s *Snapshot) *error { return &s.BQLErr },
		read: func(s *Source, snap *Snapshot, wait func(Part)) {
			wait(PartNetDevices)
			if snap.NetDevices == nil && snap.NetDevicesErr != nil {
				snap.BQLErr = fmt.Errorf("byte queue limits: no net devices to read: %w", snap.NetDevicesErr)
				return
			}
			snap.BQL, snap.BQLErr = sysfs.ReadBQL(s.sysPath, snap.NetDevices, s.bqlFields)
		}},
	{part: PartKernel, name: "kernel",
		keep: func(d, s *Snapshot) { d.Kernel, d.KernelErr = s.Kernel, s.KernelErr },
		err:  func(s *Snapshot) *error { return &s.KernelErr },
		read: func(s *Source, snap *Snapshot, _ func(Part)) {
			snap.Kernel, snap.KernelErr = procfs.ReadKernelInfo(s.procPath, s.kconfig)
		}},
}

// spec returns the table row of p.
func spec(p Part) (partSpec, bool) {
	for _, sp := range partTable {
		if sp.part == p {
			return sp, true
		}
	}
	return partSpec{}, false
}

// String is the part's name.
func (p Part) String() string {
	sp, _ := spec(p)
	return sp.name
}

// withNeeds adds to parts every part they need, transitively: the table
// lists a part's needs before it, so one pass from the end suffices.
func withNeeds(parts Part) Part {
	for i := len(partTable) - 1; i >= 0; i-- {
		if parts&partTable[i].part != 0 {
			for _, n := range partTable[i].needs {
				parts |= n
			}
		}
	}
	return parts
}

// failPart adds err to the error of part p, which makes the collectors
// that use p report failure.
func (snap *Snapshot) failPart(p Part, err error) {
	if sp, ok := spec(p); ok {
		f := sp.err(snap)
		*f = errors.Join(*f, err)
	}
}
