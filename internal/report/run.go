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
	Interval      time.Duration  // between the two snapshots
	DeviceExclude *regexp.Regexp // devices (and their findings) left out; nil: none
	JSON          bool           // one JSON document instead of tables
}

// Run reads two snapshots opts.Interval apart from source, builds the
// report and writes it to out.
func Run(source *snapshot.Source, opts Options, out io.Writer) (Report, error) {
	prev := source.Snapshot()
	time.Sleep(time.Until(prev.Time.Add(opts.Interval)))
	cur := source.Snapshot()

	r := BuildReport(prev, cur)
	r.Host, _ = os.Hostname()
	if opts.DeviceExclude != nil {
		r.Devices = slices.DeleteFunc(r.Devices, func(d ReportDevice) bool { return opts.DeviceExclude.MatchString(d.Name) })
		r.Findings = slices.DeleteFunc(r.Findings, func(f diagnosis.Finding) bool {
			return f.Device != "" && opts.DeviceExclude.MatchString(f.Device)
		})
		r.Interrupts = slices.DeleteFunc(r.Interrupts, func(q ReportInterrupt) bool { return opts.DeviceExclude.MatchString(q.Device) })
	}
	if opts.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return r, enc.Encode(r)
	}
	return r, r.WriteText(out)
}
