package procfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// This file reads the host-wide knobs of the receive path:
//
//	/proc/sys/net/core/{netdev_budget,netdev_budget_usecs,netdev_max_backlog,
//	                    dev_weight,flow_limit_table_len,flow_limit_cpu_bitmap}
//	/sys/class/net/<dev>/{gro_flush_timeout,napi_defer_hard_irqs}
//
// and whether irqbalance runs. A file the kernel does not have is absent,
// not an error: old kernels lack netdev_budget_usecs (before 4.12) and
// napi_defer_hard_irqs (before 5.7), flow_limit_cpu_bitmap needs
// CONFIG_NET_FLOW_LIMIT, and a process outside the initial network
// namespace sees none of the five net.core knobs (6.18: only optmem_max,
// rmem_*, wmem_*, somaxconn, rps_default_mask ... are per namespace).
// /proc/sys shows the reader's network namespace whatever procfs mount it
// goes through, so a containerised exporter needs the host network
// namespace for these. Every file is world-readable; flow_limit_cpu_bitmap
// is also taken as absent when reading it is refused (EPERM/EACCES).
//
// irqbalance: a process whose comm is "irqbalance". Finding it means reading
// every /proc/<pid>/comm, about 5 µs of CPU per process (0.54 ms for 107
// processes on the 2-CPU build machine, BenchmarkFindIRQBalance; ~50 ms on a
// host with 10k), so the answer is cached per procfs root: a found PID is
// re-checked with one read per scrape (irqbalance stopping is seen at once),
// and a "not running" answer is kept for irqbalanceRescan (irqbalance
// starting is seen within a minute). A procfs root without any process (a
// fixture tree) reads as "not running".

// irqbalanceRescan is how long a "not running" answer is trusted.
const irqbalanceRescan = 60 * time.Second

// ReadTunables reads /proc/sys/net/core and the per-device NAPI knobs of
// the devices of <sysRoot>/class/net that exclude (nil: none) does not
// match (see sysfs.ReadNetDevices). It always returns a Tunables (absent values are -1,
// absent devices missing from the maps); the error names the files that
// exist but could not be read or parsed. IRQBalanceRunning is left false:
// see IRQBalanceProbe.
func ReadTunables(procRoot, sysRoot string, exclude *regexp.Regexp) (*Tunables, error) {
	t := &Tunables{
		NetdevBudget: -1, NetdevBudgetUsecs: -1, NetdevMaxBacklog: -1, DevWeight: -1, FlowLimitTableLen: -1,
		GROFlushTimeout: map[string]int64{}, NAPIDeferHardIRQs: map[string]int64{},
	}
	problems := kernel.NewProblems("tunables")
	core := filepath.Join(procRoot, "sys", "net", "core")
	for _, f := range []struct {
		name string
		dst  *int64
	}{
		{"netdev_budget", &t.NetdevBudget},
		{"netdev_budget_usecs", &t.NetdevBudgetUsecs},
		{"netdev_max_backlog", &t.NetdevMaxBacklog},
		{"dev_weight", &t.DevWeight},
		{"flow_limit_table_len", &t.FlowLimitTableLen},
	} {
		v, present, err := sysfs.ReadInt(filepath.Join(core, f.name))
		problems.Add(err)
		if present {
			*f.dst = v
		}
	}
	set, present, err := sysfs.ReadMask(filepath.Join(core, "flow_limit_cpu_bitmap"), false)
	switch {
	case errors.Is(err, fs.ErrPermission):
	case err != nil:
		problems.Add(err)
	case present:
		t.FlowLimitCPUs, t.HasFlowLimitCPUs = set, true
	}
	for _, err := range readDeviceTunables(filepath.Join(sysRoot, "class", "net"), exclude, t) {
		problems.Add(err)
	}
	return t, problems.Err()
}

// readDeviceTunables fills the per-device maps from every class/net entry.
// A device that vanished meanwhile is left out silently; a missing class/net
// means no devices.
func readDeviceTunables(classDir string, exclude *regexp.Regexp, t *Tunables) (errs []error) {
	entries, err := kernel.ReadDir(classDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return []error{err}
	}
	for _, e := range entries {
		if exclude != nil && exclude.MatchString(e.Name()) {
			continue
		}
		dir := filepath.Join(classDir, e.Name())
		fi, err := os.Stat(dir) // class/net entries are symlinks
		if err != nil || !fi.IsDir() {
			continue // vanished, or bonding_masters
		}
		gro, groErr := readOptionalInt(filepath.Join(dir, "gro_flush_timeout"))
		deferIRQs, deferErr := readOptionalInt(filepath.Join(dir, "napi_defer_hard_irqs"))
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			continue // gone: its read errors are symptoms of that
		}
		t.GROFlushTimeout[e.Name()] = gro
		t.NAPIDeferHardIRQs[e.Name()] = deferIRQs
		for _, err := range []error{groErr, deferErr} {
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// readOptionalInt reads an integer file; -1 when absent or unreadable.
func readOptionalInt(path string) (int64, error) {
	v, present, err := sysfs.ReadInt(path)
	if err != nil || !present {
		return -1, err
	}
	return v, nil
}

// IRQBalanceProbe remembers, for one procfs root, where irqbalance was
// last seen. Its owner (the snapshot Source) keeps one per root.
type IRQBalanceProbe struct {
	procRoot string
	mu       sync.Mutex
	pid      int       // last PID seen running irqbalance; 0 none
	scanned  time.Time // when a full scan last found none
}

// NewIRQBalanceProbe returns a probe of procRoot that has seen nothing yet.
func NewIRQBalanceProbe(procRoot string) *IRQBalanceProbe {
	return &IRQBalanceProbe{procRoot: procRoot}
}

// Running answers whether irqbalance runs, scanning /proc only when the
// last PID seen is gone and the last "none" is older than irqbalanceRescan.
func (p *IRQBalanceProbe) Running(now time.Time) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pid > 0 && isIRQBalance(p.procRoot, p.pid) {
		return true, nil
	}
	if p.pid == 0 && !p.scanned.IsZero() && now.Sub(p.scanned) >= 0 && now.Sub(p.scanned) < irqbalanceRescan {
		return false, nil
	}
	pid, err := FindIRQBalance(p.procRoot)
	if err != nil {
		p.pid, p.scanned = 0, time.Time{} // unknown: ask again next time
		return false, err
	}
	p.pid = pid
	if pid == 0 {
		p.scanned = now
	}
	return pid > 0, nil
}

// FindIRQBalance returns the PID of a process whose comm is "irqbalance"
// (what `pgrep -x irqbalance` matches), 0 when there is none. It reads every
// <procRoot>/<pid>/comm; processes that exit meanwhile or hide (hidepid) are
// skipped. Only an unreadable procRoot is an error.
func FindIRQBalance(procRoot string) (int, error) {
	pids, err := allPIDs(procRoot)
	if err != nil {
		return 0, fmt.Errorf("irqbalance: %w", err)
	}
	for _, pid := range pids {
		if isIRQBalance(procRoot, pid) {
			return pid, nil
		}
	}
	return 0, nil
}

func isIRQBalance(procRoot string, pid int) bool {
	comm, err := readProcComm(filepath.Join(procRoot, strconv.Itoa(pid), "comm"))
	return err == nil && comm == "irqbalance"
}

// Tunables are the host-wide knobs of the receive path.
type Tunables struct {
	NetdevBudget      int64 // net.core.netdev_budget; -1 when unreadable
	NetdevBudgetUsecs int64 // net.core.netdev_budget_usecs
	NetdevMaxBacklog  int64 // net.core.netdev_max_backlog
	DevWeight         int64 // net.core.dev_weight
	FlowLimitTableLen int64 // net.core.flow_limit_table_len
	FlowLimitCPUs     cpuset.CPUSet
	HasFlowLimitCPUs  bool
	IRQBalanceRunning bool
	// Per device, from /sys/class/net/<dev>/: -1 when absent.
	GROFlushTimeout   map[string]int64
	NAPIDeferHardIRQs map[string]int64
}
