package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/netirq/netirq_exporter/collector"
	"github.com/netirq/netirq_exporter/internal/report"
)

const (
	minReportInterval = 500 * time.Millisecond
	maxReportInterval = 60 * time.Second
)

// reportOptions are the report command's own flags.
type reportOptions struct {
	interval time.Duration
	json     bool
}

// addReportCommand defines `report` on app. The global flags
// (--path.procfs, --collector.*, --log.*) apply to it too; the --web.*
// flags are serve's.
func addReportCommand(app *kingpin.Application) (*kingpin.CmdClause, *reportOptions) {
	opts := &reportOptions{}
	cmd := app.Command("report",
		"Print the queue → IRQ → CPU map, per-CPU interrupt and softirq load and the misconfiguration findings with their fix commands, from two snapshots --interval apart, and exit.")
	cmd.Flag("interval", "Time between the two snapshots (0.5s to 60s).").Default("5s").DurationVar(&opts.interval)
	cmd.Flag("json", "Print one JSON document instead of tables.").BoolVar(&opts.json)
	return cmd, opts
}

// runReport reads two snapshots and prints the report; it returns the exit
// code.
func runReport(cfg collector.Config, logger *slog.Logger, opts *reportOptions, out io.Writer) int {
	if opts.interval < minReportInterval || opts.interval > maxReportInterval {
		logger.Error("bad flag", "err", fmt.Sprintf("--interval %s: want %s to %s", opts.interval, minReportInterval, maxReportInterval))
		return exitUsage
	}
	source, err := collector.SourceFor(cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return exitRuntime
	}
	r, err := report.Run(source, report.Options{Interval: opts.interval, DeviceExclude: cfg.DeviceExclude, JSON: opts.json}, out)
	if err != nil {
		logger.Error("cannot write the report", "err", err)
		return exitRuntime
	}
	if missing := r.Unread; len(missing) > 0 {
		logger.Warn("the report is incomplete: parts it needs could not be read", "unread", strings.Join(missing, "; "))
		return exitIncomplete
	}
	return exitOK
}
