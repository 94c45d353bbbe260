//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/netirq/netirq_exporter/internal/hostgen"
)

// The "Under load" section (issue 12): peak RSS of netirq_exporter and
// node_exporter, both with their default collectors on one tree, under
// concurrent gzip scrapes; ours under clients that send endless headers;
// and a default scrape's time next to only reading the files it reads.
// `-only load` runs this section alone and rewrites only it.

// loadTree is the tree both exporters read (8 CPUs, 2 NICs).
const loadTree = "testdata/hosts/bigiron-8cpu"

type loadReport struct {
	started, finished     time.Time
	loadBefore, loadAfter string
	clients               int
	duration              time.Duration
	rows                  []loadRow
	headers               headerRow
	floors                []floorRow // bigiron-8cpu, then a generated big host
}

type loadRow struct {
	tree, exporter, maxRequests string
	ok, status503, failed       int
	firstFailure                string
	perSecond                   float64
	rssKB                       int
	ratio                       float64 // rssKB / node_exporter's on the same tree, same --web.max-requests
}

// loadTarget is a tree both exporters read, with their flags for it.
type loadTarget struct {
	name            string
	neArgs, ourArgs []string
}

func loadTargets(root string) []loadTarget {
	tree := filepath.Join(root, loadTree)
	proc, sys := filepath.Join(tree, "proc"), filepath.Join(tree, "sys")
	return []loadTarget{
		// node_exporter's cpu collector panics on this tree (index out of
		// range: it has no /sys/devices/system/cpu/cpuN), which ends the
		// process: it is the one default collector left out.
		{"`" + loadTree + "`", []string{"--path.procfs=" + proc, "--path.sysfs=" + sys, "--path.rootfs=" + tree, "--no-collector.cpu"},
			[]string{"--path.procfs=" + proc, "--path.sysfs=" + sys}},
		{"this machine (/proc, /sys)", nil, nil},
	}
}

func runLoad(c config, root, tmp, ours, nePath, neVersion string) (*loadReport, error) {
	l := &loadReport{started: time.Now(), loadBefore: loadavg(), clients: c.loadClients, duration: c.loadTime}
	for ti, target := range loadTargets(root) {
		for _, limit := range []string{"40", "0"} {
			var neKB int
			for i, x := range []struct {
				name, path string
				args       []string
			}{{"node_exporter " + neVersion, nePath, target.neArgs}, {"netirq_exporter", ours, target.ourArgs}} {
				logPath := filepath.Join(tmp, fmt.Sprintf("load-%d-%s-%d.txt", ti, limit, i))
				row, err := loadOne(l, x.path, append(slices.Clone(x.args), "--web.max-requests="+limit), logPath)
				if err != nil {
					return nil, fmt.Errorf("%s under load on %s: %w", x.name, target.name, err)
				}
				row.tree, row.exporter, row.maxRequests = target.name, x.name, limit
				if i == 0 {
					neKB = row.rssKB
				}
				row.ratio = float64(row.rssKB) / float64(neKB)
				logf("  %-28s %-24s --web.max-requests=%-2s %6d ok %6d 503 %4d failed  peak RSS %6.1f MB (x%.2f)",
					target.name, row.exporter, limit, row.ok, row.status503, row.failed, float64(row.rssKB)/1024, row.ratio)
				l.rows = append(l.rows, row)
			}
		}
	}
	ourArgs := loadTargets(root)[0].ourArgs
	var err error
	if l.headers, err = headerLoad(c, ours, ourArgs, filepath.Join(tmp, "load-headers.txt")); err != nil {
		return nil, err
	}
	floor, err := scrapeFloor(c, ours, ourArgs, tmp)
	if err != nil {
		return nil, err
	}
	floor.tree = "`" + loadTree + "`"
	l.floors = append(l.floors, floor)
	// On 8 CPUs the scrape's fixed costs (gzip, the Go and process
	// metrics, the runtime) dominate; on a big host the reads do.
	big, err := bigHostFloor(c, ours, tmp)
	if err != nil {
		return nil, err
	}
	l.floors = append(l.floors, big)
	l.loadAfter, l.finished = loadavg(), time.Now()
	return l, nil
}

// loadOne starts one exporter, scrapes it once, then with l.clients
// concurrent gzip scrapers for l.duration, and reads its peak RSS.
func loadOne(l *loadReport, path string, args []string, logPath string) (loadRow, error) {
	var r loadRow
	p, err := startExporter(path, args, logPath)
	if err != nil {
		return r, err
	}
	defer p.stop()
	url := "http://" + p.addr + "/metrics"
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableCompression: true}}
	if _, err := scrape(client, url); err != nil {
		return r, err
	}
	r = concurrentScrapes(url, l.clients, l.duration)
	r.rssKB, err = vmHWM(p.pid)
	return r, err
}

// concurrentScrapes runs clients loops of gzip scrapes for d; each reads
// the whole (compressed) body.
func concurrentScrapes(url string, clients int, d time.Duration) loadRow {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	var mu sync.Mutex
	var r loadRow
	began := time.Now()
	deadline := began.Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				code, err := gzipGet(client, url)
				mu.Lock()
				switch {
				case err == nil && code == http.StatusOK:
					r.ok++
				case err == nil && code == http.StatusServiceUnavailable:
					r.status503++
				default:
					r.failed++
					if r.firstFailure == "" {
						r.firstFailure = fmt.Sprintf("HTTP %d, %v", code, err)
					}
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond) // do not spin on a dead server
				}
			}
		})
	}
	wg.Wait()
	r.perSecond = float64(r.ok) / time.Since(began).Seconds()
	return r
}

func gzipGet(client *http.Client, url string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

type headerRow struct {
	clients, bytes   int
	hold             time.Duration
	answers          map[string]int
	rssBefore, rssKB int
	servesAfter      bool
}

// headerLoad starts ours, and lets clients connections each send bytes of
// a header that never ends, then hold the connection for up to 15 s.
func headerLoad(c config, ours string, args []string, logPath string) (headerRow, error) {
	h := headerRow{clients: c.headerClients, bytes: c.headerBytes, hold: 15 * time.Second}
	p, err := startExporter(ours, args, logPath)
	if err != nil {
		return h, err
	}
	defer p.stop()
	url := "http://" + p.addr + "/metrics"
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableCompression: true}}
	if _, err := scrape(client, url); err != nil {
		return h, err
	}
	if h.rssBefore, err = vmHWM(p.pid); err != nil {
		return h, err
	}
	h.answers = unfinishedHeaders(p.addr, h.clients, h.bytes, h.hold)
	if h.rssKB, err = vmHWM(p.pid); err != nil {
		return h, err
	}
	_, err = scrape(client, url)
	h.servesAfter = err == nil
	logf("  %d clients x %d bytes of unfinished headers: %v; peak RSS %.1f MB (%.1f before)",
		h.clients, h.bytes, h.answers, float64(h.rssKB)/1024, float64(h.rssBefore)/1024)
	return h, nil
}

// unfinishedHeaders connects clients at once; each writes a request line
// and size bytes of one header, never its end, and reads the answer: a
// status code, "closed" (without one) or "held" (open after hold).
func unfinishedHeaders(addr string, clients, size int, hold time.Duration) map[string]int {
	head := []byte("GET /metrics HTTP/1.1\r\nHost: " + addr + "\r\nX-Filler: ")
	filler := bytes.Repeat([]byte("a"), size)
	answers := make(chan string, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				answers <- "dial failed"
				return
			}
			defer conn.Close()
			go func() { conn.Write(head); conn.Write(filler) }()
			conn.SetReadDeadline(time.Now().Add(hold))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			switch ne, _ := err.(net.Error); {
			case err == nil:
				answers <- resp.Status
			case ne != nil && ne.Timeout():
				answers <- "held"
			default:
				answers <- "closed"
			}
		})
	}
	wg.Wait()
	close(answers)
	out := map[string]int{}
	for a := range answers {
		out[a]++
	}
	return out
}

// floorCPUs is the size of the generated host of the second floor row.
const floorCPUs = 256

// bigHostFloor measures the floor on hostgen.Standard(floorCPUs, 2, 64, 1),
// the 256-CPU host of the side-by-side table.
func bigHostFloor(c config, ours, tmp string) (floorRow, error) {
	dir := filepath.Join(tmp, fmt.Sprintf("floor%d", floorCPUs))
	if err := hostgen.Generate(dir, hostgen.Standard(floorCPUs, 2, 64, 1)); err != nil {
		return floorRow{}, err
	}
	args := []string{"--path.procfs=" + filepath.Join(dir, "proc"), "--path.sysfs=" + filepath.Join(dir, "sys")}
	work := filepath.Join(tmp, "floor-big")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return floorRow{}, err
	}
	f, err := scrapeFloor(c, ours, args, work)
	f.tree = fmt.Sprintf("generated, %d CPUs (2 NICs x 64 queues)", floorCPUs)
	return f, err
}
