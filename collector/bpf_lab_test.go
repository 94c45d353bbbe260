//go:build linux

package collector

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel/bpfprobes"
	"github.com/netirq/netirq_exporter/internal/netlab"
	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

// TestBPFFunnelVsSpread is the bpf collector's proof on real traffic: the
// seed 004 funnel of TestScenarioPages (every RX queue's RPS -> CPU 1,
// the flood sent from CPU 0) against the same flood with RPS over both
// CPUs, and with RPS off, one after the other in one lab, the probes
// attached. The receive path has labRules ingress filters that match
// nothing (as a firewall would): without them, on this VM, receiving a
// packet (~1 µs of softirq) is cheaper than sending it (~6 µs), so the
// funnel's CPU 1 is busy with the sink and IPIs but its NET_RX never
// queues (measured: p99 14 µs funnel, 21 µs spread, 0.1 % of backlog
// polls used up their budget), and no wait could tell the two apart.
// With ~4 µs a packet the funnel saturates CPU 1's softirq; spread, the
// sender's CPU takes half of the packets and slows itself down.
//
//   - CPU 1's NET_RX wait p99: the funnel's at least labWaitRatio times
//     the spread's (measured 388-987 µs against 18-27 µs on a quiet
//     machine; 110 µs against 21 µs, 5.3x, while other tests loaded it);
//   - the share of CPU 1's backlog polls that used the whole budget: the
//     funnel's labExhaustedGap above the spread's (97 % against 0.1 %);
//   - exact softirq time (all vectors and CPUs) against /proc/stat's
//     tick-sampled one: within labTimeMargin where no RPS IPI lands on a
//     CPU that has time for anything else (RPS off: -5 %; the saturated
//     funnel: -6 %). On the CPU the spread's IPIs wake from other work,
//     /proc/stat over-counts softirq (-19 % overall here; without the
//     filters -45 %, that CPU's ticks 2.6-3.7 times its exact time): a
//     tick held back while interrupts are off is delivered after the
//     IPI, inside the softirq the IPI starts. The spread is held to
//     labSpreadTimeLow below, no more than labTimeMargin above.
const (
	labFlood         = 8 * time.Second
	labRules         = 200
	labWaitRatio     = 4.0
	labExhaustedGap  = 0.5
	labTimeMargin    = 0.12
	labSpreadTimeLow = 0.40
)

func TestBPFFunnelVsSpread(t *testing.T) {
	testutil.NeedRoot(t)
	testutil.NeedTool(t, "tc", "iproute2")
	if runtime.NumCPU() != 2 {
		t.Skipf("written for 2 CPUs (the funnel names CPUs 0 and 1), this machine has %d", runtime.NumCPU())
	}
	lab := netlab.New(t, netlab.Options{Queues: 4, SenderTxQueues: 5})
	ruleChain(t, lab, labRules)
	cfg := DefaultConfig()
	cfg.SysPath, cfg.NetNS = lab.SysfsRoot(), filepath.Join("/run/netns", lab.ReceiverNS())
	cfg.Enabled = map[string]bool{"bpf": true, "cputime": true}
	e := newTestExporter(t, cfg)
	defer e.Close()
	if err := e.Source().AwaitBPF(time.Minute); err != nil {
		t.Fatal(err)
	}
	funnel := labRun(t, e.Source(), lab, "funnel", "2")
	spread := labRun(t, e.Source(), lab, "spread", "3")
	norps := labRun(t, e.Source(), lab, "no rps", "0")
	t.Logf("\n%s\n%s\n%s", funnel, spread, norps)

	fp99, _ := funnel.rxWait.WaitQuantile(0.99)
	sp99, _ := spread.rxWait.WaitQuantile(0.99)
	if float64(fp99) < labWaitRatio*float64(sp99) {
		t.Errorf("NET_RX wait p99 on CPU 1: funnel %s, spread %s; want the funnel's at least %g times higher", fp99, sp99, labWaitRatio)
	}
	if funnel.exhaustedShare() < spread.exhaustedShare()+labExhaustedGap {
		t.Errorf("CPU 1 backlog polls that used the whole budget: funnel %.2f, spread %.2f; want the funnel's %.2f higher",
			funnel.exhaustedShare(), spread.exhaustedShare(), labExhaustedGap)
	}
	checkExact(t, funnel, -labTimeMargin)
	checkExact(t, norps, -labTimeMargin)
	checkExact(t, spread, -labSpreadTimeLow)
}

// checkExact holds p's exact softirq time to [low, labTimeMargin] off
// /proc/stat's.
func checkExact(t *testing.T, p labPhase, low float64) {
	t.Helper()
	diff := (p.exactSec - p.sampledSec) / p.sampledSec
	if diff < low || diff > labTimeMargin {
		t.Errorf("%s: exact softirq time %.3fs, /proc/stat %.3fs: %+.1f%%, want %+.0f%% to %+.0f%%", p.name, p.exactSec, p.sampledSec, 100*diff, 100*low, 100*labTimeMargin)
		return
	}
	t.Logf("%s: exact softirq time against /proc/stat: %+.1f%%", p.name, 100*diff)
}

// labPhase is what one flood left in the probes and /proc/stat.
type labPhase struct {
	name                  string
	rxWait                bpfprobes.Softirq // CPU 1, NET_RX
	polls, exhausted      uint64            // CPU 1's backlog
	exactSec, sampledSec  float64           // softirq time, all CPUs
	rxPackets, sent, drop uint64
	pps                   float64
}

func (p labPhase) String() string {
	p50, _ := p.rxWait.WaitQuantile(0.5)
	p99, _ := p.rxWait.WaitQuantile(0.99)
	return fmt.Sprintf("%-7s CPU 1 NET_RX wait p50 %8s p99 %8s (%d waits); backlog polls %d, budget used up %d (%.0f%%); softirq exact %.3fs sampled %.3fs; sent %d (%.0f pps), received %d, dropped %d",
		p.name, p50, p99, p.rxWait.Waits, p.polls, p.exhausted, 100*p.exhaustedShare(), p.exactSec, p.sampledSec, p.sent, p.pps, p.rxPackets, p.drop)
}

func (p labPhase) exhaustedShare() float64 {
	if p.polls == 0 {
		return 0
	}
	return float64(p.exhausted) / float64(p.polls)
}

// labRun sets every RX queue's RPS mask, floods from CPU 0 and returns
// the deltas over the flood.
func labRun(t *testing.T, src *snapshot.Source, lab *netlab.Lab, name, rps string) labPhase {
	t.Helper()
	for q := range lab.Queues() {
		if err := lab.SetRPS(q, rps); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), labFlood+time.Minute)
	defer cancel()
	before := labSnapshot(t, src)
	res, err := lab.Flood(ctx, netlab.FloodOptions{Duration: labFlood, Flows: 256, SenderCPUs: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	after := labSnapshot(t, src)
	p := labPhase{name: name, rxPackets: res.RxPackets, sent: res.Sent, drop: res.RxDropped, pps: res.PPS}
	p.rxWait = after.BPF.Softirqs[1][bpfprobes.VecNetRx].Sub(before.BPF.Softirqs[1][bpfprobes.VecNetRx])
	p.polls, p.exhausted = backlogPolls(after, 1)
	bp, be := backlogPolls(before, 1)
	p.polls, p.exhausted = p.polls-bp, p.exhausted-be
	for cpu := range after.BPF.Softirqs {
		for vec := range bpfprobes.NumVectors {
			p.exactSec += (after.BPF.Softirqs[cpu][vec].Time - before.BPF.Softirqs[cpu][vec].Time).Seconds()
		}
	}
	for i := range after.CPUTime {
		p.sampledSec += after.CPUTime[i].SoftIRQ - before.CPUTime[i].SoftIRQ
		var ex [bpfprobes.NumVectors]float64
		for vec := range bpfprobes.NumVectors {
			ex[vec] = (after.BPF.Softirqs[i][vec].Time - before.BPF.Softirqs[i][vec].Time).Seconds()
		}
		a, b := after.CPUTime[i], before.CPUTime[i]
		t.Logf("%s, CPU %d: /proc/stat softirq %.2fs (system %.2fs, user %.2fs, idle %.2fs); exact by vector %.3f", name, i, a.SoftIRQ-b.SoftIRQ, a.System-b.System, a.User-b.User, a.Idle-b.Idle, ex)
	}
	t.Logf("%s, CPU 1 NET_RX wait buckets (<= 1, 2, 4 ... µs): %v", name, p.rxWait.WaitBuckets)
	return p
}

func labSnapshot(t *testing.T, src *snapshot.Source) *snapshot.Snapshot {
	t.Helper()
	s := src.Snapshot()
	if s.BPF == nil || s.BPFErr != nil || s.CPUTime == nil || len(s.BPF.Softirqs) < 2 {
		t.Fatalf("snapshot: probes %v (%v), /proc/stat %v", s.BPF, s.BPFErr, s.CPUTimeErr)
	}
	return s
}

// backlogPolls is cpu's backlog polls and those that used the budget.
func backlogPolls(s *snapshot.Snapshot, cpu int) (polls, exhausted uint64) {
	for _, n := range s.BPF.NAPIs {
		if n.IsBacklog() && n.CPU == cpu {
			return n.Polls, n.Exhausted
		}
	}
	return 0, 0
}

// ruleChain puts n u32 filters that match nothing on the receiver veth's
// ingress (in the lab's namespace; gone with it): a receive path that
// costs more per packet, run in the NET_RX softirq of the RPS CPU.
func ruleChain(t *testing.T, lab *netlab.Lab, count int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("qdisc add dev " + lab.RxDevice() + " handle ffff: ingress\n")
	for i := range count {
		fmt.Fprintf(&b, "filter add dev %s parent ffff: protocol ip prio %d u32 match ip dport %d 0xffff flowid :1\n", lab.RxDevice(), i+1, 20000+i)
	}
	path := filepath.Join(t.TempDir(), "tc.batch")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tc", "-n", lab.ReceiverNS(), "-batch", path).CombinedOutput(); err != nil {
		t.Fatalf("tc -batch: %v\n%s", err, out)
	}
}
