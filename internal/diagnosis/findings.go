package diagnosis

import "github.com/netirq/netirq_exporter/internal/snapshot"

// Findings are the misconfigurations a snapshot shows: several queue IRQs
// stacked on one CPU, work on the wrong NUMA node or on isolated CPUs, RPS
// off on a single-queue NIC, channels or RSS left narrow, affinities that
// ignore the driver's hint, unpinned NAPI threads. Each check is a small
// pure function of the snapshot (checks.go); the findings collector exports
// the result and `netirq_exporter report` prints it with the fix commands.
// Nothing here changes the host: Fix is what a person would run.

// Finding is one violation of one check.
type Finding struct {
	// Check is the check's name (Checks), Severity its severity:
	// "critical", "warning" or "info".
	Check    string `json:"check"`
	Severity string `json:"severity"`
	// Device, Queue, IRQ and CPU say where: the net device, the queue index,
	// the IRQ number and the CPU list the violation concerns; "" when the
	// check does not work at that level.
	Device string `json:"device"`
	Queue  string `json:"queue"`
	IRQ    string `json:"irq"`
	CPU    string `json:"cpu"`
	// Message explains the violation with the values that show it.
	Message string `json:"message"`
	// Fix is the shell command that removes the violation (the exporter
	// never runs it).
	Fix string `json:"fix"`
}

// Check is one entry of the check table.
type Check struct {
	Name     string // snake_case; also the RUNBOOK.md section (alerts/RUNBOOK.md#NAME)
	Severity string // critical, warning or info
	Why      string // one line: why the pattern costs something
	// Run returns the check's findings; it fills neither Check nor Severity
	// (Evaluate does). It must not modify snap.
	Run func(snap *snapshot.Snapshot) []Finding
}

// Evaluate runs every check of Checks over snap, in table order. Parts the
// snapshot lacks make the checks that need them find nothing.
func Evaluate(snap *snapshot.Snapshot) []Finding {
	if snap == nil {
		return nil
	}
	var out []Finding
	for _, c := range Checks {
		out = append(out, c.Evaluate(snap)...)
	}
	return out
}

// Evaluate runs one check and labels its findings with its name and severity.
func (c Check) Evaluate(snap *snapshot.Snapshot) []Finding {
	if snap == nil {
		return nil
	}
	found := c.Run(snap)
	for i := range found {
		found[i].Check = c.Name
		found[i].Severity = c.Severity
	}
	return found
}
