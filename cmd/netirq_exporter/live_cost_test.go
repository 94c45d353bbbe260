//go:build linux

package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netirq/netirq_exporter/collector"
	"github.com/netirq/netirq_exporter/internal/hostgen"
	"github.com/netirq/netirq_exporter/internal/live"
)

// TestLiveViewerCost measures what open live pages cost a scrape: the
// exporter on a generated 64-CPU host (2 NICs x 32 queues, counters
// advancing as in the fleet test), scraped at a fixed interval, with 0, 1
// and 10 viewers each reloading the page every refresh period, side by
// side, twice over. Time is compressed 50 times: scrapes every 300 ms and a 100 ms
// refresh stand for Prometheus' 15 s and the page's 5 s (the same three
// page refreshes per scrape). Handlers are called in process, so the
// process's CPU time is the exporter's and the test's traffic alone.
//
// It logs per scrape the process CPU time and the bytes allocated, and
// the peak heap, for each arm, and the difference to none. It asserts
// counts, not times: ten viewers make the Source read what one viewer
// does (at most one snapshot per refresh period), and no more reports are
// built than pairs of snapshots.
func TestLiveViewerCost(t *testing.T) {
	const (
		scrapeEvery = 300 * time.Millisecond
		refresh     = 100 * time.Millisecond
		scrapes     = 12
		rounds      = 2 // arms interleaved; the least CPU of each is kept (the machine is shared)
	)
	root := t.TempDir()
	if err := hostgen.Generate(root, hostgen.Standard(64, 2, 32, 1)); err != nil {
		t.Fatal(err)
	}
	viewerCounts := []int{0, 1, 10}
	best := make([]liveCostArm, len(viewerCounts))
	for round := range rounds {
		for i, viewers := range viewerCounts {
			arm := liveCostRun(t, root, viewers, scrapeEvery, refresh, scrapes)
			if maxReads := arm.elapsed/refresh + 2; viewers > 0 && time.Duration(arm.viewerReads) > maxReads {
				t.Errorf("%d viewers made the Source read %d snapshots in %s, want at most %d (one per refresh period)",
					viewers, arm.viewerReads, arm.elapsed.Round(time.Millisecond), maxReads)
			}
			if arm.views > arm.reads {
				t.Errorf("%d viewers: %d reports built from %d snapshots, want at most one per pair", viewers, arm.views, arm.reads)
			}
			if round == 0 || arm.cpu < best[i].cpu {
				best[i] = arm
			}
		}
	}
	t.Logf("LIVE VIEW COST (64 CPUs, 2 NICs x 32 queues; %d scrapes %s apart, pages reloading every %s; least CPU of %d rounds)",
		scrapes, scrapeEvery, refresh, rounds)
	t.Logf("%-8s %9s %6s %11s %11s %10s %12s %10s %10s", "viewers", "page GETs", "reads", "by viewers",
		"CPU/scrape", "extra", "alloc/scrape", "extra", "peak heap")
	for _, a := range best {
		t.Logf("%-8d %9d %6d %11d %8.1f ms %7.1f ms %9.1f MB %7.1f MB %7.1f MB", a.viewers, a.pageGETs, a.reads, a.viewerReads,
			a.cpuPerScrape()*1e3, (a.cpuPerScrape()-best[0].cpuPerScrape())*1e3,
			a.allocPerScrape()/1e6, (a.allocPerScrape()-best[0].allocPerScrape())/1e6, float64(a.peakHeap)/1e6)
	}
}

// liveCostArm is one arm's counts.
type liveCostArm struct {
	viewers, scrapes, pageGETs int
	reads, viewerReads, views  int
	elapsed                    time.Duration
	cpu                        time.Duration // process CPU time over the arm
	alloc, peakHeap            uint64        // bytes allocated over the arm; the largest heap in use seen
}

func (a liveCostArm) cpuPerScrape() float64   { return a.cpu.Seconds() / float64(a.scrapes) }
func (a liveCostArm) allocPerScrape() float64 { return float64(a.alloc) / float64(a.scrapes) }

// liveCostRun scrapes a fresh exporter on root scrapes times, scrapeEvery
// apart, with viewers goroutines each loading the page every refresh.
func liveCostRun(t *testing.T, root string, viewers int, scrapeEvery, refresh time.Duration, scrapes int) liveCostArm {
	t.Helper()
	cfg := collector.DefaultConfig()
	cfg.ProcPath, cfg.SysPath = filepath.Join(root, "proc"), filepath.Join(root, "sys")
	exporter, err := collector.NewExporter(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	scrape := textHandler(exporter, prometheus.NewRegistry(), 0, 0, logger)
	viewer := live.New(exporter.Source(), live.Options{Refresh: refresh, MinInterval: refresh / 2, JSONHref: "live.json"})
	page := liveHandler(viewer, false, logger)
	get := func(h http.Handler, path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	get(scrape, "/metrics") // the first read of the files, outside the measure
	runtime.GC()
	arm := liveCostArm{viewers: viewers}
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	alloc0, cpu0, reads0 := mem.TotalAlloc, processCPU(t), exporter.Source().Reads()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range viewers {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * refresh / time.Duration(viewers)) // pages opened at different times
			for n := 0; n < 10000; n++ {
				if code := get(page, livePath); code != http.StatusOK {
					t.Errorf("viewer %d: /live: %d", i, code)
					return
				}
				mu.Lock()
				arm.pageGETs++
				mu.Unlock()
				select {
				case <-stop:
					return
				case <-time.After(refresh):
				}
			}
		})
	}
	began := time.Now()
	tick := time.NewTicker(scrapeEvery)
	defer tick.Stop()
	for ; arm.scrapes < scrapes; <-tick.C {
		if err := fleetTraffic(root); err != nil {
			t.Fatal(err)
		}
		if code := get(scrape, "/metrics"); code != http.StatusOK {
			t.Fatalf("/metrics: %d", code)
		}
		arm.scrapes++
		runtime.ReadMemStats(&mem)
		arm.peakHeap = max(arm.peakHeap, mem.HeapInuse)
	}
	arm.elapsed = time.Since(began)
	close(stop)
	wg.Wait()
	runtime.ReadMemStats(&mem)
	arm.alloc, arm.cpu = mem.TotalAlloc-alloc0, processCPU(t)-cpu0
	arm.reads = int(exporter.Source().Reads() - reads0)
	arm.viewerReads, arm.views = viewer.Stats()
	return arm
}

// processCPU is this process's user and system CPU time so far.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(fmt.Errorf("getrusage: %w", err))
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
