//go:build linux

package main

import (
	"bufio"
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

	"github.com/netirq/netirq_exporter/internal/hostgen"
	"github.com/netirq/netirq_exporter/internal/promtest"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// bigiron is absolute: xpStart runs the binary in its own directory.
var bigiron, _ = filepath.Abs("../../testdata/hosts/bigiron-8cpu")

// procWithout links every entry of bigiron's proc into a new directory
// but name, which is left missing.
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
	t.Run("SIGTERM mid-scrape", func(t *testing.T) { testSIGTERMMidScrape(t, bin) })
	t.Run("log pipe lost", func(t *testing.T) { testLostLogPipe(t, bin, sys) })
}

// testSIGTERMMidScrape holds a scrape in flight by not reading its
// answer, the 14 MB of a 256-CPU host in dense mode, more than the socket
// buffers take, sends SIGTERM, and only then reads it.
func testSIGTERMMidScrape(t *testing.T, bin string) {
	root := t.TempDir()
	if err := hostgen.Generate(root, hostgen.Standard(256, 2, 64, 1)); err != nil {
		t.Fatal(err)
	}
	p := xpStart(t, bin, nil, landingReady, "--path.procfs="+filepath.Join(root, "proc"),
		"--path.sysfs="+filepath.Join(root, "sys"), "--collector.interrupts.all", "--web.shutdown-timeout=30s")
	// A fixed receive buffer: the kernel does not grow it for a reader
	// that does not read.
	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10) })
	}}
	conn, err := dialer.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusOK || resp.ContentLength < 8<<20 {
		t.Fatalf("scrape: %v, %v, Content-Length %d; want 200 and more than the socket buffers hold", err, resp, resp.ContentLength)
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
	body, err := io.ReadAll(resp.Body)
	if err != nil || int64(len(body)) != resp.ContentLength ||
		!strings.Contains(string(body), `netirq_scrape_collector_success{collector="interrupts"} 1`) {
		t.Errorf("the scrape in flight: %v, %d of %d bytes", err, len(body), resp.ContentLength)
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
