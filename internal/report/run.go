package report

import (
	"encoding/json"
	"io"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/netirq/netirq_exporter/internal/diagnosis"
	"github.com/netirq/netirq_exporter/internal/snapshot"
)

// Options are what Run needs besides the source.
type Options struct {
	Interval time.Duration // between the two snapshots
	// DeviceExclude: devices left out; nil: none. The source should not
	// read them (snapshot.Options.DeviceExclude); this drops what other
	// files say about them (IRQ rows and findings of IRQs named after one).
	DeviceExclude *regexp.Regexp
	JSON          bool // one JSON document instead of tables
}

// Run reads two snapshots opts.Interval apart from source, builds the
// report and writes it to out.
func Run(source *snapshot.Source, opts Options, out io.Writer) (Report, error) {
	_ = source.AwaitBPF(bpfWaitAwait) // the error is the snapshots' too
	prev := source.Snapshot()
	time.Sleep(time.Until(prev.Time.Add(opts.Interval)))
	cur := source.Snapshot()

	r := BuildReport(prev, cur)
	r.Host, _ = os.Hostname()
	r.ExcludeDevices(opts.DeviceExclude)
	if opts.JSON {
		return r, r.WriteJSON(out)
	}
	return r, r.WriteText(out)
}

// ExcludeDevices leaves out the devices re matches and their findings, as
// --collector.device-exclude does for the metrics; nil leaves all.
func (r *Report) ExcludeDevices(re *regexp.Regexp) {
	if re == nil {
		return
	}
	r.Devices = slices.DeleteFunc(r.Devices, func(d ReportDevice) bool { return re.MatchString(d.Name) })
	r.Findings = slices.DeleteFunc(r.Findings, func(f diagnosis.Finding) bool {
		return f.Device != "" && re.MatchString(f.Device)
	})
	r.Interrupts = slices.DeleteFunc(r.Interrupts, func(q ReportInterrupt) bool { return re.MatchString(q.Device) })
}

// WriteJSON writes the report as `report --json` prints it: one indented
// JSON document.
func (r Report) WriteJSON(out io.Writer) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
