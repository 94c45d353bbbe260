package report

import (
	"fmt"
	"io"

	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// irqTimeSignals says, for the report header, where the accounting state
// came from (internal/snapshot/irqtime.go).
var irqTimeSignals = map[string]string{
	"pressure_irq":  "/proc/pressure/irq",
	"kernel_config": "/proc/config.gz",
	"stat_irq_time": "the irq column of /proc/stat",
}

// writeIRQTime prints how to read the SOFTIRQ% and IRQ% columns: a header
// line, because it changes every figure of the CPU table and the diagnosis.
func writeIRQTime(w io.Writer, a snapshot.IRQTimeAccounting) {
	switch a.State {
	case "on":
		fmt.Fprintf(w, "IRQ time accounting: on (from %s): IRQ%% and SOFTIRQ%% are measured.\n", irqTimeSignals[a.Signal])
	case "off":
		fmt.Fprintf(w, "IRQ time accounting: off (from %s): SOFTIRQ%% is sampled at the timer tick (an estimate), "+
			"hard IRQ time is not counted (IRQ%% stays 0) but charged to the interrupted task, so NET_WORK%% understates interrupt load.\n",
			irqTimeSignals[a.Signal])
	default:
		fmt.Fprintln(w, "IRQ time accounting: unknown (neither /proc/pressure/irq, /proc/config.gz nor /proc/stat could tell): IRQ% and SOFTIRQ% may be tick-sampled estimates.")
	}
}
