package collector

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/testutil"
)

// The bpf collector with the real probes, on this machine.

// TestBPFAsNobody: asked for without privileges (nobody: no CAP_BPF, no
// CAP_PERFMON), the bpf collector fails with the reason, one log line says
// why, and every other collector runs as before.
func TestBPFAsNobody(t *testing.T) {
	if testutil.RerunAsNobody(t) {
		return
	}
	var logs testutil.LogBuffer
	cfg := DefaultConfig()
	cfg.Enabled = map[string]bool{"bpf": true}
	e, err := NewExporter(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.Source().AwaitBPF(30 * time.Second)
	for range 3 {
		mfs := gather(t, e)
		for c, ok := range successes(mfs) {
			if (c == "bpf") != (ok == 0) {
				t.Errorf("as nobody: collector %s success %v; want only bpf failing", c, ok)
			}
		}
		if len(find(mfs, "netirq_bpf_probes_info", map[string]string{"state": "failed", "reason": "permission"})) != 1 {
			t.Errorf("no netirq_bpf_probes_info{state=failed, reason=permission}")
		}
	}
	lines := strings.Count(logs.String(), "\n")
	if lines != 1 || !strings.Contains(logs.String(), "CAP_BPF and CAP_PERFMON") {
		t.Errorf("want one log line naming the capabilities, got %d:\n%s", lines, logs.String())
	}
	t.Log(strings.TrimSpace(logs.String()))
}

// TestBPFScrapeDuringAttach: scrapes from the moment the exporter starts,
// while the real probes load: none blocks on them or fails another
// collector; the bpf collector says attaching until it succeeds.
func TestBPFScrapeDuringAttach(t *testing.T) {
	testutil.NeedRoot(t)
	cfg := hostConfig("../testdata/hosts/fc-2cpu")
	cfg.Enabled = map[string]bool{"bpf": true, "softirqs": true}
	e := newTestExporter(t, cfg)
	defer e.Close()
	states := map[string]int{}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		mfs := gather(t, e)
		ok := successes(mfs)
		if ok["softirqs"] != 1 {
			t.Fatalf("softirqs failed while the probes attach: %v", ok)
		}
		for _, m := range find(mfs, "netirq_bpf_probes_info", nil) {
			for _, l := range m.Label {
				if l.GetName() == "state" {
					states[l.GetValue()]++
				}
			}
		}
		if ok["bpf"] == 1 {
			break
		}
	}
	if states["attached"] != 1 || states["failed"] != 0 {
		t.Fatalf("states seen: %v; want attaching then attached", states)
	}
	t.Logf("scrapes by state: %v", states)
	loopbackUDP(t, 100) // NET_RX and NET_TX work to count
	var buf bytes.Buffer
	if err := e.WriteText(&buf, nil); err != nil || !strings.Contains(buf.String(), `netirq_softirq_seconds_total{cpu=`) {
		t.Errorf("after attaching: %v; no netirq_softirq_seconds_total", err)
	}
}

// loopbackUDP sends n datagrams to a socket of this process over lo.
func loopbackUDP(t *testing.T, n int) {
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
