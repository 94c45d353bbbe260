package procfs

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/kernel"
)

// /proc/pressure/irq (Linux 6.1, kernel/sched/psi.c) is PSI's IRQ/softirq
// pressure: one line, "full avg10=0.00 avg60=0.00 avg300=0.00 total=N",
// total in microseconds of time during which the non-idle tasks of a CPU
// could not run because it was in hard or soft IRQ context. It has no
// "some" line (psi_show: only_full = res == PSI_IRQ). The file exists only
// with CONFIG_IRQ_TIME_ACCOUNTING and PSI enabled (psi_proc_init creates
// /proc/pressure only when psi_enable; CONFIG_PSI_DEFAULT_DISABLED needs
// psi=1); since 6.15 reading it fails with EOPNOTSUPP when IRQ time
// accounting was turned off at run time (psi_show: !irqtime_enabled()).

// IRQPressureState says what /proc/pressure/irq told.
type IRQPressureState int

const (
	// IRQPressureAbsent: no such file (no PSI, or no IRQ time accounting
	// built in, or a kernel before 6.1).
	IRQPressureAbsent IRQPressureState = iota
	// IRQPressureUnsupported: the file exists but says EOPNOTSUPP: IRQ time
	// accounting is built in but off (6.15+).
	IRQPressureUnsupported
	// IRQPressurePresent: read; FullMicros holds its total.
	IRQPressurePresent
	// IRQPressureUnreadable: the file exists but could not be read or
	// parsed (the error says why): it proves nothing either way.
	IRQPressureUnreadable
)

// IRQPressure is /proc/pressure/irq.
type IRQPressure struct {
	State IRQPressureState
	// FullMicros is total= of the full line: microseconds, a counter.
	FullMicros uint64
}

// pressureReadLimit bounds the read: the file is one line of ~70 bytes.
const pressureReadLimit = 4 << 10

// ParseIRQPressure parses /proc/pressure/irq: the full line's total. A
// "some" line (the other resources' format, no kernel prints it for irq)
// is skipped; a file without a full line, or whose total is not a
// decimal, is an error.
func ParseIRQPressure(r io.Reader) (IRQPressure, error) {
	sc := bufio.NewScanner(io.LimitReader(r, pressureReadLimit))
	sc.Buffer(make([]byte, 0, 256), pressureReadLimit)
	for sc.Scan() {
		kind, rest, _ := strings.Cut(sc.Text(), " ")
		if kind != "full" {
			continue
		}
		for _, f := range strings.Fields(rest) {
			if v, ok := strings.CutPrefix(f, "total="); ok {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return IRQPressure{}, fmt.Errorf("pressure/irq: bad total (%s)", kernel.Describe(v))
				}
				return IRQPressure{State: IRQPressurePresent, FullMicros: n}, nil
			}
		}
		return IRQPressure{}, fmt.Errorf("pressure/irq: no total= in a line (%s)", kernel.Describe(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		return IRQPressure{}, fmt.Errorf("pressure/irq: %w", err)
	}
	return IRQPressure{}, fmt.Errorf("pressure/irq: no full line")
}
