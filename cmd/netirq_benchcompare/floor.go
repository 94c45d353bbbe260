//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The floor of a scrape: the files one default scrape opens, recorded with
// strace attached to a running exporter (after a warm-up scrape, so that
// what only the first scrape reads is left out), then opened and read in
// this process, one after the other, with plain open/read/close; nothing
// parsed, nothing encoded. A scrape cannot be much cheaper than that.

type floorRow struct {
	tree                  string
	opened, dirs, missing int // successful opens of files and directories; failed opens
	rounds                int
	floorMs, scrapeMs     float64 // medians
	scrapes               int
	ratio                 float64 // scrapeMs / floorMs
}

// openedPath is one openat of the traced scrape.
type openedPath struct {
	path    string
	dir, ok bool
}

func scrapeFloor(c config, ours string, args []string, tmp string) (floorRow, error) {
	var f floorRow
	p, err := startExporter(ours, args, filepath.Join(tmp, "load-floor.txt"))
	if err != nil {
		return f, err
	}
	url := "http://" + p.addr + "/metrics"
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableCompression: true}}
	if _, err := scrape(client, url); err != nil {
		p.stop()
		return f, err
	}
	opens, err := traceOneScrape(p, client, url, filepath.Join(tmp, "strace"))
	p.stop()
	if err != nil {
		return f, err
	}
	for _, o := range opens {
		switch {
		case !o.ok:
			f.missing++
		case o.dir:
			f.dirs++
		default:
			f.opened++
		}
	}
	var times []float64
	f.floorMs, times = readFloor(opens, 200, 2*time.Second)
	f.rounds = len(times)
	res, err := measure(c, ours, args, filepath.Join(tmp, "load-floor-scrapes.txt"))
	if err != nil {
		return f, err
	}
	f.scrapeMs, f.scrapes, f.ratio = res.median, res.scrapes, res.median/f.floorMs
	logf("  floor: %d files, %d directories, %d missing: %.3f ms (median of %d rounds); scrape %.2f ms: x%.2f",
		f.opened, f.dirs, f.missing, f.floorMs, f.rounds, f.scrapeMs, f.ratio)
	return f, nil
}

// traceOneScrape attaches strace to p's threads, scrapes once and returns
// the openat calls of the scrape, /proc/<pid>/ made /proc/self/.
func traceOneScrape(p *exporterProcess, client *http.Client, url, dir string) ([]openedPath, error) {
	straceBin, err := exec.LookPath("strace")
	if err != nil {
		return nil, errors.New("the floor needs strace (apt-get install strace, or make deps)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command(straceBin, "-f", "-ff", "-p", strconv.Itoa(p.pid), "-e", "trace=openat", "-o", filepath.Join(dir, "t"))
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var once sync.Once
	detach := func() { once.Do(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }) }
	defer detach()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "attached"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("strace did not attach: %s", stderr.String())
		}
	}
	if _, err := scrape(client, url); err != nil {
		return nil, err
	}
	detach() // strace flushes its files as it exits
	files, err := filepath.Glob(filepath.Join(dir, "t.*"))
	if err != nil {
		return nil, err
	}
	var opens []openedPath
	for _, file := range files {
		o, err := parseOpenat(file, fmt.Sprintf("/proc/%d/", p.pid))
		if err != nil {
			return nil, err
		}
		opens = append(opens, o...)
	}
	if len(opens) == 0 {
		return nil, errors.New("strace saw no openat during the scrape")
	}
	return opens, nil
}

var openatLine = regexp.MustCompile(`^openat\(AT_FDCWD, "([^"]*)", ([A-Z_|]+)(?:, [0-9]+)?\) = (-?\d+)`)

// parseOpenat reads one strace -ff output file.
func parseOpenat(file, selfPrefix string) ([]openedPath, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []openedPath
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		m := openatLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		path := m[1]
		if rest, ok := strings.CutPrefix(path, selfPrefix); ok {
			path = "/proc/self/" + rest
		}
		out = append(out, openedPath{path: path, dir: strings.Contains(m[2], "O_DIRECTORY"), ok: !strings.HasPrefix(m[3], "-")})
	}
	return out, sc.Err()
}

// readFloor opens and reads every path in turn, in rounds, for at least
// minRounds rounds and minTime; it returns the median round in ms.
func readFloor(opens []openedPath, minRounds int, minTime time.Duration) (float64, []float64) {
	buf := make([]byte, 64<<10)
	var times []float64
	began := time.Now()
	for len(times) < minRounds || time.Since(began) < minTime {
		t0 := time.Now()
		for _, o := range opens {
			readOnce(o, buf)
		}
		times = append(times, float64(time.Since(t0).Nanoseconds())/1e6)
	}
	slices.Sort(times)
	return percentile(times, 0.5), times
}

// readOnce opens, reads to the end and closes one path, as plainly as
// possible; a path the scrape failed to open is tried too.
func readOnce(o openedPath, buf []byte) {
	f, err := os.Open(o.path)
	if err != nil {
		return
	}
	defer f.Close()
	if o.dir {
		f.ReadDir(-1)
		return
	}
	for {
		if _, err := f.Read(buf); err != nil { // io.EOF at the end
			return
		}
	}
}

// lockedBuffer is strace's stderr, read while strace writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
