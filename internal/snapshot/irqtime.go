package snapshot

import "github.com/netirq/netirq_exporter/internal/kernel/procfs"

// How the irq and softirq columns of /proc/stat are to be read depends on
// CONFIG_IRQ_TIME_ACCOUNTING being built in and on: with it the kernel
// measures time in hard IRQ and softirq context at every entry and exit,
// and takes it out of the interrupted task's time; without it (the tick
// accounting most cloud and some distribution kernels use) the tick
// samples: softirq time is whatever ran in softirq when the timer fired (a
// statistical estimate, coarse at low load), and hard IRQ time is not
// counted at all (x86 and arm64 do not nest hard IRQs, so the tick never
// finds one running) but charged to whatever was interrupted. A CPU
// saturated by NIC interrupts then shows up as busy "system" or user time.
//
// An unprivileged reader can tell (IRQTimeAccounting), best signal first:
//
//  1. /proc/pressure/irq (6.1+): it exists only with the option built in
//     and PSI on; reading it fails with EOPNOTSUPP when accounting is off at
//     run time (6.15+: irqtime_enabled(), e.g. an unstable TSC). With PSI on
//     and a 6.1+ kernel, its absence proves the option is not built in.
//  2. /proc/config.gz: "# CONFIG_IRQ_TIME_ACCOUNTING is not set".
//  3. /proc/stat: with precise accounting every CPU that takes interrupts
//     (the local timer's at least) gathers irq time within seconds of boot;
//     with tick sampling the irq column stays 0. So irq > 0 on any CPU
//     means on, 0 on all of them means off.

// IRQTimeAccounting is whether IRQ time is measured, and how that is known.
type IRQTimeAccounting struct {
	// State is "on" (measured), "off" (tick-sampled) or "unknown".
	State string `json:"state"`
	// Signal is what told: "pressure_irq", "kernel_config",
	// "stat_irq_time"; "" when unknown.
	Signal string `json:"signal"`
}

// IRQTimeAccounting derives the accounting state from the kernel part and
// /proc/stat (see above); "unknown" when neither was read.
func (s *Snapshot) IRQTimeAccounting() IRQTimeAccounting {
	if k := s.Kernel; k != nil {
		switch {
		case k.IRQPressure.State == procfs.IRQPressurePresent:
			return IRQTimeAccounting{"on", "pressure_irq"}
		case k.IRQPressure.State == procfs.IRQPressureUnsupported:
			return IRQTimeAccounting{"off", "pressure_irq"}
		case k.IRQPressure.State == procfs.IRQPressureAbsent && k.PSI && k.Version.AtLeast(6, 1):
			return IRQTimeAccounting{"off", "pressure_irq"} // PSI on, no irq file: not built in
		case k.Config.IRQTimeAccounting == "n":
			return IRQTimeAccounting{"off", "kernel_config"}
		}
	}
	if len(s.CPUTime) == 0 {
		return IRQTimeAccounting{State: "unknown"}
	}
	for _, t := range s.CPUTime {
		if t.IRQ > 0 {
			return IRQTimeAccounting{"on", "stat_irq_time"}
		}
	}
	return IRQTimeAccounting{"off", "stat_irq_time"}
}
