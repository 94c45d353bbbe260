package procfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// ReadIRQAffinity reads <procRoot>/irq/<irq>/:
//
//   - smp_affinity_list, or the smp_affinity mask when the list is absent
//     (kernels before 2.6.36);
//   - effective_affinity_list, or the effective_affinity mask when only the
//     mask exists; HasEffective is false when neither does (kernels before
//     4.15, irqchips without CONFIG_GENERIC_IRQ_EFFECTIVE_AFF_MASK);
//   - affinity_hint, a mask; HasHint is false when the file is absent. Most
//     IRQs have no hint and the kernel then prints an all-zero mask: HasHint
//     is true and Hint is empty, so an empty Hint means "no hint" either way;
//   - node; -1 when absent (kernels without CONFIG_NUMA) or unknown.
//
// When the IRQ itself is gone (freed since /proc/interrupts was read) the
// error wraps fs.ErrNotExist and nothing else does: any other failure
// (unreadable or garbage file) leaves that field empty, fills the others
// and is reported in the returned error.
func ReadIRQAffinity(procRoot string, irq int) (IRQAffinity, error) {
	aff := IRQAffinity{IRQ: irq, Node: -1}
	if irq < 0 {
		return aff, fmt.Errorf("irq %d: negative IRQ number", irq)
	}
	dir := filepath.Join(procRoot, "irq", strconv.Itoa(irq))
	if _, err := os.Stat(dir); err != nil {
		return aff, fmt.Errorf("irq %d: %w", irq, err)
	}
	problems := kernel.NewProblems("irq " + strconv.Itoa(irq))

	set, present, err := readAffinityFile(dir, "smp_affinity_list", "smp_affinity")
	problems.Add(err)
	if err == nil && !present {
		problems.Add(errors.New("neither smp_affinity_list nor smp_affinity exists"))
	}
	aff.SMPAffinity = set

	aff.Effective, aff.HasEffective, err = readAffinityFile(dir, "effective_affinity_list", "effective_affinity")
	problems.Add(err)

	aff.Hint, aff.HasHint, err = sysfs.ReadMask(filepath.Join(dir, "affinity_hint"), false)
	problems.Add(err)

	if v, present, err := sysfs.ReadInt(filepath.Join(dir, "node")); err != nil {
		problems.Add(err)
	} else if present {
		aff.Node = int(v)
	}

	err = problems.Err()
	if err == nil {
		return aff, nil
	}
	// Freed while we read: the failures above are symptoms of that.
	// (Checked only on failure, to save a system call per IRQ.)
	if _, statErr := os.Stat(dir); errors.Is(statErr, fs.ErrNotExist) {
		return IRQAffinity{IRQ: irq, Node: -1}, fmt.Errorf("irq %d: vanished while being read: %w", irq, statErr)
	}
	return aff, err
}

// readAffinityFile reads the list file, or the mask file when the list
// file is absent.
func readAffinityFile(dir, listName, maskName string) (cpuset.CPUSet, bool, error) {
	set, present, err := sysfs.ReadList(filepath.Join(dir, listName))
	if err != nil || present {
		return set, present, err
	}
	return sysfs.ReadMask(filepath.Join(dir, maskName), false)
}

// ReadRPSSockFlowEntries reads <procRoot>/sys/net/core/rps_sock_flow_entries,
// the size of the global RFS socket flow table (0 = RFS off). It returns -1
// with the error when the file cannot be read; the error wraps
// fs.ErrNotExist when the kernel has no CONFIG_RPS.
func ReadRPSSockFlowEntries(procRoot string) (int64, error) {
	path := filepath.Join(procRoot, "sys", "net", "core", "rps_sock_flow_entries")
	text, present, err := sysfs.ReadText(path, false)
	if err != nil {
		return -1, err
	}
	if !present {
		return -1, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	v, err := sysfs.ParseInt(text)
	if err != nil {
		return -1, fmt.Errorf("%s: %w", path, err)
	}
	if v < 0 {
		return -1, fmt.Errorf("%s: negative value %d", path, v)
	}
	return v, nil
}

// IRQAffinity is /proc/irq/N/. A Has* flag is false when the kernel does
// not provide that file (effective_affinity before 4.15, affinity_hint on
// some architectures).
type IRQAffinity struct {
	IRQ          int
	SMPAffinity  cpuset.CPUSet // smp_affinity_list
	Effective    cpuset.CPUSet // effective_affinity_list
	HasEffective bool
	Hint         cpuset.CPUSet // affinity_hint (a mask)
	HasHint      bool
	Node         int // node; -1 when unknown
}
