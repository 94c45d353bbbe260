// Command netirq_exporter exports how a Linux host spreads its network
// interrupt and softirq work over its CPUs, for Prometheus.
package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	webflag "github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/netirq/netirq_exporter/collector"
)

// defaultPort is outside 9100-9999, which Prometheus' port registry has
// used up; it is fixed so that the instance label stays stable.
const defaultPort = ":10467"

// metricReferenceURL is the README's metric table, linked from the landing
// page.
const metricReferenceURL = "https://github.com/netirq/netirq_exporter#metrics"

// Exit codes (README.md, "Exit codes").
const (
	exitOK      = 0
	exitRuntime = 1 // cannot start, cannot listen, cannot write the report
	exitUsage   = 2 // a bad flag: unknown, malformed, or a value out of range
	// exitIncomplete: the report was printed, but a part it needs could not
	// be read, so it may miss what it would have found.
	exitIncomplete = 3
)

// cli is the command line: the global flags (where to read, which
// collectors, logging) apply to both commands; the web flags belong to
// serve, the default command, so that `netirq_exporter --web.listen-address=…`
// still selects serve, and `report --help` does not list them.
type cli struct {
	app         *kingpin.Application
	buildConfig func() (collector.Config, error)
	log         *promslog.Config
	serveCmd    *kingpin.CmdClause
	serve       *serveOptions
	reportCmd   *kingpin.CmdClause
	report      *reportOptions
}

// serveOptions are the serve command's own flags.
type serveOptions struct {
	metricsPath            string
	maxRequests            int
	timeoutOffset          time.Duration
	disableExporterMetrics bool
	shutdownTimeout        time.Duration
	toolkit                *web.FlagConfig
}

func newCLI() *cli {
	c := &cli{log: &promslog.Config{}}
	c.app = kingpin.New("netirq_exporter",
		"Exports per-CPU network interrupt, softirq and softnet work and the NIC queue → IRQ → CPU topology.")
	c.buildConfig = collector.RegisterFlags(c.app)
	promslogflag.AddFlags(c.app, c.log)
	c.app.Version(version.Print("netirq_exporter"))
	c.app.HelpFlag.Short('h')
	c.app.UsageTemplate(usageTemplate)
	c.serveCmd, c.serve = addServeCommand(c.app)
	c.reportCmd, c.report = addReportCommand(c.app)
	return c
}

// addServeCommand defines `serve`, the default command, with its web flags.
func addServeCommand(app *kingpin.Application) (*kingpin.CmdClause, *serveOptions) {
	opts := &serveOptions{}
	cmd := app.Command("serve", "Serve the metrics over HTTP (the default command).").Default()
	cmd.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&opts.metricsPath)
	cmd.Flag("web.max-requests",
		"Maximum number of parallel scrape requests; 0 disables the limit. Requests past it get 503.").Default("40").IntVar(&opts.maxRequests)
	cmd.Flag("web.timeout-offset",
		"Subtracted from the scraper's timeout (X-Prometheus-Scrape-Timeout-Seconds), at most a tenth of it, to leave time to send the answer; files not read by then fail alone.").
		Default("500ms").DurationVar(&opts.timeoutOffset)
	cmd.Flag("web.disable-exporter-metrics",
		"Leave out the exporter's own Go runtime and process metrics (go_*, process_*, promhttp_*).").BoolVar(&opts.disableExporterMetrics)
	cmd.Flag("web.shutdown-timeout",
		"On SIGTERM or SIGINT, how long the scrapes in flight may take to finish before the exporter exits.").Default("5s").DurationVar(&opts.shutdownTimeout)
	opts.toolkit = webflag.AddFlags(cmd, defaultPort)
	return cmd, opts
}

// usageTemplate is kingpin's default, except that the top-level help lists
// each command's own flags too: `netirq_exporter --help` shows the web
// flags a newcomer looks for, under serve.
var usageTemplate = strings.Replace(kingpin.DefaultUsageTemplate,
	"{{else if .App.Commands -}}\nCommands:\n{{template \"FormatCommands\" .App}}",
	"{{else if .App.Commands -}}\nCommands:\n{{range .App.FlattenedCommands -}}\n{{if not .Hidden -}}\n"+
		"  {{.FullCommand}}{{if .Default}}*{{end}}{{template \"FormatCommand\" .}}\n{{.Help|Wrap 4}}\n"+
		"{{with .Flags|FlagsToTwoColumns}}{{FormatTwoColumnsWithIndent . 4 2}}{{end}}\n{{end -}}\n{{end -}}", 1)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run parses args and runs the command; it returns the exit code. --help
// and --version exit 0 from inside the parse.
func run(args []string) int {
	stampVersion()
	c := newCLI()
	command, err := c.app.Parse(args)
	if err != nil {
		c.app.Errorf("%s, try --help", err)
		return exitUsage
	}
	logger := promslog.New(c.log)
	cfg, err := c.buildConfig()
	if err == nil && collector.ReadsFiles(cfg) {
		err = checkRoots(cfg)
	}
	if err == nil && command == c.serveCmd.FullCommand() {
		err = c.serve.validate()
	}
	if err != nil {
		logger.Error("bad flag", "err", err)
		return exitUsage
	}
	if command == c.reportCmd.FullCommand() {
		return runReport(cfg, logger, c.report, os.Stdout)
	}
	return runServe(cfg, logger, c.serve)
}

// runServe serves the metrics until SIGTERM or SIGINT.
func runServe(cfg collector.Config, logger *slog.Logger, opts *serveOptions) int {
	ignoreLostLogPipe()
	exporter, err := collector.NewExporter(cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return exitRuntime
	}
	logger.Info("starting netirq_exporter", "version", version.Info(), "build_context", version.BuildContext(),
		"collectors", strings.Join(exporter.Collectors(), ","), "procfs", cfg.ProcPath, "sysfs", cfg.SysPath)
	handler, err := newHandler(exporter, opts, logger)
	if err != nil {
		logger.Error("landing page", "err", err)
		return exitRuntime
	}
	server := newServer(handler, defaultLimits)
	listen := func() error { return web.ListenAndServe(server, opts.toolkit, logger) }
	return serveUntilStopped(server, listen, opts.shutdownTimeout, logger)
}

// checkRoots refuses a --path.procfs or --path.sysfs that is not a
// directory: the exporter would start and report nothing, which reads as
// "no problems".
func checkRoots(cfg collector.Config) error {
	for _, p := range []struct{ flag, path string }{{"--path.procfs", cfg.ProcPath}, {"--path.sysfs", cfg.SysPath}} {
		fi, err := os.Stat(p.path)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", p.flag, err)
		case !fi.IsDir():
			return fmt.Errorf("%s %s: not a directory", p.flag, p.path)
		}
	}
	return nil
}

// newHandler serves the metrics at opts.metricsPath and, unless that is
// "/", the landing page at "/". Nothing else: no /debug/pprof, so the
// landing page shows no profiling links.
func newHandler(exporter *collector.Exporter, opts *serveOptions, logger *slog.Logger) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle(opts.metricsPath, metricsHandler(exporter, opts, logger))
	registerLive(mux, exporter, opts.metricsPath, logger)
	if opts.metricsPath == "/" {
		return mux, nil
	}
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "netirq_exporter",
		Description: "Network IRQ, softirq and softnet work per CPU, and the NIC queue topology",
		Version:     version.Info(),
		Links:       []web.LandingLinks{{Address: opts.metricsPath, Text: "Metrics"}, {Address: livePath, Text: "Live view", Description: "the report, live: hot CPUs, queues, IRQs, heat map"}},
		// The toolkit puts the route prefix in front of every address in
		// Links ("/https://…"); ExtraHTML is written as it is.
		ExtraHTML: `<div>Metric reference: <a href="` + metricReferenceURL + `">README.md, Metrics</a></div>`,
		Profiling: "false",
	})
	if err != nil {
		return nil, err
	}
	mux.Handle("/", landing)
	return mux, nil
}
