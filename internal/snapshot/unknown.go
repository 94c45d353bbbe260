package snapshot

import (
	"errors"
	"strings"

	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
)

// What a snapshot cannot tell: a part that could not be read at all, and
// a /proc/interrupts that was read but hides every IRQ. The checks, the
// collectors and the report ask here, so that "nothing found" is only
// said of data that was there to look at.

// InterruptsMaskedReason is why the IRQs are unknown when
// /proc/interrupts is masked.
const InterruptsMaskedReason = "/proc/interrupts lists no interrupt (empty, or only its CPU header): " +
	"masked, as container runtimes do in unprivileged containers; run on the host or read the host's /proc (--path.procfs)"

// InterruptsMasked reports whether /proc/interrupts was read but lists no
// interrupt: it is empty (blanks at most), or holds only its CPU header.
// No kernel prints that, with at least one CPU online: every host has
// numbered IRQ rows, or named ones (s390x's EXT, I/O); it is the empty
// file container runtimes bind over /proc/interrupts in unprivileged
// containers (moby, containerd, Kubernetes 1.31+). A file with malformed
// lines is not masked but broken: its error says which line.
func (s *Snapshot) InterruptsMasked() bool {
	t := s.Interrupts
	if t == nil || len(t.IRQs) > 0 || len(t.Arch) > 0 {
		return false
	}
	var pe *procfs.InterruptsParseError
	switch {
	case s.InterruptsErr == nil:
		return len(t.CPUs) > 0 // the header alone
	case errors.As(s.InterruptsErr, &pe):
		return pe.Bad == 0 && errors.Is(pe.Err, procfs.ErrEmptyInterrupts)
	}
	return false
}

// Unknown says why what part p holds is unknown in s, "" when it is known
// (read wholly, or in part: a partial read is its collectors' failure,
// and what was read is still true). Unknown are a part whose reader
// failed outright (it holds nothing, and an error) and, for the
// interrupts and the IRQ affinities, a masked /proc/interrupts. A part
// with neither data nor error is known to hold nothing (an empty
// /sys/class/net); a Source reads every part its collectors need.
func (s *Snapshot) Unknown(p Part) string {
	switch p {
	case PartInterrupts:
		if s.InterruptsMasked() {
			return InterruptsMaskedReason
		}
		t := s.Interrupts
		return failed("/proc/interrupts", t == nil || len(t.IRQs) == 0 && len(t.Arch) == 0, s.InterruptsErr)
	case PartAffinity:
		if why := s.Unknown(PartInterrupts); why != "" {
			return why
		}
		return failed("/proc/irq", len(s.Affinity) == 0, s.AffinityErr)
	case PartTopology:
		return failed("/sys/devices/system/cpu", s.Topology == nil, s.TopologyErr)
	case PartNetDevices:
		return failed("/sys/class/net", len(s.NetDevices) == 0, s.NetDevicesErr)
	case PartEthtool:
		return failed("ethtool netlink", len(s.Channels) == 0 && len(s.RSS) == 0, s.EthtoolErr)
	case PartThreads:
		return failed("kernel threads", len(s.Threads) == 0, s.ThreadsErr)
	case PartSoftirqs:
		return failed("/proc/softirqs", s.Softirqs == nil || len(s.Softirqs.Vectors) == 0, s.SoftirqsErr)
	case PartSoftnet:
		return failed("/proc/net/softnet_stat", len(s.Softnet) == 0, s.SoftnetErr)
	case PartCPUTime:
		return failed("/proc/stat", len(s.CPUTime) == 0, s.CPUTimeErr)
	}
	return ""
}

// failed is why a part is unknown: empty and with an error.
func failed(what string, empty bool, err error) string {
	if !empty || err == nil {
		return ""
	}
	return what + " could not be read: " + strings.ReplaceAll(err.Error(), "\n", "; ")
}
