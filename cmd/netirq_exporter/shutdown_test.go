package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/promtest"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// bigiron is absolute: xpStart runs the binary in its own directory.
var bigiron, _ = filepath.Abs("../../testdata/hosts/bigiron-8cpu")

// procWithout links every entry of bigiron's proc into a new directory
// but name, which the caller may replace (a FIFO) or leave missing.
func procWithout(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join(bigiron, "proc")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, e := range entries {
		if e.Name() != name {
			if err := os.Symlink(filepath.Join(src, e.Name()), filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// landingReady is ready when the landing page answers: it reads no file,
// unlike /metrics.
func landingReady(addr string) error {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/")
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// waitFor polls cond every 20 ms for at most 10 s.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// TestSignals runs the binary: SIGHUP is logged and changes nothing;
// SIGTERM during a scrape closes the listener, lets the scrape finish and
// exits 0; a log pipe whose reader is gone does not kill it.
func TestSignals(t *testing.T) {
	bin := xpBuild(t)
	sys := "--path.sysfs=" + filepath.Join(bigiron, "sys")
	t.Run("SIGHUP ignored", func(t *testing.T) {
		p := xpStart(t, bin, nil, xpPlainReady, "--path.procfs="+filepath.Join(bigiron, "proc"), sys)
		p.cmd.Process.Signal(syscall.SIGHUP)
		if !waitFor(func() bool { return strings.Contains(p.logs.String(), "SIGHUP ignored") }) {
			t.Fatalf("no log of the SIGHUP:\n%s", p.logs)
		}
		httpGet(t, "http://"+p.addr+"/metrics")
	})
	t.Run("SIGTERM mid-scrape", func(t *testing.T) { testSIGTERMMidScrape(t, bin, sys) })
	t.Run("log pipe lost", func(t *testing.T) { testLostLogPipe(t, bin, sys) })
}

// testSIGTERMMidScrape holds a scrape on /proc/softirqs, a FIFO, sends
// SIGTERM, and only then lets the scrape read the file.
func testSIGTERMMidScrape(t *testing.T, bin, sys string) {
	proc := procWithout(t, "softirqs")
	fifo := filepath.Join(proc, "softirqs")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	p := xpStart(t, bin, nil, landingReady, "--path.procfs="+proc, sys, "--web.shutdown-timeout=30s")
	type result struct {
		body string
		err  error
	}
	scraped := make(chan result, 1)
	go func() {
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Get("http://" + p.addr + "/metrics")
		if err != nil {
			scraped <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			err = errors.New(resp.Status)
		}
		scraped <- result{string(b), err}
	}()
	// Opening a FIFO to write without blocking fails until its reader,
	// the scrape, has it open.
	var w *os.File
	if !waitFor(func() bool { w, _ = os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); return w != nil }) {
		t.Fatalf("the scrape never opened %s:\n%s", fifo, p.logs)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	closed := waitFor(func() bool {
		c, err := net.Dial("tcp", p.addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	if !closed {
		t.Errorf("still accepting connections after SIGTERM:\n%s", p.logs)
	}
	select {
	case <-p.exited:
		t.Fatalf("exited before the scrape in flight finished:\n%s", p.logs)
	default:
	}
	softirqs, err := os.ReadFile(filepath.Join(bigiron, "proc", "softirqs"))
	if err != nil {
		t.Fatal(err)
	}
	syscall.SetNonblock(int(w.Fd()), false)
	w.Write(softirqs)
	w.Close()
	res := <-scraped
	if res.err != nil || !strings.Contains(res.body, `netirq_scrape_collector_success{collector="softirqs"} 1`) {
		t.Errorf("the scrape in flight: %v, softirqs collector success missing in %d bytes", res.err, len(res.body))
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("no exit 10 s after the scrape finished:\n%s", p.logs)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != exitOK {
		t.Errorf("exit code %d after SIGTERM, want 0:\n%s", code, p.logs)
	}
}

// testLostLogPipe starts the binary with stderr to a pipe, closes the
// pipe's read end, and scrapes a tree without /proc/softirqs: the
// softirqs collector logs its failure into the dead pipe.
func testLostLogPipe(t *testing.T, bin, sys string) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	addr, logs := promtest.FreeAddr(t), &testutil.LogBuffer{}
	cmd := exec.Command(bin, "--web.listen-address="+addr, "--path.procfs="+procWithout(t, "softirqs"), sys)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	go io.Copy(logs, r)
	if !waitFor(func() bool { return landingReady(addr) == nil }) {
		t.Fatalf("not ready:\n%s", logs)
	}
	r.Close()
	for range 3 {
		body := httpGet(t, "http://"+addr+"/metrics")
		if !strings.Contains(body, `netirq_scrape_collector_success{collector="softirqs"} 0`) {
			t.Fatalf("the softirqs collector did not fail: no log line to provoke")
		}
	}
	select {
	case <-exited:
		t.Fatalf("died: %v", cmd.ProcessState)
	default:
	}
}
