package collector

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/netirq/netirq_exporter/internal/testutil"
)

const faultHost = "../testdata/hosts/fc-2cpu"

// TestBadInput breaks one file or directory at a time: the collector that
// reads it reports success 0 (with whatever it could still read), and so
// do feeds and findings when what they rest on is unknown; every other
// collector carries on, and nothing panics.
func TestBadInput(t *testing.T) {
	garbage := "\x00\x01\xffnot a kernel file\n::::\n12345678901234567890123\n"
	cases := []struct {
		name     string
		breakIt  func(root string) error
		failing  []string // collectors that must report 0
		stillHas string   // a metric that must still be exported
	}{
		{"interrupts garbage", write("proc/interrupts", garbage), []string{"interrupts", "feeds", "findings"}, "netirq_softirqs_total"},
		{"interrupts truncated mid-row", cutAfterFirstCount("proc/interrupts", "38:"), []string{"interrupts"}, "netirq_irq_summed_interrupts_total"},
		{"interrupts missing", remove("proc/interrupts"), []string{"interrupts", "irqaffinity", "feeds", "findings"}, "netirq_net_rx_queue_rps_cpus"},
		{"softirqs missing", remove("proc/softirqs"), []string{"softirqs"}, "netirq_irq_interrupts_total"},
		{"softirqs garbage", write("proc/softirqs", garbage), []string{"softirqs"}, "netirq_softnet_processed_packets_total"},
		{"softnet truncated", truncate("proc/net/softnet_stat", 0.7), []string{"softnet"}, "netirq_softnet_processed_packets_total"},
		{"softnet too few columns", write("proc/net/softnet_stat", "00000001 00000002\n"), []string{"softnet"}, "netirq_cpu_seconds_total"},
		{"stat garbage", write("proc/stat", garbage), []string{"cputime", "irqtime"}, "netirq_softirqs_total"},
		{"stat missing", remove("proc/stat"), []string{"cputime", "irqtime"}, "netirq_softirqs_total"},
		{"pressure/irq garbage", write("proc/pressure/irq", "full total=lots\n"), []string{"irqtime"}, "netirq_irq_time_accounting"},
		{"no /sys/class/net", remove("sys/class/net"), []string{"netqueues", "ethtool", "queuestats", "napi", "feeds", "findings", "bql"}, "netirq_cpu_info"},
		{"garbage stall_cnt", globWrite("sys/devices/*/*/*/net/eth0/queues/tx-0/byte_queue_limits/stall_cnt", "-1\n"), []string{"bql"}, "netirq_net_tx_queue_bql_limit_bytes"},
		{"no /sys/devices/system/cpu", remove("sys/devices/system/cpu"), []string{"cputopology", "findings"}, "netirq_softnet_processed_packets_total"},
		{"garbage rps_cpus", globWrite("sys/devices/*/*/*/net/eth0/queues/rx-0/rps_cpus", "zz,not-hex\n"), []string{"netqueues"}, "netirq_net_tx_queues"},
		{"irq affinity garbage", globWrite("proc/irq/*/smp_affinity_list", "0-\n"), []string{"irqaffinity"}, "netirq_irq_interrupts_total"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := testutil.CopyTree(t, faultHost)
			if err := tc.breakIt(root); err != nil {
				t.Fatal(err)
			}
			mfs := gather(t, newTestExporter(t, hostConfig(root)))
			got := successes(mfs)
			if len(got) != defaultCollectors() {
				t.Fatalf("success reported for %d collectors, want the %d enabled by default: %v", len(got), defaultCollectors(), got)
			}
			for name, ok := range got {
				wantOK := 1.0
				for _, f := range tc.failing {
					if f == name {
						wantOK = 0
					}
				}
				if ok != wantOK {
					t.Errorf("collector %s: success %v, want %v", name, ok, wantOK)
				}
			}
			if len(find(mfs, tc.stillHas, nil)) == 0 {
				t.Errorf("%s no longer exported: the other collectors must carry on", tc.stillHas)
			}
		})
	}
}

// TestEmptyRoot points the exporter at empty directories: everything fails,
// nothing panics, and the self-metrics are still there.
func TestEmptyRoot(t *testing.T) {
	root := t.TempDir()
	mfs := gather(t, newTestExporter(t, hostConfig(root)))
	for name, ok := range successes(mfs) {
		if ok != 0 {
			t.Errorf("collector %s reports success on an empty root", name)
		}
	}
	if len(successes(mfs)) != defaultCollectors() {
		t.Errorf("want a success series per collector, got %v", successes(mfs))
	}
}

// defaultCollectors counts the collectors on without flags (pagepools is
// off: it multiplies series by RX queues; bpf needs capabilities).
func defaultCollectors() int {
	n := 0
	for _, f := range factories {
		if f.defaultEnabled {
			n++
		}
	}
	return n
}

func write(rel, content string) func(string) error {
	return func(root string) error { return os.WriteFile(filepath.Join(root, rel), []byte(content), 0o644) }
}

func remove(rel string) func(string) error {
	return func(root string) error {
		p := filepath.Join(root, rel)
		if _, err := os.Lstat(p); err != nil {
			return err
		}
		return os.RemoveAll(p)
	}
}

// truncate cuts a file at frac of its length, usually mid-row.
func truncate(rel string, frac float64) func(string) error {
	return func(root string) error {
		p := filepath.Join(root, rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(p, b[:int(float64(len(b))*frac)], 0o644)
	}
}

// cutAfterFirstCount ends the file right after the first count of the row
// starting with label, as a read racing a short buffer would.
func cutAfterFirstCount(rel, label string) func(string) error {
	return func(root string) error {
		p := filepath.Join(root, rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		i := strings.Index(string(b), label)
		if i < 0 {
			return os.ErrNotExist
		}
		j := i + len(label)
		for j < len(b) && b[j] == ' ' {
			j++
		}
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return os.WriteFile(p, b[:j], 0o644)
	}
}

func globWrite(pattern, content string) func(string) error {
	return func(root string) error {
		paths, _ := filepath.Glob(filepath.Join(root, pattern))
		if len(paths) == 0 {
			return os.ErrNotExist
		}
		for _, p := range paths {
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
}

// TestZeroCellsAppearOnceAndStay: a NIC IRQ cell that has only ever been 0
// is not exported; once it counts it is exported for good.
func TestZeroCellsAppearOnceAndStay(t *testing.T) {
	root := testutil.CopyTree(t, faultHost)
	path := filepath.Join(root, "proc/interrupts")
	orig, _ := os.ReadFile(path)
	e := newTestExporter(t, hostConfig(root))
	irq, cpu := zeroNICCell(t, e)

	setCell := func(v string) {
		var out []string
		for _, line := range strings.Split(string(orig), "\n") {
			f := strings.Fields(line)
			if len(f) > 2 && f[0] == irq+":" {
				f[1+cpuColumn(orig, cpu)] = v
				line = " " + strings.Join(f, " ")
			}
			out = append(out, line)
		}
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	labels := map[string]string{"irq": irq, "cpu": cpu}
	setCell("7")
	if got := find(gather(t, e), "netirq_irq_interrupts_total", labels); len(got) != 1 || value(got[0]) != 7 {
		t.Fatalf("cell irq %s cpu %s after counting 7: got %v", irq, cpu, got)
	}
	// A counter only goes back to 0 when the IRQ is re-created; the series
	// must stay so that rate() sees the reset rather than a gap.
	setCell("0")
	if got := find(gather(t, e), "netirq_irq_interrupts_total", labels); len(got) != 1 {
		t.Fatalf("cell irq %s cpu %s vanished after it had counted", irq, cpu)
	}
	// Dense mode exports every cell, zeros included.
	cfg := hostConfig(root)
	cfg.Interrupts.All = true
	dense := gather(t, newTestExporter(t, cfg))
	if len(find(dense, "netirq_irq_summed_interrupts_total", nil)) != 0 {
		t.Error("dense mode must export every IRQ one by one, leaving nothing to sum")
	}
}

// zeroNICCell finds a NIC IRQ cell of the fixture that is 0 and absent.
func zeroNICCell(t *testing.T, e *Exporter) (irq, cpu string) {
	t.Helper()
	snap := e.Source().Snapshot()
	for _, line := range snap.Interrupts.IRQs {
		if !snap.IRQClasses[line.IRQ].IsNIC() {
			continue
		}
		for i, v := range line.Counts {
			if v == 0 {
				irq, cpu = strconv.Itoa(line.IRQ), strconv.Itoa(snap.Interrupts.CPUs[i])
				if got := find(gather(t, e), "netirq_irq_interrupts_total", map[string]string{"irq": irq, "cpu": cpu}); len(got) != 0 {
					t.Fatalf("zero cell irq %s cpu %s exported before it ever counted", irq, cpu)
				}
				return irq, cpu
			}
		}
	}
	t.Fatal("fixture has no zero NIC IRQ cell")
	return "", ""
}

func cpuColumn(interrupts []byte, cpu string) int {
	header := strings.Fields(strings.SplitN(string(interrupts), "\n", 2)[0])
	for i, h := range header {
		if h == "CPU"+cpu {
			return i
		}
	}
	return -1
}

// TestConcurrentScrapesShareReads: scrapes that overlap share one snapshot,
// so 16 simultaneous scrapes need fewer than 16 reads.
func TestConcurrentScrapesShareReads(t *testing.T) {
	e := newTestExporter(t, hostConfig(faultHost))
	const scrapers = 16
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range scrapers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range 5 {
				if snap := e.Source().Snapshot(); snap.Interrupts == nil {
					t.Error("shared snapshot lacks interrupts")
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	if reads := e.Source().Reads(); reads >= scrapers*5 {
		t.Errorf("%d snapshot calls made %d reads: overlapping scrapes must share", scrapers*5, reads)
	} else {
		t.Logf("%d overlapping snapshot calls → %d reads", scrapers*5, reads)
	}
}
