package collector

import (
	"errors"
	"log/slog"
	"strconv"

	"github.com/alecthomas/kingpin/v2"
	"github.com/netirq/netirq_exporter/internal/kernel/bpfprobes"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// The bpf collector (off by default: it needs CAP_BPF and CAP_PERFMON)
// exports what the eBPF probes of internal/kernel/bpfprobes count: the
// exact time per CPU in each softirq vector, how long a raised softirq
// waits to run, per NAPI instance its polls and the polls that used the
// whole budget, and the probes' own cost. Without the capabilities, or on
// a kernel without the tracepoints, it fails (netirq_scrape_collector_success
// 0, the reason in netirq_bpf_probes_info and in one log line) and the
// other collectors run as before.
func init() {
	register(factory{
		name: "bpf", help: "eBPF probes: exact softirq time, softirq wait (raise to run) and NAPI budget use; needs CAP_BPF and CAP_PERFMON",
		defaultEnabled: false, parts: snapshot.PartBPF | snapshot.PartQueueStats,
		build: func(cfg *Config) Collector {
			return bpfCollector{all: cfg.SoftirqsAll, waitPerCPU: cfg.BPF.WaitPerCPU, exclude: cfg.DeviceExclude}
		},
	})
}

// BPFConfig is the bpf collector's own configuration.
type BPFConfig struct {
	// Mode is how the probes attach: auto, tp_btf or tracepoint.
	Mode bpfprobes.Mode
	// WaitPerCPU says which vectors' wait histograms are per CPU; the
	// others are summed over the CPUs (cpu=""): net_rx (the default), all
	// or none.
	WaitPerCPU string
}

// Wait histograms per CPU, --collector.bpf.wait-per-cpu. NET_RX per CPU by
// default: its wait is the saturation signal of one CPU, and one hot
// CPU's tail vanishes in a sum over many idle ones. NET_TX (completions)
// is summed: 21 series a host instead of 21 a CPU. none sums NET_RX too,
// for hosts where 21 series a CPU are too many (5,376 at 256 CPUs).
const (
	waitPerCPUNetRx = "net_rx"
	waitPerCPUAll   = "all"
	waitPerCPUNone  = "none"
)

// registerBPFFlags defines the bpf collector's flags; the returned
// function fills cfg once the flags are parsed.
func registerBPFFlags(app *kingpin.Application) func(cfg *Config) {
	mode := app.Flag("collector.bpf.attach",
		"How the bpf collector's probes attach: auto (tp_btf when the kernel has BTF, else classic tracepoints), tp_btf or tracepoint.").
		Default(string(bpfprobes.ModeAuto)).Enum(string(bpfprobes.ModeAuto), string(bpfprobes.ModeBTF), string(bpfprobes.ModeTracepoint))
	perCPU := app.Flag("collector.bpf.wait-per-cpu",
		"Softirq wait histograms kept per CPU: net_rx (NET_RX per CPU, NET_TX summed over CPUs), all, or none (both summed: big hosts).").
		Default(waitPerCPUNetRx).Enum(waitPerCPUNetRx, waitPerCPUAll, waitPerCPUNone)
	return func(cfg *Config) { cfg.BPF = BPFConfig{Mode: bpfprobes.Mode(*mode), WaitPerCPU: *perCPU} }
}

// startProbes starts the probes; tests replace it.
var startProbes = func(opts bpfprobes.Options) snapshot.BPFReader { return bpfprobes.Start(opts) }

// bpfReader starts the probes when parts include PartBPF, else nil.
func bpfReader(cfg Config, parts snapshot.Part, logger *slog.Logger) snapshot.BPFReader {
	if parts&snapshot.PartBPF == 0 {
		return nil
	}
	return startProbes(bpfprobes.Options{Mode: cfg.BPF.Mode, ProcPath: cfg.ProcPath, Logger: logger})
}

// Close detaches the eBPF probes, if the bpf collector started them.
func (e *Exporter) Close() error { return e.source.Close() }

// loggedError is a collector error already logged once where it arose:
// the exporter logs it at debug level only, not at every scrape.
type loggedError struct{ error }

func (e loggedError) Unwrap() error { return e.error }

var bpfInfoDesc = prometheus.NewDesc(namespace+"_bpf_probes_info",
	"The bpf collector's probes: how they attach (mode tp_btf or tracepoint), their state (attaching, attached, failed) and, when not attached, why (reason: permission, no_tracepoint, no_tracefs, format_mismatch, unsupported, ...; the log has the whole error).",
	[]string{"mode", "state", "reason"}, nil)

type bpfCollector struct {
	all        bool
	waitPerCPU string
	exclude    interface{ MatchString(string) bool }
}

func (c bpfCollector) Update(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) error {
	return sendMatrices(c, snap, ch)
}

// updateMatrices sends the probes' state, then what they counted.
func (c bpfCollector) updateMatrices(snap *snapshot.Snapshot, ch chan<- prometheus.Metric) ([]*cpuMatrix, error) {
	s := snap.BPF
	if s == nil {
		return nil, orMissing(snap.BPFErr, "the eBPF probes")
	}
	state, reason := "attached", bpfprobes.ReasonNone
	var perr *bpfprobes.Error
	if errors.As(snap.BPFErr, &perr) {
		state, reason = "failed", perr.Reason
		if perr.Reason == bpfprobes.ReasonAttaching {
			state = "attaching"
		}
	}
	ch <- prometheus.MustNewConstMetric(bpfInfoDesc, prometheus.GaugeValue, 1, string(s.Mode), state, string(reason))
	if state != "attached" {
		// Logged once by the probes: attached (soon) or why not.
		return nil, loggedError{snap.BPFErr}
	}
	c.sendWaits(s, ch)
	c.sendNAPIs(snap, s, ch)
	sendProbeCost(s, ch)
	return []*cpuMatrix{c.timeMatrix(s)}, snap.BPFErr
}

// exported says whether vector vec is exported: NET_RX and NET_TX, every
// vector with --collector.softirqs.all.
func (c bpfCollector) exported(vec int) bool {
	return c.all || vec == bpfprobes.VecNetRx || vec == bpfprobes.VecNetTx
}

func cpuLabel(cpu int) string {
	if cpu < 0 {
		return ""
	}
	return strconv.Itoa(cpu)
}
