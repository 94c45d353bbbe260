package report

// What the kernel facts change in the report: how to read the CPU times,
// and the BQL stall counters the stall check compares.

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

// withBQLStalls returns cur with BQLStallsBefore taken from prev when the
// Source did not set it (snapshots of two Sources, a test's), so that the
// stall check compares the report's own two readings. cur is not changed.
func withBQLStalls(prev, cur *snapshot.Snapshot) *snapshot.Snapshot {
	if cur.BQLStallsBefore != nil {
		return cur
	}
	before := snapshot.BQLStallsBetween(prev)
	if before == nil {
		return cur
	}
	c := *cur
	c.BQLStallsBefore, c.BQLStallsBeforeTime = before, prev.Time
	return &c
}
