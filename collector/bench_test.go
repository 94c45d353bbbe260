package collector

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/netirq/netirq_exporter/internal/hostgen"
	"github.com/netirq/netirq_exporter/internal/irqclass"
	"github.com/netirq/netirq_exporter/internal/kernel/procfs"
	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// Benchmarks over synthetic hosts (internal/hostgen) of 8, 64, 256 and 1024
// CPUs with the same IRQ set (hostgen.Standard: 2 NICs x 64 queues, mlx5
// and i40e, plus 512 non-NIC IRQs), so that the per-CPU cost is the slope:
//
//	go test ./collector -run '^$' -bench 'BenchmarkHost' -benchmem
//	go test ./collector -run '^$' -bench 'HostScrape/Gather/default/cpus=256' -cpuprofile cpu.out -memprofile mem.out
//
// BenchmarkHostParse has one sub-benchmark per parser and size;
// BenchmarkHostScrape the whole scrape, default and dense
// (--collector.interrupts.all), both as Collect into a discarding channel
// and as a promhttp request (gather + text encoding), and dense mode as
// Exporter.WriteText (Direct: what /metrics serves in dense mode),
// reporting the series and bytes of one scrape. cmd/netirq_benchcompare fits the slope from them.
// NETIRQ_BENCH_GZIP=1 makes the promhttp request ask for gzip, as Prometheus
// does (the compression is then part of the measured scrape).

// benchCPUs are the host sizes.
var benchCPUs = []int{8, 64, 256, 1024}

// benchSpec is the host of a size.
func benchSpec(cpus int) hostgen.Spec { return hostgen.Standard(cpus, 2, 64, 1) }

// benchTrees generates each size once per top-level benchmark, on demand,
// below that benchmark's temporary directory.
type benchTrees struct {
	root string
	mu   sync.Mutex
	dirs map[int]string
}

func newBenchTrees(b *testing.B) *benchTrees {
	return &benchTrees{root: b.TempDir(), dirs: map[int]string{}}
}

func (t *benchTrees) get(b *testing.B, cpus int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if dir, ok := t.dirs[cpus]; ok {
		return dir
	}
	dir := filepath.Join(t.root, fmt.Sprintf("host%d", cpus))
	if err := hostgen.Generate(dir, benchSpec(cpus)); err != nil {
		b.Fatal(err)
	}
	t.dirs[cpus] = dir
	return dir
}

func BenchmarkHostParse(b *testing.B) {
	trees := newBenchTrees(b)
	type parser struct {
		name string
		run  func(b *testing.B, proc, sys string)
	}
	open := func(b *testing.B, path string) *bytes.Reader {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
		return bytes.NewReader(data)
	}
	parsers := []parser{
		{"ParseInterrupts", func(b *testing.B, proc, _ string) {
			r := open(b, filepath.Join(proc, "interrupts"))
			for b.Loop() {
				r.Seek(0, 0)
				if _, err := procfs.ParseInterrupts(r); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"ParseSoftirqs", func(b *testing.B, proc, _ string) {
			r := open(b, filepath.Join(proc, "softirqs"))
			for b.Loop() {
				r.Seek(0, 0)
				if _, err := procfs.ParseSoftirqs(r); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"ParseSoftnet", func(b *testing.B, proc, _ string) {
			r := open(b, filepath.Join(proc, "net", "softnet_stat"))
			for b.Loop() {
				r.Seek(0, 0)
				if _, err := procfs.ParseSoftnet(r, nil); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"ReadCPUTime", func(b *testing.B, proc, _ string) {
			for b.Loop() {
				if _, err := procfs.ReadCPUTime(proc); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"ReadCPUTopology", func(b *testing.B, _, sys string) {
			for b.Loop() {
				if _, err := sysfs.ReadCPUTopology(sys); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"ReadNetDevices", func(b *testing.B, _, sys string) {
			for b.Loop() {
				if _, err := sysfs.ReadNetDevices(sys, nil); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"ReadIRQAffinityAll", func(b *testing.B, proc, _ string) {
			tab := benchTable(b, proc)
			for b.Loop() {
				for _, l := range tab.IRQs {
					if _, err := procfs.ReadIRQAffinity(proc, l.IRQ); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(tab.IRQs)), "irqs")
		}},
		{"ClassifyIRQs", func(b *testing.B, proc, sys string) {
			tab := benchTable(b, proc)
			devs, err := sysfs.ReadNetDevices(sys, nil)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				irqclass.ClassifyIRQs(tab, devs)
			}
		}},
	}
	for _, p := range parsers {
		b.Run(p.name, func(b *testing.B) {
			for _, cpus := range benchCPUs {
				b.Run(fmt.Sprintf("cpus=%d", cpus), func(b *testing.B) {
					dir := trees.get(b, cpus)
					b.ReportAllocs()
					began := cpuTime()
					p.run(b, filepath.Join(dir, "proc"), filepath.Join(dir, "sys"))
					reportCPU(b, began)
				})
			}
		})
	}
}

func benchTable(b *testing.B, proc string) *procfs.InterruptTable {
	f, err := os.Open(filepath.Join(proc, "interrupts"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	tab, err := procfs.ParseInterrupts(f)
	if err != nil {
		b.Fatal(err)
	}
	return tab
}

// discardWriter is an http.ResponseWriter that counts the body and keeps
// nothing.
type discardWriter struct {
	header http.Header
	n      int
	code   int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

func BenchmarkHostScrape(b *testing.B) {
	trees := newBenchTrees(b)
	for _, how := range []string{"Collect", "Gather", "Direct"} {
		b.Run(how, func(b *testing.B) {
			for _, mode := range []string{"default", "dense"} {
				b.Run(mode, func(b *testing.B) {
					for _, cpus := range benchCPUs {
						b.Run(fmt.Sprintf("cpus=%d", cpus), func(b *testing.B) {
							cfg := hostConfig(trees.get(b, cpus))
							cfg.Interrupts.All = mode == "dense"
							e := newTestExporter(b, cfg)
							switch how {
							case "Collect":
								benchCollect(b, e)
							case "Gather":
								benchGather(b, e)
							default:
								benchDirect(b, e)
							}
						})
					}
				})
			}
		})
	}
}

// cpuTime is the CPU time this process has used (all threads, GC included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per iteration since began: on a busy
// machine a steadier figure than the wall time of ns/op.
func reportCPU(b *testing.B, began time.Duration) {
	b.ReportMetric(float64(cpuTime()-began)/float64(b.N), "cpu-ns/op")
}

// benchCollect runs Collect into a channel that a goroutine drains.
func benchCollect(b *testing.B, e *Exporter) {
	series := collectCount(e) // also the warm-up: the cells seen so far
	ch := make(chan prometheus.Metric, 4096)
	done := make(chan struct{})
	go func() {
		for range ch {
		}
		close(done)
	}()
	b.ReportAllocs()
	began := cpuTime()
	for b.Loop() {
		e.Collect(ch)
	}
	close(ch)
	<-done
	reportCPU(b, began)
	b.ReportMetric(float64(series), "series")
}

// collectCount runs one Collect and counts what it sends.
func collectCount(e *Exporter) int {
	ch := make(chan prometheus.Metric, 4096)
	n := make(chan int)
	go func() {
		count := 0
		for range ch {
			count++
		}
		n <- count
	}()
	e.Collect(ch)
	close(ch)
	return <-n
}

// benchGather serves the exporter through promhttp, as /metrics does
// (without compression: the scraper did not ask for it).
func benchGather(b *testing.B, e *Exporter) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(e)
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if os.Getenv("NETIRQ_BENCH_GZIP") != "" {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	serve := func() *discardWriter {
		w := &discardWriter{header: http.Header{}}
		h.ServeHTTP(w, req)
		if w.code != 0 && w.code != http.StatusOK {
			b.Fatalf("HTTP %d", w.code)
		}
		return w
	}
	serve()
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	series := seriesCount(mfs)
	var bytes int
	b.ReportAllocs()
	began := cpuTime()
	for b.Loop() {
		bytes = serve().n
	}
	reportCPU(b, began)
	b.ReportMetric(float64(series), "series")
	b.ReportMetric(float64(bytes), "bytes/scrape")
}

// benchDirect writes the exporter's text with WriteText, as /metrics does
// (without compression).
func benchDirect(b *testing.B, e *Exporter) {
	w := &discardWriter{header: http.Header{}}
	if err := e.WriteText(w, nil); err != nil { // warm-up
		b.Fatal(err)
	}
	series := 0
	var text bytes.Buffer
	if err := e.WriteText(&text, nil); err != nil {
		b.Fatal(err)
	}
	for line := range bytes.Lines(text.Bytes()) {
		if line[0] != '#' {
			series++
		}
	}
	b.ReportAllocs()
	began := cpuTime()
	for b.Loop() {
		w.n = 0
		if err := e.WriteText(w, nil); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, began)
	b.ReportMetric(float64(series), "series")
	b.ReportMetric(float64(w.n), "bytes/scrape")
}
