// Package collector exports, as Prometheus metrics, how a Linux host
// spreads network interrupt and softirq work over its CPUs.
//
// Data flows one way: the files under /proc and /sys are read once per
// scrape into a snapshot.Snapshot (internal/snapshot, over the readers of
// internal/kernel/...); each collector (one file each) only translates its
// part of the snapshot into metrics. See ARCHITECTURE.md.
package collector

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "netirq"

// Collector translates a snapshot into metrics. Update returns an error when
// the snapshot parts it needs were read only partly or not at all; it still
// sends what it has.
type Collector interface {
	Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error
}

type factory struct {
	name           string
	help           string
	defaultEnabled bool
	parts          snapshot.Part
	build          func(cfg *Config) Collector
}

var factories = map[string]factory{}

// register is called from each collector file's init.
func register(f factory) {
	if _, dup := factories[f.name]; dup {
		panic("collector registered twice: " + f.name)
	}
	factories[f.name] = f
}

// CollectorNames lists every known collector, sorted.
func CollectorNames() []string {
	names := make([]string, 0, len(factories))
	for n := range factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Config is everything the collectors can be told.
type Config struct {
	ProcPath string
	SysPath  string
	// Enabled maps collector name → on/off; a name missing here takes its default.
	Enabled map[string]bool
	// Interrupts picks the IRQs exported one by one.
	Interrupts snapshot.IRQSelector
	// SoftirqsAll exports every softirq vector, not just NET_RX and NET_TX.
	SoftirqsAll bool
	// DeviceExclude names net devices that are not read at all
	// (snapshot.Options.DeviceExclude), so that no metric, finding or
	// report line is about them; the collectors also drop what other
	// files say about them (a feed or finding of an IRQ named after one).
	DeviceExclude *regexp.Regexp
	// EvcntInclude adds NetBSD event counters by "group name" to the NIC
	// queue counters the evcnt collector exports.
	EvcntInclude *regexp.Regexp
	// QueueStatsOffloads also exports the per-queue checksum, hardware GRO
	// and GSO counters of netdev qstats (off: they double a big NIC's
	// per-queue series; see queuestats_counters.go).
	QueueStatsOffloads bool
	// BQLAll exports every byte_queue_limits file of every TX queue, not
	// only the limit, the stall counter and tx_maxrate when set (bql.go).
	BQLAll bool
	// NetNS is the network namespace file whose devices the netlink and
	// ioctl readers ask about; "" (no flag sets it): the exporter's own.
	// The lab tests point it at a lab namespace.
	NetNS string
	// ReadTimeout bounds a snapshot read that has no deadline of its own
	// (a scrape without X-Prometheus-Scrape-Timeout-Seconds, the report's
	// snapshots); 0: snapshot.DefaultTimeout.
	ReadTimeout time.Duration
	// BPF configures the opt-in bpf collector (bpf.go).
	BPF BPFConfig
}

// DefaultConfig is what the exporter does with no flags.
func DefaultConfig() Config {
	return Config{ProcPath: "/proc", SysPath: "/sys", Enabled: map[string]bool{}}
}

// RegisterFlags defines the collectors' flags on app in node_exporter's
// style and returns a function that builds the Config once app has parsed.
func RegisterFlags(app *kingpin.Application) func() (Config, error) {
	procPath := app.Flag("path.procfs", "procfs mountpoint.").Default("/proc").String()
	sysPath := app.Flag("path.sysfs", "sysfs mountpoint.").Default("/sys").String()
	enabled := map[string]*bool{}
	for _, name := range CollectorNames() {
		f := factories[name]
		state := "disabled"
		if defaultOn(f) {
			state = "enabled"
		}
		enabled[name] = app.Flag("collector."+name, fmt.Sprintf("%s (default: %s).", f.help, state)).
			Default(strconv.FormatBool(defaultOn(f))).Bool()
	}
	dense := app.Flag("collector.interrupts.all",
		"Export every IRQ x every CPU (node_exporter's dense matrix) instead of NIC IRQs only.").Default("false").Bool()
	include := app.Flag("collector.interrupts.include",
		"Regexp on IRQ number, name or device: also export these IRQs one by one.").Default("").String()
	exclude := app.Flag("collector.interrupts.exclude",
		"Regexp on IRQ number, name or device: never export these IRQs one by one (wins over include).").Default("").String()
	softirqsAll := app.Flag("collector.softirqs.all",
		"Export every softirq vector, not only NET_RX and NET_TX.").Default("false").Bool()
	readTimeout := app.Flag("read.timeout",
		"Longest a read of the files may take when the scraper gives no deadline (X-Prometheus-Scrape-Timeout-Seconds), and for each of report's two reads; groups of files not read by then fail alone.").
		Default(snapshot.DefaultTimeout.String()).Duration()
	bqlAll := app.Flag("collector.bql.all",
		"Export every byte_queue_limits value and tx_maxrate of every TX queue (reads 6 more files per queue), not only limit, stall counter and set tx_maxrate.").Default("false").Bool()
	devExclude := app.Flag("collector.device-exclude",
		"Regexp on net device names not to read at all (e.g. ^(veth|cali|lxc) on Kubernetes nodes): no metric, finding or report line is about them. Their IRQs, if any, are still in /proc/interrupts.").Default("").String()
	oldDevExclude := app.Flag("collector.netqueues.device-exclude",
		"Old name of --collector.device-exclude.").Default("").String()
	offloads := app.Flag("collector.queuestats.offloads",
		"Also export the per-queue checksum, hardware GRO and GSO counters of netdev qstats (about a dozen more series per queue pair on NICs that keep them).").
		Default("false").Bool()
	setBPF := registerBPFFlags(app)
	evcntInclude := app.Flag("collector.evcnt.include",
		"NetBSD: regexp on an event counter's \"group name\" (as vmstat -e prints it): also export these, besides the NIC queues' counters.").Default("").String()

	return func() (Config, error) {
		cfg := Config{ProcPath: *procPath, SysPath: *sysPath, Enabled: map[string]bool{}, SoftirqsAll: *softirqsAll,
			ReadTimeout: *readTimeout, QueueStatsOffloads: *offloads, BQLAll: *bqlAll}
		if *readTimeout <= 0 {
			return cfg, fmt.Errorf("--read.timeout must be positive, not %s", *readTimeout)
		}
		for name, on := range enabled {
			cfg.Enabled[name] = *on
		}
		cfg.Interrupts.All = *dense
		setBPF(&cfg)
		var err error
		if cfg.Interrupts.Include, err = optionalRegexp("collector.interrupts.include", *include); err != nil {
			return cfg, err
		}
		if cfg.Interrupts.Exclude, err = optionalRegexp("collector.interrupts.exclude", *exclude); err != nil {
			return cfg, err
		}
		flag, expr, err := deviceExcludeFlag(*devExclude, *oldDevExclude)
		if err != nil {
			return cfg, err
		}
		if cfg.DeviceExclude, err = optionalRegexp(flag, expr); err != nil {
			return cfg, err
		}
		if cfg.EvcntInclude, err = optionalRegexp("collector.evcnt.include", *evcntInclude); err != nil {
			return cfg, err
		}
		return cfg, nil
	}
}

// deviceExcludeFlag picks the device exclude from its flag or the flag's
// old name (--collector.netqueues.device-exclude, from when it only thinned
// the queue metrics); both given must agree.
func deviceExcludeFlag(expr, old string) (flag, value string, err error) {
	switch {
	case old == "":
		return "collector.device-exclude", expr, nil
	case expr == "" || expr == old:
		return "collector.netqueues.device-exclude", old, nil
	}
	return "", "", fmt.Errorf("--collector.device-exclude=%q and its old name --collector.netqueues.device-exclude=%q disagree: give one", expr, old)
}

func optionalRegexp(flag, expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	return re, nil
}

var (
	scrapeDurationDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "scrape", "collector_duration_seconds"),
		"Time a collector took to turn the shared snapshot into metrics (file reads: netirq_scrape_source_duration_seconds).",
		[]string{"collector"}, nil)
	scrapeSuccessDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "scrape", "collector_success"),
		"1 when the collector read all its files fully, 0 when it failed or exported partial results.",
		[]string{"collector"}, nil)
	sourceDurationDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "scrape", "source_duration_seconds"),
		"Time spent reading and parsing one group of files for the snapshot this scrape used. The groups are read concurrently; a group's time leaves out its wait for the groups it needs.", []string{"source"}, nil)
	sourceAbandonedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "scrape", "source_abandoned_reads_total"),
		"Reads of a group of files given up at a scrape's deadline (the group failed in that scrape); present once one was. An abandoned read goes on in the background; see netirq_scrape_source_stuck.", []string{"source"}, nil)
	sourceStuckDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "scrape", "source_stuck"),
		"1 while an abandoned read of a group of files has not returned (stuck in the kernel?): scrapes skip that group, failing it at once, until it does.", []string{"source"}, nil)
	snapshotReadsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "scrape", "snapshot_reads_total"),
		"Snapshots read; concurrent scrapes share one, so this can grow slower than the scrape count.", nil, nil)
)

// Exporter is the prometheus.Collector that reads one snapshot per scrape
// and runs every enabled collector over it.
type Exporter struct {
	source     *snapshot.Source
	names      []string
	collectors map[string]Collector
	logger     *slog.Logger
	exclude    *regexp.Regexp // Config.DeviceExclude
}

// NewExporter builds the enabled collectors and their shared source.
func NewExporter(cfg Config, logger *slog.Logger) (*Exporter, error) {
	names, parts, err := enabled(cfg)
	if err != nil {
		return nil, err
	}
	e := &Exporter{names: names, collectors: map[string]Collector{}, logger: logger, exclude: cfg.DeviceExclude}
	for _, name := range names {
		e.collectors[name] = buildHere(name, &cfg)
	}
	logOtherSystems(logger)
	e.source = newSource(cfg, parts, logger)
	return e, nil
}

// SourceFor returns the snapshot source that the collectors cfg enables
// read, without building them: the report's source (the --collector.*
// flags decide what it reads, as for the exporter).
func SourceFor(cfg Config, logger *slog.Logger) (*snapshot.Source, error) {
	_, parts, err := enabled(cfg)
	if err != nil {
		return nil, err
	}
	return newSource(cfg, parts, logger), nil
}

func newSource(cfg Config, parts snapshot.Part, logger *slog.Logger) *snapshot.Source {
	selector := cfg.Interrupts
	bql := sysfs.BQLDefault
	if cfg.BQLAll {
		bql = sysfs.BQLAll
	}
	return snapshot.NewSource(snapshot.Options{ProcPath: cfg.ProcPath, SysPath: cfg.SysPath, Parts: parts,
		Selector: &selector, Logger: logger, NetNS: cfg.NetNS, Timeout: cfg.ReadTimeout, DeviceExclude: cfg.DeviceExclude,
		BPF: bpfReader(cfg, parts, logger), BQLFields: bql})
}

// enabled lists the collectors cfg enables, in name order, and the
// snapshot parts they read.
func enabled(cfg Config) ([]string, snapshot.Part, error) {
	var names []string
	var parts snapshot.Part
	for _, name := range CollectorNames() {
		f := factories[name]
		on, set := cfg.Enabled[name]
		if !set {
			on = defaultOn(f)
		}
		if !on {
			continue
		}
		names = append(names, name)
		parts |= partsHere(f)
	}
	for name := range cfg.Enabled {
		if _, ok := factories[name]; !ok {
			return nil, 0, fmt.Errorf("unknown collector %q", name)
		}
	}
	if len(names) == 0 {
		return nil, 0, fmt.Errorf("no collector enabled")
	}
	return names, parts, nil
}

// Collectors lists the enabled collectors.
func (e *Exporter) Collectors() []string { return e.names }

// DeviceExclude is the devices left out of the metrics
// (--collector.netqueues.device-exclude): the live page leaves them out of
// its report too. nil: none.
func (e *Exporter) DeviceExclude() *regexp.Regexp { return e.exclude }

// Source is the snapshot source, shared with the report and the findings.
func (e *Exporter) Source() *snapshot.Source { return e.source }

// Describe sends nothing: the metric set depends on the host, so the
// exporter is an unchecked collector, as node_exporter's is.
func (e *Exporter) Describe(chan<- *prometheus.Desc) {}

// Collect reads (or joins) one snapshot and runs every collector over it.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.collect(e.source.Snapshot(), ch, nil)
}

// collect runs every collector over snap; with matrices non-nil the
// collectors that build per-CPU matrices leave them there instead of
// sending them (see WriteText).
func (e *Exporter) collect(snap *snapshot.Snapshot, ch chan<- prometheus.Metric, matrices *[]*cpuMatrix) {
	for _, p := range snap.ReadDurations {
		ch <- prometheus.MustNewConstMetric(sourceDurationDesc, prometheus.GaugeValue, p.Duration.Seconds(), p.Part.String())
	}
	ch <- prometheus.MustNewConstMetric(snapshotReadsDesc, prometheus.CounterValue, float64(e.source.Reads()))
	for _, a := range e.source.AbandonedReads() {
		if a.Abandoned == 0 {
			continue // a healthy host pays no series for this
		}
		ch <- prometheus.MustNewConstMetric(sourceAbandonedDesc, prometheus.CounterValue, float64(a.Abandoned), a.Part.String())
		stuck := 0.0
		if a.Stuck {
			stuck = 1
		}
		ch <- prometheus.MustNewConstMetric(sourceStuckDesc, prometheus.GaugeValue, stuck, a.Part.String())
	}
	for _, name := range e.names {
		begin := time.Now()
		c := e.collectors[name]
		var err error
		if mc, ok := c.(matrixCollector); ok && matrices != nil {
			err = safely(func() error {
				ms, err := mc.updateMatrices(snap, ch)
				*matrices = append(*matrices, ms...)
				return err
			})
		} else {
			err = safely(func() error { return c.Update(snap, ch) })
		}
		success := 1.0
		var logged loggedError
		switch {
		case errors.As(err, &logged): // logged once where it arose
			success = 0
			e.logger.Debug("collector failed", "collector", name, "err", err)
		case err != nil:
			success = 0
			e.logger.Error("collector failed", "collector", name, "err", err)
		}
		ch <- prometheus.MustNewConstMetric(scrapeDurationDesc, prometheus.GaugeValue, time.Since(begin).Seconds(), name)
		ch <- prometheus.MustNewConstMetric(scrapeSuccessDesc, prometheus.GaugeValue, success, name)
	}
}

// safely runs one collector and turns a panic into its failure, so a bug
// tripped by one odd file costs one collector, not the process.
func safely(update func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("collector panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return update()
}
