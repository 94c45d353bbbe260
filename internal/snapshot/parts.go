package snapshot

import (
	"errors"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
)

func init() {
	partReaders[PartTunables] = func(s *Source, snap *Snapshot, _ func(Part)) {
		t, err := procfs.ReadTunables(s.procPath, s.sysPath)
		running, ibErr := procfs.IRQBalanceProbeFor(s.procPath).Running(time.Now())
		t.IRQBalanceRunning = running
		snap.Tunables, snap.TunablesErr = t, errors.Join(err, ibErr)
	}
}

func init() {
	partReaders[PartThreads] = func(s *Source, snap *Snapshot, wait func(Part)) {
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
	}
}

func init() {
	partReaders[PartEthtool] = func(s *Source, snap *Snapshot, wait func(Part)) {
		wait(PartNetDevices)
		snap.Channels, snap.RSS, snap.EthtoolErr = nic.ReadEthtool(s.sysPath, snap.NetDevices)
	}
}

func init() {
	partReaders[PartQueueStats] = func(s *Source, snap *Snapshot, wait func(Part)) {
		wait(PartNetDevices)
		r := nic.ReadQueueStats(s.sysPath, snap.NetDevices)
		snap.QueueStats, snap.QueueNAPIs, snap.NAPIs, snap.QueueStatsErr = r.Stats, r.Queues, r.NAPIs, r.Err
	}
}
