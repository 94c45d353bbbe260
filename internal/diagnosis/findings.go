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
	// Needs are the snapshot parts the check cannot judge without: when
	// one is unknown (snapshot.Snapshot.Unknown: not read at all, or a
	// masked /proc/interrupts), the check does not run and its result is
	// unknown, not "no finding". Parts it only uses when present are not
	// listed.
	Needs snapshot.Part
	// Run returns the check's findings; it fills neither Check nor Severity
	// (Evaluate does). It must not modify snap.
	Run func(snap *snapshot.Snapshot) []Finding
}

// Result is one check's verdict on a snapshot.
type Result struct {
	Check    Check
	Findings []Finding
	// Unknown says why the check did not run, "" when it did: then
	// Findings is nil and what the check would find is unknown.
	Unknown string
	// Waiting: it did not run only because it compares two snapshots and
	// this is the first (waitsFor); unknown, but nothing failed.
	Waiting bool
}

// Results runs every check of Checks that can judge snap, in table order,
// and says of the others why they cannot.
func Results(snap *snapshot.Snapshot) []Result {
	if snap == nil {
		return nil
	}
	out := make([]Result, 0, len(Checks))
	for _, c := range Checks {
		r := Result{Check: c, Unknown: c.Unknown(snap)}
		if f := waitsFor[c.Name]; r.Unknown == "" && f != nil {
			r.Unknown = f(snap)
			r.Waiting = r.Unknown != ""
		}
		if r.Unknown == "" {
			r.Findings = c.Evaluate(snap)
		}
		out = append(out, r)
	}
	return out
}

// Evaluate returns the findings of every check of Checks that can judge
// snap, in table order. It cannot tell "none" from "not run": Results can.
func Evaluate(snap *snapshot.Snapshot) []Finding {
	var out []Finding
	for _, r := range Results(snap) {
		out = append(out, r.Findings...)
	}
	return out
}

// Unknown says why c cannot judge snap: the first part it needs whose
// content is unknown; "" when it can.
func (c Check) Unknown(snap *snapshot.Snapshot) string {
	for p := snapshot.Part(1); p <= snapshot.PartAll; p <<= 1 {
		if c.Needs&p == 0 {
			continue
		}
		if why := snap.Unknown(p); why != "" {
			return why
		}
	}
	return ""
}

// Evaluate runs one check, when it can judge snap (Unknown, waitsFor), and
// labels its findings with its name and severity.
func (c Check) Evaluate(snap *snapshot.Snapshot) []Finding {
	if snap == nil || c.Unknown(snap) != "" {
		return nil
	}
	if f := waitsFor[c.Name]; f != nil && f(snap) != "" {
		return nil
	}
	found := c.Run(snap)
	for i := range found {
		found[i].Check = c.Name
		found[i].Severity = c.Severity
	}
	return found
}
