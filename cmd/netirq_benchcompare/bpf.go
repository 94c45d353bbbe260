//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/netirq/netirq_exporter/internal/netlab"
	"golang.org/x/sys/unix"
)

// The bpf collector's overhead (-bpf), measured on real traffic as root:
// the seed 004 funnel of TestScenarioPages (every RX queue's RPS -> CPU 1,
// the flood from CPU 0) in a netlab lab, the exporter running with and
// without --collector.bpf in alternating rounds (off, on, on, off, ...),
// so drift of a shared machine falls on both; then one more round with
// the kernel counting BPF run time (BPF_ENABLE_STATS: a file descriptor
// held by this process for that round only; kernel.bpf_stats_enabled is
// never written, and goes back to its value when the descriptor closes),
// for the probes' CPU per million packets. Its section of BENCHMARKS.md
// lies between bpfBegin and bpfEnd; a run without -bpf keeps it.

const bpfBegin, bpfEnd = "<!-- bpf -->", "<!-- /bpf -->"

// bpfRound is one flood with the collector on or off.
type bpfRound struct {
	on                bool
	sent, rx, dropped uint64
	seconds, sentPPS  float64
	events            float64 // probe events over the flood
	runSeconds        float64 // probes' CPU, with stats only
}

func (r bpfRound) rxPPS() float64 { return float64(r.rx) / r.seconds }

// keptBPF is the bpf section of an existing output file, markers included.
func keptBPF(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return sectionOf(string(b))
}

// withBPF replaces the bpf section of doc, or puts it before "## Reading".
func withBPF(doc, section string) string {
	if old := sectionOf(doc); old != "" {
		return strings.Replace(doc, old, section, 1)
	}
	if i := strings.Index(doc, "## Reading"); i >= 0 {
		return doc[:i] + section + "\n\n" + doc[i:]
	}
	return doc + "\n" + section + "\n"
}

func sectionOf(s string) string {
	i, j := strings.Index(s, bpfBegin), strings.Index(s, bpfEnd)
	if i < 0 || j < i {
		return ""
	}
	return s[i : j+len(bpfEnd)]
}

// measureBPF runs the rounds and returns the section's Markdown.
func measureBPF(root, bin string, rounds int, flood time.Duration) (string, error) {
	if os.Geteuid() != 0 {
		return "", errors.New("-bpf needs root: a network lab and the probes")
	}
	exporter, loadgen := filepath.Join(bin, "netirq_exporter"), filepath.Join(bin, "netirq_loadgen")
	for _, b := range [][2]string{{exporter, "./cmd/netirq_exporter"}, {loadgen, "./cmd/netirq_loadgen"}} {
		if out, err := goCmd(root, nil, "build", "-o", b[0], b[1]); err != nil {
			return "", fmt.Errorf("building %s: %v\n%s", b[1], err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	lab, err := netlab.Create(ctx, netlab.Options{Queues: 4, SenderTxQueues: 5, LoadgenPath: loadgen})
	if err != nil {
		return "", err
	}
	defer lab.Close()
	for q := range lab.Queues() {
		if err := lab.SetRPS(q, "2"); err != nil {
			return "", err
		}
	}
	began, load0 := time.Now(), loadavg()
	var all []bpfRound
	for i := range 2 * rounds {
		on := i%4 == 1 || i%4 == 2 // off, on, on, off, ...
		r, err := bpfFlood(ctx, lab, exporter, on, false, flood)
		if err != nil {
			return "", err
		}
		logf("bpf round %d (collector %v): %.0f pps sent, %.0f received/s", i+1, on, r.sentPPS, r.rxPPS())
		all = append(all, r)
	}
	stats, err := bpfFlood(ctx, lab, exporter, true, true, flood)
	if err != nil {
		return "", err
	}
	logf("bpf round with run-time stats: %.3f s of probe CPU for %d packets", stats.runSeconds, stats.rx)
	return bpfMarkdown(all, stats, flood, began, load0), nil
}

// bpfFlood runs the exporter (with --collector.bpf when on), one flood,
// and reads the probes' counters from /metrics before and after.
func bpfFlood(ctx context.Context, lab *netlab.Lab, exporter string, on, stats bool, flood time.Duration) (bpfRound, error) {
	r := bpfRound{on: on}
	port, err := freePort()
	if err != nil {
		return r, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{"--web.listen-address=" + addr, "--path.sysfs=" + lab.SysfsRoot()}
	if on {
		args = append(args, "--collector.bpf")
	}
	cmd := exec.CommandContext(ctx, exporter, args...)
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if err := waitListening(addr, 10*time.Second); err != nil {
		return r, err
	}
	if on {
		if err := waitAttached(addr); err != nil {
			return r, err
		}
	}
	if stats {
		closer, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
		if err != nil {
			return r, fmt.Errorf("BPF_ENABLE_STATS: %w", err)
		}
		defer closer.Close()
	}
	e0, run0 := probeCounters(addr)
	res, err := lab.Flood(ctx, netlab.FloodOptions{Duration: flood, Flows: 256, SenderCPUs: []int{0}})
	if err != nil {
		return r, err
	}
	e1, run1 := probeCounters(addr)
	r.sent, r.rx, r.dropped, r.sentPPS, r.seconds = res.Sent, res.RxPackets, res.RxDropped, res.PPS, res.SendTime.Seconds()
	r.events, r.runSeconds = e1-e0, run1-run0
	return r, nil
}

var (
	attachedLine = regexp.MustCompile(`netirq_bpf_probes_info\{[^}]*state="(\w+)"`)
	sampleLine   = regexp.MustCompile(`(?m)^(netirq_bpf_probe_events_total|netirq_bpf_probe_run_seconds_total)\{[^}]*\} (\S+)$`)
)

func scrapeText(addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return string(b)
}

// waitAttached waits up to a minute for the probes to be attached.
func waitAttached(addr string) error {
	state := ""
	for range 120 {
		if m := attachedLine.FindStringSubmatch(scrapeText(addr)); m != nil {
			state = m[1]
		}
		if state == "attached" || state == "failed" {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if state != "attached" {
		return fmt.Errorf("the bpf collector's probes are %q, not attached", state)
	}
	return nil
}

// probeCounters sums the probes' events and run seconds of one scrape.
func probeCounters(addr string) (events, run float64) {
	for _, m := range sampleLine.FindAllStringSubmatch(scrapeText(addr), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		if m[1] == "netirq_bpf_probe_events_total" {
			events += v
		} else {
			run += v
		}
	}
	return events, run
}

// bpfMarkdown writes the section: the rounds, the medians, the cost.
func bpfMarkdown(rounds []bpfRound, stats bpfRound, flood time.Duration, began time.Time, load0 string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("%s\n## The bpf collector's overhead\n\n", bpfBegin)
	w("`go run ./cmd/netirq_benchcompare -bpf` (as root; rewrites only this section). The seed 004 funnel of TestScenarioPages\n")
	w("(netlab: 4-queue veth, every RX queue's RPS -> CPU 1, %s floods of 64-byte UDP from CPU 0 over 256 flows), the exporter\n", flood)
	w("running with `--collector.bpf` (on) or without (off) in alternating rounds; then one round with the kernel counting BPF run\n")
	w("time (BPF_ENABLE_STATS held by the benchmark for that round; `kernel.bpf_stats_enabled` is never written).\n\n")
	cpus, model, kernel, goVersion := machine()
	w("- machine: `nproc` %s, %s, kernel %s, %s; %s UTC, load average %s before, %s after\n\n", cpus, model, kernel, goVersion,
		began.UTC().Format("2006-01-02 15:04"), load0, loadavg())
	w("| round | collector | sent pps | received pps | dropped | probe events |\n|---:|---|---:|---:|---:|---:|\n")
	var on, off []float64
	for i, r := range rounds {
		state := "off"
		if r.on {
			state, on = "on", append(on, r.rxPPS())
		} else {
			off = append(off, r.rxPPS())
		}
		w("| %d | %s | %.0f | %.0f | %d | %.0f |\n", i+1, state, r.sentPPS, r.rxPPS(), r.dropped, r.events)
	}
	slices.Sort(on)
	slices.Sort(off)
	mOn, mOff := percentile(on, 0.5), percentile(off, 0.5)
	w("\nMedian received packet rate: **%.0f/s on, %.0f/s off: %+.1f %%** (the goal: no more than 3 %% lower).\n", mOn, mOff, 100*(mOn-mOff)/mOff)
	perM := stats.runSeconds / (float64(stats.rx) / 1e6)
	w("Probes' CPU (the kernel's count, stats round): **%.1f ms per million packets received** (%.3f s for %d packets, %.0f probe\n", 1e3*perM, stats.runSeconds, stats.rx, stats.events)
	w("events: %.0f per million packets, %.0f ns each).\n%s", stats.events/(float64(stats.rx)/1e6), 1e9*stats.runSeconds/max(stats.events, 1), bpfEnd)
	return b.String()
}

// runBPF measures the bpf collector and splices its section into out,
// leaving the rest of the file as it is.
func runBPF(c config, root, bin, out string) error {
	section, err := measureBPF(root, bin, c.bpfRounds, c.bpfFlood)
	if err != nil {
		return err
	}
	doc, err := os.ReadFile(out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.WriteFile(out, []byte(withBPF(string(doc), section)), 0o644); err != nil {
		return err
	}
	logf("wrote the bpf section of %s", out)
	return nil
}
