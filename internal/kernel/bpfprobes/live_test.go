//go:build linux

package bpfprobes

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/testutil"
)

// Tests that load the probes into this kernel: they need root (CAP_BPF and
// CAP_PERFMON), and skip without it except under CI=true.

// startProbes starts the probes of mode, waits for them and closes them at
// the test's end.
func startProbes(t *testing.T, opts Options) *Probes {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	p := Start(opts)
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("attaching (%s): %v", opts.Mode, err)
	}
	return p
}

// loopbackTraffic makes NET_RX and NET_TX work: UDP datagrams over lo.
func loopbackTraffic(t *testing.T, n int) {
	t.Helper()
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := net.DialUDP("udp", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	buf := make([]byte, 64)
	for range n {
		tx.Write(buf)
		rx.SetReadDeadline(time.Now().Add(time.Second))
		rx.Read(buf)
	}
}

func checkLive(t *testing.T, p *Probes) {
	t.Helper()
	loopbackTraffic(t, 2000)
	s, err := p.Read()
	if err != nil {
		t.Fatal(err)
	}
	var rx Softirq
	var timerRuns uint64
	for _, cpu := range s.Softirqs {
		rx.Runs += cpu[VecNetRx].Runs
		rx.Time += cpu[VecNetRx].Time
		rx.Waits += cpu[VecNetRx].Waits
		timerRuns += cpu[1].Runs
		var sum uint64
		for _, b := range cpu[VecNetRx].WaitBuckets {
			sum += b
		}
		if sum != cpu[VecNetRx].Waits {
			t.Errorf("NET_RX wait buckets sum to %d, waits %d", sum, cpu[VecNetRx].Waits)
		}
	}
	if rx.Runs == 0 || rx.Time <= 0 || rx.Waits == 0 || timerRuns == 0 {
		t.Errorf("after 2000 datagrams over lo: NET_RX %+v, TIMER runs %d; want both counted", rx, timerRuns)
	}
	backlog := false
	for _, n := range s.NAPIs {
		backlog = backlog || (n.IsBacklog() && n.Polls > 0 && n.Packets > 0)
	}
	if !backlog {
		t.Errorf("no backlog NAPI polls after loopback traffic (lo uses netif_rx): %+v", s.NAPIs)
	}
	for _, pr := range s.Probes {
		if pr.Events == 0 || pr.Lost != 0 {
			t.Errorf("probe %s: %d events, %d lost", pr.Name, pr.Events, pr.Lost)
		}
	}
	t.Logf("mode %s: NET_RX %d runs, %s, %d waits; probes %+v; run time known %v", s.Mode, rx.Runs, rx.Time, rx.Waits, s.Probes, s.RunTimeKnown)
}

func TestProbesLiveBTF(t *testing.T) {
	testutil.NeedRoot(t)
	if _, err := os.Stat(kernelBTF); err != nil {
		t.Skipf("this kernel has no BTF (%v): tp_btf mode cannot run", err)
	}
	p := startProbes(t, Options{Mode: ModeBTF})
	checkLive(t, p)
	named := false
	loopbackTraffic(t, 10)
	s, _ := p.Read()
	for _, n := range s.NAPIs {
		named = named || n.NAPIID != 0 || n.Device != ""
		if n.IsBacklog() != (n.CPU >= 0) {
			t.Errorf("NAPI row %+v: the backlog has a CPU, every other instance -1", n)
		}
	}
	t.Logf("NAPI rows: %+v (an instance with an ID: %v)", s.NAPIs, named)
}

// TestProbesLiveTracepoint runs the classic tracepoint programs. They need
// tracefs; where it is not mounted the test runs itself again in a child
// with a mount namespace of its own, tracefs mounted there only.
func TestProbesLiveTracepoint(t *testing.T) {
	testutil.NeedRoot(t)
	if rerunWithTracefs(t) {
		return
	}
	checkLive(t, startProbes(t, Options{Mode: ModeTracepoint}))
}

// rerunWithTracefs, where tracefs is not mounted, runs the test again in a
// child process in a new mount namespace (Go makes its mounts private),
// where it mounts tracefs, and returns true: the caller returns. In the
// child, and where tracefs is mounted, it returns false.
func rerunWithTracefs(t *testing.T) bool {
	t.Helper()
	if _, err := tracefsRoot(); err == nil {
		return false
	}
	if os.Getenv("NETIRQ_TEST_TRACEFS") != "" {
		if err := syscall.Mount("tracefs", tracefsRoots[0], "tracefs", 0, ""); err != nil {
			t.Fatalf("mounting tracefs in the test's own mount namespace: %v", err)
		}
		return false
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run", "^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "NETIRQ_TEST_TRACEFS=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("in a child with its own mount namespace and tracefs: %v\n%s", err, out)
	}
	t.Logf("ran in a child with its own mount namespace and tracefs:\n%s", out)
	return true
}

// TestProbesMissingTracepoint: a kernel without napi:napi_poll, simulated
// by asking this kernel for a tracepoint it does not have, refuses in both
// modes; the error says so.
func TestProbesMissingTracepoint(t *testing.T) {
	testutil.NeedRoot(t)
	if _, err := os.Stat(kernelBTF); err != nil {
		t.Skipf("this kernel has no BTF (%v): tp_btf mode cannot run", err)
	}
	checkMissing(t, ModeBTF)
}

func TestProbesMissingTracepointClassic(t *testing.T) {
	testutil.NeedRoot(t)
	if rerunWithTracefs(t) {
		return
	}
	checkMissing(t, ModeTracepoint)
}

func checkMissing(t *testing.T, mode Mode) {
	t.Helper()
	{
		p := Start(Options{Mode: mode, rename: map[string]string{"napi_poll": "netirq_no_such_tracepoint"}})
		err := p.Wait(context.Background())
		var e *Error
		if !errors.As(err, &e) || e.Reason != ReasonNoTracepoint {
			t.Errorf("%s: %v, want reason %s", mode, err, ReasonNoTracepoint)
		}
		if _, rerr := p.Read(); rerr != err {
			t.Errorf("%s: Read returned %v, want the attach error", mode, rerr)
		}
		p.Close()
		t.Logf("%s: %v", mode, err)
	}
}

// TestProbesAsNobody: without capabilities the probes are refused for
// lack of permission, and Read says so.
func TestProbesAsNobody(t *testing.T) {
	if testutil.RerunAsNobody(t) {
		return
	}
	p := Start(Options{})
	defer p.Close()
	err := p.Wait(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Reason != ReasonPermission {
		t.Fatalf("as uid %d: %v, want reason %s", os.Geteuid(), err, ReasonPermission)
	}
	if !strings.Contains(err.Error(), "CAP_BPF and CAP_PERFMON") {
		t.Errorf("the error does not name the capabilities: %v", err)
	}
	t.Log(err)
}
