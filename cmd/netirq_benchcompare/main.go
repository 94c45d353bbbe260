//go:build linux

// Command netirq_benchcompare measures netirq_exporter against node_exporter
// on the same synthetic hosts and writes BENCHMARKS.md (`make bench-compare`).
//
// It builds node_exporter at a pinned version from its Go module (go install
// github.com/prometheus/node_exporter@VERSION; when the module proxy refuses
// one of its dependencies it tries the next version of -node-exporter-fallback
// and records the one it used), builds netirq_exporter from this tree,
// generates hostgen trees (internal/hostgen, hostgen.Standard: 2 NICs x 64
// queues, 642 IRQs) at each CPU count, and runs on each tree:
//
//   - node_exporter --collector.disable-defaults --collector.interrupts
//     --collector.softirqs --collector.softnet --collector.stat
//   - netirq_exporter (default mode)
//   - netirq_exporter --collector.interrupts.all (dense: every IRQ x every CPU)
//
// Each is scraped over loopback the way Prometheus does (text format, gzip)
// after one warm-up scrape, -scrapes times (more while the process has used
// fewer than -min-cpu-ticks clock ticks, at most -max-scrapes, and never
// longer than -max-time). The table gives the median scrape time, the
// uncompressed size and series of a scrape, the peak RSS (VmHWM), the CPU time
// per scrape from utime+stime, and the CPU share that makes at a 15 s scrape
// interval.
//
// Under load (load.go, floor.go), on testdata/hosts/bigiron-8cpu: the peak
// RSS of netirq_exporter and node_exporter, both with their default
// collectors, under -load-clients concurrent gzip scrapers; ours under
// -header-clients clients that each send -header-bytes of headers that
// never end; and a default scrape's median time next to the floor, the
// time to only open and read the files it opened (traced with strace).
// -only load runs this part alone and rewrites only its section.
//
// It then runs the Go benchmarks of collector/bench_test.go (whole scrape and
// parsers, 8 to 1024 CPUs) and fits time and allocations per CPU, and takes
// CPU and allocation profiles of the whole scrape with pprof. Everything runs
// on one machine at once, so compare the ratios of one run; absolute times
// depend on the machine and its load, which the file records.
//
// Text between "<!-- notes -->" and "<!-- /notes -->" in an existing output
// file is kept: that is where the reading of the numbers goes.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/netirq/netirq_exporter/internal/hostgen"
)

type config struct {
	out, neVersion, neFallback, nePath string
	oursPath                           string
	cpus                               []int
	scrapes, maxScrapes, minTicks      int
	maxTime                            time.Duration
	goBench, pprof                     bool
	benchCount                         int
	keep                               bool
	only                               string
	loadClients, headerClients         int
	headerBytes                        int
	loadTime                           time.Duration
	bpf                                bool // the bpf collector's overhead only (bpf.go)
	bpfRounds                          int
	bpfFlood                           time.Duration
}

func main() {
	var c config
	var cpus string
	flag.StringVar(&c.out, "out", "BENCHMARKS.md", "Markdown file to write")
	flag.StringVar(&cpus, "cpus", "8,64,256,1024", "CPU counts of the generated hosts")
	flag.StringVar(&c.neVersion, "node-exporter-version", "v1.12.1", "node_exporter module version to build")
	flag.StringVar(&c.neFallback, "node-exporter-fallback", "v1.12.0,v1.11.1,v1.10.2,v1.9.1",
		"versions to try, in order, when the pinned one does not build")
	flag.StringVar(&c.nePath, "node-exporter", "", "use this node_exporter binary instead of building one")
	flag.StringVar(&c.oursPath, "netirq-exporter", "", "use this netirq_exporter binary instead of building this tree (to compare two builds)")
	flag.IntVar(&c.scrapes, "scrapes", 20, "scrapes per exporter and host (after one warm-up scrape)")
	flag.IntVar(&c.maxScrapes, "max-scrapes", 200, "at most this many scrapes while waiting for -min-cpu-ticks")
	flag.IntVar(&c.minTicks, "min-cpu-ticks", 200, "keep scraping until the exporter used this many clock ticks (1/100 s), for a usable CPU figure")
	flag.DurationVar(&c.maxTime, "max-time", 2*time.Minute, "stop scraping one exporter on one host after this long (at least 3 scrapes)")
	flag.BoolVar(&c.goBench, "gobench", true, "run the Go benchmarks and fit the per-CPU slope")
	flag.IntVar(&c.benchCount, "bench-count", 3, "go test -count for the slope benchmarks (the median is used)")
	flag.BoolVar(&c.pprof, "pprof", true, "profile the whole-scrape benchmark at 256 and 1024 CPUs")
	flag.BoolVar(&c.keep, "keep", false, "keep the temporary directory (trees, binaries, profiles)")
	flag.StringVar(&c.only, "only", "", `"load": run only the "Under load" measurements and rewrite only that section of -out`)
	flag.IntVar(&c.loadClients, "load-clients", 100, "concurrent gzip scrapers for the peak-RSS comparison")
	flag.DurationVar(&c.loadTime, "load-time", 20*time.Second, "how long the concurrent scrapers run, per exporter")
	flag.IntVar(&c.headerClients, "header-clients", 300, "clients sending unfinished headers")
	flag.IntVar(&c.headerBytes, "header-bytes", 1<<20, "bytes of unfinished header each of them sends")
	flag.BoolVar(&c.bpf, "bpf", false, "measure only the bpf collector's overhead on a real-traffic lab (root) and rewrite only its section of -out")
	flag.IntVar(&c.bpfRounds, "bpf-rounds", 3, "with -bpf: flood rounds with the collector on, and as many off")
	flag.DurationVar(&c.bpfFlood, "bpf-flood", 10*time.Second, "with -bpf: each flood's length")
	flag.Parse()
	if c.only != "" && c.only != "load" {
		fail("-only: %q, want load", c.only)
	}
	for f := range strings.SplitSeq(cpus, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fail("-cpus: bad count %q", f)
		}
		c.cpus = append(c.cpus, n)
	}
	if err := run(c); err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "netirq_benchcompare: "+format+"\n", args...)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// report is everything BENCHMARKS.md shows.
type report struct {
	started, finished  time.Time
	loadBefore, loadAt string
	neVersion, neNote  string
	rows               []row
	slope              []slopeRow
	parse              []parseRow
	benchRaw           string
	profiles           []profile
	load               *loadReport
	notes              string
	bpf                string // the bpf collector's section, kept from the file
}

func run(c config) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "netirq-benchcompare-")
	if err != nil {
		return err
	}
	if c.keep {
		logf("working in %s (kept)", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	bin := filepath.Join(tmp, "bin")
	r := &report{started: time.Now(), loadBefore: loadavg()}
	outPath := c.out
	if !filepath.IsAbs(outPath) {
		outPath = filepath.Join(root, outPath)
	}
	r.notes = keptNotes(outPath)
	r.bpf = keptBPF(outPath)
	if c.bpf {
		return runBPF(c, root, bin, outPath)
	}

	// node_exporter
	nePath := c.nePath
	if nePath == "" {
		nePath, r.neVersion, r.neNote, err = buildNodeExporter(bin, append([]string{c.neVersion}, splitList(c.neFallback)...))
		if err != nil {
			return err
		}
	} else {
		r.neVersion = moduleVersion(nePath)
		r.neNote = "prebuilt binary given with -node-exporter"
	}
	logf("node_exporter %s at %s", r.neVersion, nePath)

	// ours
	ours := c.oursPath
	if ours == "" {
		ours = filepath.Join(bin, "netirq_exporter")
		if out, err := goCmd(root, nil, "build", "-o", ours, "./cmd/netirq_exporter"); err != nil {
			return fmt.Errorf("building netirq_exporter: %v\n%s", err, out)
		}
	}

	if c.only == "load" {
		return runLoadOnly(c, root, tmp, ours, nePath, r.neVersion, outPath)
	}

	// hosts and scrapes
	for _, n := range c.cpus {
		dir := filepath.Join(tmp, fmt.Sprintf("host%d", n))
		spec := hostgen.Standard(n, 2, 64, 1)
		if err := hostgen.Generate(dir, spec); err != nil {
			return err
		}
		logf("host %d CPUs: %d IRQs (%d NIC)", n, spec.IRQs(), spec.NICIRQs())
		proc, sys := filepath.Join(dir, "proc"), filepath.Join(dir, "sys")
		runs := []struct {
			name, mode, path string
			args             []string
		}{
			{"node_exporter " + r.neVersion, "interrupts, softirqs, softnet, stat", nePath, []string{
				"--path.procfs=" + proc, "--path.sysfs=" + sys, "--collector.disable-defaults",
				"--collector.interrupts", "--collector.softirqs", "--collector.softnet", "--collector.stat"}},
			{"netirq_exporter", "default", ours, []string{"--path.procfs=" + proc, "--path.sysfs=" + sys}},
			{"netirq_exporter", "dense (--collector.interrupts.all)", ours, []string{
				"--path.procfs=" + proc, "--path.sysfs=" + sys, "--collector.interrupts.all"}},
		}
		var neMedian, neCPU float64
		for i, x := range runs {
			res, err := measure(c, x.path, x.args, filepath.Join(tmp, fmt.Sprintf("log-%d-%d.txt", n, i)))
			if err != nil {
				return fmt.Errorf("%s %s on %d CPUs: %w", x.name, x.mode, n, err)
			}
			res.cpus, res.exporter, res.mode = n, x.name, x.mode
			if i == 0 {
				neMedian, neCPU = res.median, res.cpuMsPerScrape
			}
			res.ratio, res.cpuRatio = res.median/neMedian, res.cpuMsPerScrape/neCPU
			logf("  %-28s %-38s median %8.2f ms  %9d series  %6.1f MB RSS  %6.2f cpu-ms/scrape  (%d scrapes)",
				x.name, x.mode, res.median, res.series, float64(res.rssKB)/1024, res.cpuMsPerScrape, res.scrapes)
			r.rows = append(r.rows, res)
		}
	}
	r.loadAt = loadavg()

	logf("under load, on %s", loadTree)
	if r.load, err = runLoad(c, root, tmp, ours, nePath, r.neVersion); err != nil {
		return err
	}
	if c.goBench {
		if err := goBenchmarks(c, root, tmp, r); err != nil {
			return err
		}
	}
	if c.pprof {
		if err := profiles(root, tmp, r); err != nil {
			return err
		}
	}
	r.finished = time.Now()
	if err := os.WriteFile(outPath, []byte(r.markdown(c)), 0o644); err != nil {
		return err
	}
	logf("wrote %s", outPath)
	return nil
}

// runLoadOnly runs the "Under load" section alone and rewrites only it in
// outPath, keeping everything else of the file.
func runLoadOnly(c config, root, tmp, ours, nePath, neVersion, outPath string) error {
	logf("under load, on %s", loadTree)
	l, err := runLoad(c, root, tmp, ours, nePath, neVersion)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(outPath)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.WriteFile(outPath, []byte(spliceLoad(string(old), l.markdown(neVersion))), 0o644); err != nil {
		return err
	}
	logf("wrote the load section of %s", outPath)
	return nil
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run inside the netirq_exporter module")
	}
	return filepath.Dir(mod), nil
}

// goCmd runs the go command in dir and returns its combined output.
func goCmd(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

// buildNodeExporter installs the first version of versions that builds.
func buildNodeExporter(bin string, versions []string) (path, version, note string, err error) {
	var failures []string
	for _, v := range versions {
		logf("go install github.com/prometheus/node_exporter@%s", v)
		// Outside any module, so that only node_exporter's own go.mod counts.
		out, err := goCmd(os.TempDir(), []string{"GOBIN=" + bin, "GOFLAGS=", "GOWORK=off"},
			"install", "github.com/prometheus/node_exporter@"+v)
		if err == nil {
			note = "built with `go install github.com/prometheus/node_exporter@" + v + "`"
			if len(failures) > 0 {
				note += "; " + strings.Join(failures, "; ")
			}
			path = filepath.Join(bin, "node_exporter")
			return path, moduleVersion(path), note, nil
		}
		last := strings.TrimSpace(string(out))
		if i := strings.LastIndex(last, "\n"); i >= 0 {
			last = last[i+1:]
		}
		failures = append(failures, fmt.Sprintf("%s did not build (%s)", v, last))
		logf("  failed: %s", last)
	}
	return "", "", "", fmt.Errorf("no node_exporter version built: %s", strings.Join(failures, "; "))
}

// moduleVersion reads the main module version from a Go binary's build info.
func moduleVersion(path string) string {
	out, err := exec.Command("go", "version", "-m", path).Output()
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "mod" {
			return f[2]
		}
	}
	return "unknown"
}

// ---- one exporter on one host --------------------------------------------

type row struct {
	cpus             int
	exporter, mode   string
	scrapes          int
	median, p90      float64 // ms
	bytes, wireBytes int
	series           int
	rssKB            int
	cpuTicks         int
	cpuMsPerScrape   float64
	cpuPct15s        float64
	ratio            float64 // median / node_exporter's median on the same host
	cpuRatio         float64 // CPU per scrape / node_exporter's on the same host
	failed           []string
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// exporterProcess is one exporter started on a free loopback port.
type exporterProcess struct {
	cmd     *exec.Cmd
	pid     int
	addr    string
	logPath string
	logFile *os.File
}

// startExporter runs path with args on a free port, its output to logPath,
// and waits until it listens.
func startExporter(path string, args []string, logPath string) (*exporterProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &exporterProcess{addr: fmt.Sprintf("127.0.0.1:%d", port), logPath: logPath}
	if p.logFile, err = os.Create(logPath); err != nil {
		return nil, err
	}
	p.cmd = exec.Command(path, append(args, "--web.listen-address="+p.addr)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logFile, p.logFile
	if err := p.cmd.Start(); err != nil {
		p.logFile.Close()
		return nil, err
	}
	p.pid = p.cmd.Process.Pid
	if err := waitListening(p.addr, 15*time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, tail(logPath))
	}
	return p, nil
}

// stop sends SIGTERM, and kills the process if it has not exited 10 s later.
func (p *exporterProcess) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	p.logFile.Close()
}

func measure(c config, path string, args []string, logPath string) (row, error) {
	var r row
	p, err := startExporter(path, args, logPath)
	if err != nil {
		return r, err
	}
	defer p.stop()
	pid, addr := p.pid, p.addr
	url := "http://" + addr + "/metrics"
	client := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{DisableCompression: true}}

	// Warm-up: starts the process's caches (and our seen-cells set), as
	// the first of a series of Prometheus scrapes would.
	s, err := scrape(client, url)
	if err != nil {
		return r, err
	}
	r.bytes, r.wireBytes, r.series = s.bytes, s.wire, s.series
	r.failed = s.failed

	t0, err := cpuTicks(pid)
	if err != nil {
		return r, err
	}
	began := time.Now()
	var times []float64
	for {
		s, err := scrape(client, url)
		if err != nil {
			return r, err
		}
		times = append(times, s.ms)
		n := len(times)
		t1, err := cpuTicks(pid)
		if err != nil {
			return r, err
		}
		r.cpuTicks = t1 - t0
		if n >= 3 && time.Since(began) > c.maxTime {
			break
		}
		if n >= c.scrapes && (r.cpuTicks >= c.minTicks || n >= c.maxScrapes) {
			break
		}
	}
	r.scrapes = len(times)
	slices.Sort(times)
	r.median = percentile(times, 0.5)
	r.p90 = percentile(times, 0.9)
	r.cpuMsPerScrape = float64(r.cpuTicks) * 10 / float64(r.scrapes) // USER_HZ is 100
	r.cpuPct15s = r.cpuMsPerScrape / 15000 * 100
	r.rssKB, err = vmHWM(pid)
	return r, err
}

func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	if len(sorted)%2 == 0 && q == 0.5 {
		return (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

func waitListening(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s after %s", addr, limit)
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

type scrapeResult struct {
	ms                  float64
	wire, bytes, series int
	failed              []string
}

var successLine = regexp.MustCompile(`^(?:node|netirq)_scrape_collector_success\{collector="([^"]+)"\} (\S+)$`)

// scrape fetches /metrics as Prometheus does (text format, gzip) and times
// it until the last byte has arrived; decompressing and counting is not
// timed.
func scrape(client *http.Client, url string) (scrapeResult, error) {
	var s scrapeResult
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return s, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	req.Header.Set("Accept-Encoding", "gzip")
	began := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return s, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	s.ms = float64(time.Since(began).Microseconds()) / 1000
	if err != nil {
		return s, err
	}
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, body)
	}
	s.wire = len(body)
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return s, err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return s, err
		}
	}
	s.bytes = len(body)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		s.series++
		if m := successLine.FindStringSubmatch(line); m != nil && m[2] != "1" {
			s.failed = append(s.failed, m[1])
		}
	}
	return s, sc.Err()
}

// cpuTicks is utime+stime of pid in clock ticks (/proc/<pid>/stat fields 14, 15).
func cpuTicks(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.Atoi(f[11])
	stime, err2 := strconv.Atoi(f[12])
	return utime + stime, errors.Join(err1, err2)
}

// vmHWM is the peak resident set size of pid in KiB.
func vmHWM(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}

// ---- Go benchmarks: slope ------------------------------------------------

type benchResult struct {
	name                         string // without the -GOMAXPROCS suffix
	nsOp, cpuNsOp, bOp, allocsOp float64
	series                       float64
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func parseBench(out string) map[string][]benchResult {
	res := map[string][]benchResult{}
	for line := range strings.SplitSeq(out, "\n") {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		b := benchResult{name: m[1]}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				b.nsOp = v
			case "cpu-ns/op":
				b.cpuNsOp = v
			case "B/op":
				b.bOp = v
			case "allocs/op":
				b.allocsOp = v
			case "series":
				b.series = v
			}
		}
		res[b.name] = append(res[b.name], b)
	}
	return res
}

// median of one field over the runs of a benchmark.
func median(runs []benchResult, field func(benchResult) float64) float64 {
	var v []float64
	for _, r := range runs {
		v = append(v, field(r))
	}
	slices.Sort(v)
	return percentile(v, 0.5)
}

// fit is a least-squares line y = a + b x.
type fit struct{ a, b, r2 float64 }

func linfit(x, y []float64) fit {
	n := float64(len(x))
	var sx, sy, sxx, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		sxy += x[i] * y[i]
	}
	b := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	a := (sy - b*sx) / n
	var ssr, sst float64
	for i := range x {
		ssr += math.Pow(y[i]-(a+b*x[i]), 2)
		sst += math.Pow(y[i]-sy/n, 2)
	}
	return fit{a, b, 1 - ssr/sst}
}

type slopeRow struct {
	bench                  string
	points                 []benchResult // per CPU count
	ns, cpuNs, allocs, mem fit
}

type parseRow struct {
	parser string
	points []benchResult
	allocs fit
	cpuNs  fit
}

func goBenchmarks(c config, root, tmp string, r *report) error {
	var alt []string
	for _, n := range c.cpus {
		alt = append(alt, strconv.Itoa(n))
	}
	sizes := "(" + strings.Join(alt, "|") + ")"
	logf("go test -bench BenchmarkHostScrape/(Gather|Direct) (count %d)", c.benchCount)
	out, err := goCmd(root, nil, "test", "./collector", "-run", "^$", "-bench", "BenchmarkHostScrape/(Gather|Direct)/.*/cpus="+sizes+"$",
		"-benchmem", "-benchtime", "10x", "-count", strconv.Itoa(c.benchCount), "-timeout", "30m")
	if err != nil {
		return fmt.Errorf("go test -bench: %v\n%s", err, out)
	}
	r.benchRaw = string(out)
	logf("go test -bench BenchmarkHostParse")
	pout, err := goCmd(root, nil, "test", "./collector", "-run", "^$", "-bench", "BenchmarkHostParse/.*/cpus="+sizes+"$",
		"-benchmem", "-benchtime", "20x", "-count", "1", "-timeout", "30m")
	if err != nil {
		return fmt.Errorf("go test -bench: %v\n%s", err, pout)
	}
	r.benchRaw += string(pout)
	res := parseBench(r.benchRaw)

	x := make([]float64, len(c.cpus))
	for i, n := range c.cpus {
		x[i] = float64(n)
	}
	series := func(prefix string) ([]benchResult, bool) {
		var pts []benchResult
		for _, n := range c.cpus {
			runs := res[fmt.Sprintf("%s/cpus=%d", prefix, n)]
			if len(runs) == 0 {
				return nil, false
			}
			pts = append(pts, benchResult{
				nsOp:     median(runs, func(b benchResult) float64 { return b.nsOp }),
				cpuNsOp:  median(runs, func(b benchResult) float64 { return b.cpuNsOp }),
				bOp:      median(runs, func(b benchResult) float64 { return b.bOp }),
				allocsOp: median(runs, func(b benchResult) float64 { return b.allocsOp }),
				series:   median(runs, func(b benchResult) float64 { return b.series }),
			})
		}
		return pts, true
	}
	column := func(pts []benchResult, f func(benchResult) float64) []float64 {
		var y []float64
		for _, p := range pts {
			y = append(y, f(p))
		}
		return y
	}
	// As /metrics serves it (Exporter.WriteText) and, for comparison,
	// through a registry and promhttp.
	for _, m := range []struct{ mode, bench string }{
		{"default", "Direct/default"}, {"default, registry", "Gather/default"},
		{"dense", "Direct/dense"}, {"dense, registry", "Gather/dense"},
	} {
		mode := m.mode
		pts, ok := series("BenchmarkHostScrape/" + m.bench)
		if !ok {
			continue
		}
		r.slope = append(r.slope, slopeRow{bench: mode, points: pts,
			ns:     linfit(x, column(pts, func(b benchResult) float64 { return b.nsOp })),
			cpuNs:  linfit(x, column(pts, func(b benchResult) float64 { return b.cpuNsOp })),
			allocs: linfit(x, column(pts, func(b benchResult) float64 { return b.allocsOp })),
			mem:    linfit(x, column(pts, func(b benchResult) float64 { return b.bOp })),
		})
	}
	for _, p := range []string{"ParseInterrupts", "ParseSoftirqs", "ParseSoftnet", "ReadCPUTime", "ReadCPUTopology",
		"ReadNetDevices", "ReadIRQAffinityAll", "ClassifyIRQs"} {
		pts, ok := series("BenchmarkHostParse/" + p)
		if !ok {
			continue
		}
		r.parse = append(r.parse, parseRow{parser: p, points: pts,
			allocs: linfit(x, column(pts, func(b benchResult) float64 { return b.allocsOp })),
			cpuNs:  linfit(x, column(pts, func(b benchResult) float64 { return b.cpuNsOp })),
		})
	}
	return nil
}

// ---- pprof ----------------------------------------------------------------

type profile struct {
	title, cpuTop, allocTop string
}

func profiles(root, tmp string, r *report) error {
	testBin := filepath.Join(tmp, "collector.test")
	if out, err := goCmd(root, nil, "test", "-c", "-o", testBin, "./collector"); err != nil {
		return fmt.Errorf("go test -c: %v\n%s", err, out)
	}
	for _, p := range []struct{ title, bench, times string }{
		{"default mode, 256 CPUs", "BenchmarkHostScrape/Direct/default/cpus=256$", "200x"},
		{"default mode, 1024 CPUs", "BenchmarkHostScrape/Direct/default/cpus=1024$", "60x"},
		{"dense mode, 256 CPUs", "BenchmarkHostScrape/Direct/dense/cpus=256$", "20x"},
	} {
		logf("pprof: %s", p.title)
		cpu, mem := filepath.Join(tmp, "cpu.out"), filepath.Join(tmp, "mem.out")
		cmd := exec.Command(testBin, "-test.run", "^$", "-test.bench", p.bench, "-test.benchtime", p.times,
			"-test.cpuprofile", cpu, "-test.memprofile", mem, "-test.memprofilerate", "65536")
		cmd.Dir = filepath.Join(root, "collector")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("profiling %s: %v\n%s", p.bench, err, out)
		}
		// The tree generation of the benchmark's first iteration is not
		// the exporter's work: ignore it.
		ignore := `hostgen|benchTrees`
		cpuTop, err := pprofTop(root, testBin, cpu, "-ignore", ignore, "-cum")
		if err != nil {
			return err
		}
		allocTop, err := pprofTop(root, testBin, mem, "-ignore", ignore, "-sample_index=alloc_objects")
		if err != nil {
			return err
		}
		r.profiles = append(r.profiles, profile{p.title, cpuTop, allocTop})
	}
	return nil
}

// pprofTop runs go tool pprof -top and keeps the lines of the exporter's
// code and the libraries it calls, not the runtime's or the test harness's.
func pprofTop(root, bin, prof string, args ...string) (string, error) {
	out, err := goCmd(root, nil, append(append([]string{"tool", "pprof", "-top", "-nodecount=200"}, args...), bin, prof)...)
	if err != nil {
		return "", fmt.Errorf("go tool pprof: %v\n%s", err, out)
	}
	keep := regexp.MustCompile(`netirq_exporter/collector\.|prometheus\.|expfmt\.|procfs\.|syscall\.Syscall6?$|runtime\.(gcBgMarkWorker|mallocgc)$|sort\.Sort$`)
	skip := regexp.MustCompile(`Benchmark|benchGather|benchDirect|testing\.|promhttp\.|func\d+$`)
	var lines []string
	header := true
	for line := range strings.SplitSeq(string(out), "\n") {
		if header {
			if strings.Contains(line, "flat%") {
				header = false
				lines = append(lines, line)
			} else if strings.HasPrefix(line, "Showing nodes") || strings.HasPrefix(line, "Duration") {
				lines = append(lines, line)
			}
			continue
		}
		if keep.MatchString(line) && !skip.MatchString(line) && len(lines) < 26 {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n"), nil
}

// ---- Markdown -------------------------------------------------------------

const notesBegin, notesEnd = "<!-- notes -->", "<!-- /notes -->"

func keptNotes(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	s := string(b)
	i, j := strings.Index(s, notesBegin), strings.Index(s, notesEnd)
	if i < 0 || j < i {
		return ""
	}
	return strings.TrimSpace(s[i+len(notesBegin) : j])
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func machine() (cpus, model, kernel, goVersion string) {
	cpus = strconv.Itoa(runtime.NumCPU())
	if out, err := exec.Command("nproc").Output(); err == nil {
		cpus = strings.TrimSpace(string(out))
	}
	model = "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel = "unknown"
	if out, err := exec.Command("uname", "-srm").Output(); err == nil {
		kernel = strings.TrimSpace(string(out))
	}
	goVersion = runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		goVersion = strings.TrimSpace(string(out))
	}
	return
}

func ms(ns float64) string { return fmt.Sprintf("%.2f", ns/1e6) }

func (r *report) markdown(c config) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	cpus, model, kernel, goVersion := machine()
	w("# Benchmarks\n\n")
	w("Generated by `make bench-compare` (`go run ./cmd/netirq_benchcompare`); the text under *Reading* is kept\n")
	w("between runs. Everything below ran on one machine in one run: compare ratios, not absolute times.\n\n")
	w("- machine: `nproc` %s, %s, kernel %s, %s\n", cpus, model, kernel, goVersion)
	w("- date: %s (%.0f min); load average %s before the scrapes, %s after them\n",
		r.started.UTC().Format("2006-01-02 15:04 MST"), r.finished.Sub(r.started).Minutes(), r.loadBefore, r.loadAt)
	w("- node_exporter: **%s**, %s\n", r.neVersion, r.neNote)
	w("- hosts: `internal/hostgen` trees, `hostgen.Standard(cpus, 2, 64, 1)`: 2 NICs (mlx5 and i40e) x 64 queues,\n")
	w("  512 non-NIC IRQs (IO-APIC, DMAR, PCIe, ahci, xhci, NVMe queues), 642 IRQs at every size; 2/2/4/8 NUMA nodes;\n")
	w("  counts as on an irqbalance'd host (each IRQ on its effective CPU, most cells 0)\n")
	w("- scrapes: over loopback as Prometheus does (text format, gzip), after one warm-up scrape; at least %d\n", c.scrapes)
	w("  per exporter and host, more (up to %d, at most %s) until the process used %d clock ticks\n\n", c.maxScrapes, c.maxTime, c.minTicks)

	w("## Side by side\n\n")
	w("| CPUs | exporter | mode | median ms | p90 ms | time / node_exporter's | bytes | gzip bytes | series | peak RSS MB | CPU ms / scrape | CPU / node_exporter's | CPU %% at 15 s | scrapes |\n")
	w("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, x := range r.rows {
		ratio, cpuRatio := fmt.Sprintf("%.3f", x.ratio), fmt.Sprintf("%.3f", x.cpuRatio)
		if strings.HasPrefix(x.exporter, "node_exporter") {
			ratio, cpuRatio = "1", "1"
		}
		w("| %d | %s | %s | %.2f | %.2f | %s | %d | %d | %d | %.1f | %.2f | %s | %.3f | %d |\n",
			x.cpus, x.exporter, x.mode, x.median, x.p90, ratio, x.bytes, x.wireBytes, x.series,
			float64(x.rssKB)/1024, x.cpuMsPerScrape, cpuRatio, x.cpuPct15s, x.scrapes)
	}
	for _, x := range r.rows {
		if len(x.failed) > 0 {
			w("\n%s (%s) on %d CPUs reported failing collectors: %s\n", x.exporter, x.mode, x.cpus, strings.Join(x.failed, ", "))
		}
	}
	w("\nCPU ms / scrape is the utime+stime delta of the exporter process over the timed scrapes divided by their\n")
	w("number (clock ticks of 10 ms); CPU %% at 15 s is that divided by 15 s. Series count every sample line,\n")
	w("the exporters' own go_*/process_* metrics included.\n\n")
	if r.load != nil {
		w("%s\n", r.load.markdown(r.neVersion))
	}

	if len(r.slope) > 0 {
		w("## Slope: whole scrape, 8 to 1024 CPUs\n\n")
		w("`go test ./collector -run '^$' -bench 'BenchmarkHostScrape/(Gather|Direct)' -benchmem -benchtime 10x -count %d`\n", c.benchCount)
		w("(`Exporter.WriteText`, as /metrics serves it, and, as \"registry\", through a registry and promhttp's handler\n")
		w("for comparison; no gzip; median of the runs). Least-squares fit y = a + b x over\n")
		w("x = CPUs; R² near 1 means linear. cpu-ns/op is the process's CPU time per scrape (getrusage), steadier than\n")
		w("the wall time on a busy machine.\n\n")
		w("| mode | CPUs | series | ns/op | cpu-ns/op | allocs/op | B/op |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, s := range r.slope {
			for i, p := range s.points {
				w("| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f |\n", s.bench, c.cpus[i], p.series, p.nsOp, p.cpuNsOp, p.allocsOp, p.bOp)
			}
		}
		w("\n| mode | wall time per CPU | CPU time per CPU | allocs per CPU | bytes per CPU | fixed part (a): CPU time, allocs | R² wall, CPU, allocs | 1024 vs 8 CPUs: CPU time, allocs (CPUs x128) |\n")
		w("|---|---:|---:|---:|---:|---:|---|---|\n")
		for _, s := range r.slope {
			first, last := s.points[0], s.points[len(s.points)-1]
			w("| %s | %.1f µs | %.1f µs | %.1f | %.0f | %s ms, %.0f | %.4f, %.4f, %.6f | x%.1f, x%.1f |\n",
				s.bench, s.ns.b/1e3, s.cpuNs.b/1e3, s.allocs.b, s.mem.b, ms(s.cpuNs.a), s.allocs.a,
				s.ns.r2, s.cpuNs.r2, s.allocs.r2, last.cpuNsOp/first.cpuNsOp, last.allocsOp/first.allocsOp)
		}
		w("\n")
	}
	if len(r.parse) > 0 {
		w("### Parsers\n\n")
		w("`go test ./collector -run '^$' -bench 'BenchmarkHostParse' -benchmem -benchtime 20x` (ReadIRQAffinityAll reads\n")
		w("/proc/irq/N of all 642 IRQs, as dense mode does; the default reads the 130 NIC IRQs).\n\n")
		w("| parser |")
		for _, n := range c.cpus {
			w(" %d CPUs: cpu-µs, allocs |", n)
		}
		w(" per CPU: cpu-ns, allocs |\n|---|")
		for range c.cpus {
			w("---:|")
		}
		w("---:|\n")
		for _, p := range r.parse {
			w("| %s |", p.parser)
			for _, pt := range p.points {
				w(" %.0f, %.0f |", pt.cpuNsOp/1e3, pt.allocsOp)
			}
			w(" %.0f, %.2f |\n", p.cpuNs.b, p.allocs.b)
		}
		w("\n")
	}
	if len(r.profiles) > 0 {
		w("## pprof\n\n")
		w("`go test -c ./collector` run with `-test.cpuprofile`/`-test.memprofile` on the whole-scrape benchmark, shown with\n")
		w("`go tool pprof -top` (the tree generation of the first iteration ignored; lines of the exporter, client_golang,\n")
		w("expfmt and procfs kept).\n\n")
		for _, p := range r.profiles {
			w("<details><summary>%s</summary>\n\nCPU (cumulative):\n\n```\n%s\n```\n\nallocations (objects):\n\n```\n%s\n```\n\n</details>\n\n",
				p.title, p.cpuTop, p.allocTop)
		}
	}
	if r.bpf != "" {
		w("%s\n\n", r.bpf)
	}
	w("## Reading\n\n%s\n", notesBegin)
	if r.notes != "" {
		w("%s\n", r.notes)
	} else {
		w("(write here what dominated and what changed; kept when the file is regenerated)\n")
	}
	w("%s\n", notesEnd)
	return b.String()
}
