package procfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/netirq/netirq_exporter/internal/cpuset"
	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// This file reads what the kernel says of itself that changes how the
// other files must be read: its release (driver behaviour that changed
// with a version), the affinity new IRQs get (/proc/irq/default_smp_affinity),
// IRQ pressure and, through KernelConfigProbe, HZ and whether IRQ time is
// accounted. All are world-readable; each is absent on kernels without it.

// KernelVersion is the major.minor of a release ("6.18.44-fc" → 6, 18).
type KernelVersion struct{ Major, Minor int }

// AtLeast reports whether v is major.minor or newer; false when v is
// unknown (zero).
func (v KernelVersion) AtLeast(major, minor int) bool {
	return v.Known() && (v.Major > major || v.Major == major && v.Minor >= minor)
}

// Known reports whether the release parsed.
func (v KernelVersion) Known() bool { return v.Major > 0 }

func (v KernelVersion) String() string {
	if !v.Known() {
		return "unknown"
	}
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

// ParseKernelRelease reads major.minor from the start of a release string
// (/proc/sys/kernel/osrelease: "6.18.44-fc-v1300", "5.14.0-427.el9.x86_64",
// "4.19.0"). Distribution kernels backport features, so the version says
// what upstream had, not what this kernel does.
func ParseKernelRelease(text string) (KernelVersion, error) {
	text = strings.TrimSpace(text)
	major, rest, ok := strings.Cut(text, ".")
	minor := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = rest[:i]
	}
	maj, okMajor := parseDecimal(major, 16)
	mnr, okMinor := parseDecimal(minor, 16)
	if !ok || !okMajor || !okMinor || maj == 0 {
		return KernelVersion{}, fmt.Errorf("osrelease: not a kernel release (%s)", kernel.Describe(text))
	}
	return KernelVersion{int(maj), int(mnr)}, nil
}

// KernelInfo is the snapshot's view of the kernel itself.
type KernelInfo struct {
	Release string        // /proc/sys/kernel/osrelease; "" when absent
	Version KernelVersion // parsed from Release; zero when it does not parse
	// DefaultIRQAffinity is /proc/irq/default_smp_affinity: the CPUs a new
	// IRQ may run on until someone (a driver, irqbalance) sets it.
	DefaultIRQAffinity    cpuset.CPUSet
	HasDefaultIRQAffinity bool
	// PSI: /proc/pressure exists (CONFIG_PSI, not disabled at boot).
	PSI         bool
	IRQPressure IRQPressure // /proc/pressure/irq
	Config      KernelConfig
}

// ReadKernelInfo reads the files of KernelInfo below procRoot; config is
// the Source's probe of /proc/config.gz (nil: not read). A file that is
// absent leaves its field empty; one that exists but cannot be read or
// parsed is named in the error, and the others are still returned.
func ReadKernelInfo(procRoot string, config *KernelConfigProbe) (*KernelInfo, error) {
	k := &KernelInfo{}
	problems := kernel.NewProblems("kernel")
	text, present, err := sysfs.ReadText(filepath.Join(procRoot, "sys", "kernel", "osrelease"), false)
	problems.Add(err)
	if present {
		k.Release = strings.TrimSpace(text)
		k.Version, err = ParseKernelRelease(text)
		problems.Add(err)
	}
	k.DefaultIRQAffinity, k.HasDefaultIRQAffinity, err = sysfs.ReadMask(filepath.Join(procRoot, "irq", "default_smp_affinity"), false)
	problems.Add(err)
	k.PSI, k.IRQPressure, err = readIRQPressure(procRoot)
	problems.Add(err)
	if config != nil {
		k.Config, err = config.Config()
		problems.Add(err)
	}
	return k, problems.Err()
}

// readIRQPressure reads <procRoot>/pressure/irq, telling an absent file
// from one that refuses with EOPNOTSUPP.
func readIRQPressure(procRoot string) (psi bool, p IRQPressure, err error) {
	dir := filepath.Join(procRoot, "pressure")
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		psi = true
	}
	path := filepath.Join(dir, "irq")
	text, present, err := sysfs.ReadText(path, false)
	switch {
	case errors.Is(err, syscall.EOPNOTSUPP):
		return psi, IRQPressure{State: IRQPressureUnsupported}, nil
	case errors.Is(err, fs.ErrNotExist), err == nil && !present:
		return psi, IRQPressure{}, nil
	case err != nil:
		return psi, IRQPressure{State: IRQPressureUnreadable}, err
	}
	p, err = ParseIRQPressure(strings.NewReader(text))
	if err != nil {
		return psi, IRQPressure{State: IRQPressureUnreadable}, fmt.Errorf("%s: %w", path, err)
	}
	return psi, p, nil
}
