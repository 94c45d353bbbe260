//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/testutil"
)

// The hostile trees of issue 12, run against the built binary: a FIFO or
// a device node where a kernel file belongs, and a file far past its cap.
// Each case must answer every scrape in bounded time, fail only the
// collectors that read the bad file (netirq_scrape_collector_success 0),
// keep the others at 1, and leave no descriptors behind.

const hostileFixture = "../../testdata/hosts/bigiron-8cpu"

// hostileCase names a tree change and the collectors it must fail.
type hostileCase struct {
	name   string
	break_ func(t *testing.T, root string)
	failed []string // collectors with success 0; every other one must be 1
}

func mkfifoAt(t *testing.T, path string) {
	t.Helper()
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlinkAt(t *testing.T, target, path string) {
	t.Helper()
	os.RemoveAll(path)
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// bigInterrupts writes a /proc/interrupts of 8,192 CPUs and ~200 MB: a
// header and rows of 8,192 counts each, of no NIC (so that what is
// measured is the read, not the export of millions of per-CPU series).
func bigInterrupts(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	for cpu := range 8192 {
		fmt.Fprintf(w, " CPU%-7d", cpu)
	}
	w.WriteByte('\n')
	row := strings.Repeat("          1", 8192)
	for irq, written := 0, 0; written < 200<<20; irq++ {
		n, _ := fmt.Fprintf(w, "%4d:%s  PCI-MSIX-0000:5e:00.0 %d-edge  nvme0q%d\n", irq, row, irq, irq)
		written += n
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

var hostileCases = []hostileCase{
	{"fifo /proc/interrupts", func(t *testing.T, r string) { mkfifoAt(t, filepath.Join(r, "proc/interrupts")) },
		[]string{"interrupts", "irqaffinity", "feeds"}},
	{"fifo smp_affinity_list", func(t *testing.T, r string) { mkfifoAt(t, filepath.Join(r, "proc/irq/100/smp_affinity_list")) },
		[]string{"irqaffinity"}},
	{"fifo rps_cpus", func(t *testing.T, r string) {
		mkfifoAt(t, filepath.Join(r, "sys/class/net/ens1f0/queues/rx-0/rps_cpus"))
	},
		[]string{"netqueues"}},
	{"/dev/zero as /proc/interrupts", func(t *testing.T, r string) { symlinkAt(t, "/dev/zero", filepath.Join(r, "proc/interrupts")) },
		[]string{"interrupts", "irqaffinity", "feeds"}},
	{"/dev/zero as ifindex", func(t *testing.T, r string) {
		symlinkAt(t, "/dev/zero", filepath.Join(r, "sys/class/net/ens1f0/ifindex"))
	},
		nil},
	{"200 MB /proc/interrupts", func(t *testing.T, r string) { bigInterrupts(t, filepath.Join(r, "proc/interrupts")) },
		[]string{"interrupts"}},
}

// TestHostileTrees: for each case, 45 scrapes with a 1 s client timeout
// (the repro, which used to leave the exporter answering 503 for
// good) and then one more, which must be 200 with the expected successes.
// Peak RSS must stay under the shipped Kubernetes limit (128 MiB), with the
// GOMEMLIMIT the shipped DaemonSet sets.
func TestHostileTrees(t *testing.T) {
	bin := xpBuild(t)
	t.Setenv("GOMEMLIMIT", shippedGOMEMLIMIT(t))
	for _, c := range hostileCases {
		t.Run(c.name, func(t *testing.T) {
			root := testutil.CopyTree(t, hostileFixture)
			c.break_(t, root)
			p := xpStart(t, bin, nil, xpPlainReady, "--path.procfs="+filepath.Join(root, "proc"),
				"--path.sysfs="+filepath.Join(root, "sys"), "--web.max-requests=0")
			hostileBurst(t, "http://"+p.addr+"/metrics", 45)
			client := &http.Client{Timeout: 20 * time.Second}
			got := xpSamples(t, client, xpGet("http://"+p.addr+"/metrics"), "netirq_scrape_collector_success")
			checkSuccesses(t, got, c.failed)
			hwm := p.status(t, "VmHWM")
			t.Logf("peak RSS %s", hwm)
			if kB(hwm) > 128<<10 {
				t.Errorf("peak RSS %s, over the shipped 128 MiB limit", hwm)
			}
			if n := openFDs(t, p.cmd.Process.Pid); n > 30 {
				t.Errorf("%d descriptors open after the scrapes ended", n)
			}
		})
	}
}

// hostileBurst sends n concurrent scrapes that give up after 1 s.
func hostileBurst(t *testing.T, url string, n int) {
	c := &http.Client{Timeout: time.Second}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := c.Get(url)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
}

func checkSuccesses(t *testing.T, got map[string]float64, failed []string) {
	t.Helper()
	if len(got) == 0 {
		t.Fatal("no netirq_scrape_collector_success samples")
	}
	for series, v := range got {
		name := strings.TrimSuffix(strings.TrimPrefix(series, `netirq_scrape_collector_success{collector="`), `"}`)
		if name == "findings" {
			continue // what findings says of unreadable IRQs: TestMaskedInterrupts…
		}
		want := 1.0
		for _, f := range failed {
			if f == name {
				want = 0
			}
		}
		if v != want {
			t.Errorf("%s = %v, want %v", series, v, want)
		}
	}
}

func kB(status string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(status, " kB"))
	return n
}

// openFDs counts the process's descriptors, after letting the server close
// the connections of the clients that gave up.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	var n int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			t.Fatal(err)
		}
		if n = len(fds); n <= 30 {
			break
		}
	}
	return n
}

// TestHostileTreesReport: report on the same trees ends in bounded time,
// exits 3 (a part it needs was not read) or 0 when what failed is not
// one it needs, and stays under 256 MiB on the 200 MB file (it holds two
// snapshots; it took 1.59 GB before the cap).
func TestHostileTreesReport(t *testing.T) {
	bin := xpBuild(t)
	for _, c := range hostileCases {
		t.Run(c.name, func(t *testing.T) {
			root := testutil.CopyTree(t, hostileFixture)
			c.break_(t, root)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "report", "--path.procfs="+filepath.Join(root, "proc"),
				"--path.sysfs="+filepath.Join(root, "sys"), "--interval=1s")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Rusage's maxrss would count the pages of this test process the
			// child shared before exec: poll the child's own high-water mark.
			maxRSS := pollHWM(cmd.Process.Pid)
			err := cmd.Wait()
			if ctx.Err() != nil {
				t.Fatalf("report still running after a minute:\n%.2000s", out.String())
			}
			code := cmd.ProcessState.ExitCode()
			wantCodes := map[int]bool{exitOK: true, exitIncomplete: true}
			if slices.Contains(c.failed, "interrupts") {
				wantCodes = map[int]bool{exitIncomplete: true}
			}
			if !wantCodes[code] {
				t.Errorf("exit %d (%v), want one of %v:\n%.3000s", code, err, wantCodes, out.String())
			}
			t.Logf("exit %d, peak RSS %d MB", code, maxRSS>>10)
			if maxRSS > 256<<10 {
				t.Errorf("peak RSS %d MB", maxRSS>>10)
			}
		})
	}
}

// TestScrapeContext: the scraper's timeout less the offset, or less a
// tenth of it when that is smaller; no deadline without a usable header.
func TestScrapeContext(t *testing.T) {
	for _, c := range []struct {
		header string
		want   time.Duration // 0: no deadline
	}{{"10", 9500 * time.Millisecond}, {"2.5", 2250 * time.Millisecond}, {"1", 900 * time.Millisecond}, {"0.4", 360 * time.Millisecond},
		{"", 0}, {"abc", 0}, {"-1", 0}, {"0", 0}, {"NaN", 0}, {"+Inf", 0}, {"1e9", 0}} {
		r, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
		if c.header != "" {
			r.Header.Set(scrapeTimeoutHeader, c.header)
		}
		before := time.Now()
		ctx, cancel := scrapeContext(r, 500*time.Millisecond)
		deadline, ok := ctx.Deadline()
		cancel()
		switch {
		case c.want == 0 && ok:
			t.Errorf("%q: deadline in %s, want none", c.header, deadline.Sub(before))
		case c.want != 0 && (!ok || deadline.Sub(before) < c.want || deadline.Sub(before) > c.want+time.Second):
			t.Errorf("%q: deadline %v in %s, want in %s", c.header, ok, deadline.Sub(before), c.want)
		}
	}
}

// pollHWM returns the last VmHWM (kB) of pid seen before it exits.
func pollHWM(pid int) int {
	path := fmt.Sprintf("/proc/%d/status", pid)
	var hwm int
	for range 6000 { // at most a minute
		b, err := os.ReadFile(path)
		if err != nil {
			return hwm
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				hwm = max(hwm, kB(strings.TrimSpace(v)))
			}
			if v, ok := strings.CutPrefix(line, "State:"); ok && strings.Contains(v, "zombie") {
				return hwm
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return hwm
}

// shippedGOMEMLIMIT is the GOMEMLIMIT deploy/kubernetes/daemonset.yaml sets.
func shippedGOMEMLIMIT(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../deploy/kubernetes/daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`name: GOMEMLIMIT\s+value: "?([0-9]+[KMG]iB)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no GOMEMLIMIT in deploy/kubernetes/daemonset.yaml")
	}
	return string(m[1])
}
