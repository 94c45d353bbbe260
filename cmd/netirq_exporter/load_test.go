//go:build linux

package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/netlab"
	"github.com/netirq/netirq_exporter/internal/promtest"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// Helpers shared by load_test.go and security_test.go (prefix xp): build
// the real binary, run it on 127.0.0.1, scrape it, read its /proc status.

// xpBuild builds the exporter into a fresh directory every user can read
// and execute (the security test runs it as nobody).
func xpBuild(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	dir, err := os.MkdirTemp("", "netirq-exporter-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "netirq_exporter")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// xpProc is one running exporter.
type xpProc struct {
	cmd    *exec.Cmd
	addr   string
	logs   *testutil.LogBuffer
	exited chan struct{}
}

// xpStart runs bin on a free 127.0.0.1 port with args, optionally with
// attr (credentials), and waits until ready(addr) succeeds (at most 10 s).
// The process is killed, by its pid, when the test ends.
func xpStart(t *testing.T, bin string, attr *syscall.SysProcAttr, ready func(addr string) error, args ...string) *xpProc {
	t.Helper()
	for attempt := 0; attempt < 3; attempt++ {
		p := &xpProc{addr: promtest.FreeAddr(t), logs: &testutil.LogBuffer{}, exited: make(chan struct{})}
		p.cmd = exec.Command(bin, append([]string{"--web.listen-address=" + p.addr}, args...)...)
		p.cmd.Dir = filepath.Dir(bin)
		p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
		p.cmd.SysProcAttr = attr
		p.cmd.WaitDelay = 3 * time.Second // a wrapper's child must not keep Wait waiting on the pipes
		if err := p.cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		go func() { p.cmd.Wait(); close(p.exited) }()
		t.Cleanup(p.stop)
		var err error
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			select {
			case <-p.exited:
				err = errors.New("exited")
			default:
				err = ready(p.addr)
			}
			if err == nil || err.Error() == "exited" {
				break
			}
		}
		if err == nil {
			return p
		}
		p.stop()
		if !strings.Contains(p.logs.String(), "address already in use") {
			t.Fatalf("exporter not ready on %s: %v\n%s", p.addr, err, p.logs)
		}
	}
	t.Fatal("no free port after 3 attempts")
	return nil
}

func (p *xpProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
		p.cmd.Process.Kill()
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
		}
	}
}

// children lists the pids whose parent is the started process (the
// exporter under a wrapper such as strace).
func (p *xpProc) children() []int {
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold blanks, so cut at the last ')'.
		i := strings.LastIndexByte(string(b), ')')
		if f := strings.Fields(string(b[i+1:])); i > 0 && len(f) > 1 && f[1] == strconv.Itoa(p.cmd.Process.Pid) {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(s))); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}

// status reads one field of /proc/<pid>/status ("VmHWM", "CapEff", "Uid").
func (p *xpProc) status(t *testing.T, field string) string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, p.cmd.Process.Pid)
	return ""
}

// xpPlainReady is ready when /metrics answers 200 over plain HTTP.
func xpPlainReady(addr string) error {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// xpSamples fetches url and returns the value of each sample line whose
// metric name (with labels) starts with one of prefixes.
func xpSamples(t *testing.T, c *http.Client, req *http.Request, prefixes ...string) map[string]float64 {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d: %s", req.URL, resp.StatusCode, body)
	}
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(body), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
					out[line[:i]] = v
				}
				break
			}
		}
	}
	return out
}

func xpGet(url string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	return req
}

// xpLoadResult is what a load phase saw.
type xpLoadResult struct {
	latencies       []time.Duration // of 200 responses
	ok, status503   int
	other           []string // anything else: errors and unexpected statuses, first 10
	otherCount      int
	bodies503       map[string]int
	elapsed         time.Duration
	bytesFromScrape int64
}

// xpLoad runs scrapers goroutines scraping url for d (each request bounded
// by a 20 s client timeout).
func xpLoad(url string, scrapers int, d time.Duration) xpLoadResult {
	tr := &http.Transport{MaxIdleConns: scrapers, MaxIdleConnsPerHost: scrapers, TLSClientConfig: &tls.Config{}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	var mu sync.Mutex
	res := xpLoadResult{bodies503: map[string]int{}}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range scrapers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 100000 && time.Now().Before(deadline); n++ {
				t0 := time.Now()
				resp, err := c.Get(url)
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				lat := time.Since(t0)
				mu.Lock()
				switch {
				case err != nil:
					res.otherCount++
					if len(res.other) < 10 {
						res.other = append(res.other, err.Error())
					}
				case resp.StatusCode == http.StatusOK && strings.Contains(string(body), "netirq_scrape_collector_success"):
					res.ok++
					res.latencies = append(res.latencies, lat)
					res.bytesFromScrape += int64(len(body))
				case resp.StatusCode == http.StatusServiceUnavailable:
					res.status503++
					res.bodies503[strings.TrimSpace(string(body))]++
				default:
					res.otherCount++
					if len(res.other) < 10 {
						res.other = append(res.other, fmt.Sprintf("status %d: %.200s", resp.StatusCode, body))
					}
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond) // do not spin on a dead server
				}
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}

func (r xpLoadResult) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(float64(len(r.latencies))*p))]
}

// TestLoadConcurrentScrapes runs the real exporter on this host's /proc and
// /sys and scrapes it with 100 concurrent scrapers for 30 s: no scrape may
// fail, overlapping scrapes must share snapshot reads (reads < scrapes/2),
// and it reports p50/p99 latency and peak RSS. A second phase with
// --web.max-requests=2 and 50 scrapers must answer the excess with HTTP 503
// and a clear body, the rest 200. `go test -short` skips it (~45 s).
func TestLoadConcurrentScrapes(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: 30 s of 100 concurrent scrapers; run without -short")
	}
	// The scrapers' loopback traffic counts in every CPU's softnet_stat:
	// keep the labs of other test packages from running meanwhile.
	netlab.HoldTrafficLock(t)
	bin := xpBuild(t)

	t.Run("100 scrapers 30s", func(t *testing.T) {
		p := xpStart(t, bin, nil, xpPlainReady, "--web.max-requests=0")
		url := "http://" + p.addr + "/metrics"
		c := &http.Client{Timeout: 10 * time.Second}
		readsBefore := xpSamples(t, c, xpGet(url), "netirq_scrape_snapshot_reads_total")["netirq_scrape_snapshot_reads_total"]

		res := xpLoad(url, 100, 30*time.Second)

		reads := xpSamples(t, c, xpGet(url), "netirq_scrape_snapshot_reads_total")["netirq_scrape_snapshot_reads_total"]
		hwm, rss := p.status(t, "VmHWM"), p.status(t, "VmRSS")
		scrapes := res.ok + res.otherCount + res.status503
		// The probe before and the one after each count as a scrape too.
		readsDuring := reads - readsBefore - 1
		t.Logf("100 scrapers, %v: %d scrapes (%.0f/s), %d ok, %d failed, %d 503; latency p50 %v p99 %v max %v; %.0f KB per scrape",
			res.elapsed.Round(time.Millisecond), scrapes, float64(scrapes)/res.elapsed.Seconds(), res.ok, res.otherCount, res.status503,
			res.pct(0.50).Round(time.Microsecond), res.pct(0.99).Round(time.Microsecond), res.pct(1).Round(time.Microsecond),
			float64(res.bytesFromScrape)/float64(max(res.ok, 1))/1024)
		t.Logf("snapshot reads during the load: %.0f for %d scrapes (%.1f scrapes per read); exporter peak RSS (VmHWM) %s, RSS now %s",
			readsDuring, scrapes, float64(scrapes)/max(readsDuring, 1), hwm, rss)
		if res.otherCount > 0 || res.status503 > 0 {
			t.Errorf("%d failed scrapes and %d 503s with no request limit; first: %v", res.otherCount, res.status503, res.other)
		}
		if res.ok < 100 {
			t.Errorf("only %d scrapes in 30 s", res.ok)
		}
		if readsDuring >= float64(scrapes)/2 {
			t.Errorf("%.0f snapshot reads for %d scrapes: concurrent scrapes must share reads (want < %d)", readsDuring, scrapes, scrapes/2)
		}
		if kb, err := strconv.Atoi(strings.Fields(hwm)[0]); err == nil && kb > 512<<10 {
			t.Errorf("peak RSS %s: over 512 MB for one host's metrics", hwm)
		}
		select {
		case <-p.exited:
			t.Fatalf("exporter died under load:\n%s", p.logs)
		default:
		}
	})

	t.Run("max-requests 2, 50 scrapers", func(t *testing.T) {
		p := xpStart(t, bin, nil, xpPlainReady, "--web.max-requests=2")
		res := xpLoad("http://"+p.addr+"/metrics", 50, 10*time.Second)
		t.Logf("50 scrapers, --web.max-requests=2, %v: %d × 200 (p50 %v, p99 %v), %d × 503, %d other; 503 bodies: %v",
			res.elapsed.Round(time.Millisecond), res.ok, res.pct(0.5).Round(time.Microsecond), res.pct(0.99).Round(time.Microsecond),
			res.status503, res.otherCount, res.bodies503)
		if res.otherCount > 0 {
			t.Errorf("%d responses neither 200 nor 503: %v", res.otherCount, res.other)
		}
		if res.status503 == 0 || res.ok == 0 {
			t.Errorf("want both 200s and 503s past the limit, got %d and %d", res.ok, res.status503)
		}
		for body := range res.bodies503 {
			if !strings.Contains(body, "Limit of concurrent requests reached (2)") {
				t.Errorf("503 body does not say why: %q", body)
			}
		}
	})
}
