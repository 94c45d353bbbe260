package procfs

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"

	"github.com/netirq/netirq_exporter/internal/kernel"
)

// /proc/config.gz (CONFIG_IKCONFIG_PROC) is the running kernel's .config,
// gzipped. Two of its lines matter here:
//
//   - CONFIG_HZ: BQL's stall_max is printed in jiffies (sysfs/bql.go), and
//     no other file an unprivileged reader can open gives HZ (the /proc
//     interfaces convert jiffies to USER_HZ or ms; /proc/timer_list, which
//     shows raw jiffies, is root-only). Without the file stall_max stays
//     unconverted and unexported.
//   - CONFIG_IRQ_TIME_ACCOUNTING: "is not set" proves IRQ time accounting
//     off when /proc/pressure/irq cannot tell (PSI disabled).
//
// The config cannot change while the kernel runs, so KernelConfigProbe
// reads it once.

const (
	// KernelConfigCap bounds the compressed file (a distribution kernel's
	// is ~60 KiB).
	KernelConfigCap = 4 << 20
	// kernelConfigTextLimit bounds the decompressed text (~250 KiB real).
	kernelConfigTextLimit = 16 << 20
)

// KernelConfig is what this exporter uses of /proc/config.gz.
type KernelConfig struct {
	Present bool // the file exists (CONFIG_IKCONFIG_PROC)
	HZ      int  // CONFIG_HZ; 0 when not found
	// IRQTimeAccounting is "y" when CONFIG_IRQ_TIME_ACCOUNTING=y, "n" when
	// the config says "is not set", "" when it says neither (an
	// architecture without HAVE_IRQ_TIME_ACCOUNTING).
	IRQTimeAccounting string
}

// ParseKernelConfig scans a decompressed .config for CONFIG_HZ and
// CONFIG_IRQ_TIME_ACCOUNTING. Anything else, comments included, is skipped;
// only a CONFIG_HZ that is not a positive decimal is an error.
func ParseKernelConfig(r io.Reader) (KernelConfig, error) {
	c := KernelConfig{Present: true}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "CONFIG_IRQ_TIME_ACCOUNTING=y":
			c.IRQTimeAccounting = "y"
		case line == "# CONFIG_IRQ_TIME_ACCOUNTING is not set":
			c.IRQTimeAccounting = "n"
		case strings.HasPrefix(line, "CONFIG_HZ="):
			// Kconfig writes a plain decimal: no sign, no leading zero.
			v := line[len("CONFIG_HZ="):]
			hz, ok := parseDecimal(v, 31)
			if !ok || v[0] == '0' || hz > 100_000 {
				return c, fmt.Errorf("config: bad CONFIG_HZ (%s)", kernel.Describe(v))
			}
			c.HZ = int(hz)
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// parseKernelConfigGz decompresses and parses /proc/config.gz, failing
// past kernelConfigTextLimit bytes of text.
func parseKernelConfigGz(r io.Reader) (KernelConfig, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return KernelConfig{Present: true}, fmt.Errorf("config.gz: %w", err)
	}
	defer zr.Close()
	lr := &io.LimitedReader{R: zr, N: kernelConfigTextLimit + 1}
	c, err := ParseKernelConfig(lr)
	if err == nil && lr.N <= 0 {
		err = fmt.Errorf("config.gz: more than %d bytes of text", kernelConfigTextLimit)
	}
	return c, err
}

// KernelConfigProbe reads <procRoot>/config.gz once and keeps the answer.
type KernelConfigProbe struct {
	path string
	once sync.Once
	cfg  KernelConfig
	err  error
}

// NewKernelConfigProbe returns a probe of <procRoot>/config.gz.
func NewKernelConfigProbe(procRoot string) *KernelConfigProbe {
	return &KernelConfigProbe{path: filepath.Join(procRoot, "config.gz")}
}

// Config returns the kernel config; absent (Present false, no error)
// without the file. The first call reads it, later ones return that.
func (p *KernelConfigProbe) Config() (KernelConfig, error) {
	p.once.Do(func() {
		p.cfg, p.err = kernel.ParseFile(p.path, KernelConfigCap, parseKernelConfigGz)
		if errors.Is(p.err, fs.ErrNotExist) {
			p.cfg, p.err = KernelConfig{}, nil
		}
	})
	return p.cfg, p.err
}
