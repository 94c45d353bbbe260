package collector

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel"
	"github.com/netirq/netirq_exporter/internal/kernel/bpfprobes"
	"github.com/netirq/netirq_exporter/internal/kernel/nic"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	dto "github.com/prometheus/client_model/go"
)

// fakeProbes stands in for the eBPF probes: what Read returns is set by
// the test.
type fakeProbes struct {
	mu     sync.Mutex
	stats  *bpfprobes.Stats
	err    error
	closed bool
}

func (f *fakeProbes) Read() (*bpfprobes.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stats == nil {
		return &bpfprobes.Stats{Mode: bpfprobes.ModeBTF}, f.err
	}
	return f.stats, f.err
}

func (f *fakeProbes) set(s *bpfprobes.Stats, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats, f.err = s, err
}

func (f *fakeProbes) Wait(context.Context) error { return nil }
func (f *fakeProbes) Close() error               { f.closed = true; return nil }

// withFakeProbes makes the exporters the test builds use f.
func withFakeProbes(t *testing.T, f *fakeProbes) {
	saved := startProbes
	t.Cleanup(func() { startProbes = saved })
	startProbes = func(bpfprobes.Options) snapshot.BPFReader { return f }
}

// fakeStats: 2 CPUs; CPU 1's NET_RX waited 3 times (1 µs, 3 µs, 200 ms).
func fakeStats() *bpfprobes.Stats {
	s := &bpfprobes.Stats{Mode: bpfprobes.ModeBTF, Softirqs: make([][bpfprobes.NumVectors]bpfprobes.Softirq, 2)}
	rx := &s.Softirqs[1][bpfprobes.VecNetRx]
	rx.Time, rx.Runs, rx.Waits, rx.WaitSum = 1500*time.Millisecond, 3, 3, 200*time.Millisecond+4*time.Microsecond
	rx.WaitBuckets[0], rx.WaitBuckets[2], rx.WaitBuckets[bpfprobes.NumWaitBuckets] = 1, 1, 1
	tx := &s.Softirqs[0][bpfprobes.VecNetTx]
	tx.Time, tx.Runs, tx.Waits, tx.WaitBuckets[4] = time.Millisecond, 1, 1, 1
	s.Softirqs[0][1] = bpfprobes.Softirq{Time: time.Second, Runs: 9} // TIMER: only with softirqs.all
	s.NAPIs = []bpfprobes.NAPIPolls{
		{CPU: 1, Polls: 10, Packets: 640, Exhausted: 10},
		{NAPIID: 8193, Device: "eth0", CPU: -1, Polls: 5, Packets: 7},
		{NAPIID: 8194, Device: "veth9", CPU: -1, Polls: 1, Packets: 1},
	}
	for _, n := range bpfprobes.ProbeNames {
		s.Probes = append(s.Probes, bpfprobes.ProbeStats{Name: n, Events: 100, RunTime: time.Millisecond})
	}
	return s
}

func bpfConfig() Config {
	cfg := hostConfig("../testdata/hosts/fc-2cpu")
	cfg.Enabled = map[string]bool{"bpf": true, "queuestats": true}
	cfg.BPF.WaitPerCPU = waitPerCPUNetRx
	cfg.DeviceExclude = regexp.MustCompile("^veth")
	return cfg
}

func TestBPFCollector(t *testing.T) {
	f := &fakeProbes{stats: fakeStats()}
	withFakeProbes(t, f)
	e := newTestExporter(t, bpfConfig())
	snap := e.Source().Snapshot()
	snap.QueueNAPIs = append(snap.QueueNAPIs, nicQueueNAPI("eth0", 3, 8193))
	var buf bytes.Buffer
	if err := e.WriteSnapshotText(&buf, snap, nil); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{
		`netirq_softirq_seconds_total{cpu="1",vector="NET_RX"} 1.5`,
		`netirq_softirq_seconds_total{cpu="0",vector="NET_TX"} 0.001`,
		`netirq_softirq_wait_seconds_bucket{cpu="1",vector="NET_RX",le="1e-06"} 1`,
		`netirq_softirq_wait_seconds_bucket{cpu="1",vector="NET_RX",le="4e-06"} 2`,
		`netirq_softirq_wait_seconds_bucket{cpu="1",vector="NET_RX",le="0.131072"} 2`,
		`netirq_softirq_wait_seconds_bucket{cpu="1",vector="NET_RX",le="+Inf"} 3`,
		`netirq_softirq_wait_seconds_count{cpu="",vector="NET_TX"} 1`,
		`netirq_napi_budget_exhausted_polls_total{cpu="1",device="",napi_id="",queue=""} 10`,
		`netirq_napi_polls_total{cpu="",device="eth0",napi_id="8193",queue="3"} 5`,
		`netirq_bpf_probes_info{mode="tp_btf",reason="",state="attached"} 1`,
		`netirq_bpf_probe_events_total{probe="napi_poll"} 100`,
		`netirq_bpf_probe_run_time_known 0`,
		`netirq_scrape_collector_success{collector="bpf"} 1`,
	} {
		if !strings.Contains(text, "\n"+want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	for _, absent := range []string{`vector="TIMER"`, `device="veth9"`, `netirq_bpf_probe_run_seconds_total{`, `netirq_softirq_seconds_total{cpu="0",vector="NET_RX"}`} {
		if strings.Contains(text, absent) {
			t.Errorf("%s is exported", absent)
		}
	}
	checkREADMEDocuments(t, gather(t, e))
	e.Close()
	if !f.closed {
		t.Error("Exporter.Close did not close the probes")
	}
}

// TestBPFWaitPerCPU: all keeps NET_TX per CPU too, none sums NET_RX.
func TestBPFWaitPerCPU(t *testing.T) {
	withFakeProbes(t, &fakeProbes{stats: fakeStats()})
	for mode, want := range map[string][]string{
		waitPerCPUAll:  {`cpu="0",vector="NET_TX"`, `cpu="1",vector="NET_RX"`},
		waitPerCPUNone: {`cpu="",vector="NET_TX"`, `cpu="",vector="NET_RX"`},
	} {
		cfg := bpfConfig()
		cfg.BPF.WaitPerCPU = mode
		var buf bytes.Buffer
		if err := newTestExporter(t, cfg).WriteText(&buf, nil); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(buf.String(), "netirq_softirq_wait_seconds_count{"+w+"}") {
				t.Errorf("%s: no wait histogram {%s}", mode, w)
			}
		}
	}
}

// TestBPFCollectorFails: probes that could not attach fail the bpf
// collector alone, with the reason, and are not logged at every scrape.
func TestBPFCollectorFails(t *testing.T) {
	f := &fakeProbes{err: &bpfprobes.Error{Reason: bpfprobes.ReasonNoTracepoint, Mode: bpfprobes.ModeBTF, Err: errors.New("no napi_poll")}}
	withFakeProbes(t, f)
	var logs bytes.Buffer
	e, err := NewExporter(bpfConfig(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		mfs := gather(t, e)
		ok := successes(mfs)
		if ok["bpf"] != 0 || ok["queuestats"] != 1 {
			t.Fatalf("collector success %v: want bpf 0, queuestats 1", ok)
		}
		if len(find(mfs, "netirq_bpf_probes_info", map[string]string{"state": "failed", "reason": "no_tracepoint"})) != 1 {
			t.Errorf("no netirq_bpf_probes_info with the reason")
		}
		if len(find(mfs, "netirq_softirq_wait_seconds", nil)) != 0 {
			t.Errorf("wait histograms exported while failing")
		}
	}
	if logs.Len() != 0 {
		t.Errorf("the exporter logged a failure the probes log once:\n%s", logs.String())
	}
}

// TestBPFScrapeWhileAttaching: a scrape while the probes load is not held
// up by them; the collector reports attaching, then the data.
func TestBPFScrapeWhileAttaching(t *testing.T) {
	f := &fakeProbes{err: bpfprobes.ErrAttaching}
	withFakeProbes(t, f)
	e := newTestExporter(t, bpfConfig())
	began := time.Now()
	mfs := gather(t, e)
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("a scrape while attaching took %s", d)
	}
	if ok := successes(mfs); ok["bpf"] != 0 || ok["queuestats"] != 1 {
		t.Errorf("while attaching: %v", ok)
	}
	if len(find(mfs, "netirq_bpf_probes_info", map[string]string{"state": "attaching", "reason": "attaching"})) != 1 {
		t.Errorf("no netirq_bpf_probes_info{state=attaching}")
	}
	f.set(fakeStats(), nil)
	if ok := successes(gather(t, e)); ok["bpf"] != 1 {
		t.Errorf("once attached: %v", ok)
	}
}

// checkREADMEDocuments: the bpf collector's families are in README.md's
// Metrics table (TestREADMEListsEveryMetric sees only the default
// collectors).
func checkREADMEDocuments(t *testing.T, mfs []*dto.MetricFamily) {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		name := mf.GetName()
		if strings.HasPrefix(name, "netirq_bpf_") || strings.HasPrefix(name, "netirq_napi_") || strings.HasPrefix(name, "netirq_softirq_") {
			n++
			if !strings.Contains(string(readme), "`"+name+"`") {
				t.Errorf("%s is exported but not in README.md's Metrics table", name)
			}
		}
	}
	if n < 9 {
		t.Errorf("only %d bpf families seen", n)
	}
}

func nicQueueNAPI(dev string, queue int, id uint32) nic.QueueNAPI {
	return nic.QueueNAPI{Device: dev, Queue: queue, Kind: kernel.KindRx, NAPIID: id}
}
