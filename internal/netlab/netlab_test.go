//go:build linux

package netlab

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// softnetRow is one CPU's line of /proc/net/softnet_stat.
type softnetRow struct {
	processed, receivedRPS uint64
}

// readSoftnet parses /proc/net/softnet_stat keyed by CPU: column 13 (the
// CPU index, since Linux 5.10) when present, else the row number. Values
// are hex.
func readSoftnet(t *testing.T) map[int]softnetRow {
	t.Helper()
	b, err := os.ReadFile("/proc/net/softnet_stat")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]softnetRow{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 {
			t.Fatalf("softnet_stat row %d: %q", i, line)
		}
		hex := func(s string) uint64 {
			v, err := strconv.ParseUint(s, 16, 64)
			if err != nil {
				t.Fatalf("softnet_stat %q: %v", s, err)
			}
			return v
		}
		cpu := i
		if len(f) >= 13 {
			cpu = int(hex(f[12]))
		}
		out[cpu] = softnetRow{processed: hex(f[0]), receivedRPS: hex(f[9])}
	}
	return out
}

// readNetRX returns the NET_RX row of /proc/softirqs per CPU column.
func readNetRX(t *testing.T) []uint64 {
	t.Helper()
	f, err := os.Open("/proc/softirqs")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 && fields[0] == "NET_RX:" {
			var out []uint64
			for _, s := range fields[1:] {
				v, err := strconv.ParseUint(s, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, v)
			}
			return out
		}
	}
	t.Fatal("no NET_RX line in /proc/softirqs")
	return nil
}

// cpuTimes returns the /proc/stat line "cpuN" as its tick fields (nil on
// error; it runs off the test goroutine, so it cannot call t.Fatal).
func cpuTimes(cpu int) []uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	want := "cpu" + strconv.Itoa(cpu)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 8 && f[0] == want {
			var out []uint64
			for _, s := range f[1:] {
				v, _ := strconv.ParseUint(s, 10, 64)
				out = append(out, v)
			}
			return out
		}
	}
	return nil
}

// softirqShare is cpu's softirq ticks over all its ticks between a and b
// (guest time is already in user, so only the first 8 fields count).
func softirqShare(a, b []uint64) (float64, uint64) {
	if len(a) < 8 || len(b) < 8 {
		return 0, 0
	}
	var total uint64
	for i := 0; i < 8 && i < len(a); i++ {
		total += b[i] - a[i]
	}
	si := b[6] - a[6]
	if total == 0 {
		return 0, 0
	}
	return 100 * float64(si) / float64(total), total
}

func hexValue(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.ReplaceAll(s, ",", ""), 16, 64)
	if err != nil {
		t.Fatalf("mask %q: %v", s, err)
	}
	return v
}

func TestLab(t *testing.T) {
	lab := New(t, Options{Queues: 4})
	t.Logf("lab %s: sysfs %s, rx device %s in %s (%s), sender %s in %s",
		lab.Name(), lab.SysfsRoot(), lab.RxDevice(), lab.ReceiverNS(), lab.RxAddr(),
		lab.TxDevice(), lab.SenderNS())

	t.Run("sysfs shows the receiver veth and its queues", func(t *testing.T) {
		ents, err := os.ReadDir(filepath.Join(lab.SysfsRoot(), "class", "net", lab.RxDevice(), "queues"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range ents {
			got = append(got, e.Name())
		}
		want := []string{"rx-0", "rx-1", "rx-2", "rx-3", "tx-0", "tx-1", "tx-2", "tx-3"}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("queues = %v, want %v", got, want)
		}
		if _, err := os.Stat(filepath.Join(lab.SysfsRoot(), "devices", "system", "cpu", "cpu0")); err != nil {
			t.Fatal(err)
		}
		// The root namespace's devices must not be visible there.
		if _, err := os.Stat(filepath.Join(lab.SysfsRoot(), "class", "net", lab.TxDevice())); err == nil {
			t.Fatalf("lab sysfs shows the sender veth %s", lab.TxDevice())
		}
	})

	t.Run("SetRPS and SetXPS read back", func(t *testing.T) {
		ncpu := runtime.NumCPU()
		all := uint64(1)<<min(ncpu, 32) - 1
		for q := 0; q < 4; q++ {
			// With 2 CPUs: "1", "2", "3", "0".
			mask := fmt.Sprintf("%x", uint64(q+1)&all)
			if err := lab.SetRPS(q, mask); err != nil {
				t.Fatal(err)
			}
			got, err := lab.RPS(q)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("rx-%d rps_cpus: wrote %q, read %q", q, mask, got)
			if hexValue(t, got) != hexValue(t, mask) {
				t.Errorf("rx-%d rps_cpus = %q, want %q", q, got, mask)
			}
		}
		if err := lab.SetXPS(1, "1"); err != nil {
			t.Fatal(err)
		}
		if got, err := lab.XPS(1); err != nil || hexValue(t, got) != 1 {
			t.Errorf("tx-1 xps_cpus = %q, %v; want 1", got, err)
		}
		if err := lab.SetXPS(1, "0"); err != nil {
			t.Fatal(err)
		}
		if err := lab.SetRPS(4, "1"); err == nil {
			t.Error("SetRPS(4) on a 4-queue lab succeeded")
		}
		if err := lab.SetRPS(0, "1; echo x"); err == nil {
			t.Error("SetRPS accepted a bad mask")
		}
		t.Logf("SetThreaded(true) on the veth: %v (veth has NAPI only with XDP/GRO)", lab.SetThreaded(true))
	})

	t.Run("flood with RPS on CPU 1", func(t *testing.T) {
		if runtime.NumCPU() < 2 {
			t.Skip("needs 2 CPUs")
		}
		for q := 0; q < 4; q++ {
			if err := lab.SetRPS(q, "2"); err != nil {
				t.Fatal(err)
			}
		}
		defer func() {
			for q := 0; q < 4; q++ {
				lab.SetRPS(q, "0")
			}
		}()
		sn0, nr0 := readSoftnet(t), readNetRX(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()

		// Sample cpu1's /proc/stat inside the flood window.
		type sample struct {
			share float64
			ticks uint64
		}
		sampled := make(chan sample, 1)
		go func() {
			time.Sleep(700 * time.Millisecond)
			a := cpuTimes(1)
			time.Sleep(2 * time.Second)
			b := cpuTimes(1)
			s, n := softirqShare(a, b)
			sampled <- sample{s, n}
		}()
		// Sender and sink both on CPU 0, so that CPU 1 does only the
		// RPS-steered receive processing.
		res, err := lab.Flood(ctx, FloodOptions{
			Duration:   3 * time.Second,
			Flows:      64,
			SenderCPUs: []int{0},
			SinkCPUs:   []int{0},
		})
		if err != nil {
			t.Fatal(err)
		}
		sn1, nr1 := readSoftnet(t), readNetRX(t)
		smp := <-sampled
		t.Logf("flood: sent %d (%.0f pps, %d errors), sink received %d (socket drops %d), receiver veth rx_packets +%d rx_dropped +%d",
			res.Sent, res.PPS, res.SendErrors, res.Received, res.SocketDrops, res.RxPackets, res.RxDropped)
		for cpu := 0; cpu < len(nr1); cpu++ {
			t.Logf("cpu%d: softnet processed +%d, received_rps +%d, NET_RX softirqs +%d",
				cpu, sn1[cpu].processed-sn0[cpu].processed, sn1[cpu].receivedRPS-sn0[cpu].receivedRPS, nr1[cpu]-nr0[cpu])
		}
		t.Logf("cpu1 softirq time during the flood: %.1f%% of %d ticks", smp.share, smp.ticks)

		if res.Sent < 10000 {
			t.Errorf("sent only %d datagrams in 3 s", res.Sent)
		}
		// Every datagram sent is received or dropped where the counters
		// see it (the receiver's backlog, the sink's socket): how many are
		// dropped depends on how busy the machine is, the sum does not.
		if res.Received < res.Sent/20 {
			t.Errorf("sink received only %d of %d datagrams", res.Received, res.Sent)
		}
		if seen := res.Received + res.RxDropped + res.SocketDrops; seen < res.Sent*95/100 {
			t.Errorf("received %d + veth drops %d + socket drops %d = %d of %d sent: datagrams unaccounted for",
				res.Received, res.RxDropped, res.SocketDrops, seen, res.Sent)
		}
		if d := sn1[1].receivedRPS - sn0[1].receivedRPS; d < 1000 {
			t.Errorf("cpu1 received_rps rose by %d, want thousands", d)
		}
		if d := sn1[1].processed - sn0[1].processed; d < res.Received/2 {
			t.Errorf("cpu1 processed rose by %d, want most of the %d received", d, res.Received)
		}
		if d := nr1[1] - nr0[1]; d < 1000 {
			t.Errorf("cpu1 NET_RX softirqs rose by %d, want thousands", d)
		}
	})

	t.Run("Close removes everything", func(t *testing.T) {
		pids := lab.PIDs()
		if len(pids) == 0 && runtime.NumCPU() >= 2 {
			t.Error("the lab recorded no started processes")
		}
		if err := lab.Close(); err != nil {
			t.Fatal(err)
		}
		if err := lab.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		for _, ns := range []string{lab.SenderNS(), lab.ReceiverNS()} {
			if NetnsExists(ns) {
				t.Errorf("namespace %s still exists", ns)
			}
		}
		mi, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(mi), lab.SysfsRoot()) {
			t.Errorf("%s still in /proc/self/mountinfo", lab.SysfsRoot())
		}
		if _, err := os.Stat(filepath.Dir(lab.SysfsRoot())); err == nil {
			t.Errorf("lab directory %s still exists", filepath.Dir(lab.SysfsRoot()))
		}
		if _, err := os.Stat(filepath.Join(stateDir, lab.Name()+".json")); err == nil {
			t.Error("lab state file still exists")
		}
		for _, pid := range pids {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
				t.Errorf("process %d started by the lab still exists", pid)
			}
		}
		if err := lab.SetRPS(0, "1"); err == nil {
			t.Error("SetRPS after Close succeeded")
		}
	})
}

// TestQueueSpread measures how the loadgen's flows spread over the veth
// queues. With N tx queues on the sender, tx-0 and tx-1 both use rx-0's RPS
// map and rx-(N-1)'s is unused; a sender with N+1 tx queues reaches all.
func TestQueueSpread(t *testing.T) {
	for _, tc := range []struct {
		name     string
		senderTx int
	}{
		{"symmetric 4/4", 4},
		{"sender with 5 tx queues", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lab := New(t, Options{Queues: 4, SenderTxQueues: tc.senderTx, CountTxQueues: true})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := lab.Flood(ctx, FloodOptions{Duration: time.Second, Flows: 64})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("sent %d, received %d; packets per sender tx queue %v; per receiver rx queue RPS map %v",
				res.Sent, res.Received, res.TxQueuePackets, res.RPSQueuePackets)
			used := 0
			var sum uint64
			for _, n := range res.TxQueuePackets {
				sum += n
				if n > 0 {
					used++
				}
			}
			if used < 3 {
				t.Errorf("64 flows used only %d of %d tx queues: %v", used, tc.senderTx, res.TxQueuePackets)
			}
			if sum < res.Sent*9/10 {
				t.Errorf("tx queue counts add up to %d, sent %d", sum, res.Sent)
			}
			if tc.senderTx == 5 {
				for q, n := range res.RPSQueuePackets {
					if n == 0 {
						t.Errorf("rx-%d's RPS map saw no packets: %v", q, res.RPSQueuePackets)
					}
				}
			}
			if runtime.NumCPU() < 2 {
				return
			}
			// Check RPSQueueOfTxQueue against the kernel: steer only rx-k
			// to CPU 1 (the rest to CPU 0, where sender and sink run) and
			// compare CPU 1's processed packets with the packets the tx
			// queue counts attribute to rx-k.
			for k := 0; k < 4; k++ {
				for q := 0; q < 4; q++ {
					mask := "1"
					if q == k {
						mask = "2"
					}
					if err := lab.SetRPS(q, mask); err != nil {
						t.Fatal(err)
					}
				}
				sn0 := readSoftnet(t)
				res, err := lab.Flood(ctx, FloodOptions{Duration: 500 * time.Millisecond, Flows: 64,
					SenderCPUs: []int{0}, SinkCPUs: []int{0}})
				if err != nil {
					t.Fatal(err)
				}
				sn1 := readSoftnet(t)
				got := sn1[1].processed - sn0[1].processed
				want := res.RPSQueuePackets[k]
				t.Logf("rx-%d steered to cpu1: cpu1 processed %d, tx queue counts %v attribute %d to rx-%d (sent %d)",
					k, got, res.TxQueuePackets, want, k, res.Sent)
				diff := int64(got) - int64(want)
				if diff < 0 {
					diff = -diff
				}
				if uint64(diff) > res.Sent/20+500 {
					t.Errorf("rx-%d: cpu1 processed %d, RPSQueueOfTxQueue model predicts %d", k, got, want)
				}
			}
		})
	}
}

func TestSweepRemovesStaleLab(t *testing.T) {
	if Prerequisites() != nil {
		New(t, Options{}) // skips, or fails under CI=true
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A lab whose owner is "dead": create one, then rewrite its state
	// file with a pid that does not exist.
	lab, err := Create(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	st := fmt.Sprintf(`{"name":%q,"pid":%d,"start_time":1}`, lab.Name(), 1<<30)
	if err := os.WriteFile(filepath.Join(stateDir, lab.Name()+".json"), []byte(st), 0o600); err != nil {
		t.Fatal(err)
	}
	// A live lab of this process must survive the sweep.
	live := New(t, Options{Queues: 1})
	if err := Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	// A second lab with a live lab's name must fail without touching it.
	if dup, err := Create(ctx, Options{Name: live.Name()}); err == nil {
		dup.Close()
		t.Error("Create with a live lab's name succeeded")
	} else {
		t.Logf("duplicate name: %v", err)
	}
	if NetnsExists(lab.SenderNS()) || NetnsExists(lab.ReceiverNS()) {
		t.Error("stale lab's namespaces survived Sweep")
	}
	if m, _ := IsMounted(lab.SysfsRoot()); m {
		t.Error("stale lab's sysfs is still mounted")
	}
	if !NetnsExists(live.ReceiverNS()) {
		t.Error("Sweep removed a live lab")
	}
	if m, _ := IsMounted(live.SysfsRoot()); !m {
		t.Error("Sweep unmounted a live lab's sysfs")
	}
}
